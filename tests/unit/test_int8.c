/* int8 quantisation (lathe/quant.h, lathe/quantize.h, model file version 4): the integer GEMM
 * twins agree with each other and with exact sums; rounding is half to even as ONNX
 * QuantizeLinear's; an int8 layer computes exactly quant.h's formula; a quantised network
 * keeps its accuracy, saves as version 4 (int8 bytes, and a pruned one sparse), loads to the
 * same hash and predictions, and damaged int8 fields are refused naming the field; the
 * calibration rows are distinct, sorted and seeded; training makes the network float again. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/kernels.h"
#include "lathe/model.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/quant.h"
#include "lathe/quantize.h"
#include "lathe/rng.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

static void gemm_twins(void) {
    static const size_t shapes[][3] = {{1, 1, 8}, {1, 10, 784}, {3, 7, 16}, {256, 128, 784},
                                       {576, 6, 32}, {5, 4, 8}, {2, 13, 200}};
    lathe_rng rng;
    size_t s;
    lathe_rng_seed(&rng, 7, 1);
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], i, j, k, bad = 0;
        int16_t *a = malloc(M * K * sizeof *a), *b = malloc(N * K * sizeof *b);
        int32_t *r = malloc(M * N * sizeof *r), *v = malloc(M * N * sizeof *v), *w = malloc(M * N * sizeof *w);
        for (i = 0; i < M * K; i++) a[i] = (int16_t)((int)lathe_rng_below(&rng, 511) - 255);
        for (i = 0; i < N * K; i++) b[i] = (int16_t)((int)lathe_rng_below(&rng, 255) - 127);
        if (s == 1) /* the extremes: every product at its largest */
            for (i = 0; i < K; i++) a[i] = -255, b[i] = -127;
        lathe_s16_gemm_nt__ref(M, N, K, a, K, b, K, r, N);
        lathe_s16_gemm_nt__simd128(M, N, K, a, K, b, K, v, N);
        lathe_kernels_for(LATHE_ISA_AVX2)->s16_gemm_nt(M, N, K, a, K, b, K, w, N); /* simd128 without AVX2 */
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) {
                int64_t e = 0;
                for (k = 0; k < K; k++) e += (int64_t)a[i * K + k] * b[j * K + k];
                bad += r[i * N + j] != e || v[i * N + j] != e || w[i * N + j] != e;
            }
        CHECK(bad == 0, "s16 GEMM %zux%zux%zu: %zu outputs differ from the exact sums", M, N, K, bad);
        free(a), free(b), free(r), free(v), free(w);
    }
}

/* The quantising loop's twins on ties, extremes, NaN and random values, every length's tail. */
static void quantize_twins(void) {
    enum { N = 203 };
    float x[N];
    int16_t r[N], v[N];
    lathe_rng rng;
    size_t i, n, bad = 0;
    lathe_rng_seed(&rng, 5, 3);
    for (i = 0; i < N; i++) x[i] = lathe_rng_uniform_range(&rng, -40.0f, 40.0f);
    for (i = 0; i < 40; i++) x[i] = (float)i * 0.25f - 5.0f; /* ties at scale 0.5 */
    x[41] = NAN, x[42] = INFINITY, x[43] = -INFINITY, x[44] = 1e30f, x[45] = -0.0f;
    for (n = 0; n <= N; n += n < 20 ? 1 : 61) {
        lathe_f32_quantize_s16__ref(n, x, 0.5f, -3, r);
        lathe_f32_quantize_s16__simd128(n, x, 0.5f, -3, v);
        for (i = 0; i < n; i++) bad += r[i] != v[i];
    }
    CHECK(bad == 0, "the quantising twins differ at %zu values", bad);
}

