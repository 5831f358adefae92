/* The preparation ops of issue 4 beyond the basics: drop_duplicates (pandas' keep="first"
 * semantics, NaN equal to NaN), balance_classes (seeded oversampling of the training rows
 * only), augment (shift, flip, rotate, noise on images; training rows only), k-fold splits
 * (the folds partition the non-test rows, stratified), and the chain of fitted steps (each
 * runs in list order on what the steps before it left, checked against the same maths done
 * here in double; the orders that make no sense are refused by name). Expected values are worked out by hand
 * from the documented behaviour, not printed by the code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/augment.h"
#include "lathe/experiment.h"
#include "lathe/mathf.h"
#include "lathe/prepare.h"

/* An experiment around the given data extras and prepare list. */
static void experiment_json(char *out, size_t cap, const char *data_extra, const char *prepare,
                            unsigned seed) {
    snprintf(out, cap,
             "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":%u,"
             "\"data\":{\"file\":\"t.csv\",\"target\":\"label\"%s},"
             "\"prepare\":[%s],"
             "\"model\":{\"template\":\"logistic\"},"
             "\"train\":{\"optimizer\":\"sgd\",\"epochs\":1}}",
             seed, data_extra, prepare);
}

static lathe_table *read_csv(const char *csv) {
    lathe_table *t = NULL;
    lathe_error err;
    CHECK(lathe_csv_read(csv, strlen(csv), NULL, &t, &err) == LATHE_OK, "csv: %s", err.message);
    return t;
}

/* Parses and prepares; returns the status (the error in *err). */
static lathe_status run_prepare(const lathe_table *t, const char *data_extra, const char *prepare,
                                unsigned seed, lathe_prepared **out, lathe_error *err) {
    char json[4096];
    lathe_experiment *exp = NULL;
    lathe_status st;
    *out = NULL;
    experiment_json(json, sizeof json, data_extra, prepare, seed);
    st = lathe_experiment_parse(json, strlen(json), &exp, err);
    if (st == LATHE_OK) st = lathe_prepare(exp, t, out, err);
    lathe_experiment_destroy(exp);
    return st;
}

static void expect_parse_error(const char *data_extra, const char *prepare, const char *want) {
    char json[4096];
    lathe_experiment *exp = NULL;
    lathe_error err;
    lathe_status st;
    experiment_json(json, sizeof json, data_extra, prepare, 1);
    st = lathe_experiment_parse(json, strlen(json), &exp, &err);
    CHECK(st == LATHE_ERR_INVALID, "expected a parse error about '%s' for %s", want, prepare);
    if (st != LATHE_OK)
        CHECK(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message, want);
    lathe_experiment_destroy(exp);
}

static void expect_prepare_error(const lathe_table *t, const char *data_extra, const char *prepare,
                                 const char *want) {
    lathe_prepared *p = NULL;
    lathe_error err;
    lathe_status st = run_prepare(t, data_extra, prepare, 1, &p, &err);
    CHECK(st == LATHE_ERR_INVALID && p == NULL, "expected an error about '%s'", want);
    if (st != LATHE_OK)
        CHECK(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message, want);
    lathe_prepared_destroy(p);
}

/* --- drop_duplicates ------------------------------------------------------------------ */

