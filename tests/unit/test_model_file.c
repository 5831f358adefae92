/* Model files: a model written after training loads back and predicts on raw rows exactly
 * (bit for bit) what the trainer predicted on the prepared test rows; saving the loaded
 * model gives the same bytes; a chain of scaling steps is written as version 2 and loads
 * back step by step; categories unseen in training encode as all zeros; and every
 * kind of damage is refused with a message naming the field: truncation, a weight array one
 * float short, a wrong shape, a bad base64 character, an altered weight, a NaN weight, a
 * wrong format or version. Failed loads leak nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/base64.h"
#include "lathe/experiment.h"
#include "lathe/model.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

/* Raw rows with a numeric, a categorical (one category only in the last rows, so the split
 * may keep it out of training) and a column with missing values, imputed. */
/* Fails every allocation of loading text in turn: each gives out of memory and leaks
 * nothing, and the load after the last one succeeds. what prefixes the messages. */
static void oom_sweep_load(const char *what, const char *text) {
    unsigned long nth;
    int loaded = 0;
    lathe_error err;
    for (nth = 1; nth < 100000 && !loaded; nth++) {
        lathe_model *m = NULL;
        long before = lathe_alloc_live();
        lathe_status st;
        lathe_alloc_fail_at(nth);
        st = lathe_model_load(text, strlen(text), &m, &err);
        lathe_alloc_fail_at(0);
        if (st == LATHE_OK) loaded = 1;
        else CHECK(st == LATHE_ERR_NOMEM, "%sallocation %lu failing gave '%s'", what, nth, err.message);
        lathe_model_destroy(m);
        CHECK(lathe_alloc_live() == before, "%sallocation %lu failing leaked %ld blocks", what, nth,
              lathe_alloc_live() - before);
    }
    CHECK(loaded, "%sthe load never succeeded", what);
}

static char *make_csv(size_t rows) {
    static const char *colours[] = {"red", "green", "blue"};
    char *csv = malloc(rows * 64 + 64);
    size_t i, at = 0;
    at += (size_t)sprintf(csv, "size,colour,weight,kind\n");
    for (i = 0; i < rows; i++) {
        double size = (double)((i * 37) % 101) / 10.0;
        const char *colour = i >= rows - 2 ? "violet" : colours[(i * 7) % 3];
        int kind = (size + (double)((i * 7) % 3)) > 6.0;
        if (i % 9 == 4)
            at += (size_t)sprintf(csv + at, "%.1f,%s,,%s\n", size, colour, kind ? "big" : "small");
        else
            at += (size_t)sprintf(csv + at, "%.1f,%s,%.2f,%s\n", size, colour, size * 0.5 + 1.0,
                                  kind ? "big" : "small");
    }
    return csv;
}

static const char *experiment =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":3,"
    "\"data\":{\"file\":\"rows.csv\",\"target\":\"kind\"},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.25},{\"op\":\"impute\",\"strategy\":\"median\"},"
    "{\"op\":\"standardize\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[8]},"
    "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.05,\"batch_size\":8,\"epochs\":15}}";

/* Expects loading text to fail with status st and a message containing want. */
static void refused(const char *what, const char *text, lathe_status st, const char *want) {
    lathe_model *m = NULL;
    lathe_error err;
    long live = lathe_alloc_live();
    lathe_status got = lathe_model_load(text, strlen(text), &m, &err);
    CHECK(got == st && m == NULL, "%s: status %d (want %d): %s", what, (int)got, (int)st,
          got == LATHE_OK ? "loaded" : err.message);
    CHECK(got == LATHE_OK || strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", what,
          err.message, want);
    CHECK(lathe_alloc_live() == live, "%s: a refused load leaked %ld blocks", what,
          lathe_alloc_live() - live);
    lathe_model_destroy(m);
}

/* A copy of text with the first occurrence of from replaced by to. */
/* A chain (impute, standardize, minmax) is written as version 2 with every fitted step in
 * order; it loads back, prepares raw rows bit for bit as the training rows were, saves to the
 * same bytes, refuses damage to its steps by name, and survives failing allocations. */
