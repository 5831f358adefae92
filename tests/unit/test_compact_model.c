/* The web export's compact model (lathe/compact_model.h): a trained network described as the
 * JavaScript module describes a model file predicts, from the encoded raw rows, the bits of
 * the trainer on the prepared rows (an MLP with batch norm, dropout, a binary head and a
 * chain of scaling steps; a CNN on images with conv2d, batch norm, both pools and flatten);
 * an altered weight is refused as weights_sha256; every shorter description, every header
 * word and every declared shape set wrong is refused without crashing; failing allocations
 * give out of memory and leak nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/compact_model.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/sha256.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

static void put_word(uint8_t *b, size_t i, uint32_t v) {
    b[4 * i] = (uint8_t)v, b[4 * i + 1] = (uint8_t)(v >> 8), b[4 * i + 2] = (uint8_t)(v >> 16);
    b[4 * i + 3] = (uint8_t)(v >> 24);
}

static void put_floats(uint8_t *b, size_t at, const float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) put_word(b, at + i, bits32(x[i]));
}

/* The description of trainer t on preparation p (what lathe_web.js writes): malloc'd. */
static uint8_t *describe(const lathe_trainer *t, const lathe_prepared *p, int binary, size_t batch,
                         size_t *n) {
    size_t L = lathe_trainer_layer_count(t), P, S, l, k, steps = lathe_prepared_scaling_steps(p);
    size_t F = p->n_features, at;
    const float *params = lathe_trainer_params(t, &P), *stats = lathe_trainer_stats(t, &S);
    uint8_t *b, digest[32];
    lathe_sha256 ctx;
    *n = 4 * (LATHE_COMPACT_HEADER_WORDS + L * LATHE_COMPACT_LAYER_WORDS + 2 * steps * F + P + S);
    b = calloc(1, *n);
    put_word(b, 0, LATHE_COMPACT_MAGIC);
    put_word(b, 1, p->task == LATHE_TASK_REGRESSION);
    put_word(b, 2, (uint32_t)binary);
    put_word(b, 3, (uint32_t)F);
    put_word(b, 4, (uint32_t)p->n_classes);
    for (k = 0; k < 3; k++) put_word(b, 5 + k, (uint32_t)p->image[k]);
    put_word(b, 8, (uint32_t)batch);
    put_word(b, 9, (uint32_t)steps);
    put_word(b, 10, (uint32_t)L);
    put_word(b, 11, (uint32_t)P);
    put_word(b, 12, (uint32_t)S);
    lathe_sha256_init(&ctx);
    {
        uint8_t *le = malloc(4 * (P ? P : 1));
        for (k = 0; k < P; k++) {
            uint32_t v = bits32(params[k]);
            le[4 * k] = (uint8_t)v, le[4 * k + 1] = (uint8_t)(v >> 8);
            le[4 * k + 2] = (uint8_t)(v >> 16), le[4 * k + 3] = (uint8_t)(v >> 24);
        }
        lathe_sha256_update(&ctx, le, 4 * P);
        free(le);
    }
    lathe_sha256_final(&ctx, digest);
    memcpy(b + 13 * 4, digest, 32);
    for (l = 0; l < L; l++) {
        lathe_layer_info info;
        size_t w = LATHE_COMPACT_HEADER_WORDS + l * LATHE_COMPACT_LAYER_WORDS;
        lathe_trainer_layer(t, l, &info);
        put_word(b, w, (uint32_t)info.kind);
        put_word(b, w + 1, (uint32_t)info.activation);
        if (info.kind == LATHE_LAYER_DENSE) {
            put_word(b, w + 2, (uint32_t)info.out);
            put_word(b, w + 9, (uint32_t)info.in), put_word(b, w + 10, 1), put_word(b, w + 11, 1);
            continue;
        }
        if (info.kind == LATHE_LAYER_CONV2D) {
            put_word(b, w + 3, (uint32_t)info.out_c), put_word(b, w + 4, (uint32_t)info.kernel);
            put_word(b, w + 6, (uint32_t)info.pad);
        }
        if (info.kind == LATHE_LAYER_MAX_POOL || info.kind == LATHE_LAYER_AVG_POOL)
            put_word(b, w + 7, (uint32_t)info.kernel);
        put_word(b, w + 5, (uint32_t)info.stride);
        put_word(b, w + 8, bits32(info.rate));
        put_word(b, w + 9, (uint32_t)info.in_c), put_word(b, w + 10, (uint32_t)info.in_h);
        put_word(b, w + 11, (uint32_t)info.in_w), put_word(b, w + 12, (uint32_t)info.channels);
    }
    at = LATHE_COMPACT_HEADER_WORDS + L * LATHE_COMPACT_LAYER_WORDS;
    for (k = 0; k < p->n_steps; k++) {
        if (p->steps[k].kind == LATHE_PREP_IMPUTE) continue;
        put_floats(b, at, p->steps[k].shift, F), at += F;
        put_floats(b, at, p->steps[k].scale, F), at += F;
    }
    put_floats(b, at, params, P), at += P;
    put_floats(b, at, stats, S);
    return b;
}

