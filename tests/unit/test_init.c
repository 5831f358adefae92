/* Initialisers: each gives weights with the spread its definition promises (PyTorch's
 * xavier_*_ and kaiming_*_ with the ReLU gain), zero biases where it should, and the
 * default keeps nn.Linear's bound. A 64→256 dense layer has 16,384 weights, enough for the
 * sample standard deviation to be within a few percent. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static void check_init(const char *init, double want_std, double want_bound, int zero_bias) {
    char json[1024];
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *trainer = NULL;
    lathe_error err;
    lathe_layer_info info;
    size_t i, n;
    double sum = 0.0, sq = 0.0, top = 0.0, bias_abs = 0.0;
    snprintf(json, sizeof json,
             "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":9,"
             "\"data\":{\"synthetic\":\"blobs\",\"samples\":64},"
             "\"prepare\":[{\"op\":\"split\"}],"
             "\"model\":{\"layers\":[{\"type\":\"dense\",\"units\":256},{\"type\":\"dense\"}],"
             "\"init\":\"%s\"},\"train\":{}}",
             init);
    CHECK(lathe_experiment_parse(json, strlen(json), &exp, &err) == LATHE_OK, "%s: %s", init, err.message);
    if (!exp) return;
    CHECK(lathe_synthetic_table("blobs", 64, 0.1f, 2, 9, &table, &err) == LATHE_OK, "table");
    if (table && lathe_prepare(exp, table, &prep, &err) == LATHE_OK &&
        lathe_trainer_create(exp, prep, &trainer, &err) == LATHE_OK) {
        lathe_trainer_layer(trainer, 0, &info);
        n = info.in * info.out;
        for (i = 0; i < n; i++) {
            double w = (double)info.weights[i];
            sum += w, sq += w * w;
            if (fabs(w) > top) top = fabs(w);
        }
        for (i = 0; i < info.out; i++) bias_abs += fabs((double)info.bias[i]);
        if (want_std > 0.0) {
            double std = sqrt(sq / (double)n - (sum / (double)n) * (sum / (double)n));
            CHECK(fabs(std - want_std) < 0.03 * want_std, "%s: std %g, want %g", init, std, want_std);
            CHECK(fabs(sum / (double)n) < 0.05 * want_std, "%s: mean %g", init, sum / (double)n);
        } else {
            CHECK(top == 0.0, "%s: a weight is %g", init, top);
        }
        if (want_bound > 0.0)
            CHECK(top <= want_bound && top > 0.98 * want_bound, "%s: max |w| %g, bound %g", init, top, want_bound);
        CHECK(zero_bias ? bias_abs == 0.0 : bias_abs > 0.0, "%s: bias sum |b| %g", init, bias_abs);
    } else {
        CHECK(0, "%s: %s", init, err.message);
    }
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
}

int main(void) {
    /* blobs has 2 features: fan_in 2, fan_out 256 for the first layer */
    const double fan_in = 2.0, fan_out = 256.0;
    check_init("default", 1.0 / sqrt(fan_in) / sqrt(3.0), 1.0 / sqrt(fan_in), 0);
    check_init("xavier_uniform", sqrt(6.0 / (fan_in + fan_out)) / sqrt(3.0), sqrt(6.0 / (fan_in + fan_out)), 1);
    check_init("he_uniform", sqrt(6.0 / fan_in) / sqrt(3.0), sqrt(6.0 / fan_in), 1);
    check_init("xavier_normal", sqrt(2.0 / (fan_in + fan_out)), 0.0, 1);
    check_init("he_normal", sqrt(2.0 / fan_in), 0.0, 1);
    check_init("zeros", 0.0, 0.0, 1);
    return check_finish("test_init");
}