static void rounding(void) {
    static const float in[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 3.0f, -7.5f};
    static const float want[] = {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, -2.0f, 0.0f, 3.0f, -8.0f};
    size_t i;
    float s;
    int32_t z;
    for (i = 0; i < sizeof in / sizeof in[0]; i++)
        CHECK(lathe_int8_round(in[i]) == want[i], "round(%g) = %g, want %g", (double)in[i],
              (double)lathe_int8_round(in[i]), (double)want[i]);
    CHECK(lathe_int8_quantize(1.0f, 0.5f, 3) == 5, "1 / 0.5 + 3");
    CHECK(lathe_int8_quantize(0.25f, 0.5f, 0) == 0, "a tie rounds to even (0.5 -> 0)");
    CHECK(lathe_int8_quantize(0.75f, 0.5f, 0) == 2, "a tie rounds to even (1.5 -> 2)");
    CHECK(lathe_int8_quantize(1e30f, 0.1f, 0) == 127 && lathe_int8_quantize(-1e30f, 0.1f, 0) == -128,
          "saturation");
    CHECK(lathe_int8_quantize(NAN, 0.1f, -7) == -7, "NaN gives the zero point");
    lathe_int8_activation_params(0.5f, 2.0f, &s, &z); /* widened to [0, 2] */
    CHECK(s == 2.0f / 255.0f && z == -128, "[0.5, 2]: scale %g zero point %ld", (double)s, (long)z);
    lathe_int8_activation_params(-1.0f, 1.0f, &s, &z);
    CHECK(lathe_int8_quantize(0.0f, s, z) == z, "zero is exact at the zero point");
    lathe_int8_activation_params(0.0f, 0.0f, &s, &z);
    CHECK(s == 1.0f && z == -128, "an empty range: scale 1");
    {
        float w[6] = {0.5f, -1.0f, 0.25f, 0.0f, 0.0f, 0.0f}, sc[2];
        int8_t q[6];
        lathe_int8_quantize_weights(2, 3, w, q, sc);
        CHECK(sc[0] == 1.0f / 127.0f && q[1] == -127 && q[0] == 64 && q[2] == 32,
              "per channel: max |w| maps to 127 (%d %d %d)", q[0], q[1], q[2]);
        CHECK(sc[1] == 1.0f && q[3] == 0, "an all-zero channel: scale 1, weights 0");
    }
}

/* An int8 dense layer against quant.h's formula written out here. */
static void dense_formula(void) {
    enum { N = 3, IN = 13, OUT = 5, KPAD = 16 };
    float x[N * IN], w[OUT * IN], b[OUT], y[N * OUT], scales[OUT], mult[OUT];
    int8_t q[OUT * IN];
    int16_t w16[OUT * KPAD], xq[N * KPAD];
    int32_t acc[N * OUT];
    lathe_int8_layer L = {1, 0.037f, -11, OUT, IN, scales, q};
    lathe_rng rng;
    size_t i, o, k, bad = 0;
    lathe_rng_seed(&rng, 9, 2);
    for (i = 0; i < N * IN; i++) x[i] = lathe_rng_uniform_range(&rng, -4.0f, 6.0f);
    for (i = 0; i < OUT * IN; i++) w[i] = lathe_rng_normal(&rng);
    for (i = 0; i < OUT; i++) b[i] = lathe_rng_normal(&rng);
    lathe_int8_quantize_weights(OUT, IN, w, q, scales);
    lathe_int8_pack(&L, KPAD, w16, mult);
    lathe_int8_dense_forward(lathe_kernels(), N, IN, OUT, KPAD, x, L.input_scale, L.input_zero_point,
                             w16, mult, b, xq, acc, y);
    for (i = 0; i < N; i++)
        for (o = 0; o < OUT; o++) {
            int32_t s = 0;
            float v;
            for (k = 0; k < IN; k++) {
                float r = x[i * IN + k] / L.input_scale;
                int32_t xq8 = (int32_t)nearbyintf(r) + L.input_zero_point; /* ties to even */
                xq8 = xq8 < -128 ? -128 : xq8 > 127 ? 127 : xq8;
                s += (xq8 - L.input_zero_point) * q[o * IN + k];
            }
            v = (float)s * (L.input_scale * scales[o]);
            v = v + b[o];
            bad += bits32(v) != bits32(y[i * OUT + o]);
        }
    CHECK(bad == 0, "the int8 dense layer: %zu outputs differ from the formula", bad);
}

