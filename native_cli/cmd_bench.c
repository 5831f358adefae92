/* lathe bench kernels: GFLOPS of the compute kernels, both twins (ref and simd128) measured
 * in the same run, and their ratio. Natively this measures SIMDe's mapping of SIMD128 to the
 * host's SIMD (SSE on x86-64); the node build (build/wasm/lathe.js) measures WebAssembly. A
 * benchmark, not a test: it asserts nothing about time.
 *
 * Method: for each case the two twins run in alternating batches of calls; a batch lasts at
 * least a tenth of the time budget, each twin gets at least the whole budget, and the fastest
 * batch counts, so a moment of contention for the core does not count against a kernel. A
 * warm-up runs every kernel first (V8 compiles wasm in tiers: a cold function runs slowly at
 * first, which measured as half speed in the first case without it). A
 * flop is one multiply or one add: a GEMM is 2·M·N·K flops, a convolution 2·(multiply-adds of
 * its im2col GEMM). */
#define _POSIX_C_SOURCE 199309L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/conv.h"
#include "lathe/kernels.h"

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
          "\n"
          "Measures the compute kernels and prints GFLOPS for both twins, the scalar\n"
          "reference (ref) and the SIMD128 kernels (simd128), and their ratio, measured in\n"
          "the same run: GEMM on square matrices (powers of two from 64 up to N) in each\n"
          "layout (nn, nt, tn) and on the shapes of an MLP 784-128-10 training step on\n"
          "batches of 64, and conv2d forward on the layers of a small CNN on 28x28 images\n"
          "(its rows show the M, N, K of one sample's im2col GEMM). The node build\n"
          "(build/wasm/lathe.js) measures WebAssembly. Each twin runs in batches of calls\n"
          "for at least S seconds per case and the fastest batch counts. With the defaults\n"
          "a run takes about half a minute, mostly the reference twin at N = 1024.\n"
          "\n"
          "options:\n"
          "  --max N        square GEMMs up to N x N (default 1024; at most 2048 run,\n"
          "                 below 64 none)\n"
          "  --seconds S    time per twin and case, 0.01 to 60 (default 0.2)\n"
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

/* GFLOPS of both twins on one case: alternating batches until each twin has run for
 * `seconds`; the fastest batch of each. */
static void measure(const bench_case *c, const operands *op, double seconds, double gflops[2]) {
    const lathe_kernel_table *twin[2] = {lathe_kernels_for(LATHE_ISA_REF),
                                         lathe_kernels_for(LATHE_ISA_SIMD128)};
    double spent[2] = {0.0, 0.0}, best[2] = {0.0, 0.0};
    while (spent[0] < seconds || spent[1] < seconds) {
        for (int i = 0; i < 2; i++) {
            if (spent[i] < seconds) {
                double rate = run_batch(c, twin[i], op, seconds / 10.0, &spent[i]);
                if (rate > best[i]) best[i] = rate;
            }
        }
    }
    for (int i = 0; i < 2; i++)
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
        double ignored[2];
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

static cJSON *case_json(const bench_case *c, const double gflops[2]) {
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
    cJSON_AddItemToObject(o, "gflops", g);
    cJSON_AddNumberToObject(o, "simd128_over_ref", gflops[1] / gflops[0]);
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
        printf("%-7s %5s %5s %5s  %-22s %9s %9s %9s\n", "kernel", "M", "N", "K", "case", "ref",
               "simd128", "simd/ref");
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
        double gflops[2];
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
        } else if (c->kind == CASE_GEMM) {
            printf("%-7s %5zu %5zu %5zu  %-22s %9.2f %9.2f %8.1fx\n", layout_name(c), c->M, c->N,
                   c->K, c->what, gflops[0], gflops[1], gflops[1] / gflops[0]);
        } else {
            /* The convolution's im2col GEMM: (out_ch, in_ch·kh·kw) · (.., H_out·W_out) per
             * sample; M, N, K are those of one sample. */
            size_t ho, wo;
            lathe_conv2d_output_size(&c->conv, &ho, &wo, NULL);
            printf("%-7s %5zu %5zu %5zu  %-22s %9.2f %9.2f %8.1fx\n", layout_name(c),
                   c->conv.out_ch, ho * wo, c->conv.in_ch * c->conv.kh * c->conv.kw, c->what,
                   gflops[0], gflops[1], gflops[1] / gflops[0]);
        }
        fflush(stdout);
    }
    if (json) {
        char *text = status == CLI_OK ? cJSON_Print(root) : NULL;
        if (text) puts(text);
        free(text);
        cJSON_Delete(root);
    }
    return status;
}

int cmd_bench(int argc, char **argv) {
    const char *what = NULL;
    size_t max_square = 1024;
    double seconds = 0.2;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            bench_usage(stdout);
            return CLI_OK;
        } else if (strcmp(arg, "--json") == 0) {
            json = 1;
        } else if (strcmp(arg, "--max") == 0 || strcmp(arg, "--seconds") == 0) {
            int ok;
            if (i + 1 >= argc) {
                fprintf(stderr, "lathe bench: %s needs a value\n", arg);
                return CLI_USAGE;
            }
            ok = arg[2] == 'm' ? parse_size(argv[++i], &max_square)
                               : parse_seconds(argv[++i], &seconds);
            if (!ok) {
                fprintf(stderr, "lathe bench: %s: '%s' is not %s\n", arg, argv[i],
                        arg[2] == 'm' ? "a size from 0 to 1000000"
                                      : "a number of seconds from 0.01 to 60");
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
    if (strcmp(what, "kernels") != 0) {
        fprintf(stderr, "lathe bench: '%s' is not a benchmark (there is: kernels)\n", what);
        return CLI_USAGE;
    }
    return bench_kernels(max_square, seconds, json);
}
