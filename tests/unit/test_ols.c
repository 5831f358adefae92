/* Linear regression against ordinary least squares: the shipped diabetes experiment (a linear
 * model trained by mini-batch Adam) must reach a test R² within 0.02 of the closed-form OLS
 * fit (what scikit-learn's LinearRegression computes) on the very same prepared training
 * split. OLS here solves the normal equations (XᵀX)β = Xᵀy with an intercept, in double,
 * by Gaussian elimination with partial pivoting. Skipped (exit 77) when the built-in data
 * has not been fetched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

/* Solves a:(d, d) x = b:(d) in place (b receives x). Returns 0 when a is singular. */
static int solve(double *a, double *b, size_t d) {
    size_t i, j, k;
    for (k = 0; k < d; k++) {
        size_t pivot = k;
        for (i = k + 1; i < d; i++)
            if (fabs(a[i * d + k]) > fabs(a[pivot * d + k])) pivot = i;
        if (fabs(a[pivot * d + k]) < 1e-12) return 0;
        if (pivot != k) {
            for (j = 0; j < d; j++) {
                double t = a[k * d + j];
                a[k * d + j] = a[pivot * d + j], a[pivot * d + j] = t;
            }
            {
                double t = b[k];
                b[k] = b[pivot], b[pivot] = t;
            }
        }
        for (i = k + 1; i < d; i++) {
            double f = a[i * d + k] / a[k * d + k];
            for (j = k; j < d; j++) a[i * d + j] -= f * a[k * d + j];
            b[i] -= f * b[k];
        }
    }
    for (k = d; k-- > 0;) {
        for (j = k + 1; j < d; j++) b[k] -= a[k * d + j] * b[j];
        b[k] /= a[k * d + k];
    }
    return 1;
}

int main(void) {
    size_t n_csv, n_exp, F, D, i, j, k;
    char *csv = check_read_file("data/builtin/diabetes.csv", &n_csv);
    char *json = check_read_file("examples/diabetes.experiment.json", &n_exp);
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *trainer = NULL;
    lathe_error err;
    double *xtx, *xty, mean = 0.0, ss_res = 0.0, ss_tot = 0.0, r2_ols;
    lathe_metrics m;
    if (!csv || !json) {
        printf("test_ols: data/builtin/diabetes.csv not fetched; skipped\n");
        free(csv);
        free(json);
        return 77;
    }
    CHECK(lathe_experiment_parse(json, n_exp, &exp, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_csv_read(csv, n_csv, NULL, &table, &err) == LATHE_OK, "%s", err.message);
    CHECK(exp && table && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
    if (!prep) return check_finish("test_ols");
    CHECK(prep->task == LATHE_TASK_REGRESSION && prep->n_features == 10 && prep->train.rows == 354 &&
              prep->test.rows == 88,
          "diabetes: %zu features, %zu train / %zu test rows (scikit-learn: 10 features, 442 rows)",
          prep->n_features, prep->train.rows, prep->test.rows);

    /* OLS with an intercept on the prepared training rows. */
    F = prep->n_features, D = F + 1;
    xtx = calloc(D * D, sizeof *xtx);
    xty = calloc(D, sizeof *xty);
    for (i = 0; i < prep->train.rows; i++) {
        double row[16];
        row[0] = 1.0;
        for (j = 0; j < F; j++) row[j + 1] = (double)prep->train.x[i * F + j];
        for (j = 0; j < D; j++) {
            for (k = 0; k < D; k++) xtx[j * D + k] += row[j] * row[k];
            xty[j] += row[j] * (double)prep->train.value[i];
        }
    }
    CHECK(solve(xtx, xty, D), "XᵀX is singular");
    for (i = 0; i < prep->test.rows; i++) mean += (double)prep->test.value[i];
    mean /= (double)prep->test.rows;
    for (i = 0; i < prep->test.rows; i++) {
        double pred = xty[0], y = (double)prep->test.value[i];
        for (j = 0; j < F; j++) pred += xty[j + 1] * (double)prep->test.x[i * F + j];
        ss_res += (y - pred) * (y - pred);
        ss_tot += (y - mean) * (y - mean);
    }
    r2_ols = 1.0 - ss_res / ss_tot;

    CHECK(lathe_trainer_create(exp, prep, &trainer, &err) == LATHE_OK, "%s", err.message);
    if (trainer) {
        CHECK(lathe_trainer_step(trainer, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
        m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
        printf("test_ols: test R² trained %.4f, OLS %.4f\n", (double)m.r2, r2_ols);
        CHECK(fabs((double)m.r2 - r2_ols) <= 0.02, "trained R² %.4f is not within 0.02 of OLS's %.4f",
              (double)m.r2, r2_ols);
        CHECK(r2_ols > 0.3 && r2_ols < 0.7, "OLS R² %.4f is outside what this data set gives", r2_ols);
    }
    free(xtx);
    free(xty);
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    free(csv);
    free(json);
    return check_finish("test_ols");
}
