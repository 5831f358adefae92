/* lathe bench: speed figures, measured in the process that prints them. Benchmarks, not
 * tests: nothing here asserts about time. The node twin (build/wasm/lathe.js, same
 * arguments) measures WebAssembly; scripts/bench.sh runs both beside the peers
 * (tests/bench/) and writes the comparison.
 *
 *   kernels  GFLOPS of the compute kernels, every twin (ref, simd128 and, natively on a CPU
 *            with AVX2, avx2) in the same run, and their ratios to ref. Natively simd128 is
 *            SIMDe's mapping of SIMD128 to the host's SIMD (SSE on x86-64). The twins run in
 * alternating batches of calls; a batch lasts at least a tenth of the time budget, each twin gets
 * at least the whole budget, and the fastest batch counts, so a moment of contention for the core
 * does not count against a kernel. A warm-up runs every kernel first (V8 compiles wasm in tiers: a
 *            cold function runs slowly at first, which measured as half speed in the first
 *            case without it). A flop is one multiply or one add: a GEMM is 2·M·N·K flops, a
 *            convolution 2·(multiply-adds of its im2col GEMM).
 *   models   the cases the peers are compared on (GEMM, MLP and CNN training and inference,
 *            start-up), medians of repetitions; see the section below.
 *   epoch    one full Fashion-MNIST epoch of the MLP and of the CNN, timed once each. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/quantize.h"
#include "lathe/conv.h"
#include "lathe/experiment.h"
#include "lathe/kernels.h"
#include "lathe/idx.h"
#include "lathe/prepare.h"
#include "lathe/session.h"
#include "lathe/trainer.h"

#include <simde/wasm/simd128.h>

#if defined(__EMSCRIPTEN__)
#define BENCH_TARGET "wasm32 SIMD128 (node)"
#elif defined(__x86_64__) || defined(_M_X64)
#define BENCH_TARGET "x86-64, SIMD128 through SIMDe (SSE)"
#elif defined(__aarch64__)
#define BENCH_TARGET "aarch64, SIMD128 through SIMDe (NEON)"
#else
#define BENCH_TARGET "native, SIMD128 through SIMDe"
#endif

static void bench_usage(FILE *out) {
    fputs("usage: lathe bench kernels [--json] [--max N] [--seconds S]\n"
          "       lathe bench models [--json] [--only LIST] [--seconds S] [--reps R]\n"
          "       lathe bench epoch [--json] [--only LIST]\n"
          "\n"
          "Speed figures of this build (the node twin build/wasm/lathe.js measures\n"
          "WebAssembly; scripts/bench.sh compares both with TensorFlow.js, onnxruntime-web\n"
          "and PyTorch).\n"
          "\n"
          "kernels  GFLOPS of the kernel twins, the scalar reference (ref), SIMD128\n"
          "         (simd128) and, natively on a CPU with AVX2, the 256-bit GEMM (avx2), and\n"
          "         their ratios to ref, measured in the same run: GEMM on square\n"
          "         matrices (powers of two from 64 up to N) in each layout (nn, nt, tn) and\n"
          "         on the shapes of an MLP 784-128-10 training step on batches of 64, and\n"
          "         conv2d forward on the layers of a small CNN on 28x28 images (its rows show\n"
          "         the M, N, K of one sample's im2col GEMM). Each twin runs in batches of\n"
          "         calls for at least S seconds per case (default 0.2) and the fastest batch\n"
          "         counts. About half a minute, mostly the reference twin at N = 1024.\n"
          "models   the cases compared with the peers, each the median of R repetitions\n"
          "         (default 5) of at least S seconds (default 0.5) after a warm-up one:\n"
          "         gemm_64 ... gemm_1024 (GFLOPS of square nn GEMMs, the kernels in use),\n"
          "         mlp_train (MLP 784-128-10, batch 64, Adam; samples/s), mlp_infer_1 and\n"
          "         mlp_infer_256 (ms per prediction of 1 or 256 rows, softmax included),\n"
          "         cnn_train (the `cnn` template: conv 5x5x8 same, relu, max-pool 2,\n"
          "         conv 5x5x16 same, relu, max-pool 2, dense 10; batch 32), cnn_infer_1,\n"
          "         cnn_infer_256, mlp_infer_256_int8 and cnn_infer_256_int8 (the same in\n"
          "         int8), mlp_startup and cnn_startup (ms to parse the experiment\n"
          "         and create its trainer). Random data: 1,024 rows of 784 pixels.\n"
          "epoch    one epoch of the full Fashion-MNIST training split (60,000 images,\n"
          "         data/builtin/fashion-mnist under the current directory) for the MLP\n"
          "         (batch 64) and the CNN (batch 32), Adam 1e-3, then the test accuracy;\n"
          "         skipped with a note when the data set is missing.\n"
          "\n"
          "options:\n"
          "  --max N        kernels: square GEMMs up to N x N (default 1024; at most 2048\n"
          "                 run, below 64 none)\n"
          "  --seconds S    time per twin and case (kernels) or per repetition (models),\n"
          "                 0.01 to 60\n"
          "  --reps R       models: repetitions per case, 1 to 64 (default 5)\n"
          "  --only LIST    models, epoch: comma-separated case ids, or families (gemm,\n"
          "                 mlp, cnn, startup)\n"
          "  --json         print one JSON object on stdout instead of the table\n"
          "  -h, --help     show this help\n",
          out);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Written after every batch, so no call can be optimised away. */
static volatile float bench_sink;

typedef enum { CASE_GEMM, CASE_CONV } case_kind;

typedef struct {
    case_kind kind;
    const char *what; /* the shape in words */
    char lay;         /* GEMM layout: 'n' nn, 't' nt, 'T' tn */
    size_t M, N, K;
    int bias;
    lathe_conv2d_shape conv;
} bench_case;

/* The operands of one case, filled once; the twins overwrite out. */
typedef struct {
    float *a, *b, *bias, *out, *work;
} operands;

static float uniform(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 9) * 0x1p-22f - 1.0f;
}