static void test_drop_duplicates(void) {
    /* Data rows (0-based): "id" is dropped, so rows differing only in id are duplicates.
     * pandas df.drop(columns="id").drop_duplicates() keeps rows 0, 2, 3, 4, 5, 8 and drops
     * 1 (= 0, other id), 6 (= 5: NaN equals NaN in pandas), 7 (= 2) and 9 (= 0). Row 4
     * differs from row 0 in the target only, row 3 in b only, so both stay. */
    static const char *csv = "id,a,b,label\n"
                             "1,1,x,p\n"
                             "2,1,x,p\n"
                             "3,2,x,p\n"
                             "4,1,y,p\n"
                             "5,1,x,q\n"
                             "6,,x,p\n"
                             "7,,x,p\n"
                             "8,2,x,p\n"
                             "9,3,y,q\n"
                             "10,1,x,p\n";
    static const uint32_t kept[] = {0, 2, 3, 4, 5, 8};
    lathe_table *t = read_csv(csv);
    lathe_prepared *p = NULL, *all = NULL;
    lathe_error err;
    uint8_t seen[10] = {0};
    size_t i, k;
    const char *ops = "{\"op\":\"drop_columns\",\"columns\":[\"id\"]},{\"op\":\"drop_duplicates\"},"
                      "{\"op\":\"split\",\"test\":0.3,\"stratify\":false},"
                      "{\"op\":\"impute\",\"strategy\":\"mean\"}";
    if (!t) return;
    CHECK(run_prepare(t, "", ops, 7, &p, &err) == LATHE_OK, "drop_duplicates: %s", err.message);
    if (p) {
        lathe_split_data *s[3] = {&p->train, &p->validation, &p->test};
        size_t total = p->train.rows + p->validation.rows + p->test.rows;
        CHECK(total == 6, "drop_duplicates keeps %zu rows, expected 6 of 10", total);
        for (k = 0; k < 3; k++)
            for (i = 0; i < s[k]->rows; i++)
                if (s[k]->source_row[i] < 10) seen[s[k]->source_row[i]]++;
        for (i = 0; i < sizeof kept / sizeof kept[0]; i++)
            CHECK(seen[kept[i]] == 1, "row %u should be kept once, seen %u times", kept[i],
                  seen[kept[i]]);
    }
    /* Without the step every row stays (the count above is the step's doing). */
    ops = "{\"op\":\"drop_columns\",\"columns\":[\"id\"]},"
          "{\"op\":\"split\",\"test\":0.3,\"stratify\":false},{\"op\":\"impute\"}";
    CHECK(run_prepare(t, "", ops, 7, &all, &err) == LATHE_OK, "no drop: %s", err.message);
    if (all) CHECK(all->train.rows + all->test.rows == 10, "without drop_duplicates 10 rows stay");
    /* With the id kept as a feature no two rows are equal. */
    lathe_prepared_destroy(p);
    ops = "{\"op\":\"drop_duplicates\"},{\"op\":\"split\",\"test\":0.3,\"stratify\":false},"
          "{\"op\":\"impute\"}";
    CHECK(run_prepare(t, "", ops, 7, &p, &err) == LATHE_OK, "with id: %s", err.message);
    if (p) CHECK(p->train.rows + p->test.rows == 10, "distinct ids: nothing is a duplicate");
    lathe_prepared_destroy(p);
    lathe_prepared_destroy(all);
    lathe_table_destroy(t);
}

/* --- balance_classes ------------------------------------------------------------------ */

/* A table of 21 rows: class a ×12, b ×6, c ×3, feature f = the row number. */
static lathe_table *imbalanced_table(void) {
    char csv[2048];
    size_t used = (size_t)snprintf(csv, sizeof csv, "f,g,label\n");
    int i;
    for (i = 0; i < 21; i++)
        used += (size_t)snprintf(csv + used, sizeof csv - used, "%d,%d,%s\n", i, (i * 7) % 5,
                                 i < 12   ? "a"
                                 : i < 18 ? "b"
                                          : "c");
    return read_csv(csv);
}

static void count_labels(const lathe_split_data *s, size_t *counts, size_t n_classes) {
    size_t i;
    memset(counts, 0, n_classes * sizeof *counts);
    for (i = 0; i < s->rows; i++)
        if (s->label[i] < n_classes) counts[s->label[i]]++;
}

