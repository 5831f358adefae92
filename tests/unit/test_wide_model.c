/* Version 5 model files: a preparation of at least LATHE_MODEL_COMPACT_FEATURES features (an
 * image's pixels) is written with "inputs": "features" and its fitted values (impute fill,
 * NaN included, and each scaling step) in base64; it loads to the same preparation, hash and
 * predictions, saves to the same bytes, and is a fraction of the version 2 text; a damaged or
 * misplaced compact field is refused naming it. A table with a categorical column among its
 * many features keeps the inputs array. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/model.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

enum { COLUMNS = 300, ROWS = 60 };

static const char *exp_text =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":5,\"data\":{\"file\":\"w.csv\","
    "\"target\":\"y\"},\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"impute\"},"
    "{\"op\":\"standardize\"},{\"op\":\"minmax\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[8]},\"train\":{\"epochs\":2,\"batch_size\":16}}";

/* CSV text of ROWS rows: COLUMNS numeric columns px0.. (a few cells missing), the last one a
 * category when categorical, and the class y. */
static char *wide_csv(int categorical, size_t *n) {
    size_t cap = (size_t)ROWS * COLUMNS * 8 + 16384, at = 0, r, c;
    char *csv = malloc(cap);
    for (c = 0; c < COLUMNS; c++) at += (size_t)sprintf(csv + at, "px%zu,", c);
    at += (size_t)sprintf(csv + at, "y\n");
    for (r = 0; r < ROWS; r++) {
        for (c = 0; c < COLUMNS; c++) {
            if (categorical && c == COLUMNS - 1)
                at += (size_t)sprintf(csv + at, "%s,", r % 2 ? "a" : "b");
            else if ((r * 7 + c) % 97 == 0)
                at += (size_t)sprintf(csv + at, ",");
            else
                at += (size_t)sprintf(csv + at, "%zu,", (r * 31 + c * 17) % 255);
        }
        at += (size_t)sprintf(csv + at, "%s\n", (r * 31) % 255 > 127 ? "hi" : "lo");
    }
    *n = at;
    return csv;
}

/* Trains on the wide table and returns its model file (lathe_free). */
static char *wide_model(int categorical) {
    size_t n;
    char *csv = wide_csv(categorical, &n), *file = NULL;
    lathe_table *tab = NULL;
    lathe_experiment *ex = NULL;
    lathe_prepared *pp = NULL;
    lathe_trainer *t = NULL;
    lathe_error err;
    CHECK(lathe_csv_read(csv, n, NULL, &tab, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_experiment_parse(exp_text, strlen(exp_text), &ex, &err) == LATHE_OK, "%s", err.message);
    CHECK(tab && ex && lathe_prepare(ex, tab, &pp, &err) == LATHE_OK, "%s", err.message);
    CHECK(pp && lathe_trainer_create(ex, pp, &t, &err) == LATHE_OK, "%s", err.message);
    CHECK(t && lathe_trainer_step(t, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
    CHECK(t && lathe_model_file_write(exp_text, strlen(exp_text), pp, t, NULL, &file, &err) == LATHE_OK, "%s",
          err.message);
    if (file && t) { /* it predicts as the trainer does */
        lathe_model *m = NULL;
        CHECK(lathe_model_load(file, strlen(file), &m, &err) == LATHE_OK, "%s", err.message);
        if (m) {
            float x[COLUMNS + 8], ya[2], yb[2];
            size_t i;
            char hex[65];
            for (i = 0; i < pp->n_features; i++) x[i] = (float)(i % 5) - 2.0f;
            lathe_trainer_predict(t, 1, x, ya);
            lathe_trainer_predict(lathe_model_network(m), 1, x, yb);
            CHECK(memcmp(ya, yb, sizeof ya) == 0, "the loaded model predicts differently");
            lathe_trainer_weights_sha256(t, hex);
            CHECK(strcmp(hex, lathe_model_weights_sha256(m)) == 0, "the loaded hash differs");
            CHECK(lathe_model_preparation(m)->n_inputs == pp->n_inputs &&
                      lathe_model_preparation(m)->n_steps == pp->n_steps,
                  "the loaded preparation has other inputs or steps");
            for (i = 0; i < pp->n_features; i++) {
                const lathe_prepared *q = lathe_model_preparation(m);
                int same_fill = (q->fill[i] != q->fill[i] && pp->fill[i] != pp->fill[i]) || q->fill[i] == pp->fill[i];
                CHECK(same_fill && q->steps[1].shift[i] == pp->steps[1].shift[i] &&
                          q->steps[2].scale[i] == pp->steps[2].scale[i],
                      "feature %zu: other fitted values", i);
                if (!same_fill) break;
            }
            {
                char *saved = NULL;
                CHECK(lathe_model_save(m, NULL, &saved, &err) == LATHE_OK && saved && strcmp(saved, file) == 0,
                      "load -> save does not give the same bytes");
                lathe_free(saved);
            }
        }
        lathe_model_destroy(m);
    }
    lathe_trainer_destroy(t);
    lathe_prepared_destroy(pp);
    lathe_experiment_destroy(ex);
    lathe_table_destroy(tab);
    free(csv);
    return file;
}

/* check_model_refused on a damaged copy, which it frees. */
static void refused(const char *what, char *text, const char *message) {
    check_model_refused(what, text, message);
    free(text);
}

int main(void) {
    long live = lathe_alloc_live();
    char *wide = wide_model(0), *mixed = wide_model(1);
    if (!wide || !mixed) return check_finish("test_wide_model");
    CHECK(strstr(wide, "\"version\":\t5") && strstr(wide, "\"inputs\":\t\"features\""),
          "the wide numeric model is not version 5 with compact inputs");
    CHECK(strstr(wide, "\"fill\":\t\"") && strstr(wide, "\"shift\":\t\"") && strstr(wide, "\"scale\":\t\""),
          "the fitted values are not base64");
    CHECK(strstr(mixed, "\"version\":\t5") && strstr(mixed, "\"inputs\":\t[") && strstr(mixed, "\"categorical\""),
          "a wide model with a categorical column does not keep the inputs array");
    refused("inputs in version 4", check_replaced(wide, "\"version\":\t5", "\"version\":\t4"),
            "preparation.inputs: must be an array");
    refused("another inputs string", check_replaced(wide, "\"inputs\":\t\"features\"", "\"inputs\":\t\"pixels\""),
            "preparation.inputs: must be an array, or \"features\"");
    refused("base64 in version 4", check_replaced(mixed, "\"version\":\t5", "\"version\":\t4"),
            "base64 values need a version 5 model file");
    refused("a short shift", check_replaced(wide, "\"shift\":\t\"", "\"shift\":\t\"AAAA"), "preparation.steps[1].shift:");
    refused("an infinite scale", check_replaced(wide, "\"scale\":\t\"", "\"scale\":\t\"AACAfw"), "preparation.steps");
    refused("a shift of bad base64", check_replaced(wide, "\"shift\":\t\"", "\"shift\":\t\"!"), "preparation.steps[1].shift");
    lathe_free(wide);
    lathe_free(mixed);
    CHECK(lathe_alloc_live() == live, "%ld blocks leaked", lathe_alloc_live() - live);
    return check_finish("test_wide_model");
}