static float *filled(size_t n, uint32_t *seed) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (p)
        for (size_t i = 0; i < n; i++)
            p[i] = uniform(seed);
    return p;
}

static double case_flops(const bench_case *c) {
    if (c->kind == CASE_GEMM) return 2.0 * (double)c->M * (double)c->N * (double)c->K;
    {
        const lathe_conv2d_shape *s = &c->conv;
        size_t ho, wo;
        lathe_conv2d_output_size(s, &ho, &wo, NULL);
        return 2.0 * (double)s->n * (double)s->out_ch * (double)(ho * wo) *
               (double)(s->in_ch * s->kh * s->kw);
    }
}

static int make_operands(const bench_case *c, operands *op) {
    uint32_t seed = 1;
    memset(op, 0, sizeof *op);
    if (c->kind == CASE_GEMM) {
        op->a = filled(c->M * c->K, &seed);
        op->b = filled(c->K * c->N, &seed);
        op->bias = filled(c->N, &seed);
        op->out = filled(c->M * c->N, &seed);
        return op->a && op->b && op->bias && op->out;
    } else {
        const lathe_conv2d_shape *s = &c->conv;
        size_t ho, wo;
        lathe_conv2d_output_size(s, &ho, &wo, NULL);
        op->a = filled(s->n * s->in_ch * s->h * s->w, &seed);
        op->b = filled(s->out_ch * s->in_ch * s->kh * s->kw, &seed);
        op->bias = filled(s->out_ch, &seed);
        op->out = filled(s->n * s->out_ch * ho * wo, &seed);
        op->work = filled(lathe_conv2d_workspace_size(s), &seed);
        return op->a && op->b && op->bias && op->out && op->work;
    }
}

static void free_operands(operands *op) {
    free(op->a), free(op->b), free(op->bias), free(op->out), free(op->work);
}

static void call_once(const bench_case *c, const lathe_kernel_table *t, const operands *op) {
    if (c->kind == CASE_CONV) {
        lathe_conv2d_forward(t, &c->conv, op->a, op->b, op->bias, op->out, op->work);
        return;
    }
    {
        size_t lda = c->lay == 'T' ? c->M : c->K, ldb = c->lay == 't' ? c->K : c->N;
        lathe_gemm_fn f = c->lay == 'n' ? t->gemm_nn : c->lay == 't' ? t->gemm_nt : t->gemm_tn;
        f(c->M, c->N, c->K, op->a, lda, op->b, ldb, c->bias ? op->bias : NULL, op->out, c->N, 0);
    }
}

/* One batch: calls until batch_seconds have passed. Returns calls per second; adds the
 * batch's duration to *spent. */
static double run_batch(const bench_case *c, const lathe_kernel_table *t, const operands *op,
                        double batch_seconds, double *spent) {
    double t0 = now(), dt;
    long calls = 0;
    do {
        call_once(c, t, op);
        calls++;
        dt = now() - t0;
    } while (dt < batch_seconds);
    bench_sink = op->out[0];
    *spent += dt;
    return (double)calls / dt;
}

/* The twins compared: ref, simd128 and, when this build and CPU have it, avx2 (whose GEMM
 * is 256-bit; its conv2d runs that GEMM). Returns how many. */
static int bench_twins(const lathe_kernel_table *twin[3]) {
    twin[0] = lathe_kernels_for(LATHE_ISA_REF);
    twin[1] = lathe_kernels_for(LATHE_ISA_SIMD128);
    twin[2] = lathe_kernels_for(LATHE_ISA_AVX2);
    return twin[2]->isa == LATHE_ISA_AVX2 ? 3 : 2;
}

/* GFLOPS of each twin on one case (gflops[2] = 0 without avx2): alternating batches until
 * each twin has run for `seconds`; the fastest batch of each. */
static void measure(const bench_case *c, const operands *op, double seconds, double gflops[3]) {
    const lathe_kernel_table *twin[3];
    const int n = bench_twins(twin);
    double spent[3] = {0.0, 0.0, 0.0}, best[3] = {0.0, 0.0, 0.0};
    for (int more = 1; more;) {
        more = 0;
        for (int i = 0; i < n; i++) {
            if (spent[i] < seconds) {
                double rate = run_batch(c, twin[i], op, seconds / 10.0, &spent[i]);
                if (rate > best[i]) best[i] = rate;
                more |= spent[i] < seconds;
            }
        }
    }
    for (int i = 0; i < 3; i++)
        gflops[i] = best[i] * case_flops(c) * 1e-9;
}

/* Runs both twins of every kernel on small shapes for a quarter of the budget each,
 * unmeasured. 0 when out of memory. */
static int warm_up(double seconds) {
    bench_case c[4] = {
        {.kind = CASE_GEMM, .what = "", .lay = 'n', .M = 64, .N = 64, .K = 64},
        {.kind = CASE_GEMM, .what = "", .lay = 't', .M = 64, .N = 64, .K = 64},
        {.kind = CASE_GEMM, .what = "", .lay = 'T', .M = 64, .N = 64, .K = 64},
        {.kind = CASE_CONV, .what = "", .bias = 1, .conv = {4, 2, 14, 14, 4, 5, 5, 1, 2}}};
    for (int i = 0; i < 4; i++) {
        operands op;
        double ignored[3];
        int ok = make_operands(&c[i], &op);
        if (ok) measure(&c[i], &op, seconds / 4.0, ignored);
        free_operands(&op);
        if (!ok) return 0;
    }
    return 1;
}

static const char *layout_name(const bench_case *c) {
    if (c->kind == CASE_CONV) return "conv2d";
    return c->lay == 'n' ? "gemm nn" : c->lay == 't' ? "gemm nt" : "gemm tn";
}