static void test_balance_classes(void) {
    lathe_table *t = imbalanced_table();
    lathe_prepared *plain = NULL, *bal = NULL, *again = NULL;
    lathe_error err;
    size_t counts[3], before[3], i, j, top = 0;
    if (!t) return;
    /* Hand-computable: no test or validation, so the training rows are 12 / 6 / 3 and every
     * class ends with 12. */
    CHECK(run_prepare(t, "", "{\"op\":\"split\",\"test\":0},{\"op\":\"balance_classes\"}", 5, &bal,
                      &err) == LATHE_OK,
          "balance: %s", err.message);
    if (bal) {
        count_labels(&bal->train, counts, 3);
        CHECK(counts[0] == 12 && counts[1] == 12 && counts[2] == 12 && bal->train.rows == 36,
              "balanced counts %zu/%zu/%zu of %zu, expected 12 each", counts[0], counts[1],
              counts[2], bal->train.rows);
        for (i = 0; i < bal->train.rows; i++)
            CHECK(bal->train.label[i] == (bal->train.source_row[i] < 12   ? 0u
                                          : bal->train.source_row[i] < 18 ? 1u
                                                                          : 2u),
                  "row %zu: an oversampled row keeps its class", i);
    }
    lathe_prepared_destroy(bal);
    bal = NULL;

    /* With a split: validation and test untouched, extra rows only from training rows, the
     * scaler fitted on the original training rows, and seeded. */
    {
        const char *split = "{\"op\":\"split\",\"test\":0.2,\"validation\":0.2},"
                            "{\"op\":\"standardize\"}";
        const char *balanced = "{\"op\":\"split\",\"test\":0.2,\"validation\":0.2},"
                               "{\"op\":\"balance_classes\"},{\"op\":\"standardize\"}";
        CHECK(run_prepare(t, "", split, 9, &plain, &err) == LATHE_OK, "plain: %s", err.message);
        CHECK(run_prepare(t, "", balanced, 9, &bal, &err) == LATHE_OK, "bal: %s", err.message);
        CHECK(run_prepare(t, "", balanced, 9, &again, &err) == LATHE_OK, "again: %s", err.message);
    }
    if (plain && bal && again) {
        size_t F = plain->n_features;
        char h1[65], h2[65];
        count_labels(&plain->train, before, 3);
        count_labels(&bal->train, counts, 3);
        for (i = 0; i < 3; i++)
            top = before[i] > top ? before[i] : top;
        for (i = 0; i < 3; i++)
            CHECK(counts[i] == top, "class %zu: %zu training rows, expected %zu (largest)", i,
                  counts[i], top);
        CHECK(bal->validation.rows == plain->validation.rows && bal->test.rows == plain->test.rows,
              "validation and test keep their sizes");
        CHECK_SAME_BITS("validation untouched", bal->validation.x, plain->validation.x,
                        plain->validation.rows * F);
        CHECK_SAME_BITS("test untouched", bal->test.x, plain->test.x, plain->test.rows * F);
        CHECK_SAME_BITS("fitted shift from the original rows", bal->steps[0].shift, plain->steps[0].shift, F);
        CHECK_SAME_BITS("fitted scale from the original rows", bal->steps[0].scale, plain->steps[0].scale, F);
        CHECK_SAME_BITS("original training rows first", bal->train.x, plain->train.x,
                        plain->train.rows * F);
        for (i = 0; i < bal->train.rows; i++) {
            int from_train = 0;
            for (j = 0; j < plain->train.rows && !from_train; j++)
                from_train = plain->train.source_row[j] == bal->train.source_row[i];
            CHECK(from_train, "training row %zu (source %u) is not a training row", i,
                  bal->train.source_row[i]);
            for (j = 0; j < plain->validation.rows; j++)
                CHECK(plain->validation.source_row[j] != bal->train.source_row[i],
                      "a validation row was oversampled into training");
            for (j = 0; j < plain->test.rows; j++)
                CHECK(plain->test.source_row[j] != bal->train.source_row[i],
                      "a test row was oversampled into training");
        }
        lathe_prepared_sha256(bal, h1);
        lathe_prepared_sha256(again, h2);
        CHECK(strcmp(h1, h2) == 0, "balance_classes is seeded: %s vs %s", h1, h2);
    }
    lathe_prepared_destroy(plain);
    lathe_prepared_destroy(bal);
    lathe_prepared_destroy(again);
    lathe_table_destroy(t);
}

/* --- augment: the transforms ----------------------------------------------------------- */

static void test_transforms(void) {
    enum { C = 2, H = 4, W = 5, N = C * H * W };
    float src[N], dst[N], tmp[N], back[N];
    size_t i, c, y, x;
    lathe_rng rng, rng0;
    lathe_augment_config none = {0, 0, 0.0f, 0.0f};
    double a;

    for (a = -20.0; a <= 20.0; a += 0.37)
        CHECK(fabs(lathe_sin(a) - sin(a)) < 1e-13, "sin(%g): %.17g vs libm %.17g", a, lathe_sin(a),
              sin(a));

    /* shift: one lit pixel at (x 1, y 1) of channel 1 moves to (1 + 2, 1 + 1). */
    memset(src, 0, sizeof src);
    src[(1 * H + 1) * W + 1] = 5.0f;
    lathe_augment_shift(src, dst, C, H, W, 2, 1);
    for (i = 0; i < N; i++)
        CHECK(dst[i] == (i == (size_t)((1 * H + 2) * W + 3) ? 5.0f : 0.0f),
              "shift (2, 1): element %zu is %g", i, (double)dst[i]);
    lathe_augment_shift(src, dst, C, H, W, -1, -1);
    CHECK(dst[(1 * H + 0) * W + 0] == 5.0f, "shift (-1, -1) moves the pixel to (0, 0)");
    lathe_augment_shift(src, dst, C, H, W, 4, 0);
    for (i = 0; i < N; i++)
        CHECK(dst[i] == 0.0f, "shifted out of the frame: zero fill");

    /* flip mirrors each row; twice is the identity. */
    for (i = 0; i < N; i++)
        src[i] = (float)i;
    lathe_augment_flip(src, dst, C, H, W);
    for (c = 0; c < C; c++)
        for (y = 0; y < H; y++)
            for (x = 0; x < W; x++)
                CHECK(dst[(c * H + y) * W + x] == src[(c * H + y) * W + (W - 1 - x)],
                      "flip at (%zu, %zu, %zu)", c, y, x);
    lathe_augment_flip(dst, back, C, H, W);
    CHECK_SAME_BITS("flip twice", back, src, N);

    /* rotate 0 copies exactly; 90° counter-clockwise (y down) moves the right-middle pixel of
     * a 3×3 image to the top-middle; 180° mirrors both ways. */
    lathe_augment_rotate(src, dst, C, H, W, 0.0);
    CHECK_SAME_BITS("rotate 0", dst, src, N);
    {
        float im[9] = {0}, out[9];
        im[1 * 3 + 2] = 1.0f;
        lathe_augment_rotate(im, out, 1, 3, 3, 90.0);
        for (i = 0; i < 9; i++)
            CHECK(check_close((double)out[i], i == 1 ? 1.0 : 0.0, 1e-6, 0), "rotate 90: [%zu] = %g",
                  i, (double)out[i]);
        for (i = 0; i < 9; i++)
            im[i] = (float)i;
        lathe_augment_rotate(im, out, 1, 3, 3, 180.0);
        for (i = 0; i < 9; i++)
            CHECK(check_close((double)out[i], 8.0 - (double)i, 1e-5, 0), "rotate 180: [%zu] = %g",
                  i, (double)out[i]);
        /* 45°: the centre stays, and a corner samples between pixels (bilinear) */
        lathe_augment_rotate(im, out, 1, 3, 3, 45.0);
        CHECK(check_close((double)out[4], 4.0, 1e-6, 0), "rotate 45 keeps the centre");
    }

    /* all transforms off: exact copies and no random draws */
    lathe_rng_seed(&rng, 11, 2);
    rng0 = rng;
    lathe_augment_image(src, dst, tmp, C, H, W, &none, &rng);
    CHECK_SAME_BITS("augment with nothing enabled", dst, src, N);
    CHECK(rng.state == rng0.state, "nothing enabled draws nothing");
    /* noise: seeded, of about the asked spread */
    {
        enum { M = 4000 };
        static float z[M], z2[M];
        double sum = 0.0, sq = 0.0;
        lathe_rng_seed(&rng, 3, 4);
        lathe_augment_noise(z, M, 2.0f, &rng);
        lathe_rng_seed(&rng, 3, 4);
        lathe_augment_noise(z2, M, 2.0f, &rng);
        CHECK_SAME_BITS("noise is seeded", z, z2, M);
        for (i = 0; i < M; i++)
            sum += (double)z[i], sq += (double)z[i] * (double)z[i];
        CHECK(fabs(sqrt(sq / M - (sum / M) * (sum / M)) - 2.0) < 0.15, "noise std %g, want 2",
              sqrt(sq / M - (sum / M) * (sum / M)));
    }
}