/* An int8 conv2d layer against quant.h's formula, with padding and with stride 2. */
static void conv_formula(void) {
    static const size_t cases[][2] = {{1, 1}, {2, 0}, {1, 2}}; /* stride, padding */
    enum { NS = 2, C = 3, H = 7, W = 6, O = 5, KS = 3, FAN = C * KS * KS, KPAD = 32 };
    float x[NS * C * H * W], w[O * FAN], b[O], scales[O], mult[O], y[NS * O * 9 * 8];
    int8_t q[O * FAN];
    int16_t w16[O * KPAD], xq[C * H * W], rows[9 * 8 * KPAD]; /* the largest output: 9 × 8 */
    int32_t acc[O * 9 * 8];
    lathe_int8_layer L = {1, 0.05f, 7, O, FAN, scales, q};
    lathe_rng rng;
    size_t t, i;
    lathe_rng_seed(&rng, 11, 4);
    for (i = 0; i < NS * C * H * W; i++) x[i] = lathe_rng_uniform_range(&rng, -5.0f, 8.0f);
    for (i = 0; i < O * FAN; i++) w[i] = lathe_rng_normal(&rng);
    for (i = 0; i < O; i++) b[i] = lathe_rng_normal(&rng);
    lathe_int8_quantize_weights(O, FAN, w, q, scales);
    lathe_int8_pack(&L, KPAD, w16, mult);
    for (t = 0; t < 3; t++) {
        lathe_conv2d_shape sh = {NS, C, H, W, O, KS, KS, cases[t][0], cases[t][1]};
        size_t ho, wo, n, o, r, c2, ki, kj, bad = 0;
        if (lathe_conv2d_output_size(&sh, &ho, &wo, NULL) != LATHE_OK) continue;
        lathe_int8_conv2d_forward(lathe_kernels(), &sh, KPAD, x, L.input_scale, L.input_zero_point, w16,
                                  mult, b, xq, rows, acc, y);
        for (n = 0; n < NS; n++)
            for (o = 0; o < O; o++)
                for (r = 0; r < ho * wo; r++) {
                    int32_t sum = 0;
                    float v;
                    for (c2 = 0; c2 < C; c2++)
                        for (ki = 0; ki < KS; ki++)
                            for (kj = 0; kj < KS; kj++) {
                                long row = (long)((r / wo) * sh.stride + ki) - (long)sh.pad;
                                long col = (long)((r % wo) * sh.stride + kj) - (long)sh.pad;
                                int32_t xv = 0;
                                if (row >= 0 && row < H && col >= 0 && col < W) {
                                    float xf = x[((n * C + c2) * H + (size_t)row) * W + (size_t)col];
                                    int32_t x8 = (int32_t)nearbyintf(xf / L.input_scale) + L.input_zero_point;
                                    x8 = x8 < -128 ? -128 : x8 > 127 ? 127 : x8;
                                    xv = x8 - L.input_zero_point;
                                }
                                sum += xv * q[o * FAN + (c2 * KS + ki) * KS + kj];
                            }
                    v = (float)sum * (L.input_scale * scales[o]);
                    v = v + b[o];
                    bad += bits32(v) != bits32(y[(n * O + o) * ho * wo + r]);
                }
        CHECK(bad == 0, "the int8 conv2d (stride %zu, padding %zu): %zu outputs differ from the formula",
              sh.stride, sh.pad, bad);
    }
}

static const char *text_mlp =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":3,"
    "\"data\":{\"synthetic\":\"spiral\",\"samples\":300,\"noise\":0.2,\"classes\":3},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"standardize\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[40,20]},"
    "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.01,\"batch_size\":16,\"epochs\":30%s}}";

/* check_model_refused on a damaged copy, which it frees. */
static void refused(const char *what, char *text, const char *message) {
    check_model_refused(what, text, message);
    free(text);
}

/* Trains the spiral MLP (extra train fields), quantises it on 64 training rows and checks it
 * and its version 4 file. Returns the file text (lathe_free). */