static cJSON *case_json(const bench_case *c, const double gflops[3]) {
    cJSON *o = cJSON_CreateObject(), *g = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kernel", c->kind == CASE_GEMM ? "gemm" : "conv2d_forward");
    cJSON_AddStringToObject(o, "case", c->what);
    if (c->kind == CASE_GEMM) {
        cJSON_AddStringToObject(o, "layout", c->lay == 'n' ? "nn" : c->lay == 't' ? "nt" : "tn");
        cJSON_AddNumberToObject(o, "M", (double)c->M);
        cJSON_AddNumberToObject(o, "N", (double)c->N);
        cJSON_AddNumberToObject(o, "K", (double)c->K);
        cJSON_AddBoolToObject(o, "bias", c->bias);
    } else {
        const lathe_conv2d_shape *s = &c->conv;
        cJSON_AddNumberToObject(o, "batch", (double)s->n);
        cJSON_AddNumberToObject(o, "in_channels", (double)s->in_ch);
        cJSON_AddNumberToObject(o, "out_channels", (double)s->out_ch);
        cJSON_AddNumberToObject(o, "height", (double)s->h);
        cJSON_AddNumberToObject(o, "width", (double)s->w);
        cJSON_AddNumberToObject(o, "kernel", (double)s->kh);
        cJSON_AddNumberToObject(o, "stride", (double)s->stride);
        cJSON_AddNumberToObject(o, "padding", (double)s->pad);
    }
    cJSON_AddNumberToObject(o, "flops", case_flops(c));
    cJSON_AddNumberToObject(g, "ref", gflops[0]);
    cJSON_AddNumberToObject(g, "simd128", gflops[1]);
    if (gflops[2] > 0.0) cJSON_AddNumberToObject(g, "avx2", gflops[2]);
    cJSON_AddItemToObject(o, "gflops", g);
    cJSON_AddNumberToObject(o, "simd128_over_ref", gflops[1] / gflops[0]);
    if (gflops[2] > 0.0) cJSON_AddNumberToObject(o, "avx2_over_ref", gflops[2] / gflops[0]);
    return o;
}

/* Parses a whole decimal size or number; 0 when text is not one. */
static int parse_size(const char *text, size_t *out) {
    char *end;
    unsigned long long v;
    if (text[0] < '0' || text[0] > '9') return 0;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno || *end || v > 1000000) return 0;
    *out = (size_t)v;
    return 1;
}

static int parse_seconds(const char *text, double *out) {
    char *end;
    double v;
    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= 0.01 && v <= 60.0)) return 0;
    *out = v;
    return 1;
}

static int bench_kernels(size_t max_square, double seconds, int json) {
    enum { MAX_CASES = 64 };
    static const size_t squares[] = {64, 128, 256, 512, 1024, 2048};
    /* An MLP 784-128-10 on batches of 64, weights stored (out, in) like PyTorch's: forward
     * y = x·Wᵀ + b (nt), backward dX = dY·W (nn) and dW = dYᵀ·X (tn). */
    static const bench_case mlp[] = {
        {CASE_GEMM, "mlp fwd 784->128", 't', 64, 128, 784, 1, {0}},
        {CASE_GEMM, "mlp bwd dX 128->784", 'n', 64, 784, 128, 0, {0}},
        {CASE_GEMM, "mlp bwd dW 784x128", 'T', 128, 784, 64, 0, {0}},
        {CASE_GEMM, "mlp fwd 128->10", 't', 64, 10, 128, 1, {0}},
        {CASE_GEMM, "mlp bwd dX 10->128", 'n', 64, 128, 10, 0, {0}},
        {CASE_GEMM, "mlp bwd dW 128x10", 'T', 10, 128, 64, 0, {0}},
    };
    /* A LeNet-like CNN on 28x28 images, batches of 64: 5x5 "same" convolutions. */
    static const bench_case convs[] = {
        {CASE_CONV, "cnn 1->8 5x5 28x28", 0, 0, 0, 0, 1, {64, 1, 28, 28, 8, 5, 5, 1, 2}},
        {CASE_CONV, "cnn 8->16 5x5 14x14", 0, 0, 0, 0, 1, {64, 8, 14, 14, 16, 5, 5, 1, 2}},
    };
    bench_case cases[MAX_CASES];
    size_t n_cases = 0;
    cJSON *root = NULL, *list = NULL;
    int status = CLI_OK;
    for (size_t s = 0; s < sizeof squares / sizeof squares[0] && squares[s] <= max_square; s++)
        for (int l = 0; l < 3; l++) {
            bench_case c = {.kind = CASE_GEMM, .what = "square", .lay = "ntT"[l]};
            c.M = c.N = c.K = squares[s];
            cases[n_cases++] = c;
        }
    for (size_t i = 0; i < sizeof mlp / sizeof mlp[0]; i++)
        cases[n_cases++] = mlp[i];
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
        cases[n_cases++] = convs[i];

    if (json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "target", BENCH_TARGET);
        cJSON_AddNumberToObject(root, "seconds_per_twin", seconds);
        cJSON_AddStringToObject(root, "unit", "GFLOPS (1e9 flops/s; a multiply or an add is one)");
        list = cJSON_AddArrayToObject(root, "cases");
    } else {
        printf("lathe bench kernels on %s: GFLOPS, best batch over >= %.2g s per twin and case\n",
               BENCH_TARGET, seconds);
        const lathe_kernel_table *twin[3];
        printf("%-7s %5s %5s %5s  %-22s %9s %9s %9s", "kernel", "M", "N", "K", "case", "ref",
               "simd128", "simd/ref");
        if (bench_twins(twin) == 3) printf(" %9s %9s", "avx2", "avx2/ref");
        putchar('\n');
        fflush(stdout);
    }
    if (!warm_up(seconds)) {
        fprintf(stderr, "lathe bench: out of memory\n");
        status = CLI_FAILED;
        n_cases = 0;
    }
    for (size_t i = 0; i < n_cases; i++) {
        const bench_case *c = &cases[i];
        operands op;
        double gflops[3];
        if (!make_operands(c, &op)) {
            free_operands(&op);
            fprintf(stderr, "lathe bench: out of memory for %s %s\n", layout_name(c), c->what);
            status = CLI_FAILED;
            break;
        }
        measure(c, &op, seconds, gflops);
        free_operands(&op);
        if (json) {
            cJSON_AddItemToArray(list, case_json(c, gflops));
        } else {
            /* A convolution shows its im2col GEMM: (out_ch, in_ch·kh·kw) · (.., H_out·W_out)
             * per sample; M, N, K are those of one sample. */
            size_t ho = 0, wo = 0;
            if (c->kind == CASE_CONV) lathe_conv2d_output_size(&c->conv, &ho, &wo, NULL);
            printf("%-7s %5zu %5zu %5zu  %-22s %9.2f %9.2f %8.1fx", layout_name(c),
                   c->kind == CASE_GEMM ? c->M : c->conv.out_ch,
                   c->kind == CASE_GEMM ? c->N : ho * wo,
                   c->kind == CASE_GEMM ? c->K : c->conv.in_ch * c->conv.kh * c->conv.kw, c->what,
                   gflops[0], gflops[1], gflops[1] / gflops[0]);
            if (gflops[2] > 0.0) printf(" %9.2f %8.1fx", gflops[2], gflops[2] / gflops[0]);
            putchar('\n');
        }
        fflush(stdout);
    }
    if (json) {
        char *text = status == CLI_OK ? cJSON_Print(root) : NULL;
        if (text) puts(text);
        cJSON_free(text);
        cJSON_Delete(root);
    }
    return status;
}