/* --- augment: the preparation step ----------------------------------------------------- */

/* 12 images of 1×3×4 (12 px columns), two classes; pixel values 0..9. */
static lathe_table *image_table(void) {
    char csv[4096];
    size_t used = 0;
    int r, p;
    for (p = 0; p < 12; p++)
        used += (size_t)snprintf(csv + used, sizeof csv - used, "px%d,", p);
    used += (size_t)snprintf(csv + used, sizeof csv - used, "label\n");
    for (r = 0; r < 12; r++) {
        for (p = 0; p < 12; p++)
            used += (size_t)snprintf(csv + used, sizeof csv - used, "%d,",
                                     (r * 7 + p * 3 + (r * p) % 4) % 10);
        used += (size_t)snprintf(csv + used, sizeof csv - used, "%s\n", r % 2 ? "odd" : "even");
    }
    return read_csv(csv);
}

static void test_augment_step(void) {
    lathe_table *t = image_table();
    lathe_prepared *plain = NULL, *same = NULL, *shifted = NULL, *a1 = NULL, *a2 = NULL, *a3 = NULL;
    lathe_error err;
    const char *image = ",\"image\":[1,3,4]";
    const char *split = "{\"op\":\"split\",\"test\":0.25,\"validation\":0.25}";
    char ops[512];
    size_t i, k;
    if (!t) return;
    snprintf(ops, sizeof ops, "%s,{\"op\":\"minmax\",\"per\":\"all\"}", split);
    CHECK(run_prepare(t, image, ops, 4, &plain, &err) == LATHE_OK, "plain: %s", err.message);
    snprintf(ops, sizeof ops,
             "%s,{\"op\":\"augment\",\"copies\":2,\"shift\":0,\"flip\":false,\"rotate\":0,"
             "\"noise\":0},{\"op\":\"minmax\",\"per\":\"all\"}",
             split);
    CHECK(run_prepare(t, image, ops, 4, &same, &err) == LATHE_OK, "identity: %s", err.message);
    snprintf(ops, sizeof ops, "%s,{\"op\":\"augment\",\"copies\":3,\"shift\":1}", split);
    CHECK(run_prepare(t, image, ops, 4, &shifted, &err) == LATHE_OK, "shift: %s", err.message);
    snprintf(ops, sizeof ops,
             "%s,{\"op\":\"augment\",\"copies\":2,\"shift\":1,\"flip\":true,\"rotate\":10,"
             "\"noise\":0.5},{\"op\":\"standardize\",\"per\":\"all\"}",
             split);
    CHECK(run_prepare(t, image, ops, 4, &a1, &err) == LATHE_OK, "a1: %s", err.message);
    CHECK(run_prepare(t, image, ops, 4, &a2, &err) == LATHE_OK, "a2: %s", err.message);
    CHECK(run_prepare(t, image, ops, 5, &a3, &err) == LATHE_OK, "a3: %s", err.message);
    if (plain && same) {
        size_t n = plain->train.rows, F = plain->n_features;
        CHECK(same->train.rows == 3 * n, "2 copies: %zu training rows, want %zu", same->train.rows,
              3 * n);
        for (k = 0; k < 3 && same->train.rows == 3 * n; k++) {
            CHECK_SAME_BITS("rotate 0, noise 0: identical copies", same->train.x + k * n * F,
                            plain->train.x, n * F);
            for (i = 0; i < n; i++)
                CHECK(same->train.label[k * n + i] == plain->train.label[i] &&
                          same->train.source_row[k * n + i] == plain->train.source_row[i],
                      "copy %zu of row %zu keeps its label and source row", k, i);
        }
        CHECK(same->validation.rows == plain->validation.rows &&
                  same->test.rows == plain->test.rows,
              "validation and test keep their sizes");
        CHECK_SAME_BITS("validation untouched", same->validation.x, plain->validation.x,
                        plain->validation.rows * F);
        CHECK_SAME_BITS("test untouched", same->test.x, plain->test.x, plain->test.rows * F);
        CHECK_SAME_BITS("scaler fitted on the original rows", same->steps[0].scale, plain->steps[0].scale, F);
    }
    if (shifted && plain) {
        /* every copy is its original shifted by some (dx, dy) in [-1, 1]², and some move */
        size_t n = shifted->train.rows / 4, F = shifted->n_features, moved = 0;
        float want[12];
        for (k = 1; k < 4; k++)
            for (i = 0; i < n; i++) {
                long dx, dy;
                int found = 0;
                const float *orig = shifted->train.x + i * F,
                            *copy = shifted->train.x + (k * n + i) * F;
                for (dy = -1; dy <= 1 && !found; dy++)
                    for (dx = -1; dx <= 1 && !found; dx++) {
                        lathe_augment_shift(orig, want, 1, 3, 4, dx, dy);
                        found = memcmp(want, copy, sizeof want) == 0;
                    }
                CHECK(found, "copy %zu of row %zu is not a shift of it", k, i);
                moved += memcmp(orig, copy, sizeof want) != 0;
            }
        CHECK(moved > 0, "no copy was shifted");
    }
    if (a1 && a2 && a3) {
        char h1[65], h2[65], h3[65];
        lathe_prepared_sha256(a1, h1);
        lathe_prepared_sha256(a2, h2);
        lathe_prepared_sha256(a3, h3);
        CHECK(strcmp(h1, h2) == 0, "augment is seeded: %s vs %s", h1, h2);
        CHECK(strcmp(h1, h3) != 0, "another seed gives other copies");
    }
    /* not an image */
    expect_prepare_error(t, "", "{\"op\":\"split\"},{\"op\":\"augment\",\"shift\":1}",
                         "prepare[1]: augment transforms images");
    lathe_prepared_destroy(plain);
    lathe_prepared_destroy(same);
    lathe_prepared_destroy(shifted);
    lathe_prepared_destroy(a1);
    lathe_prepared_destroy(a2);
    lathe_prepared_destroy(a3);
    lathe_table_destroy(t);
}

