/* libFuzzer target: the model-file loader (lathe/model.h). A model that loads must predict
 * one raw row (a table built from its own preparation's inputs) and one prepared row of
 * zeros, save, load back, and save again to the same bytes with the same weights hash. A
 * failure must carry a message; nothing may leak.
 * Note: a mutated weight almost always fails the weights_sha256 check, so the fuzzer mostly
 * explores the structure (fields, shapes, preparation, base64), not the weight values. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/model.h"
#include "lathe/prepare.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

/* One raw row for the model's inputs: numbers 0.5, booleans true, categories the first one
 * seen in training (or missing when none was). Built with the harness's own malloc (not the
 * core's hook, so the leak count stays the core's); free with free_row. */
static lathe_table *make_row(const lathe_prepared *prep) {
    lathe_table *t = calloc(1, sizeof *t);
    size_t i;
    FUZZ_ASSERT(t != NULL, "the harness ran out of memory");
    t->rows = 1;
    t->cols = prep->n_inputs;
    t->columns = calloc(prep->n_inputs ? prep->n_inputs : 1, sizeof *t->columns);
    FUZZ_ASSERT(t->columns != NULL, "the harness ran out of memory");
    for (i = 0; i < prep->n_inputs; i++) {
        const lathe_prepared_input *in = &prep->inputs[i];
        lathe_column *col = &t->columns[i];
        col->name = in->name;
        col->type = in->type;
        col->values = malloc(sizeof *col->values);
        FUZZ_ASSERT(col->values != NULL, "the harness ran out of memory");
        col->values[0] = in->type == LATHE_COLUMN_NUMERIC ? 0.5f : 1.0f;
        if (in->type == LATHE_COLUMN_CATEGORICAL) {
            const char *eq = NULL;
            if (in->width > 0 && in->first < prep->n_features)
                eq = strchr(prep->feature_names[in->first], '=');
            col->values[0] = 0.0f;
            if (eq) {
                col->categories = malloc(sizeof *col->categories);
                FUZZ_ASSERT(col->categories != NULL, "the harness ran out of memory");
                col->categories[0] = (char *)(eq + 1);
                col->n_categories = 1;
            } else {
                col->values[0] = __builtin_nanf("");
                col->missing = 1;
            }
        }
    }
    return t;
}

static void free_row(lathe_table *t) {
    size_t i;
    for (i = 0; i < t->cols; i++) {
        free(t->columns[i].values);
        free(t->columns[i].categories);
    }
    free(t->columns);
    free(t);
}

/* Predicts one raw row and one prepared row of zeros. */
static void predict(lathe_model *model) {
    const lathe_prepared *prep = lathe_model_preparation(model);
    lathe_trainer *net = lathe_model_network(model);
    lathe_table *row = make_row(prep);
    float *out = NULL;
    size_t rows = 0, unseen = 0, n_out = lathe_trainer_n_outputs(net);
    lathe_error err;
    lathe_status st = lathe_model_predict_table(model, row, &out, &rows, &unseen, &err);
    fuzz_check_status(st, &err);
    if (st == LATHE_OK) FUZZ_ASSERT(rows == 1 && out != NULL, "one row in, not one row out");
    lathe_free(out);
    free_row(row);
    {
        float *x = calloc(prep->n_features ? prep->n_features : 1, sizeof *x);
        float *y = calloc(n_out ? n_out : 1, sizeof *y);
        FUZZ_ASSERT(x != NULL && y != NULL, "the harness ran out of memory");
        lathe_trainer_predict(net, 1, x, y);
        free(x);
        free(y);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lathe_model *model = (lathe_model *)&model, *again = NULL; /* model must be overwritten */
    char *saved = NULL, *resaved = NULL;
    lathe_error err;
    long live = lathe_alloc_live();
    lathe_status st = lathe_model_load((const char *)data, size, &model, &err);
    fuzz_check_status(st, &err);
    if (st != LATHE_OK) {
        FUZZ_ASSERT(model == NULL, "a failed load returned a model");
        fuzz_check_no_leak(live);
        return 0;
    }
    FUZZ_ASSERT(model != NULL, "success without a model");
    predict(model);
    st = fuzz_check_status(lathe_model_save(model, NULL, &saved, &err), &err);
    FUZZ_ASSERT(st == LATHE_OK, "a loaded model could not be saved");
    st = lathe_model_load(saved, strlen(saved), &again, &err);
    if (st != LATHE_OK) fprintf(stderr, "reload: %s\n", err.message);
    FUZZ_ASSERT(st == LATHE_OK, "a saved model does not load back");
    FUZZ_ASSERT(strcmp(lathe_model_weights_sha256(model), lathe_model_weights_sha256(again)) == 0,
                "the weights hash changed through save and load");
    st = fuzz_check_status(lathe_model_save(again, NULL, &resaved, &err), &err);
    FUZZ_ASSERT(st == LATHE_OK, "a reloaded model could not be saved");
    FUZZ_ASSERT(strcmp(saved, resaved) == 0, "save -> load -> save changed the bytes");
    predict(again);
    lathe_free(saved);
    lathe_free(resaved);
    lathe_model_destroy(again);
    lathe_model_destroy(model);
    fuzz_check_no_leak(live);
    return 0;
}