/* ---- lathe bench models: the figures the peers are compared on ------------------------
 * Each case runs a unit of work (one GEMM call, one training batch, one prediction call, one
 * trainer creation) in groups of calls long enough for the clock (>= 2 ms), for `seconds`
 * per repetition; a repetition's rate is its units over its time, and the case reports the
 * median over `reps` repetitions after one unmeasured warm-up repetition. The models run on
 * random images through a session, exactly as `lathe run` drives them. */

enum { MODELS_MAX_REPS = 64, MODELS_ROWS = 1024 };

/* A session on random images: MODELS_ROWS seeded 28x28 grey images (bytes, as IDX files
 * would give them) of 10 classes, prepared and trained as `lathe run` prepares and trains an
 * experiment's data: the same session calls. */
typedef struct {
    uint8_t *images, *labels; /* the IDX files' bytes */
    lathe_idx_set *set;
    lathe_session *session;
    lathe_trainer *trainer; /* the session's */
    float *x;               /* the prepared training rows, (MODELS_ROWS, 784) */
    int cnn;
    size_t batch;
    float *probs; /* (256, 10) predictions */
} fixture;

/* The experiment of a model case: the MLP 784-128-10 or the `cnn` template (conv 5x5x8
 * same, relu, max-pool 2, conv 5x5x16 same, relu, max-pool 2, dense 10), Adam, on the
 * fixture's images scaled to [0, 1], all of them training rows. */
static void experiment_text(int cnn, size_t batch, char *text, size_t cap) {
    snprintf(text, cap,
             "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 7,"
             " \"data\": {\"files\": [\"bench-images\", \"bench-labels\"]},"
             " \"prepare\": [{\"op\": \"split\", \"test\": 0, \"validation\": 0},"
             " {\"op\": \"minmax\", \"per\": \"all\"}],"
             " \"model\": %s,"
             " \"train\": {\"optimizer\": \"adam\", \"learning_rate\": 0.001,"
             " \"batch_size\": %zu, \"epochs\": 100000}}",
             cnn ? "{\"template\": \"cnn\", \"activation\": \"relu\"}"
                 : "{\"template\": \"mlp\", \"hidden\": [128], \"activation\": \"relu\"}",
             batch);
}

static void fixture_free(fixture *f) {
    free(f->x);
    lathe_session_destroy(f->session);
    lathe_idx_set_destroy(f->set);
    free(f->images);
    free(f->labels);
    free(f->probs);
    memset(f, 0, sizeof *f);
}

/* Opens and builds a session of the fixture's case on its images into *out. */
static lathe_status fixture_session(const fixture *f, lathe_session **out, lathe_error *err) {
    char text[768];
    lathe_session_data data;
    lathe_status st;
    experiment_text(f->cnn, f->batch, text, sizeof text);
    memset(&data, 0, sizeof data);
    data.images = f->set;
    st = lathe_session_open(text, strlen(text), &data, out, err);
    if (st == LATHE_OK && (st = lathe_session_build(*out, NULL, err)) != LATHE_OK) {
        lathe_session_destroy(*out);
        *out = NULL;
    }
    return st;
}

/* Fills f with random images (MODELS_ROWS, seeded) and a session for the case's model at
 * batch size `batch`. Returns 1, or 0 with a message on stderr; fixture_free(f) either way. */
static int fixture_make(fixture *f, int cnn, size_t batch) {
    enum { PIXELS = 784 };
    const size_t images_n = 16 + MODELS_ROWS * PIXELS, labels_n = 8 + MODELS_ROWS;
    static const uint8_t images_head[16] = {
        0, 0, 8, 3, 0, 0, MODELS_ROWS >> 8, MODELS_ROWS & 255, 0, 0, 0, 28, 0, 0, 0, 28};
    static const uint8_t labels_head[8] = {0, 0, 8, 1, 0, 0, MODELS_ROWS >> 8, MODELS_ROWS & 255};
    lathe_idx_file images, labels;
    lathe_error err;
    uint32_t seed = 3;
    memset(f, 0, sizeof *f);
    f->cnn = cnn, f->batch = batch;
    f->images = malloc(images_n);
    f->labels = malloc(labels_n);
    f->probs = malloc(256 * 10 * sizeof(float));
    if (!f->images || !f->labels || !f->probs) {
        fprintf(stderr, "lathe bench: out of memory\n");
        return 0;
    }
    memcpy(f->images, images_head, sizeof images_head);
    memcpy(f->labels, labels_head, sizeof labels_head);
    for (size_t i = 0; i < MODELS_ROWS * PIXELS; i++) {
        seed = seed * 1664525u + 1013904223u;
        f->images[16 + i] = (uint8_t)(seed >> 24);
    }
    for (size_t i = 0; i < MODELS_ROWS; i++) {
        seed = seed * 1664525u + 1013904223u;
        f->labels[8 + i] = (uint8_t)((seed >> 16) % 10u);
    }
    images = (lathe_idx_file){"bench-images", f->images, images_n, f->images, images_n};
    labels = (lathe_idx_file){"bench-labels", f->labels, labels_n, f->labels, labels_n};
    if (lathe_idx_set_create(&f->set, &err) != LATHE_OK ||
        lathe_idx_set_add(f->set, &images, &labels, 0, &err) != LATHE_OK ||
        fixture_session(f, &f->session, &err) != LATHE_OK) {
        fprintf(stderr, "lathe bench: the session of the case: %s\n", err.message);
        return 0;
    }
    f->trainer = lathe_session_trainer(f->session);
    {
        const lathe_prepared *prep = lathe_session_prepared(f->session);
        f->x = malloc(prep->train.rows * prep->n_features * sizeof *f->x);
        if (!f->x) {
            fprintf(stderr, "lathe bench: out of memory for the case's rows\n");
            return 0;
        }
        lathe_prepared_rows(prep, &prep->train, 0, prep->train.rows, f->x);
    }
    return 1;
}