/* --- k-fold ---------------------------------------------------------------------------- */

/* 25 rows: class a ×11, b ×9, c ×5. */
static lathe_table *fold_table(void) {
    char csv[2048];
    size_t used = (size_t)snprintf(csv, sizeof csv, "f,label\n");
    int i;
    for (i = 0; i < 25; i++)
        used += (size_t)snprintf(csv + used, sizeof csv - used, "%d,%s\n", i,
                                 i < 11   ? "a"
                                 : i < 20 ? "b"
                                          : "c");
    return read_csv(csv);
}

static void test_folds(int stratify) {
    enum { K = 4, ROWS = 25 };
    lathe_table *t = fold_table();
    int in_val[ROWS] = {0}, in_test[ROWS] = {0};
    size_t class_count[K][3], sizes[K], f, i, c;
    lathe_error err;
    if (!t) return;
    memset(class_count, 0, sizeof class_count);
    for (f = 0; f < K; f++) {
        char ops[256];
        lathe_prepared *p = NULL;
        snprintf(ops, sizeof ops,
                 "{\"op\":\"split\",\"test\":0.2,\"stratify\":%s,\"folds\":%d,"
                 "\"fold\":%zu}",
                 stratify ? "true" : "false", K, f);
        CHECK(run_prepare(t, "", ops, 21, &p, &err) == LATHE_OK, "fold %zu: %s", f, err.message);
        if (!p) continue;
        sizes[f] = p->validation.rows;
        for (i = 0; i < p->validation.rows; i++) {
            in_val[p->validation.source_row[i]]++;
            class_count[f][p->validation.label[i]]++;
        }
        for (i = 0; i < p->test.rows; i++)
            in_test[p->test.source_row[i]] += 1 << f;
        CHECK(p->train.rows + p->validation.rows + p->test.rows == ROWS,
              "fold %zu: every row is in one split", f);
        lathe_prepared_destroy(p);
    }
    for (i = 0; i < ROWS; i++) {
        CHECK(in_test[i] == 0 || in_test[i] == (1 << K) - 1,
              "row %zu: the test rows are the same in every fold", i);
        CHECK(in_val[i] == (in_test[i] ? 0 : 1), "row %zu is in %d folds' validation (want %d)", i,
              in_val[i], in_test[i] ? 0 : 1);
    }
    for (f = 1; f < K; f++) {
        long d = (long)sizes[f] - (long)sizes[0];
        CHECK(d >= -1 && d <= 1, "fold sizes %zu and %zu differ by more than 1", sizes[0],
              sizes[f]);
    }
    if (stratify) /* per class, the folds' counts differ by at most 1 (StratifiedKFold) */
        for (c = 0; c < 3; c++)
            for (f = 1; f < K; f++) {
                long d = (long)class_count[f][c] - (long)class_count[0][c];
                CHECK(d >= -1 && d <= 1, "class %zu: folds hold %zu and %zu rows", c,
                      class_count[0][c], class_count[f][c]);
            }
    lathe_table_destroy(t);
}