/* Loading b:(n) fails with st (and no leak). */
static void refused(const char *what, const uint8_t *b, size_t n, lathe_status st) {
    lathe_compact_model *m = NULL;
    lathe_error err;
    long live = lathe_alloc_live();
    lathe_status got = lathe_compact_model_load(b, n, &m, &err);
    CHECK(got == st && m == NULL, "%s: status %d (want %d): %s", what, (int)got, (int)st,
          got == LATHE_OK ? "loaded" : err.message);
    lathe_compact_model_destroy(m);
    CHECK(lathe_alloc_live() == live, "%s: leaked %ld blocks", what, lathe_alloc_live() - live);
}

/* Trains exp on the CSV text for a few epochs, describes it, and checks everything above. */
static void check_case(const char *name, const char *experiment, const char *csv, int binary) {
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *t = NULL;
    lathe_compact_model *m = NULL;
    lathe_split_data raw, prepared;
    lathe_error err;
    uint8_t *b, *bad;
    size_t n, i, C, L, S;
    size_t steps_kept;
    float *want, *got;
    unsigned long nth;
    int loaded = 0;
    char what[96];
    if (lathe_experiment_parse(experiment, strlen(experiment), &exp, &err) != LATHE_OK ||
        lathe_csv_read(csv, strlen(csv), NULL, &table, &err) != LATHE_OK ||
        lathe_prepare(exp, table, &prep, &err) != LATHE_OK ||
        lathe_trainer_create(exp, prep, &t, &err) != LATHE_OK ||
        lathe_trainer_step(t, 40, &err) != LATHE_OK) {
        CHECK(0, "%s: set-up failed: %s", name, err.message);
        goto done;
    }
    /* The rows encoded (fill, one-hot) without the scaling steps, as lathe_web.js gives them;
     * and prepared with them, as the trainer takes them. */
    steps_kept = prep->n_steps;
    prep->n_steps = prep->n_steps && prep->steps[0].kind == LATHE_PREP_IMPUTE ? 1 : 0;
    CHECK(lathe_prepare_rows(prep, table, 0, &raw, NULL, &err) == LATHE_OK, "%s: %s", name, err.message);
    prep->n_steps = steps_kept;
    CHECK(lathe_prepare_rows(prep, table, 0, &prepared, NULL, &err) == LATHE_OK, "%s: %s", name,
          err.message);
    b = describe(t, prep, binary, exp->batch_size, &n);
    CHECK(lathe_compact_model_load(b, n, &m, &err) == LATHE_OK, "%s: %s", name, err.message);
    C = lathe_trainer_n_outputs(t);
    want = malloc(raw.rows * C * sizeof *want);
    got = malloc(raw.rows * C * sizeof *got);
    if (m) {
        CHECK(lathe_compact_model_outputs(m) == C && lathe_compact_model_features(m) == prep->n_features,
              "%s: %zu outputs, %zu features", name, lathe_compact_model_outputs(m),
              lathe_compact_model_features(m));
        lathe_trainer_predict(t, prepared.rows, prepared.x, want);
        lathe_compact_model_predict(m, raw.x, raw.rows, got);
        snprintf(what, sizeof what, "%s: predictions", name);
        CHECK_SAME_BITS(what, got, want, raw.rows * C);
    }
    lathe_compact_model_destroy(m);

    bad = malloc(n);
    memcpy(bad, b, n);
    (void)lathe_trainer_stats(t, &S);
    bad[n - 4 * S - 4] ^= 1; /* the last parameter's lowest bit */
    {
        lathe_compact_model *d = NULL;
        lathe_status st = lathe_compact_model_load(bad, n, &d, &err);
        CHECK(st == LATHE_ERR_MISMATCH && strncmp(err.message, "weights_sha256: ", 16) == 0,
              "%s: an altered weight: %s", name, st == LATHE_OK ? "loaded" : err.message);
        lathe_compact_model_destroy(d);
    }
    for (i = 0; i < n; i += 4) {
        snprintf(what, sizeof what, "%s: %zu of %zu bytes", name, i, n);
        refused(what, b, i, LATHE_ERR_INVALID);
    }
    /* Every header word but the batch size (any in [1, 65536] predicts alike) set wrong is
     * refused: by a check, by the length its counts make, by the network or by the digest; so
     * is every shape a layer declares, where the layer has one (an activation or a dropout
     * has none; a batch norm declares only its channels). */
    L = lathe_trainer_layer_count(t);
    for (i = 0; i < LATHE_COMPACT_HEADER_WORDS + L * LATHE_COMPACT_LAYER_WORDS; i++) {
        size_t j = (i - LATHE_COMPACT_HEADER_WORDS) % LATHE_COMPACT_LAYER_WORDS;
        uint32_t kind = i < LATHE_COMPACT_HEADER_WORDS ? 0 : b[4 * (i - j)], v;
        static const uint32_t values[2] = {0xFFFFFFFFu, 0x7FFFu};
        int checked = i < LATHE_COMPACT_HEADER_WORDS ||
                      (kind != LATHE_LAYER_ACTIVATION && kind != LATHE_LAYER_DROPOUT &&
                       (j < 12) == (kind != LATHE_LAYER_BATCH_NORM));
        if (i == 8 || (i >= LATHE_COMPACT_HEADER_WORDS && j < 9)) continue;
        for (v = 0; v < 2; v++) {
            lathe_compact_model *d = NULL;
            lathe_status st;
            memcpy(bad, b, n);
            put_word(bad, i, values[v]);
            st = lathe_compact_model_load(bad, n, &d, &err);
            CHECK((st != LATHE_OK) == checked, "%s: word %zu set to %u: %s", name, i,
                  (unsigned)values[v], st == LATHE_OK ? "loaded" : err.message);
            lathe_compact_model_destroy(d);
        }
    }
    free(bad);

    for (nth = 1; nth < 10000 && !loaded; nth++) {
        lathe_compact_model *d = NULL;
        long before = lathe_alloc_live();
        lathe_status st;
        lathe_alloc_fail_at(nth);
        st = lathe_compact_model_load(b, n, &d, &err);
        lathe_alloc_fail_at(0);
        if (st == LATHE_OK) loaded = 1;
        else CHECK(st == LATHE_ERR_NOMEM, "%s: allocation %lu failing gave '%s'", name, nth, err.message);
        lathe_compact_model_destroy(d);
        CHECK(lathe_alloc_live() == before, "%s: allocation %lu failing leaked %ld blocks", name,
              nth, lathe_alloc_live() - before);
    }
    CHECK(loaded, "%s: the load never succeeded", name);
    free(b);
    free(want);
    free(got);
    lathe_split_data_free(&raw);
    lathe_split_data_free(&prepared);
done:
    lathe_trainer_destroy(t);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
}