typedef struct {
    int kind; /* MK_* below */
    size_t n; /* GEMM size, batch size of a prediction */
    fixture *fx;
    const lathe_kernel_table *k;
    operands op; /* GEMM operands */
    int failed;
} unit_ctx;

enum { MK_GEMM, MK_TRAIN, MK_PREDICT, MK_CREATE, MK_CEILING };

enum { CEILING_STEPS = 4096, CEILING_CHAINS = 8 };

/* One unit of the SIMD128 ceiling for the GEMM's arithmetic: CEILING_CHAINS accumulators,
 * each step adding to each a distinct product of one of two vectors loaded from a 256-byte
 * buffer (in L1) and one of four constants (a multiply then an add, as the 4x8 micro-kernel
 * does with its two B vectors and four A values; no FMA), CEILING_STEPS steps: 8 flops per
 * accumulator per step. Only the adds are chained, as in the GEMM, so this is what its
 * arithmetic could reach with every operand in L1. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noipa)) /* inlined into its caller, gcc reloads the constants every step */
#endif
static float
ceiling_unit(void) {
    static float buf[64];
    const simde_v128_t m[4] = {simde_wasm_f32x4_splat(0.999f), simde_wasm_f32x4_splat(0.998f),
                               simde_wasm_f32x4_splat(0.997f), simde_wasm_f32x4_splat(0.996f)};
    simde_v128_t acc[CEILING_CHAINS];
    if (buf[0] == 0.0f)
        for (size_t i = 0; i < 64; i++)
            buf[i] = 1e-3f * (float)(i + 1);
    for (size_t c = 0; c < CEILING_CHAINS; c++)
        acc[c] = simde_wasm_f32x4_splat(0.0f);
    for (size_t s = 0; s < CEILING_STEPS; s++) {
        const float *b = buf + 4 * (s & 7);
        const simde_v128_t b0 = simde_wasm_v128_load(b), b1 = simde_wasm_v128_load(b + 4);
        /* written out: gcc keeps an array's elements in memory across a loop over them */
        acc[0] = simde_wasm_f32x4_add(acc[0], simde_wasm_f32x4_mul(b0, m[0]));
        acc[1] = simde_wasm_f32x4_add(acc[1], simde_wasm_f32x4_mul(b1, m[0]));
        acc[2] = simde_wasm_f32x4_add(acc[2], simde_wasm_f32x4_mul(b0, m[1]));
        acc[3] = simde_wasm_f32x4_add(acc[3], simde_wasm_f32x4_mul(b1, m[1]));
        acc[4] = simde_wasm_f32x4_add(acc[4], simde_wasm_f32x4_mul(b0, m[2]));
        acc[5] = simde_wasm_f32x4_add(acc[5], simde_wasm_f32x4_mul(b1, m[2]));
        acc[6] = simde_wasm_f32x4_add(acc[6], simde_wasm_f32x4_mul(b0, m[3]));
        acc[7] = simde_wasm_f32x4_add(acc[7], simde_wasm_f32x4_mul(b1, m[3]));
    }
    for (size_t c = 1; c < CEILING_CHAINS; c++)
        acc[0] = simde_wasm_f32x4_add(acc[0], acc[c]);
    return simde_wasm_f32x4_extract_lane(acc[0], 0);
}

/* Runs `calls` units of the case; a failure prints its message and sets u->failed. */
static void run_units(unit_ctx *u, size_t calls) {
    for (size_t c = 0; c < calls && !u->failed; c++) {
        switch (u->kind) {
        case MK_GEMM:
            u->k->gemm_nn(u->n, u->n, u->n, u->op.a, u->n, u->op.b, u->n, NULL, u->op.out, u->n, 0);
            break;
        case MK_TRAIN: {
            lathe_error err;
            if (lathe_trainer_step(u->fx->trainer, 1, &err) != LATHE_OK) {
                fprintf(stderr, "lathe bench: training: %s\n", err.message);
                u->failed = 1;
            }
            break;
        }
        case MK_PREDICT:
            lathe_trainer_predict(u->fx->trainer, u->n, u->fx->x, u->fx->probs);
            break;
        case MK_CEILING:
            bench_sink = ceiling_unit();
            break;
        default: { /* a trainer for the session's experiment and prepared data (what
                    * lathe_session_build creates; the peers create their models), destroyed */
            lathe_error err;
            lathe_trainer *t = NULL;
            if (lathe_trainer_create(lathe_session_experiment(u->fx->session),
                                     lathe_session_prepared(u->fx->session), &t,
                                     &err) != LATHE_OK) {
                fprintf(stderr, "lathe bench: start-up: %s\n", err.message);
                u->failed = 1;
            }
            lathe_trainer_destroy(t);
            break;
        }
        }
    }
    if (u->kind == MK_GEMM)
        bench_sink = u->op.out[0];
    else if (u->kind == MK_PREDICT)
        bench_sink = u->fx->probs[0];
}

