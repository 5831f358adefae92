/* libFuzzer target: the CSV reader (lathe/table.h). Each input is read twice: with the
 * defaults (detect the delimiter, header on) and without a header, with a delimiter chosen
 * by the input's length (detect, ',', ';' or tab). A table that comes back must keep every
 * promise of table.h; a failure must carry a message; nothing may leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/table.h"

/* Checks the invariants table.h promises for a successfully read table. */
static void check_table(const lathe_table *t) {
    size_t c, r, k;
    FUZZ_ASSERT(t->rows >= 1 && t->cols >= 1, "a table without rows or columns");
    for (c = 0; c < t->cols; c++) {
        const lathe_column *col = &t->columns[c];
        size_t missing = 0;
        FUZZ_ASSERT(col->name != NULL && col->name[0] != '\0', "a column without a name");
        for (k = 0; k < c; k++)
            FUZZ_ASSERT(strcmp(t->columns[k].name, col->name) != 0, "two columns share a name");
        FUZZ_ASSERT(lathe_table_find(t, col->name) == (long)c, "lathe_table_find misses a name");
        for (r = 0; r < t->rows; r++) {
            float v = col->values[r];
            if (v != v) {
                missing++;
                continue;
            }
            switch (col->type) {
            case LATHE_COLUMN_NUMERIC:
                FUZZ_ASSERT(v - v == 0.0f, "an infinite number in a numeric column");
                break;
            case LATHE_COLUMN_BOOLEAN:
                FUZZ_ASSERT(v == 0.0f || v == 1.0f, "a boolean that is neither 0 nor 1");
                break;
            case LATHE_COLUMN_CATEGORICAL:
                FUZZ_ASSERT(v >= 0.0f && (size_t)v < col->n_categories && v == (float)(size_t)v,
                            "a category index out of range");
                break;
            default: FUZZ_ASSERT(0, "an unknown column type");
            }
        }
        FUZZ_ASSERT(missing == col->missing, "the missing count differs from the NaN count");
        if (col->type == LATHE_COLUMN_CATEGORICAL) {
            FUZZ_ASSERT(col->n_categories >= 1, "a categorical column without categories");
            for (k = 1; k < col->n_categories; k++)
                FUZZ_ASSERT(strcmp(col->categories[k - 1], col->categories[k]) < 0,
                            "categories are not sorted and distinct");
        } else {
            FUZZ_ASSERT(col->n_categories == 0, "categories in a non-categorical column");
        }
    }
}

static void read_once(const char *bytes, size_t n, const lathe_csv_options *opts) {
    lathe_table *t = (lathe_table *)&t; /* must be overwritten */
    lathe_error err;
    lathe_status st = lathe_csv_read(bytes, n, opts, &t, &err);
    fuzz_check_status(st, &err);
    if (st == LATHE_OK) {
        FUZZ_ASSERT(t != NULL, "success without a table");
        check_table(t);
    } else {
        FUZZ_ASSERT(t == NULL, "a failed read returned a table");
    }
    lathe_table_destroy(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char delimiters[4] = {0, ',', ';', '\t'};
    lathe_csv_options opts;
    long live = lathe_alloc_live();
    read_once((const char *)data, size, NULL);
    fuzz_check_no_leak(live);
    opts.delimiter = delimiters[size % 4];
    opts.has_header = 0;
    read_once((const char *)data, size, &opts);
    fuzz_check_no_leak(live);
    return 0;
}