/* --- bad input ------------------------------------------------------------------------- */

static void test_errors(void) {
    const char *s = "{\"op\":\"split\"},";
    char ops[256];
    snprintf(ops, sizeof ops, "%s{\"op\":\"standardize\"},{\"op\":\"augment\",\"copies\":0}", s);
    expect_parse_error("", ops, "prepare[2].copies: must be a number in [1, 100]");
    snprintf(ops, sizeof ops, "%s{\"op\":\"augment\",\"copies\":1.5}", s);
    expect_parse_error("", ops, "prepare[1].copies: must be a whole number");
    snprintf(ops, sizeof ops, "%s{\"op\":\"augment\",\"rotate\":90}", s);
    expect_parse_error("", ops, "prepare[1].rotate: must be a number in [0, 45]");
    snprintf(ops, sizeof ops, "%s{\"op\":\"augment\",\"noise\":-1}", s);
    expect_parse_error("", ops, "prepare[1].noise: must be a number in [0,");
    snprintf(ops, sizeof ops, "%s{\"op\":\"augment\",\"flip\":1}", s);
    expect_parse_error("", ops, "prepare[1].flip: must be true or false");
    snprintf(ops, sizeof ops, "%s{\"op\":\"augment\",\"shifts\":2}", s);
    expect_parse_error("", ops, "prepare[1].shifts: unknown key");
    snprintf(ops, sizeof ops, "%s{\"op\":\"augment\"},{\"op\":\"augment\"}", s);
    expect_parse_error("", ops, "prepare[2]: only one augment step is allowed");
    expect_parse_error("", "{\"op\":\"augment\"},{\"op\":\"split\"}",
                       "prepare[0]: augment adds training rows only, so it must come after split");
    expect_parse_error("", "{\"op\":\"split\"},{\"op\":\"drop_duplicates\"}",
                       "prepare[1]: drop_duplicates removes rows, so it must come before split");
    expect_parse_error("", "{\"op\":\"drop_duplicates\",\"keep\":\"last\"},{\"op\":\"split\"}",
                       "prepare[0].keep: unknown key");
    expect_parse_error("", "{\"op\":\"balance_classes\"},{\"op\":\"split\"}",
                       "prepare[0]: balance_classes adds training rows only");
    expect_parse_error(",\"task\":\"regression\"",
                       "{\"op\":\"split\"},{\"op\":\"balance_classes\"}",
                       "prepare[1]: balance_classes needs a classification task");
    expect_parse_error("", "{\"op\":\"split\"},{\"op\":\"augment\"},{\"op\":\"balance_classes\"}",
                       "prepare[2]: balance_classes must come before augment");
    expect_parse_error("", "{\"op\":\"split\",\"folds\":1,\"fold\":0}",
                       "prepare[0].folds: must be a number in [2, 100]");
    expect_parse_error("", "{\"op\":\"split\",\"folds\":5,\"fold\":5}",
                       "prepare[0].fold: must be in [0, 4]");
    expect_parse_error("", "{\"op\":\"split\",\"fold\":1}", "prepare[0].fold: needs \"folds\"");
    expect_parse_error("", "{\"op\":\"split\",\"folds\":5,\"fold\":1,\"validation\":0.2}",
                       "prepare[0].validation: a k-fold split validates on its fold");
}