/* Units per second, one value per repetition into rates (reps of them), after a warm-up
 * repetition; calls are grouped so that a group lasts at least 2 ms. */
static void measure_units(unit_ctx *u, double seconds, size_t reps, double *rates) {
    size_t group = 1;
    for (;;) { /* calibrate the group size */
        double t0 = now();
        run_units(u, group);
        if (u->failed || now() - t0 >= 0.002 || group >= ((size_t)1 << 30)) break;
        group *= 2;
    }
    for (size_t r = 0; r <= reps && !u->failed; r++) {
        double t0 = now(), dt;
        size_t units = 0;
        do {
            run_units(u, group);
            units += group;
            dt = now() - t0;
        } while (dt < seconds && !u->failed);
        if (r > 0) rates[r - 1] = (double)units / dt;
    }
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median(const double *v, size_t n) {
    double s[MODELS_MAX_REPS];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

typedef struct {
    const char *id, *what, *unit;
    int kind, cnn;
    size_t n; /* GEMM size; prediction batch; training and start-up: the training batch */
    int int8; /* prediction: the network quantised to int8 first (lathe_quantize_network) */
} model_case;

static const model_case model_cases[] = {
    {"gemm_64", "GEMM 64x64x64 (nn)", "GFLOPS", MK_GEMM, 0, 64, 0},
    {"gemm_128", "GEMM 128x128x128 (nn)", "GFLOPS", MK_GEMM, 0, 128, 0},
    {"gemm_256", "GEMM 256x256x256 (nn)", "GFLOPS", MK_GEMM, 0, 256, 0},
    {"gemm_512", "GEMM 512x512x512 (nn)", "GFLOPS", MK_GEMM, 0, 512, 0},
    {"gemm_1024", "GEMM 1024x1024x1024 (nn)", "GFLOPS", MK_GEMM, 0, 1024, 0},
    {"gemm_ceiling", "SIMD128 ceiling: f32x4 mul + add, 8 chains, no memory", "GFLOPS", MK_CEILING,
     0, 0, 0},
    {"mlp_train", "MLP 784-128-10 training, batch 64, Adam", "samples/s", MK_TRAIN, 0, 64, 0},
    {"mlp_infer_1", "MLP 784-128-10 inference, batch 1", "ms", MK_PREDICT, 0, 1, 0},
    {"mlp_infer_256", "MLP 784-128-10 inference, batch 256", "ms", MK_PREDICT, 0, 256, 0},
    {"cnn_train", "small CNN training, batch 32, Adam", "samples/s", MK_TRAIN, 1, 32, 0},
    {"cnn_infer_1", "small CNN inference, batch 1", "ms", MK_PREDICT, 1, 1, 0},
    {"cnn_infer_256", "small CNN inference, batch 256", "ms", MK_PREDICT, 1, 256, 0},
    {"mlp_infer_256_int8", "MLP 784-128-10 inference in int8, batch 256", "ms", MK_PREDICT, 0, 256, 1},
    {"cnn_infer_256_int8", "small CNN inference in int8, batch 256", "ms", MK_PREDICT, 1, 256, 1},
    {"mlp_startup", "MLP start-up: create the trainer of the prepared data", "ms", MK_CREATE, 0,
     64, 0},
    {"cnn_startup", "CNN start-up: create the trainer of the prepared data", "ms", MK_CREATE, 1,
     32, 0},
};

/* The case's figure from a rate of units per second: GFLOPS, samples/s or ms per unit. */
static double figure(const model_case *c, double rate) {
    if (c->kind == MK_GEMM) return rate * 2.0 * (double)c->n * (double)c->n * (double)c->n * 1e-9;
    if (c->kind == MK_CEILING) return rate * 8.0 * CEILING_STEPS * CEILING_CHAINS * 1e-9;
    if (c->kind == MK_TRAIN) return rate * (double)c->n;
    return 1e3 / rate;
}

/* Runs one case; fills values (reps figures). 0 on failure (message printed). */
static int run_model_case(const model_case *c, double seconds, size_t reps, double *values) {
    unit_ctx u;
    fixture fx;
    double rates[MODELS_MAX_REPS];
    int ok = 1;
    memset(&u, 0, sizeof u);
    memset(&fx, 0, sizeof fx);
    u.kind = c->kind, u.n = c->n, u.k = lathe_kernels();
    if (c->kind == MK_CEILING) {
        /* nothing to set up */
    } else if (c->kind == MK_GEMM) {
        bench_case g = {.kind = CASE_GEMM, .what = "", .lay = 'n', .M = c->n, .N = c->n, .K = c->n};
        ok = make_operands(&g, &u.op);
        if (!ok) fprintf(stderr, "lathe bench: out of memory for %s\n", c->id);
    } else {
        /* predictions run in chunks of the trainer's batch: make it the prediction's batch */
        ok = fixture_make(&fx, c->cnn, c->kind == MK_PREDICT ? (c->n > 64 ? c->n : 64) : c->n);
        u.fx = &fx;
        if (ok && c->int8) { /* calibrated on the 256 rows it predicts */
            lathe_error err;
            if (lathe_quantize_network(fx.trainer, 256, fx.x, 100.0, &err) != LATHE_OK) {
                fprintf(stderr, "lathe bench: %s: %s\n", c->id, err.message);
                ok = 0;
            }
        }
    }
    if (ok) {
        measure_units(&u, seconds, reps, rates);
        ok = !u.failed;
        for (size_t r = 0; ok && r < reps; r++)
            values[r] = figure(c, rates[r]);
    }
    free_operands(&u.op);
    fixture_free(&fx);
    return ok;
}

/* 1 when id is in the comma-separated list (NULL: every case); a list item may also name a
 * prefix ending in '_' or a family: "gemm", "mlp", "cnn", "startup". */
static int case_selected(const char *list, const char *id) {
    const char *p = list;
    if (!list) return 1;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n > 0 && ((strlen(id) == n && strncmp(id, p, n) == 0) ||
                      (strncmp(id, p, n) == 0 && id[n] == '_') ||
                      (n == 7 && strncmp(p, "startup", 7) == 0 && strstr(id, "_startup"))))
            return 1;
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

static int bench_models(const char *only, double seconds, size_t reps, int json) {
    const size_t n_cases = sizeof model_cases / sizeof model_cases[0];
    cJSON *root = NULL, *list = NULL;
    int status = CLI_OK;
    size_t selected = 0;
    for (size_t i = 0; i < n_cases; i++)
        selected += (size_t)case_selected(only, model_cases[i].id);
    if (selected == 0) {
        fprintf(stderr,
                "lathe bench models: --only '%s' selects no case (there are gemm_64 ... "
                "gemm_1024, gemm_ceiling, mlp_train, mlp_infer_1, mlp_infer_256, cnn_train, "
                "cnn_infer_1, cnn_infer_256, mlp_infer_256_int8, cnn_infer_256_int8, mlp_startup, "
                "cnn_startup)\n",
                only);
        return CLI_USAGE;
    }
    if (json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "engine", "lathe");
        cJSON_AddStringToObject(root, "target", BENCH_TARGET);
        cJSON_AddStringToObject(root, "kernels", lathe_kernels()->name);
        cJSON_AddNumberToObject(root, "seconds_per_rep", seconds);
        cJSON_AddNumberToObject(root, "reps", (double)reps);
        list = cJSON_AddArrayToObject(root, "cases");
    } else {
        printf("lathe bench models on %s, kernel table %s: median of %zu repetitions of >= "
               "%.2g s, after a warm-up\n%-15s %12s %-10s  %s\n",
               BENCH_TARGET, lathe_kernels()->name, reps, seconds, "case", "median", "unit",
               "what");
        fflush(stdout);
    }
    for (size_t i = 0; i < n_cases; i++) {
        const model_case *c = &model_cases[i];
        double values[MODELS_MAX_REPS];
        if (!case_selected(only, c->id)) continue;
        if (!run_model_case(c, seconds, reps, values)) {
            status = CLI_FAILED;
            break;
        }
        if (json) {
            cJSON *o = cJSON_CreateObject(), *v = cJSON_CreateArray();
            cJSON_AddStringToObject(o, "id", c->id);
            cJSON_AddStringToObject(o, "what", c->what);
            cJSON_AddStringToObject(o, "unit", c->unit);
            cJSON_AddNumberToObject(o, "median", median(values, reps));
            for (size_t r = 0; r < reps; r++)
                cJSON_AddItemToArray(v, cJSON_CreateNumber(values[r]));
            cJSON_AddItemToObject(o, "values", v);
            cJSON_AddItemToArray(list, o);
        } else {
            printf("%-15s %12.4g %-10s  %s\n", c->id, median(values, reps), c->unit, c->what);
            fflush(stdout);
        }
    }
    if (json) {
        char *text = status == CLI_OK ? cJSON_Print(root) : NULL;
        if (text) puts(text);
        cJSON_free(text);
        cJSON_Delete(root);
    }
    return status;
}

/* ---- lathe bench epoch: one full epoch of Fashion-MNIST (60,000 training images) -------
 * From the built-in data folder (as `lathe run` finds it: data/builtin under the current
 * directory), prepared like examples/full (pixels / 255), one epoch of the MLP (batch 64)
 * and of the CNN (batch 32), Adam 1e-3, seed 42; then the 10,000 test images are evaluated.
 * Each model runs once: at full size an epoch is long enough to time on its own. */

/* Times one model's epoch; adds its object to list (or prints a line). 0 on failure. */
static int epoch_one(int cnn, int json, cJSON *list) {
    char text[768];
    lathe_error err;
    lathe_session *session = NULL;
    const lathe_prepared *prep;
    lathe_trainer *trainer;
    double t0, t_load, t_create, t_epoch, t_eval;
    lathe_metrics test;
    lathe_progress p;
    char weights[65];
    int ok = 0;
    const size_t batch = cnn ? 32 : 64;
    snprintf(text, sizeof text,
             "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 42,"
             " \"data\": {\"builtin\": \"fashion-mnist\"},"
             " \"prepare\": [{\"op\": \"split\", \"validation\": 0.0},"
             " {\"op\": \"minmax\", \"per\": \"all\"}], \"model\": %s,"
             " \"train\": {\"optimizer\": \"adam\", \"learning_rate\": 0.001,"
             " \"batch_size\": %zu, \"epochs\": 1}}",
             cnn ? "{\"template\": \"cnn\", \"activation\": \"relu\"}"
                 : "{\"template\": \"mlp\", \"hidden\": [128], \"activation\": \"relu\"}",
             batch);
    t0 = now();
    if (cli_open_session("bench epoch", text, strlen(text), NULL, &session) != CLI_OK) goto done;
    t_load = now() - t0;
    t0 = now();
    if (lathe_session_build(session, NULL, &err) != LATHE_OK) {
        cli_error("bench epoch", err.message);
        goto done;
    }
    t_create = now() - t0;
    prep = lathe_session_prepared(session);
    trainer = lathe_session_trainer(session);
    t0 = now();
    p = lathe_trainer_progress(trainer);
    if (lathe_trainer_step(trainer, p.batches_per_epoch, &err) != LATHE_OK) {
        cli_error("bench epoch", err.message);
        goto done;
    }
    t_epoch = now() - t0;
    t0 = now();
    test = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
    t_eval = now() - t0;
    lathe_trainer_weights_sha256(trainer, weights);
    ok = 1;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", cnn ? "cnn_epoch" : "mlp_epoch");
        cJSON_AddStringToObject(o, "what",
                                cnn ? "small CNN, one Fashion-MNIST epoch, batch 32"
                                    : "MLP 784-128-10, one Fashion-MNIST epoch, batch 64");
        cJSON_AddNumberToObject(o, "train_rows", (double)prep->train.rows);
        cJSON_AddNumberToObject(o, "batch", (double)batch);
        cJSON_AddNumberToObject(o, "load_seconds", t_load);
        cJSON_AddNumberToObject(o, "create_seconds", t_create);
        cJSON_AddNumberToObject(o, "epoch_seconds", t_epoch);
        cJSON_AddNumberToObject(o, "samples_per_second", (double)prep->train.rows / t_epoch);
        cJSON_AddNumberToObject(o, "test_rows", (double)test.rows);
        cJSON_AddNumberToObject(o, "test_seconds", t_eval);
        cJSON_AddNumberToObject(o, "test_accuracy", (double)test.accuracy);
        cJSON_AddStringToObject(o, "weights_sha256", weights);
        cJSON_AddItemToArray(list, o);
    } else {
        printf("%-9s %6zu rows  load %6.2f s  epoch %7.2f s  %8.0f samples/s  test accuracy "
               "%.4f (%zu rows in %.2f s)  weights %.16s\n",
               cnn ? "cnn_epoch" : "mlp_epoch", prep->train.rows, t_load, t_epoch,
               (double)prep->train.rows / t_epoch, (double)test.accuracy, test.rows, t_eval,
               weights);
        fflush(stdout);
    }
done:
    lathe_session_destroy(session);
    return ok;
}

