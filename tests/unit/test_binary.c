/* Binary classification through one logit ("loss": "binary_cross_entropy"): the last layer
 * has one unit, predictions are (1 − σ(z), σ(z)) and sum to 1, the reported accuracy counts
 * z > 0 as the second class and equals the accuracy of those probabilities, training learns
 * (moons: well above chance, as the two-output softmax model does), and a 3-class data set
 * is refused with the JSON path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static const char *template_json =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":5,"
    "\"data\":{\"synthetic\":\"%s\",\"samples\":300,\"noise\":0.2,\"classes\":%d},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.25},{\"op\":\"standardize\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[16]},"
    "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.02,\"batch_size\":16,\"epochs\":40%s}}";

/* Trains moons (or blobs with classes) with or without BCE; returns the test accuracy, or -1. */
static float train(const char *set, int classes, int bce, lathe_error *err, size_t *outputs,
                   size_t *last_units) {
    char json[1024];
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *t = NULL;
    float acc = -1.0f;
    snprintf(json, sizeof json, template_json, set, classes,
             bce ? ",\"loss\":\"binary_cross_entropy\"" : "");
    CHECK(lathe_experiment_parse(json, strlen(json), &exp, err) == LATHE_OK, "%s", err->message);
    if (!exp) return acc;
    CHECK(lathe_synthetic_table(set, 300, 0.2f, (size_t)classes, 5, &table, err) == LATHE_OK, "%s", err->message);
    CHECK(table && lathe_prepare(exp, table, &prep, err) == LATHE_OK, "%s", err->message);
    if (prep && lathe_trainer_create(exp, prep, &t, err) == LATHE_OK) {
        lathe_layer_info info;
        size_t C = lathe_trainer_n_outputs(t), i, correct = 0, last = lathe_trainer_layer_count(t) - 1;
        float *p = malloc(prep->test.rows * C * sizeof *p);
        CHECK(lathe_trainer_step(t, (size_t)-1, err) == LATHE_OK, "%s", err->message);
        lathe_trainer_predict(t, prep->test.rows, prep->test.x, p);
        for (i = 0; i < prep->test.rows; i++) {
            size_t best = p[i * C + 1] > p[i * C] ? 1 : 0;
            correct += best == prep->test.label[i];
            if (bce)
                CHECK(p[i * 2] == 1.0f - p[i * 2 + 1] && p[i * 2 + 1] >= 0.0f && p[i * 2 + 1] <= 1.0f,
                      "row %zu: probabilities %g, %g", i, (double)p[i * 2], (double)p[i * 2 + 1]);
        }
        acc = lathe_trainer_evaluate(t, LATHE_SPLIT_TEST).accuracy;
        CHECK(acc == (float)((double)correct / (double)prep->test.rows),
              "reported accuracy %g differs from the predictions' %g", (double)acc,
              (double)correct / (double)prep->test.rows);
        lathe_trainer_layer(t, last, &info);
        *outputs = C, *last_units = info.out;
        free(p);
    }
    lathe_trainer_destroy(t);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    return acc;
}

int main(void) {
    lathe_error err;
    size_t outputs = 0, units = 0;
    float bce = train("moons", 2, 1, &err, &outputs, &units);
    float softmax;
    CHECK(outputs == 2 && units == 1, "binary: %zu prediction columns, last layer %zu units", outputs, units);
    softmax = train("moons", 2, 0, &err, &outputs, &units);
    CHECK(outputs == 2 && units == 2, "softmax: %zu columns, %zu units", outputs, units);
    printf("test_binary: moons test accuracy, one logit %.3f, two-output softmax %.3f\n", (double)bce,
           (double)softmax);
    CHECK(bce >= 0.9f && bce >= softmax - 0.05f, "one logit %.3f vs softmax %.3f", (double)bce, (double)softmax);
    {
        char json[1024];
        lathe_experiment *exp = NULL;
        lathe_table *table = NULL;
        lathe_prepared *prep = NULL;
        lathe_trainer *t = NULL;
        snprintf(json, sizeof json, template_json, "blobs", 3, ",\"loss\":\"binary_cross_entropy\"");
        CHECK(lathe_experiment_parse(json, strlen(json), &exp, &err) == LATHE_OK, "%s", err.message);
        CHECK(lathe_synthetic_table("blobs", 300, 0.2f, 3, 5, &table, &err) == LATHE_OK, "%s", err.message);
        CHECK(lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
        CHECK(lathe_trainer_create(exp, prep, &t, &err) == LATHE_ERR_INVALID &&
                  strstr(err.message, "train.loss: binary_cross_entropy needs 2 classes; the data has 3"),
              "3 classes: %s", err.message);
        lathe_trainer_destroy(t);
        lathe_prepared_destroy(prep);
        lathe_table_destroy(table);
        lathe_experiment_destroy(exp);
    }
    return check_finish("test_binary");
}