/* Every allocation of a preparation with every new op, failed in turn: LATHE_ERR_NOMEM and
 * nothing leaks. */
static void test_out_of_memory(void) {
    lathe_table *t = image_table();
    const char *ops = "{\"op\":\"drop_duplicates\"},{\"op\":\"split\",\"test\":0.25,\"folds\":3,"
                      "\"fold\":1},{\"op\":\"balance_classes\"},{\"op\":\"augment\",\"copies\":2,"
                      "\"shift\":1,\"flip\":true,\"rotate\":5,\"noise\":0.1},{\"op\":\"minmax\"}";
    char json[4096];
    lathe_experiment *exp = NULL;
    lathe_error err;
    unsigned long n;
    if (!t) return;
    experiment_json(json, sizeof json, ",\"image\":[1,3,4]", ops, 3);
    CHECK(lathe_experiment_parse(json, strlen(json), &exp, &err) == LATHE_OK, "oom parse: %s",
          err.message);
    for (n = 1; exp && n < 200; n++) {
        lathe_prepared *p = NULL;
        long live = lathe_alloc_live();
        lathe_status st;
        lathe_alloc_fail_at(n);
        st = lathe_prepare(exp, t, &p, &err);
        lathe_alloc_fail_at(0);
        lathe_prepared_destroy(p);
        CHECK(lathe_alloc_live() == live, "allocation %lu failed: a leak", n);
        if (st == LATHE_OK) break;
        CHECK(st == LATHE_ERR_NOMEM, "allocation %lu failed: status %d (%s)", n, (int)st,
              err.message);
    }
    CHECK(n > 5 && n < 200, "the sweep ended after %lu allocations", n);
    lathe_experiment_destroy(exp);
    lathe_table_destroy(t);
}

/* --- the chain of fitted steps -------------------------------------------------------- */

/* 40 rows: two numeric features on different scales and a balanced label. */
static lathe_table *chain_table(void) {
    char csv[4096];
    size_t used = (size_t)snprintf(csv, sizeof csv, "a,b,label\n");
    int i;
    for (i = 0; i < 40; i++)
        used += (size_t)snprintf(csv + used, sizeof csv - used, "%d.%d,%d,%s\n", (i * 37) % 23,
                                 (i * 3) % 10, (i * i) % 17 * 40 - 100, i % 2 ? "x" : "y");
    return read_csv(csv);
}

/* Feature f of table row r, in double. */
static double raw_value(const lathe_table *t, size_t f, uint32_t r) {
    return (double)t->columns[f].values[r];
}

/* The expected value, in double, of raw value v of feature f after the scalers in order
 * ("s": z-score, "m": min-max), each fitted on the training rows' values as the scalers
 * before it left them. */
static double chain_truth(const lathe_table *t, const lathe_prepared *p, size_t f, const char *order,
                          double v) {
    size_t n = p->train.rows, i, k;
    double *train = malloc(n * sizeof *train);
    for (i = 0; i < n; i++) train[i] = raw_value(t, f, p->train.source_row[i]);
    for (k = 0; order[k]; k++) {
        double a = 0.0, b = 1.0, lo = train[0], hi = train[0], sum = 0.0, sq = 0.0;
        for (i = 0; i < n; i++) {
            sum += train[i];
            lo = train[i] < lo ? train[i] : lo;
            hi = train[i] > hi ? train[i] : hi;
        }
        for (i = 0; i < n; i++) sq += (train[i] - sum / (double)n) * (train[i] - sum / (double)n);
        if (order[k] == 's') a = sum / (double)n, b = sqrt(sq / (double)n);
        else a = lo, b = hi - lo;
        for (i = 0; i < n; i++) train[i] = (train[i] - a) / b;
        v = (v - a) / b;
    }
    free(train);
    return v;
}

