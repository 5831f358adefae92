/* Profiling the built-in iris CSV reproduces scikit-learn's published summary of the set
 * (the "Summary Statistics" table of load_iris().DESCR: min, max, mean, SD per feature,
 * 50 rows per class). Skipped (exit 77) when the built-in data has not been fetched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/profile.h"

int main(void) {
    /* scikit-learn's DESCR: Min, Max, Mean, SD (two decimals) */
    static const double published[4][4] = {
        {4.3, 7.9, 5.84, 0.83}, {2.0, 4.4, 3.05, 0.43}, {1.0, 6.9, 3.76, 1.76}, {0.1, 2.5, 1.20, 0.76}};
    size_t n, c, k;
    char *bytes = check_read_file("data/builtin/iris.csv", &n);
    lathe_table *table = NULL;
    lathe_column_profile profiles[5];
    lathe_error err;
    if (!bytes) {
        printf("test_profile: data/builtin/iris.csv not fetched; skipped\n");
        return 77;
    }
    CHECK(lathe_csv_read(bytes, n, NULL, &table, &err) == LATHE_OK, "read: %s", err.message);
    free(bytes);
    if (!table) return check_finish("test_profile");
    CHECK(table->rows == 150 && table->cols == 5, "shape %zux%zu", table->rows, table->cols);
    CHECK(lathe_profile_table(table, profiles, &err) == LATHE_OK, "profile: %s", err.message);
    for (c = 0; c < 4; c++) {
        CHECK(profiles[c].min == published[c][0] || fabs(profiles[c].min - published[c][0]) < 1e-6,
              "%s min %g", table->columns[c].name, profiles[c].min);
        CHECK(fabs(profiles[c].max - published[c][1]) < 1e-6, "%s max %g", table->columns[c].name,
              profiles[c].max);
        CHECK(fabs(profiles[c].mean - published[c][2]) < 0.01, "%s mean %g vs %g",
              table->columns[c].name, profiles[c].mean, published[c][2]);
        CHECK(fabs(profiles[c].std - published[c][3]) < 0.006, "%s sd %g vs %g",
              table->columns[c].name, profiles[c].std, published[c][3]);
        CHECK(profiles[c].missing == 0, "%s has missing values", table->columns[c].name);
        CHECK(profiles[c].q25 <= profiles[c].q50 && profiles[c].q50 <= profiles[c].q75,
              "%s quartiles out of order", table->columns[c].name);
    }
    /* pandas' describe() of sepal length: quartiles 5.1, 5.8, 6.4 */
    CHECK(fabs(profiles[0].q25 - 5.1) < 1e-6 && fabs(profiles[0].q50 - 5.8) < 1e-6 &&
              fabs(profiles[0].q75 - 6.4) < 1e-6,
          "sepal length quartiles %g %g %g", profiles[0].q25, profiles[0].q50, profiles[0].q75);
    CHECK(profiles[4].distinct == 3 && profiles[4].n_top == 3, "species: %zu classes",
          profiles[4].distinct);
    for (k = 0; k < profiles[4].n_top; k++)
        CHECK(profiles[4].top_count[k] == 50, "class %zu has %zu rows", k, profiles[4].top_count[k]);
    CHECK(profiles[4].top_index[0] == 0 &&
              strcmp(table->columns[4].categories[profiles[4].top_index[0]], "setosa") == 0,
          "ties are not in category order");
    lathe_table_destroy(table);
    return check_finish("test_profile");
}