static char *quantised_network(const char *extra, lathe_table *table) {
    char json[2048], hex[65], *out = NULL;
    lathe_experiment *exp = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *t = NULL;
    lathe_error err;
    lathe_metrics before, after;
    uint32_t idx[64];
    float x[64 * 2], y;
    size_t i, l, F;
    snprintf(json, sizeof json, text_mlp, extra);
    CHECK(lathe_experiment_parse(json, strlen(json), &exp, &err) == LATHE_OK, "%s", err.message);
    CHECK(exp && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
    CHECK(prep && lathe_trainer_create(exp, prep, &t, &err) == LATHE_OK, "%s", err.message);
    CHECK(t && lathe_trainer_step(t, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
    if (!t) goto done;
    F = prep->n_features;
    before = lathe_trainer_evaluate(t, LATHE_SPLIT_TEST);
    CHECK(lathe_calibration_rows(prep->train.rows, 64, exp->seed, idx, &err) == LATHE_OK, "%s", err.message);
    for (i = 0; i < 64; i++) {
        lathe_prepared_rows(prep, &prep->train, idx[i], 1, x + i * F);
        (void)y;
    }
    CHECK(lathe_quantize_network(t, 64, x, 100.0, &err) == LATHE_OK, "%s", err.message);
    for (l = 0; l < lathe_trainer_layer_count(t); l++) {
        lathe_layer_info li;
        lathe_trainer_layer(t, l, &li);
        CHECK((li.kind == LATHE_LAYER_DENSE) == (li.int8 != NULL), "layer %zu: int8 form", l);
    }
    after = lathe_trainer_evaluate(t, LATHE_SPLIT_TEST);
    CHECK(after.accuracy >= before.accuracy - 0.02f, "int8 accuracy %.3f, float %.3f",
          (double)after.accuracy, (double)before.accuracy);
    CHECK(lathe_model_file_write(json, strlen(json), prep, t, NULL, &out, &err) == LATHE_OK, "%s", err.message);
    if (out) {
        lathe_model *m = NULL;
        char *saved = NULL;
        CHECK(strstr(out, "\"version\":\t4") && strstr(out, "\"int8\":"), "not a version 4 file with int8 layers");
        CHECK(lathe_model_load(out, strlen(out), &m, &err) == LATHE_OK, "%s", err.message);
        if (m) {
            lathe_trainer *n = lathe_model_network(m);
            float px[2] = {0.3f, -1.2f}, ya[3], yb[3];
            lathe_trainer_weights_sha256(t, hex);
            CHECK(strcmp(hex, lathe_model_weights_sha256(m)) == 0, "the loaded hash differs");
            CHECK(lathe_trainer_int8(n, 0) != NULL, "the loaded network is not int8");
            lathe_trainer_predict(t, 1, px, ya);
            lathe_trainer_predict(n, 1, px, yb);
            CHECK(memcmp(ya, yb, sizeof ya) == 0, "the loaded model predicts differently");
            CHECK(lathe_model_save(m, NULL, &saved, &err) == LATHE_OK && saved && strcmp(saved, out) == 0,
                  "load -> save does not give the same bytes");
            lathe_free(saved);
        }
        lathe_model_destroy(m);
    }
    /* a training step makes it float again */
    lathe_trainer_step(t, 1, &err);
    CHECK(lathe_trainer_int8(t, 0) == NULL, "still int8 after a training step");
done:
    lathe_trainer_destroy(t);
    lathe_prepared_destroy(prep);
    lathe_experiment_destroy(exp);
    return out;
}

static void calibration_rows(void) {
    uint32_t a[50], b[50];
    size_t i, ok = 1;
    lathe_error err;
    CHECK(lathe_calibration_rows(60, 50, 11, a, &err) == LATHE_OK, "%s", err.message);
    CHECK(lathe_calibration_rows(60, 50, 11, b, &err) == LATHE_OK && memcmp(a, b, sizeof a) == 0,
          "the same seed chose other rows");
    for (i = 1; i < 50; i++) ok &= a[i - 1] < a[i] && a[i] < 60;
    CHECK(ok, "the rows are not distinct, sorted and in range");
    CHECK(lathe_calibration_rows(10, 11, 1, a, &err) != LATHE_OK && strstr(err.message, "training split has 10"),
          "more rows than the split: '%s'", err.message);
}

int main(void) {
    lathe_table *table = NULL;
    lathe_error err;
    char *file, *pruned;
    long live = lathe_alloc_live();
    gemm_twins();
    quantize_twins();
    rounding();
    dense_formula();
    conv_formula();
    calibration_rows();
    CHECK(lathe_synthetic_table("spiral", 300, 0.2f, 3, 3, &table, &err) == LATHE_OK, "%s", err.message);
    if (!table) return check_finish("test_int8");
    file = quantised_network("", table);
    pruned = quantised_network(",\"prune\":{\"sparsity\":0.8,\"frequency\":5}", table);
    CHECK(pruned && strstr(pruned, "\"weights_sparse\"") && strlen(pruned) < strlen(file),
          "the pruned int8 file does not store its weights sparse");
    if (file) {
        refused("int8 in version 3", check_replaced(file, "\"version\":\t4", "\"version\":\t3"),
                "int8: needs a version 4 model file");
        refused("a zero point", check_replaced(file, "\"input_zero_point\":\t", "\"input_zero_point\":\t300,\"was\":\t"),
                "layers[0].int8.input_zero_point");
        refused("a scale", check_replaced(file, "\"input_scale\":\t", "\"input_scale\":\t-"),
                "layers[0].int8.input_scale");
        refused("both forms", check_replaced(file, "\"int8\":", "\"weights\":\t\"AAAA\",\n\t\t\"int8\":"),
                "give one of them");
        refused("weight scales", check_replaced(file, "\"weight_scales\":\t\"", "\"weight_scales\":\t\"!"),
                "layers[0].int8.weight_scales");
        refused("a zero weight scale", check_replaced(file, "\"weight_scales\":\t\"", "\"weight_scales\":\t\"AAAAAA"),
                "layers[0].int8.weight_scales");
        {   /* a weight byte changed: the hash catches it */
            char *copy = malloc(strlen(file) + 1), *at;
            strcpy(copy, file);
            at = strstr(copy, "\"weights\":\t\"");
            if (at) at[12] = at[12] == 'A' ? 'B' : 'A';
            refused("a weight byte", at ? copy : (free(copy), NULL), "weights_sha256");
        }
    }
    lathe_free(file);
    lathe_free(pruned);
    lathe_table_destroy(table);
    CHECK(lathe_alloc_live() == live, "%ld allocations leaked", lathe_alloc_live() - live);
    return check_finish("test_int8");
}
