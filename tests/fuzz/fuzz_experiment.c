/* libFuzzer target: the experiment-file parser and validator (lathe/experiment.h). A parsed
 * experiment must satisfy what the validator promises (a split, a dense last layer, sizes in
 * range, strings terminated inside their fields), parsing must be deterministic (the same
 * bytes give the same struct), a failure must name a place, and nothing may leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/experiment.h"

static int terminated(const char *field, size_t cap) { return memchr(field, '\0', cap) != NULL; }

static void check_experiment(const lathe_experiment *e) {
    size_t i, splits = 0;
    FUZZ_ASSERT(terminated(e->data_name, sizeof e->data_name) &&
                    terminated(e->data_file, sizeof e->data_file) &&
                    terminated(e->data_sha256, sizeof e->data_sha256) &&
                    terminated(e->target, sizeof e->target) &&
                    terminated(e->model_template, sizeof e->model_template),
                "a string field is not terminated inside its buffer");
    FUZZ_ASSERT(e->data_sha256[0] == '\0' || strlen(e->data_sha256) == 64,
                "a fingerprint that is not 64 hex digits");
    FUZZ_ASSERT(e->task == LATHE_TASK_CLASSIFICATION || e->task == LATHE_TASK_REGRESSION,
                "an unknown task");
    FUZZ_ASSERT(e->n_ops >= 1 && e->n_ops <= LATHE_MAX_OPS, "the step count is out of range");
    for (i = 0; i < e->n_ops; i++) {
        const lathe_prep_op *op = &e->ops[i];
        size_t k;
        if (op->kind == LATHE_PREP_SPLIT) {
            splits++;
            FUZZ_ASSERT(op->test >= 0.0f && op->validation >= 0.0f &&
                            op->test + op->validation <= 0.95f,
                        "split fractions out of range");
        }
        FUZZ_ASSERT(op->n_columns <= LATHE_MAX_DROP, "too many dropped columns");
        for (k = 0; k < op->n_columns; k++)
            FUZZ_ASSERT(terminated(op->columns[k], LATHE_NAME_MAX), "a column name overflows");
    }
    FUZZ_ASSERT(splits == 1, "not exactly one split");
    FUZZ_ASSERT(e->n_layers >= 1 && e->n_layers <= LATHE_MAX_LAYERS,
                "the layer count is out of range");
    FUZZ_ASSERT(e->layers[e->n_layers - 1].kind == LATHE_LAYER_DENSE,
                "the last layer is not dense");
    for (i = 0; i < e->n_layers; i++) {
        const lathe_layer_spec *l = &e->layers[i];
        if (l->kind == LATHE_LAYER_CONV2D)
            FUZZ_ASSERT(l->filters >= 1 && l->kernel >= 1 && l->stride >= 1,
                        "a conv2d layer without filters, kernel or stride");
        if (l->kind == LATHE_LAYER_MAX_POOL || l->kind == LATHE_LAYER_AVG_POOL)
            FUZZ_ASSERT(l->size >= 1 && l->stride >= 1, "a pool without size or stride");
        if (l->kind == LATHE_LAYER_DROPOUT)
            FUZZ_ASSERT(l->rate >= 0.0f && l->rate < 1.0f, "a dropout rate outside [0, 1)");
    }
    FUZZ_ASSERT(e->batch_size >= 1 && e->epochs >= 1, "no batch size or no epochs");
    FUZZ_ASSERT(e->optimizer.lr > 0.0f, "a learning rate that is not positive");
    FUZZ_ASSERT(!e->early_stopping || e->early_stopping_patience >= 1,
                "early stopping without patience");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lathe_experiment *a = (lathe_experiment *)&a, *b = NULL; /* a must be overwritten */
    lathe_error err;
    long live = lathe_alloc_live();
    lathe_status st = lathe_experiment_parse((const char *)data, size, &a, &err);
    fuzz_check_status(st, &err);
    if (st == LATHE_OK) {
        FUZZ_ASSERT(a != NULL, "success without an experiment");
        check_experiment(a);
        st = lathe_experiment_parse((const char *)data, size, &b, &err);
        FUZZ_ASSERT(st == LATHE_OK && b != NULL, "a second parse of the same bytes failed");
        FUZZ_ASSERT(memcmp(a, b, sizeof *a) == 0, "two parses of the same bytes differ");
    } else {
        FUZZ_ASSERT(a == NULL, "a failed parse returned an experiment");
        FUZZ_ASSERT(st == LATHE_ERR_INVALID, "a parse failed without running out of memory, "
                                             "but not as invalid input");
    }
    lathe_experiment_destroy(a);
    lathe_experiment_destroy(b);
    fuzz_check_no_leak(live);
    return 0;
}