static const char *chain_experiment =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":3,"
    "\"data\":{\"file\":\"rows.csv\",\"target\":\"kind\"},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.25},{\"op\":\"impute\",\"strategy\":\"median\"},"
    "{\"op\":\"standardize\"},{\"op\":\"minmax\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[4]},"
    "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.05,\"batch_size\":8,\"epochs\":2}}";

static void check_chain_file(const lathe_table *table);

/* check_replaced(), in the file's preparation only (the embedded experiment comes before it). */
static char *in_preparation(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, "\"preparation\":");
    char *tail = check_replaced(at, from, to), *out = malloc((size_t)(at - text) + strlen(tail) + 1);
    memcpy(out, text, (size_t)(at - text));
    strcpy(out + (at - text), tail);
    free(tail);
    return out;
}

/* The base64 value of field "name" of the first layer that has it: [start, end). */
static void find_base64(const char *text, const char *name, const char **start, const char **end) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\t\"", name);
    *start = strstr(text, key);
    if (*start) *start += strlen(key);
    *end = *start ? strchr(*start, '"') : NULL;
}

int main(void) {
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *trainer = NULL;
    lathe_model *model = NULL;
    lathe_error err;
    char *csv = make_csv(120), *text = NULL, *again = NULL;
    long live = lathe_alloc_live();
    size_t i, C, has_violet = 0;

    CHECK(lathe_experiment_parse(experiment, strlen(experiment), &exp, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_csv_read(csv, strlen(csv), NULL, &table, &err) == LATHE_OK, "%s", err.message);
    CHECK(exp && table && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
    CHECK(prep && lathe_trainer_create(exp, prep, &trainer, &err) == LATHE_OK, "%s", err.message);
    if (!trainer) return check_finish("test_model_file");
    CHECK(lathe_trainer_step(trainer, (size_t)-1, &err) == LATHE_OK, "%s", err.message);

    /* The vocabulary is the training rows': "violet" (rows 119 and 120) is in training only
     * when the split put one of them there. */
    {
        size_t violet_train = 0, has_feature = 0; /* has_violet below */
        for (i = 0; i < prep->train.rows; i++) violet_train += prep->train.source_row[i] >= 118;
        for (i = 0; i < prep->n_features; i++) has_feature += strcmp(prep->feature_names[i], "colour=violet") == 0;
        CHECK(has_feature == (violet_train > 0), "colour=violet is %s a feature, but %zu training rows have it",
              has_feature ? "" : "not", violet_train);
        CHECK(prep->n_inputs == 3 && prep->inputs[1].type == LATHE_COLUMN_CATEGORICAL &&
                  prep->inputs[1].width == 3 + has_feature && strcmp(prep->target, "kind") == 0,
              "inputs: %zu, colour width %zu", prep->n_inputs, prep->n_inputs > 1 ? prep->inputs[1].width : 0);
        has_violet = has_feature;
    }

    CHECK(lathe_model_file_write(experiment, strlen(experiment), prep, trainer, "{\"test\":{\"rows\":30}}",
                                 &text, &err) == LATHE_OK, "%s", err.message);
    if (!text) return check_finish("test_model_file");
    CHECK(lathe_model_load(text, strlen(text), &model, &err) == LATHE_OK, "load: %s", err.message);
    if (model) {
        char hash[65];
        lathe_split_data raw;
        float *want, *got;
        size_t unseen = 99;
        lathe_trainer_weights_sha256(trainer, hash);
        CHECK(strcmp(hash, lathe_model_weights_sha256(model)) == 0, "weights hash changed on loading");
        /* Raw rows through the stored preparation equal the prepared rows, bit for bit. */
        CHECK(lathe_prepare_rows(lathe_model_preparation(model), table, 1, &raw, &unseen, &err) == LATHE_OK,
              "%s", err.message);
        C = lathe_trainer_n_outputs(trainer);
        want = malloc(prep->test.rows * C * sizeof *want);
        got = malloc(prep->test.rows * C * sizeof *got);
        if (raw.x) {
            float *x = malloc(prep->test.rows * prep->n_features * sizeof *x);
            for (i = 0; i < prep->test.rows; i++) {
                memcpy(x + i * prep->n_features, raw.x + prep->test.source_row[i] * prep->n_features,
                       prep->n_features * sizeof *x);
                CHECK(raw.label[prep->test.source_row[i]] == prep->test.label[i], "label of test row %zu", i);
            }
            CHECK_SAME_BITS("raw test rows prepared by the model", x, prep->test.x,
                            prep->test.rows * prep->n_features);
            lathe_trainer_predict(trainer, prep->test.rows, prep->test.x, want);
            lathe_trainer_predict(lathe_model_network(model), prep->test.rows, x, got);
            CHECK_SAME_BITS("loaded model's predictions", got, want, prep->test.rows * C);
            free(x);
        }
        /* Both violet rows are unseen when neither was a training row. */
        CHECK(has_violet || unseen == 2, "unseen categories counted %zu, expected 2", unseen);
        CHECK(!has_violet || unseen == 0, "unseen categories counted %zu, expected 0", unseen);
        lathe_split_data_free(&raw);
        free(want);
        free(got);
        /* Saving the loaded model gives the same bytes. */
        CHECK(lathe_model_save(model, NULL, &again, &err) == LATHE_OK, "%s", err.message);
        CHECK(again && strcmp(again, text) == 0, "save(load(file)) differs from the file");
        lathe_free(again);
    }
    lathe_model_destroy(model);

    /* Damage. */
    {
        size_t n = strlen(text);
        char *t = malloc(n + 1), *bad;
        const char *start, *end;
        memcpy(t, text, n + 1);
        t[n / 2] = '\0';
        refused("truncated", t, LATHE_ERR_INVALID, "ends early");
        free(t);

        find_base64(text, "weights", &start, &end);
        CHECK(start && end && end - start > 16, "no weights in the file");
        if (start && end) {
            size_t len = (size_t)(end - start);
            /* One float short: the base64 of 4 bytes fewer. */
            float *w = malloc(len);
            char *b64 = malloc(len + 1), *t2;
            size_t floats = (len / 4 * 3) / 4;
            memcpy(b64, start, len);
            b64[len] = '\0';
            CHECK(lathe_base64_decode_floats(b64, floats, w, "w", &err) == LATHE_OK, "%s", err.message);
            lathe_base64_encode(w, (floats - 1) * 4, b64);
            t2 = malloc(n + 1);
            memcpy(t2, text, (size_t)(start - text));
            strcpy(t2 + (start - text), b64);
            strcat(t2, end);
            refused("weights one float short", t2, LATHE_ERR_INVALID, "layers[0].weights");
            free(t2);
            /* A bad base64 character. */
            t2 = malloc(n + 1);
            memcpy(t2, text, n + 1);
            t2[start - text + 5] = '!';
            refused("bad base64 character", t2, LATHE_ERR_INVALID, "layers[0].weights: character 6 ('!')");
            /* An altered weight: valid base64, wrong hash. */
            memcpy(t2, text, n + 1);
            t2[start - text + 5] = start[5] == 'A' ? 'B' : 'A';
            refused("altered weight", t2, LATHE_ERR_MISMATCH, "weights_sha256");
            /* A NaN weight. */
            w[3] = __builtin_nanf("");
            lathe_base64_encode(w, floats * 4, b64);
            memcpy(t2, text, n + 1);
            memcpy(t2 + (start - text), b64, len);
            refused("NaN weight", t2, LATHE_ERR_INVALID, "layers[0].weights[3]: the value is NaN");
            free(t2);
            free(w);
            free(b64);
        }
        bad = check_replaced(text, "\"units\":\t8", "\"units\":\t9");
        refused("wrong shape", bad, LATHE_ERR_INVALID, "layers[0].units: 9, but the experiment's network has 8");
        free(bad);
        bad = check_replaced(text, "\"lathe-model\"", "\"lathe-experiment\"");
        refused("wrong format", bad, LATHE_ERR_INVALID, "format: 'lathe-experiment' is not a Lathe model");
        free(bad);
        bad = check_replaced(text, "\"version\":\t1,\n\t\"producer\"", "\"version\":\t6,\n\t\"producer\"");
        refused("newer version", bad, LATHE_ERR_INVALID, "version: 6 is newer");
        free(bad);
        bad = check_replaced(text, "\"fill\":", "\"steps\":\t[],\n\t\t\"fill\":");
        refused("steps in version 1", bad, LATHE_ERR_INVALID, "preparation.steps: a version 1 file");
        free(bad);
        bad = check_replaced(text, "\"hidden\":\t[8]", "\"hidden\":\t[8, 4]");
        refused("layers missing", bad, LATHE_ERR_INVALID, "layers: 3 layers, but the experiment's network has 5");
        free(bad);
        bad = check_replaced(text, "\"scale\":\t[", "\"scale\":\t[1, ");
        refused("one scale too many", bad, LATHE_ERR_INVALID, "preparation.scale:");
        free(bad);
        bad = check_replaced(text, "\"learning_rate\"", "\"learning_rat\"");
        refused("bad experiment", bad, LATHE_ERR_INVALID, "experiment: ");
        free(bad);
        refused("empty", "", LATHE_ERR_INVALID, "empty");
        refused("not JSON", "{\"format\": lathe}", LATHE_ERR_INVALID, "line 1, column 12");
    }

    /* Out of memory at every allocation of a load: an error, nothing leaked. */
    oom_sweep_load("", text);

    /* Out of memory at every allocation of saving, predicting on raw rows and evaluating:
     * an error, nothing leaked, and the model still works afterwards. */
    CHECK(lathe_model_load(text, strlen(text), &model, &err) == LATHE_OK, "%s", err.message);
    if (model) {
        int op;
        for (op = 0; op < 3; op++) {
            static const char *const names[3] = {"saving", "predicting", "evaluating"};
            unsigned long nth;
            int done = 0;
            for (nth = 1; nth < 100000 && !done; nth++) {
                char *saved = NULL;
                float *pred = NULL;
                size_t rows = 0;
                lathe_model_evaluation ev;
                long before = lathe_alloc_live();
                lathe_status st;
                memset(&ev, 0, sizeof ev);
                lathe_alloc_fail_at(nth);
                st = op == 0   ? lathe_model_save(model, NULL, &saved, &err)
                     : op == 1 ? lathe_model_predict_table(model, table, &pred, &rows, NULL, &err)
                               : lathe_model_evaluate_table(model, table, &ev, &err);
                lathe_alloc_fail_at(0);
                if (st == LATHE_OK) done = 1;
                else CHECK(st == LATHE_ERR_NOMEM, "%s, allocation %lu failing: '%s'", names[op], nth, err.message);
                if (op == 0 && saved) CHECK(strcmp(saved, text) == 0, "saved after failures differs");
                lathe_free(saved);
                lathe_free(pred);
                lathe_class_report_destroy(ev.report);
                CHECK(lathe_alloc_live() == before, "%s, allocation %lu failing: leaked %ld blocks",
                      names[op], nth, lathe_alloc_live() - before);
            }
            CHECK(done, "%s never succeeded", names[op]);
        }
        lathe_model_destroy(model);
        model = NULL;
    }

    check_chain_file(table);

    lathe_free(text);
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    free(csv);
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_model_file");
}

static void check_chain_file(const lathe_table *table) {
    lathe_experiment *exp = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *trainer = NULL;
    lathe_model *model = NULL;
    lathe_error err;
    char *text = NULL, *again = NULL, *bad;
    size_t i, F;
    CHECK(lathe_experiment_parse(chain_experiment, strlen(chain_experiment), &exp, &err) == LATHE_OK,
          "chain: %s", err.message);
    CHECK(exp && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "chain: %s", err.message);
    CHECK(prep && lathe_trainer_create(exp, prep, &trainer, &err) == LATHE_OK, "chain: %s", err.message);
    if (!trainer) goto done;
    CHECK(prep->n_steps == 3 && prep->steps[0].kind == LATHE_PREP_IMPUTE &&
              prep->steps[1].kind == LATHE_PREP_STANDARDIZE && prep->steps[2].kind == LATHE_PREP_MINMAX,
          "chain: %zu fitted steps, expected impute, standardize, minmax", prep->n_steps);
    CHECK(lathe_trainer_step(trainer, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_model_file_write(chain_experiment, strlen(chain_experiment), prep, trainer, NULL,
                                 &text, &err) == LATHE_OK, "%s", err.message);
    if (!text) goto done;
    CHECK(strstr(text, "\"version\":\t2,") && strstr(text, "\"steps\":\t[{") &&
              !strstr(text, "\"shift\":\t[0") && strstr(text, "\"op\":\t\"minmax\""),
          "chain: not a version 2 file with steps");
    CHECK(lathe_model_load(text, strlen(text), &model, &err) == LATHE_OK, "chain load: %s", err.message);
    if (model) {
        const lathe_prepared *fitted = lathe_model_preparation(model);
        lathe_split_data raw;
        F = prep->n_features;
        CHECK(fitted->n_steps == 3, "chain: loaded %zu steps", fitted->n_steps);
        CHECK(lathe_prepare_rows(fitted, table, 1, &raw, NULL, &err) == LATHE_OK, "%s", err.message);
        if (raw.x) {
            float *x = malloc((prep->train.rows + 1) * F * sizeof *x);
            for (i = 0; i < prep->train.rows; i++)
                memcpy(x + i * F, raw.x + prep->train.source_row[i] * F, F * sizeof *x);
            CHECK_SAME_BITS("chain: raw training rows through the loaded steps", x, prep->train.x,
                            prep->train.rows * F);
            free(x);
        }
        lathe_split_data_free(&raw);
        CHECK(lathe_model_save(model, NULL, &again, &err) == LATHE_OK, "%s", err.message);
        CHECK(again && strcmp(again, text) == 0, "chain: save(load(file)) differs from the file");
        lathe_free(again);
        lathe_model_destroy(model);
    }
    bad = in_preparation(text, "\"op\":\t\"minmax\"", "\"op\":\t\"scale\"");
    refused("chain: unknown step", bad, LATHE_ERR_INVALID, "preparation.steps[2].op: 'scale' is not a fitted step");
    free(bad);
    bad = in_preparation(text, "\"op\":\t\"standardize\"", "\"op\":\t\"impute\"");
    refused("chain: impute second", bad, LATHE_ERR_INVALID, "preparation.steps[1].op: an impute must be the first");
    free(bad);
    bad = in_preparation(text, "\"op\":\t\"minmax\",", "\"op\":\t\"minmax\",\n\t\t\t\t\"per\":\t\"all\",");
    refused("chain: unknown field", bad, LATHE_ERR_INVALID, "preparation.steps[2].per: not a field of minmax");
    free(bad);
    bad = in_preparation(text, "\"scale\":\t[", "\"scale\":\t[1, ");
    refused("chain: one scale too many", bad, LATHE_ERR_INVALID, "preparation.steps[1].scale: ");
    free(bad);
    bad = in_preparation(text, "\"shift\":\t[", "\"shift\":\t[1e39, ");
    refused("chain: a shift beyond float32", bad, LATHE_ERR_INVALID, "preparation.steps[1].shift");
    free(bad);
    bad = in_preparation(text, "\"steps\":", "\"shift\":\t[],\n\t\t\"steps\":");
    refused("chain: shift beside steps", bad, LATHE_ERR_INVALID, "preparation.shift: version 2 keeps");
    free(bad);
    bad = in_preparation(text, "\"steps\":", "\"stepz\":");
    refused("chain: no steps", bad, LATHE_ERR_INVALID, "preparation.steps: missing");
    free(bad);
    oom_sweep_load("chain: ", text);
done:
    lathe_free(text);
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
    lathe_experiment_destroy(exp);
}