static int bench_epoch(const char *only, int json) {
    char dir[1100], manifest[1200];
    FILE *f;
    cJSON *root = NULL, *list = NULL;
    int status = CLI_OK, ran = 0;
    cli_data_dir("bench epoch", dir, sizeof dir);
    snprintf(manifest, sizeof manifest, "%s/fashion-mnist/train-images-idx3-ubyte.gz", dir);
    f = fopen(manifest, "rb");
    if (f) fclose(f);
    if (json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "engine", "lathe");
        cJSON_AddStringToObject(root, "target", BENCH_TARGET);
        list = cJSON_AddArrayToObject(root, "cases");
        if (!f)
            cJSON_AddStringToObject(root, "skipped",
                                    "data/builtin/fashion-mnist is missing "
                                    "(run ./scripts/fetch_data.sh)");
    } else if (!f) {
        printf("lathe bench epoch: skipped: %s is missing (run ./scripts/fetch_data.sh)\n",
               manifest);
    }
    for (int cnn = 0; f && cnn < 2 && status == CLI_OK; cnn++) {
        if (!case_selected(only, cnn ? "cnn_epoch" : "mlp_epoch")) continue;
        ran++;
        if (!epoch_one(cnn, json, list)) status = CLI_FAILED;
    }
    if (f && status == CLI_OK && !ran) {
        fprintf(stderr,
                "lathe bench epoch: --only '%s' selects no case (there are mlp_epoch, "
                "cnn_epoch)\n",
                only);
        status = CLI_USAGE;
    }
    if (json) {
        char *text = status == CLI_OK ? cJSON_Print(root) : NULL;
        if (text) puts(text);
        cJSON_free(text);
        cJSON_Delete(root);
    }
    return status;
}