static void test_chain(void) {
    static const char *const lists[4] = {
        "{\"op\":\"standardize\"}",
        "{\"op\":\"minmax\"}",
        "{\"op\":\"standardize\"},{\"op\":\"minmax\"}",
        "{\"op\":\"minmax\"},{\"op\":\"standardize\"}",
    };
    static const char *const orders[4] = {"s", "m", "sm", "ms"};
    lathe_table *t = chain_table();
    lathe_prepared *p[4] = {NULL, NULL, NULL, NULL}, *q = NULL;
    lathe_experiment *exp = NULL;
    lathe_error err;
    char hex[4][65], ops[512], json[4096];
    size_t k, j, i, f;
    if (!t) return;
    for (k = 0; k < 4; k++) {
        snprintf(ops, sizeof ops, "{\"op\":\"split\",\"test\":0.25},%s", lists[k]);
        CHECK(run_prepare(t, "", ops, 5, &p[k], &err) == LATHE_OK, "chain %s: %s", orders[k], err.message);
        if (!p[k]) goto done;
        lathe_prepared_sha256(p[k], hex[k]);
        CHECK(p[k]->n_steps == strlen(orders[k]), "chain %s: %zu fitted steps", orders[k], p[k]->n_steps);
        for (j = 0; j < p[k]->n_steps; j++)
            CHECK(p[k]->steps[j].kind == (orders[k][j] == 's' ? LATHE_PREP_STANDARDIZE : LATHE_PREP_MINMAX),
                  "chain %s: step %zu has the wrong kind", orders[k], j);
    }
    for (k = 0; k < 4; k++)
        for (j = k + 1; j < 4; j++)
            CHECK(strcmp(hex[k], hex[j]) != 0, "chain: [split, %s] and [split, %s] prepare the same data",
                  lists[k], lists[j]);
    /* [standardize, minmax]: the training features span exactly [0, 1]. */
    for (f = 0; f < 2; f++) {
        float lo = p[2]->train.x[f], hi = p[2]->train.x[f];
        for (i = 0; i < p[2]->train.rows; i++) {
            float v = p[2]->train.x[i * 2 + f];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        CHECK(lo == 0.0f, "standardize then minmax: feature %zu's training minimum is %g, not 0", f, (double)lo);
        CHECK(fabs((double)hi - 1.0) <= 2e-7, "standardize then minmax: feature %zu's training maximum is %.9g, not 1",
              f, (double)hi);
    }
    /* Every value of every split against the chain worked out here in double. */
    for (k = 0; k < 4; k++) {
        lathe_split_data *s[3];
        size_t c, bad = 0;
        s[0] = &p[k]->train, s[1] = &p[k]->validation, s[2] = &p[k]->test;
        for (c = 0; c < 3; c++)
            for (i = 0; i < s[c]->rows; i++)
                for (f = 0; f < 2; f++) {
                    double want = chain_truth(t, p[k], f, orders[k], raw_value(t, f, s[c]->source_row[i]));
                    double got = (double)s[c]->x[i * 2 + f];
                    if (!(fabs(got - want) <= 1e-5 + 1e-5 * fabs(want))) bad++;
                }
        CHECK(bad == 0, "chain %s: %zu values differ from the double-precision chain", orders[k], bad);
    }
    /* A repeated scaler runs again; per "all" mixes with per feature. */
    CHECK(run_prepare(t, "", "{\"op\":\"split\"},{\"op\":\"standardize\",\"per\":\"all\"},"
                             "{\"op\":\"minmax\"},{\"op\":\"minmax\"}", 5, &q, &err) == LATHE_OK,
          "repeated scalers: %s", err.message);
    CHECK(q && q->n_steps == 3, "repeated scalers: every step is fitted");
    lathe_prepared_destroy(q);
    /* The orders that make no sense, refused by the parser with the step's path... */
    expect_parse_error("", "{\"op\":\"split\"},{\"op\":\"standardize\"},{\"op\":\"impute\"}",
                       "prepare[2]: impute must come before the scaling steps (prepare[1] is standardize)");
    expect_parse_error("", "{\"op\":\"split\"},{\"op\":\"impute\"},{\"op\":\"minmax\"},{\"op\":\"impute\"}",
                       "prepare[3]: a second impute has nothing left to fill (prepare[1]");
    expect_parse_error("", "{\"op\":\"split\"},{\"op\":\"impute\"},{\"op\":\"impute\",\"strategy\":\"median\"}",
                       "prepare[2]: a second impute has nothing left to fill");
    /* ... and by lathe_prepare, for an experiment that skipped the parser's rule (a version 1
     * model file's). */
    experiment_json(json, sizeof json, "", "{\"op\":\"split\"},{\"op\":\"minmax\"},{\"op\":\"impute\"}", 1);
    CHECK(lathe_experiment_parse_v1_model(json, strlen(json), &exp, &err) == LATHE_OK,
          "a version 1 model's experiment loads: %s", err.message);
    if (exp) {
        CHECK(lathe_prepare(exp, t, &q, &err) == LATHE_ERR_INVALID && !q &&
                  strstr(err.message, "prepare[2]: impute must come before") != NULL,
              "lathe_prepare ran an impute after a scaler");
        lathe_prepared_destroy(q);
    }
    lathe_experiment_destroy(exp);
done:
    for (k = 0; k < 4; k++) lathe_prepared_destroy(p[k]);
    lathe_table_destroy(t);
}

int main(void) {
    long live = lathe_alloc_live();
    test_drop_duplicates();
    test_balance_classes();
    test_transforms();
    test_augment_step();
    test_folds(1);
    test_folds(0);
    test_errors();
    test_out_of_memory();
    test_chain();
    CHECK(lathe_alloc_live() == live, "%ld allocations leaked", lathe_alloc_live() - live);
    return check_finish("test_prepare_ops");
}
