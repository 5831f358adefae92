/* Experiment validation messages, preparation without leakage from the test split, and the
 * trainer's promises: no allocation while stepping, clean out-of-memory failures. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static const char *base_experiment =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":3,"
    "\"data\":{\"file\":\"t.csv\",\"target\":\"label\"},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.25,\"stratify\":true},{\"op\":\"standardize\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[5]},"
    "\"train\":{\"optimizer\":\"adam\",\"batch_size\":4,\"epochs\":3}}";

static void expect_invalid(const char *json, const char *fragment) {
    lathe_experiment *exp = NULL;
    lathe_error err;
    lathe_status st = lathe_experiment_parse(json, strlen(json), &exp, &err);
    CHECK(st == LATHE_ERR_INVALID && exp == NULL, "expected an error about %s", fragment);
    if (st != LATHE_OK)
        CHECK(strstr(err.message, fragment) != NULL, "message '%s' lacks '%s'", err.message,
              fragment);
    lathe_experiment_destroy(exp);
}

/* base_experiment with one substring replaced. */
static void variant(char *out, size_t cap, const char *from, const char *to) {
    const char *at = strstr(base_experiment, from);
    CHECK(at != NULL, "variant: '%s' not in the base experiment", from);
    if (!at) {
        snprintf(out, cap, "%s", base_experiment);
        return;
    }
    snprintf(out, cap, "%.*s%s%s", (int)(at - base_experiment), base_experiment, to,
             at + strlen(from));
}

static lathe_table *make_table(float test_outlier) {
    char csv[4096];
    size_t used = (size_t)snprintf(csv, sizeof csv, "f,g,label\n");
    lathe_table *t = NULL;
    lathe_error err;
    int i;
    for (i = 0; i < 40; i++)
        used += (size_t)snprintf(csv + used, sizeof csv - used, "%d,%s,%s\n", i,
                                 i % 3 ? "red" : "blue", i % 2 ? "yes_class" : "no_class");
    (void)test_outlier;
    CHECK(lathe_csv_read(csv, used, NULL, &t, &err) == LATHE_OK, "table: %s", err.message);
    return t;
}