/* Parses a whole number of repetitions, 1 to MODELS_MAX_REPS. */
static int parse_reps(const char *text, size_t *out) {
    size_t v;
    if (!parse_size(text, &v) || v < 1 || v > MODELS_MAX_REPS) return 0;
    *out = v;
    return 1;
}

int cmd_bench(int argc, char **argv) {
    const char *what = NULL, *only = NULL;
    size_t max_square = 1024, reps = 5;
    double seconds = -1.0;
    int json = 0, max_given = 0, reps_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            bench_usage(stdout);
            return CLI_OK;
        } else if (strcmp(arg, "--json") == 0) {
            json = 1;
        } else if (strcmp(arg, "--max") == 0 || strcmp(arg, "--seconds") == 0 ||
                   strcmp(arg, "--reps") == 0 || strcmp(arg, "--only") == 0) {
            int ok = 1;
            const char *expect = "";
            if (i + 1 >= argc) {
                fprintf(stderr, "lathe bench: %s needs a value\n", arg);
                return CLI_USAGE;
            }
            i++;
            if (arg[2] == 'm') {
                ok = parse_size(argv[i], &max_square), expect = "a size from 0 to 1000000";
                max_given = 1;
            } else if (arg[2] == 's') {
                ok = parse_seconds(argv[i], &seconds),
                expect = "a number of seconds from 0.01 to 60";
            } else if (arg[2] == 'r') {
                ok = parse_reps(argv[i], &reps), expect = "a whole number from 1 to 64";
                reps_given = 1;
            } else {
                only = argv[i];
            }
            if (!ok) {
                fprintf(stderr, "lathe bench: %s: '%s' is not %s\n", arg, argv[i], expect);
                return CLI_USAGE;
            }
        } else if (arg[0] == '-' || what) {
            fprintf(stderr, "lathe bench: unexpected argument '%s'; see `lathe bench --help`\n",
                    arg);
            return CLI_USAGE;
        } else {
            what = arg;
        }
    }
    if (!what) {
        bench_usage(stderr);
        return CLI_USAGE;
    }
    {
        const int kernels = strcmp(what, "kernels") == 0, epoch = strcmp(what, "epoch") == 0;
        const char *misplaced = kernels && only          ? "--only"
                                : kernels && reps_given  ? "--reps"
                                : !kernels && max_given  ? "--max"
                                : epoch && seconds > 0.0 ? "--seconds"
                                : epoch && reps_given    ? "--reps"
                                                         : NULL;
        if (misplaced) {
            fprintf(stderr, "lathe bench %s: %s does not apply; see `lathe bench --help`\n", what,
                    misplaced);
            return CLI_USAGE;
        }
    }
    if (strcmp(what, "kernels") == 0)
        return bench_kernels(max_square, seconds > 0.0 ? seconds : 0.2, json);
    if (strcmp(what, "models") == 0)
        return bench_models(only, seconds > 0.0 ? seconds : 0.5, reps, json);
    if (strcmp(what, "epoch") == 0) return bench_epoch(only, json);
    fprintf(stderr, "lathe bench: '%s' is not a benchmark (there are: kernels, models, epoch)\n",
            what);
    return CLI_USAGE;
}
