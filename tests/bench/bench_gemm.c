/* GEMM benchmark (not a test): GFLOPS of the __ref and __simd128 twins, and their ratio, in
 * one process, on square sizes and the shapes of a small MLP's training step. Each case is
 * repeated until it has run for at least MIN_SECONDS (see run). A flop is one multiply or
 * one add, so a GEMM is 2*M*N*K flops.
 *   bench_gemm [max_square]   (default 1024; ref alone takes seconds at 1024)
 * Prints a checksum of the outputs so the work cannot be optimised away. */
#define _POSIX_C_SOURCE 199309L
#include "lathe/kernels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_SECONDS 0.2
#define BATCH_SECONDS 0.02

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *what; /* the shape in words */
    char lay;         /* 'n' nn, 't' nt, 'T' tn */
    size_t M, N, K;
} bench_case;

static float checksum;

/* Uniform in [-1, 1) from a 32-bit LCG. */
static float uniform(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 9) * 0x1p-22f - 1.0f;
}

/* GFLOPS of one kernel on one case (operands already filled): calls are timed in batches
 * of at least BATCH_SECONDS until MIN_SECONDS have passed, and the fastest batch counts, so
 * another process taking the core for a moment does not count against the kernel. */
static double run(lathe_gemm_fn f, const bench_case *c, const float *a, size_t lda, const float *b,
                  size_t ldb, const float *bias, float *out) {
    const double flops = 2.0 * (double)c->M * (double)c->N * (double)c->K;
    double start = now(), best = 0.0;
    do {
        double t0 = now(), t;
        long reps = 0;
        do {
            f(c->M, c->N, c->K, a, lda, b, ldb, bias, out, c->N, 0);
            reps++;
            t = now() - t0;
        } while (t < BATCH_SECONDS);
        if (flops * (double)reps / t > best) best = flops * (double)reps / t;
    } while (now() - start < MIN_SECONDS);
    checksum += out[0];
    return best * 1e-9;
}

static void bench(const bench_case *c) {
    size_t lda = c->lay == 'T' ? c->M : c->K, ldb = c->lay == 't' ? c->K : c->N;
    float *a = malloc(c->M * c->K * sizeof(float)), *b = malloc(c->K * c->N * sizeof(float));
    float *bias = malloc(c->N * sizeof(float)), *out = malloc(c->M * c->N * sizeof(float));
    const lathe_kernel_table *ref = lathe_kernels_for(LATHE_ISA_REF);
    const lathe_kernel_table *simd = lathe_kernels_for(LATHE_ISA_SIMD128);
    lathe_gemm_fn fr, fs;
    uint32_t s = 1;
    double g_ref, g_simd;
    if (!a || !b || !bias || !out) {
        fprintf(stderr, "bench_gemm: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < c->M * c->K; i++)
        a[i] = uniform(&s);
    for (size_t i = 0; i < c->K * c->N; i++)
        b[i] = uniform(&s);
    for (size_t i = 0; i < c->N; i++)
        bias[i] = 0.5f;
    fr = c->lay == 'n' ? ref->gemm_nn : c->lay == 't' ? ref->gemm_nt : ref->gemm_tn;
    fs = c->lay == 'n' ? simd->gemm_nn : c->lay == 't' ? simd->gemm_nt : simd->gemm_tn;
    g_ref = run(fr, c, a, lda, b, ldb, bias, out);
    g_simd = run(fs, c, a, lda, b, ldb, bias, out);
    printf("%-4s %5zu %5zu %5zu  %-22s %8.2f %8.2f %7.1fx\n",
           c->lay == 'n'   ? "nn"
           : c->lay == 't' ? "nt"
                           : "tn",
           c->M, c->N, c->K, c->what, g_ref, g_simd, g_simd / g_ref);
    fflush(stdout);
    free(a);
    free(b);
    free(bias);
    free(out);
}

int main(int argc, char **argv) {
    static const size_t squares[] = {64, 128, 256, 512, 1024};
    /* An MLP 784-128-10 on batches of 64, weights stored (out, in) like PyTorch's. */
    static const bench_case mlp[] = {
        {"fwd 784->128", 't', 64, 128, 784},     {"fwd 128->10", 't', 64, 10, 128},
        {"bwd dX 128->784", 'n', 64, 784, 128},  {"bwd dW 784x128", 'T', 128, 784, 64},
        {"(64,128).(128,10)", 'n', 64, 10, 128}, {"bwd dX 10->128", 'n', 64, 128, 10},
        {"bwd dW 128x10", 'T', 10, 128, 64},
    };
    size_t max_square = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1024;
    printf("%-4s %5s %5s %5s  %-22s %8s %8s %8s\n", "op", "M", "N", "K", "case", "ref", "simd",
           "simd/ref");
    printf("(GFLOPS, 2*M*N*K flops per call; best batch of >= %.2f s within >= %.1f s per kernel "
           "and case)\n",
           BATCH_SECONDS, MIN_SECONDS);
    for (size_t s = 0; s < sizeof squares / sizeof squares[0]; s++) {
        if (squares[s] > max_square) break;
        for (int l = 0; l < 3; l++) {
            bench_case c = {"square", "ntT"[l], squares[s], squares[s], squares[s]};
            bench(&c);
        }
    }
    for (size_t i = 0; i < sizeof mlp / sizeof mlp[0]; i++)
        bench(&mlp[i]);
    printf("checksum %g\n", (double)checksum);
    return 0;
}