/* Rows of two numbers, a category, a boolean (some missing) and a two-class label. */
static char *tabular_csv(void) {
    static const char *colours[] = {"red", "green", "blue"};
    char *csv = malloc(200 * 64 + 64);
    size_t i, at = (size_t)sprintf(csv, "a,b,colour,flag,label\n");
    for (i = 0; i < 200; i++) {
        double a = (double)((i * 37) % 101) / 10.0, b = (double)((i * 53) % 17) - 8.0;
        if (i % 11 != 3) at += (size_t)sprintf(csv + at, "%.1f", a); /* else a is missing */
        at += (size_t)sprintf(csv + at, ",%.1f,%s,%s,%s\n", b, i % 13 == 5 ? "" : colours[(i * 7) % 3],
                              i % 2 ? "true" : "false", a + b > 3.0 ? "big" : "small");
    }
    return csv;
}

/* Rows of 4×4 one-channel images (px0..px15) and one of three labels. */
static char *image_csv(void) {
    char *csv = malloc(150 * 96 + 256);
    size_t i, p, at = 0;
    for (p = 0; p < 16; p++) at += (size_t)sprintf(csv + at, "px%zu,", p);
    at += (size_t)sprintf(csv + at, "label\n");
    for (i = 0; i < 150; i++) {
        for (p = 0; p < 16; p++) at += (size_t)sprintf(csv + at, "%zu,", (i * 31 + p * (i % 3 + 1) * 7) % 256);
        at += (size_t)sprintf(csv + at, "%c\n", (char)('a' + i % 3));
    }
    return csv;
}

int main(void) {
    char *tabular = tabular_csv(), *images = image_csv();
    check_case("mlp",
               "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":5,"
               "\"data\":{\"file\":\"t.csv\",\"target\":\"label\"},"
               "\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"impute\",\"strategy\":\"mean\"},"
               "{\"op\":\"standardize\"},{\"op\":\"minmax\"}],"
               "\"model\":{\"layers\":[{\"type\":\"dense\",\"units\":6},{\"type\":\"batch_norm\"},"
               "{\"type\":\"tanh\"},{\"type\":\"dropout\",\"rate\":0.25},{\"type\":\"dense\",\"units\":1}]},"
               "\"train\":{\"batch_size\":16,\"epochs\":3,\"loss\":\"binary_cross_entropy\"}}",
               tabular, 1);
    check_case("cnn",
               "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":9,"
               "\"data\":{\"file\":\"i.csv\",\"target\":\"label\",\"image\":[1,4,4]},"
               "\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"standardize\",\"per\":\"all\"}],"
               "\"model\":{\"layers\":[{\"type\":\"conv2d\",\"filters\":3,\"kernel\":3,\"padding\":\"same\"},"
               "{\"type\":\"batch_norm\"},{\"type\":\"relu\"},{\"type\":\"max_pool\",\"size\":2},"
               "{\"type\":\"avg_pool\",\"size\":2,\"stride\":1},{\"type\":\"flatten\"},"
               "{\"type\":\"dense\"}]},"
               "\"train\":{\"batch_size\":10,\"epochs\":2}}",
               images, 0);
    free(tabular);
    free(images);
    return check_finish("test_compact_model");
}
