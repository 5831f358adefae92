/* libFuzzer target: the whole pipeline on fuzzed CSV bytes with fixed experiments:
 * lathe_csv_read -> lathe_prepare -> lathe_trainer_create -> one step -> evaluate -> predict
 * one row. Byte 0 picks one of the experiments below (each with target column "y"); the
 * rest is the CSV. Errors at any stage are fine; a crash, a leak, a failure without a
 * message or prepared data that breaks prepare.h's promises is a finding. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

#define EXPERIMENT_HEAD "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 3, "

static const char *const experiments[] = {
    /* 0: classification, imputed and standardised features, a small MLP */
    EXPERIMENT_HEAD "\"data\": {\"file\": \"fuzz.csv\", \"target\": \"y\"},"
    " \"prepare\": [{\"op\": \"split\", \"test\": 0.25},"
    "  {\"op\": \"impute\", \"strategy\": \"mean\"}, {\"op\": \"standardize\"}],"
    " \"model\": {\"template\": \"mlp\", \"hidden\": [4]},"
    " \"train\": {\"optimizer\": \"sgd\", \"momentum\": 0.5, \"nesterov\": true,"
    "  \"batch_size\": 4, \"epochs\": 1}}",
    /* 1: regression, complete rows only, min-max, Huber loss, early stopping */
    EXPERIMENT_HEAD "\"data\": {\"file\": \"fuzz.csv\", \"target\": \"y\", \"task\": \"regression\"},"
    " \"prepare\": [{\"op\": \"drop_missing\"},"
    "  {\"op\": \"split\", \"test\": 0.2, \"validation\": 0.2}, {\"op\": \"minmax\"}],"
    " \"model\": {\"template\": \"linear\"},"
    " \"train\": {\"optimizer\": \"adam\", \"loss\": \"huber\", \"batch_size\": 3, \"epochs\": 2,"
    "  \"early_stopping\": {\"patience\": 1}}}",
    /* 2: classification without stratification, a dropped column, most-frequent imputation,
     * logistic regression with AdamW, a cosine schedule and clipping */
    EXPERIMENT_HEAD "\"data\": {\"file\": \"fuzz.csv\", \"target\": \"y\"},"
    " \"prepare\": [{\"op\": \"drop_columns\", \"columns\": [\"x\"]},"
    "  {\"op\": \"split\", \"test\": 0.3, \"stratify\": false},"
    "  {\"op\": \"impute\", \"strategy\": \"most_frequent\"}, {\"op\": \"standardize\"}],"
    " \"model\": {\"template\": \"logistic\", \"init\": \"zeros\"},"
    " \"train\": {\"optimizer\": \"adamw\", \"batch_size\": 8, \"epochs\": 1, \"clip_norm\": 1,"
    "  \"schedule\": {\"kind\": \"cosine\"}, \"warmup_steps\": 2}}",
    /* 3: classification with median / constant imputation, a layer list with batch norm and
     * dropout, early stopping on accuracy */
    EXPERIMENT_HEAD "\"data\": {\"file\": \"fuzz.csv\", \"target\": \"y\"},"
    " \"prepare\": [{\"op\": \"split\", \"test\": 0.2, \"validation\": 0.2},"
    "  {\"op\": \"impute\", \"strategy\": \"median\"}, {\"op\": \"minmax\"}],"
    " \"model\": {\"layers\": [{\"type\": \"dense\", \"units\": 5}, {\"type\": \"batch_norm\"},"
    "  {\"type\": \"tanh\"}, {\"type\": \"dropout\", \"rate\": 0.3}, {\"type\": \"dense\"}],"
    "  \"init\": \"he_normal\"},"
    " \"train\": {\"optimizer\": \"adam\", \"batch_size\": 2, \"epochs\": 1,"
    "  \"early_stopping\": {\"patience\": 2, \"metric\": \"validation_accuracy\"}}}",
};
#define N_EXPERIMENTS (sizeof experiments / sizeof experiments[0])

/* Parses the fixed experiments once; they are valid, so a failure is a harness bug. */
static const lathe_experiment *fixed_experiment(size_t i) {
    static lathe_experiment *parsed[N_EXPERIMENTS];
    if (!parsed[i]) {
        lathe_error err;
        lathe_status st = lathe_experiment_parse(experiments[i], strlen(experiments[i]),
                                                 &parsed[i], &err);
        if (st != LATHE_OK) fprintf(stderr, "fixed experiment %zu: %s\n", i, err.message);
        FUZZ_ASSERT(st == LATHE_OK, "a fixed experiment does not parse");
    }
    return parsed[i];
}

static void check_split(const lathe_prepared *p, const lathe_split_data *s, size_t table_rows) {
    size_t r;
    for (r = 0; r < s->rows; r++) {
        FUZZ_ASSERT(s->source_row[r] < table_rows, "a prepared row points outside the table");
        if (p->task == LATHE_TASK_CLASSIFICATION)
            FUZZ_ASSERT(s->label[r] < p->n_classes, "a label beyond the classes");
    }
}

static void run(const lathe_experiment *exp, const lathe_table *table) {
    lathe_prepared *prep = NULL;
    lathe_trainer *trainer = NULL;
    lathe_error err;
    lathe_status st = fuzz_check_status(lathe_prepare(exp, table, &prep, &err), &err);
    if (st != LATHE_OK) {
        FUZZ_ASSERT(prep == NULL, "a failed preparation returned data");
        return;
    }
    FUZZ_ASSERT(prep->train.rows >= 1, "prepared data without training rows");
    FUZZ_ASSERT(prep->train.rows + prep->validation.rows + prep->test.rows <= table->rows,
                "more prepared rows than table rows");
    FUZZ_ASSERT(prep->n_features >= 1, "prepared data without features");
    check_split(prep, &prep->train, table->rows);
    check_split(prep, &prep->validation, table->rows);
    check_split(prep, &prep->test, table->rows);
    st = fuzz_check_status(lathe_trainer_create(exp, prep, &trainer, &err), &err);
    if (st == LATHE_OK) {
        float out[64];
        st = fuzz_check_status(lathe_trainer_step(trainer, 1, &err), &err);
        FUZZ_ASSERT(st == LATHE_OK || st == LATHE_ERR_DIVERGED,
                    "one training step failed for a reason other than divergence");
        (void)lathe_trainer_evaluate(trainer, LATHE_SPLIT_TRAIN);
        (void)lathe_trainer_evaluate(trainer, LATHE_SPLIT_VALIDATION);
        (void)lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
        if (lathe_trainer_n_outputs(trainer) <= sizeof out / sizeof out[0])
            lathe_trainer_predict(trainer, 1, prep->train.x, out);
    } else {
        FUZZ_ASSERT(trainer == NULL, "a failed create returned a trainer");
    }
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const lathe_experiment *exp;
    lathe_table *table = NULL;
    lathe_error err;
    lathe_status st;
    long live;
    size_t i;
    for (i = 0; i < N_EXPERIMENTS; i++) fixed_experiment(i); /* once, outside the leak count */
    if (size < 1) return 0;
    exp = fixed_experiment(data[0] % N_EXPERIMENTS);
    live = lathe_alloc_live();
    st = fuzz_check_status(lathe_csv_read((const char *)data + 1, size - 1, NULL, &table, &err),
                           &err);
    if (st == LATHE_OK) run(exp, table);
    lathe_table_destroy(table);
    fuzz_check_no_leak(live);
    return 0;
}