int main(void) {
    char json[2048];
    lathe_experiment *exp = NULL;
    lathe_table *table;
    lathe_prepared *prep = NULL, *prep2 = NULL;
    lathe_trainer *trainer = NULL;
    lathe_error err;
    long live = lathe_alloc_live();
    size_t i;

    variant(json, sizeof json, "\"batch_size\":4", "\"batch_size\":0");
    expect_invalid(json, "train.batch_size: must be a number in [1, 65536]");
    variant(json, sizeof json, "\"batch_size\":4", "\"batch_size\":4,\"shuffle\":1");
    expect_invalid(json, "train.shuffle: must be true or false");
    variant(json, sizeof json, "\"epochs\":3", "\"epocs\":3");
    expect_invalid(json, "train.epocs: unknown key");
    variant(json, sizeof json, "{\"op\":\"standardize\"}", "{\"op\":\"impute\",\"strategy\":\"avg\"}");
    expect_invalid(json, "prepare[1].strategy: 'avg' is not one of mean, median");
    variant(json, sizeof json, "[{\"op\":\"split\",\"test\":0.25,\"stratify\":true},{\"op\":\"standardize\"}]",
            "[{\"op\":\"standardize\"},{\"op\":\"split\"}]");
    expect_invalid(json, "prepare[0]: standardize is fitted on the training rows");
    variant(json, sizeof json, "\"hidden\":[5]", "\"hidden\":[5.5]");
    expect_invalid(json, "model.hidden[0]");
    variant(json, sizeof json, "\"version\":1", "\"version\":2");
    expect_invalid(json, "version: must be 1");
    expect_invalid("{\"format\": \"lathe-experiment\",\n \"version\": 1,\n oops}", "not valid JSON: line 3");
    variant(json, sizeof json, "\"epochs\":3", "\"epochs\":3,\"loss\":\"mae\"");
    expect_invalid(json, "train.loss: mse, mae and huber are regression losses");
    variant(json, sizeof json, "\"epochs\":3", "\"epochs\":3,\"schedule\":{\"kind\":\"step\",\"t_max\":5}");
    expect_invalid(json, "train.schedule.t_max: does not apply to a step schedule");
    variant(json, sizeof json, "\"epochs\":3", "\"epochs\":3,\"schedule\":{\"kind\":\"linear\"}");
    expect_invalid(json, "train.schedule.kind: 'linear' is not one of constant, step, exponential, cosine");
    variant(json, sizeof json, "\"epochs\":3", "\"epochs\":3,\"huber_delta\":2");
    expect_invalid(json, "train.huber_delta: applies to the huber loss only");
    variant(json, sizeof json, "\"epochs\":3", "\"epochs\":3,\"clip_norm\":-1");
    expect_invalid(json, "train.clip_norm: must be a number in [0, 1e+09]");

    CHECK(lathe_experiment_parse(base_experiment, strlen(base_experiment), &exp, &err) == LATHE_OK,
          "base experiment: %s", err.message);
    table = make_table(0.0f);
    if (!exp || !table) return check_finish("test_pipeline");

    /* The fitted scaler sees only training rows: its mean equals the mean of the training
     * rows' raw values, and changing test rows changes nothing fitted. */
    CHECK(lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "prepare: %s", err.message);
    if (prep) {
        double sum = 0.0;
        size_t test_rows = prep->test.rows;
        CHECK(prep->train.rows == 30 && test_rows == 10, "split %zu/%zu", prep->train.rows, test_rows);
        CHECK(prep->n_features == 3, "features: f plus one-hot g (2) = 3, got %zu", prep->n_features);
        for (i = 0; i < prep->train.rows; i++) sum += (double)table->columns[0].values[prep->train.source_row[i]];
        CHECK(prep->n_steps == 1 && prep->steps[0].kind == LATHE_PREP_STANDARDIZE,
              "one fitted step, standardize: %zu steps", prep->n_steps);
        CHECK(check_close((double)prep->steps[0].shift[0], sum / (double)prep->train.rows, 1e-5, 1e-6),
              "scaler mean %g is not the training mean %g", (double)prep->steps[0].shift[0],
              sum / (double)prep->train.rows);
        for (i = 0; i < test_rows; i++) table->columns[0].values[prep->test.source_row[i]] = 1e6f;
        CHECK(lathe_prepare(exp, table, &prep2, &err) == LATHE_OK, "prepare again: %s", err.message);
        if (prep2) {
            CHECK(prep2->steps[0].shift[0] == prep->steps[0].shift[0] &&
                      prep2->steps[0].scale[0] == prep->steps[0].scale[0],
                  "test-split values reached the fitted scaler");
            CHECK(prep2->test.x[0] != prep->test.x[0] || prep2->test.x[3] != prep->test.x[3],
                  "the changed test rows did not reach the test matrix");
        }
        /* stratified: each class keeps its share in the test split */
        {
            size_t yes = 0;
            for (i = 0; i < test_rows; i++) yes += prep->test.label[i] == 1;
            CHECK(yes == 5, "stratified test split has %zu of 10 in class 1", yes);
        }
    }

    /* Stepping allocates nothing. */
    if (prep && lathe_trainer_create(exp, prep, &trainer, &err) == LATHE_OK) {
        lathe_progress p;
        lathe_alloc_fail_at(0);
        CHECK(lathe_trainer_step(trainer, 1000, &err) == LATHE_OK, "step: %s", err.message);
        (void)lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
        CHECK(lathe_alloc_count() == 0, "stepping allocated %lu times", lathe_alloc_count());
        p = lathe_trainer_progress(trainer);
        CHECK(p.done && p.epoch == 3 && p.steps == 3 * 8, "progress: epoch %zu steps %zu", p.epoch,
              p.steps);
    } else {
        CHECK(0, "trainer create: %s", err.message);
    }
    lathe_trainer_destroy(trainer);

    /* Out of memory at each allocation of prepare and trainer creation: clean failure. */
    {
        unsigned long n;
        for (n = 1; n < 500; n++) {
            lathe_prepared *p = NULL;
            lathe_trainer *tr = NULL;
            lathe_status st;
            lathe_alloc_fail_at(n);
            st = lathe_prepare(exp, table, &p, &err);
            if (st == LATHE_OK) st = lathe_trainer_create(exp, p, &tr, &err);
            lathe_alloc_fail_at(0);
            lathe_trainer_destroy(tr);
            lathe_prepared_destroy(p);
            if (st == LATHE_OK) break;
            CHECK(st == LATHE_ERR_NOMEM, "allocation %lu: status %d (%s)", n, (int)st, err.message);
        }
        CHECK(n > 10 && n < 500, "the out-of-memory sweep ended at %lu", n);
    }

    lathe_prepared_destroy(prep);
    lathe_prepared_destroy(prep2);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_pipeline");
}
