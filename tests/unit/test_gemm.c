/* GEMM kernels (lathe/kernels.h): for each layout (nn, nt, tn) the __simd128 twin, and the
 * __avx2 twin when this build has it and the CPU runs AVX2 (a CPU with AVX2 and a build
 * without the twin is a skipped part, a failure under CI=true), must give the same bits as
 * the __ref twin, and __ref must agree with a naive double-precision loop within the
 * rounding bound of a K-term float sum.
 *
 * Cases: every (M,N,K) in SIZES^3 (around the 4x8 and 8x8 micro-tiles), sizes around the
 * blocking of gemm_blocked.h (64 rows per block, 256 steps of k per panel), and random
 * sizes; leading dimensions are sometimes larger than the rows; bias and accumulate take all
 * four combinations in turn. Inputs mix signs, zeros, -0 and magnitudes 2^-12..2^12, so the
 * order of the additions matters: the test checks that a reversed order and a fused
 * multiply-add each change the bits of some outputs (so same-bits checks can fail). Every
 * buffer is allocated at its exact size (run under ASan to catch a stray read), and the gaps
 * between output rows hold a sentinel that must survive. M, N or K = 0 are covered.
 *
 * Parity: prints "gemm digest: <hex>", a 64-bit FNV-1a hash of the output bits of a fixed
 * set of GEMMs, to compare between native and wasm builds. */
#include "check.h"
#include "lathe/kernels.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { NN = 0, NT = 1, TN = 2 } layout;
static const char *const layout_name[3] = {"nn", "nt", "tn"};

static const size_t SIZES[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64};
#define N_SIZES (sizeof SIZES / sizeof SIZES[0])

static const uint32_t SENTINEL = 0x7fa5a5a5u; /* a NaN no kernel produces */

static size_t lcg_below(check_lcg *g, size_t n) {
    return (size_t)(check_lcg_next(g) % (uint32_t)n);
}

/* A value with a random sign and 24-bit significand times 2^e, e in [-12, 12]; 1 in 8 is
 * +0 and 1 in 32 is -0. Built from bits, so every target draws the same floats. */
static float random_value(check_lcg *g) {
    uint32_t r = check_lcg_next(g);
    uint32_t kind = r & 31u;
    if (kind < 4) return 0.0f;
    if (kind == 4) return -0.0f;
    {
        uint32_t sign = (r >> 5) & 1u;
        uint32_t e = (uint32_t)(127 - 12) + (uint32_t)lcg_below(g, 25);
        uint32_t mant = check_lcg_next(g) >> 9; /* 23 bits */
        return f32(sign << 31 | e << 23 | mant);
    }
}

/* Number of floats in a (rows, cols) matrix with row stride ld. */
static size_t extent(size_t rows, size_t cols, size_t ld) {
    return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}

/* Exactly n floats (a 1-byte block when n is 0, so any read of it is out of bounds). */
static float *alloc_floats(size_t n) {
    float *p = malloc(n ? n * sizeof(float) : 1);
    if (!p) {
        fprintf(stderr, "test_gemm: out of memory\n");
        exit(2);
    }
    return p;
}

typedef struct {
    layout lay;
    size_t M, N, K;
    size_t lda, ldb, ldc;
    int has_bias, accumulate;
} gemm_case;

/* The operands of a case: A(i,k) = a[i*a_rs + k*a_ks], B(k,j) = b[k*b_ks + j*b_cs]. */
typedef struct {
    float *a, *b, *bias, *out_init;
    size_t a_rs, a_ks, b_ks, b_cs;
    size_t n_a, n_b, n_out;
} operands;

static void make_operands(const gemm_case *c, check_lcg *g, operands *op) {
    size_t a_rows = c->lay == TN ? c->K : c->M, a_cols = c->lay == TN ? c->M : c->K;
    size_t b_rows = c->lay == NT ? c->N : c->K, b_cols = c->lay == NT ? c->K : c->N;
    op->n_a = extent(a_rows, a_cols, c->lda);
    op->n_b = extent(b_rows, b_cols, c->ldb);
    op->n_out = extent(c->M, c->N, c->ldc);
    op->a = alloc_floats(op->n_a);
    op->b = alloc_floats(op->n_b);
    op->out_init = alloc_floats(op->n_out);
    op->bias = c->has_bias ? alloc_floats(c->N) : NULL;
    op->a_rs = c->lay == TN ? 1 : c->lda;
    op->a_ks = c->lay == TN ? c->lda : 1;
    op->b_ks = c->lay == NT ? 1 : c->ldb;
    op->b_cs = c->lay == NT ? c->ldb : 1;
    for (size_t i = 0; i < op->n_a; i++)
        op->a[i] = random_value(g);
    for (size_t i = 0; i < op->n_b; i++)
        op->b[i] = random_value(g);
    for (size_t i = 0; i < op->n_out; i++)
        op->out_init[i] = f32(SENTINEL);
    for (size_t i = 0; i < c->M; i++)
        for (size_t j = 0; j < c->N; j++)
            op->out_init[i * c->ldc + j] = random_value(g);
    if (op->bias)
        for (size_t j = 0; j < c->N; j++)
            op->bias[j] = random_value(g);
}

static void free_operands(operands *op) {
    free(op->a);
    free(op->b);
    free(op->bias);
    free(op->out_init);
}

static lathe_gemm_fn kernel(layout lay, lathe_isa isa) {
    const lathe_kernel_table *t = lathe_kernels_for(isa);
    return lay == NN ? t->gemm_nn : lay == NT ? t->gemm_nt : t->gemm_tn;
}

static void call(const gemm_case *c, const operands *op, lathe_isa isa, float *out) {
    kernel(c->lay, isa)(c->M, c->N, c->K, op->a, c->lda, op->b, c->ldb, op->bias, out, c->ldc,
                        c->accumulate);
}

/* The SIMD twins under test: simd128, and avx2 when lathe_kernels_for gives its table. */
static const lathe_isa simd_isas[2] = {LATHE_ISA_SIMD128, LATHE_ISA_AVX2};
static size_t n_simd_isas = 1;

/* Element (i,j) in another order, to show that the inputs make the order visible:
 * mode 0 adds the products in decreasing k, mode 1 fuses each step (s = fma(a, b, s)). */
static float other_order(const gemm_case *c, const operands *op, const float *out_init, size_t i,
                         size_t j, int mode) {
    float s = 0.0f;
    for (size_t t = 0; t < c->K; t++) {
        size_t k = mode == 0 ? c->K - 1 - t : t;
        float x = op->a[i * op->a_rs + k * op->a_ks], y = op->b[k * op->b_ks + j * op->b_cs];
        s = mode == 0 ? s + x * y : fmaf(x, y, s);
    }
    if (op->bias) s = s + op->bias[j];
    return c->accumulate ? out_init[i * c->ldc + j] + s : s;
}

/* Outputs where another order gave other bits, over all cases (see other_order). */
static size_t n_differ[2];

static void check_case(const gemm_case *c, check_lcg *g) {
    operands op;
    float *out_ref, *out_simd;
    char what[160];
    make_operands(c, g, &op);
    out_ref = alloc_floats(op.n_out);
    out_simd = alloc_floats(op.n_out);
    if (op.n_out) memcpy(out_ref, op.out_init, op.n_out * sizeof(float));
    call(c, &op, LATHE_ISA_REF, out_ref);
    /* Bits, the whole extent: the gaps between rows must still hold the sentinel. */
    for (size_t t = 0; t < n_simd_isas; t++) {
        snprintf(what, sizeof what,
                 "%s %s M=%zu N=%zu K=%zu lda=%zu ldb=%zu ldc=%zu bias=%d acc=%d",
                 lathe_kernels_for(simd_isas[t])->name, layout_name[c->lay], c->M, c->N, c->K,
                 c->lda, c->ldb, c->ldc, c->has_bias, c->accumulate);
        if (op.n_out) memcpy(out_simd, op.out_init, op.n_out * sizeof(float));
        call(c, &op, simd_isas[t], out_simd);
        CHECK_SAME_BITS(what, out_simd, out_ref, op.n_out);
    }
    for (size_t i = 0; i < c->M; i++) {
        for (size_t j = c->N; j < c->ldc && i * c->ldc + j < op.n_out; j++)
            CHECK(bits32(out_ref[i * c->ldc + j]) == SENTINEL, "%s: gap (%zu,%zu) written", what, i,
                  j);
    }
    /* Against double precision: |float sum - exact| <= (K+2) eps * sum of |terms|, with
     * the products, bias and old output as terms (K+2 roundings at most). */
    for (size_t i = 0; i < c->M; i++) {
        for (size_t j = 0; j < c->N; j++) {
            double exact = 0.0, mag = 0.0, bound, got = (double)out_ref[i * c->ldc + j];
            for (size_t k = 0; k < c->K; k++) {
                double p = (double)op.a[i * op.a_rs + k * op.a_ks] *
                           (double)op.b[k * op.b_ks + j * op.b_cs];
                exact += p;
                mag += fabs(p);
            }
            if (op.bias) exact += (double)op.bias[j], mag += fabs((double)op.bias[j]);
            if (c->accumulate) {
                double old = (double)op.out_init[i * c->ldc + j];
                exact += old, mag += fabs(old);
            }
            bound = (double)(c->K + 2) * (double)FLT_EPSILON * mag;
            CHECK(check_close(got, exact, bound, 0.0), "%s (%zu,%zu): ref %.9g, double %.17g", what,
                  i, j, got, exact);
            for (int mode = 0; mode < 2; mode++) {
                float o = other_order(c, &op, op.out_init, i, j, mode);
                if (bits32(o) != bits32(out_ref[i * c->ldc + j])) n_differ[mode]++;
            }
        }
    }
    free(out_ref);
    free(out_simd);
    free_operands(&op);
}

/* Leading dimension for rows of n: n itself half the time, else n plus 1..5. */
static size_t pick_ld(check_lcg *g, size_t n) {
    size_t extra = lcg_below(g, 10);
    return extra < 5 ? (n ? n : 1) : n + extra - 4;
}

static size_t case_index;

static void check_sizes(layout lay, size_t M, size_t N, size_t K, check_lcg *g) {
    gemm_case c;
    c.lay = lay;
    c.M = M, c.N = N, c.K = K;
    c.lda = pick_ld(g, lay == TN ? M : K);
    c.ldb = pick_ld(g, lay == NT ? K : N);
    c.ldc = pick_ld(g, N);
    c.has_bias = (int)(case_index & 1u);
    c.accumulate = (int)((case_index >> 1) & 1u);
    case_index++;
    check_case(&c, g);
}

/* K = 0: out = 0 + bias, or 0, and old + that when accumulating; M or N = 0 writes nothing.
 * Bits and bounds come from check_case; this adds the explicit values. */
static void check_empty(check_lcg *g) {
    for (int lay = 0; lay < 3; lay++) {
        for (int flags = 0; flags < 4; flags++) {
            gemm_case c = {(layout)lay, 3, 5, 0, 1, 1, 7, flags & 1, flags >> 1};
            operands op;
            float *out = alloc_floats(extent(3, 5, 7));
            make_operands(&c, g, &op);
            for (size_t t = 0; t < n_simd_isas; t++) {
                memcpy(out, op.out_init, op.n_out * sizeof(float));
                call(&c, &op, simd_isas[t], out);
                for (size_t i = 0; i < 3; i++) {
                    for (size_t j = 0; j < 5; j++) {
                        float s = 0.0f, got = out[i * 7 + j];
                        if (op.bias) s = s + op.bias[j];
                        if (c.accumulate) s = op.out_init[i * 7 + j] + s;
                        CHECK(bits32(got) == bits32(s),
                              "%s %s K=0 flags=%d (%zu,%zu): %08x != %08x",
                              lathe_kernels_for(simd_isas[t])->name, layout_name[lay], flags, i,
                              j, bits32(got), bits32(s));
                    }
                }
            }
            free(out);
            free_operands(&op);
            check_sizes((layout)lay, 3, 5, 0, g);
            check_sizes((layout)lay, 0, 5, 3, g);
            check_sizes((layout)lay, 3, 0, 3, g);
            check_sizes((layout)lay, 0, 0, 0, g);
        }
    }
    /* Null operands are never touched when a dimension is 0. */
    for (int lay = 0; lay < 3; lay++) {
        float out[2] = {1.0f, 2.0f};
        for (int isa = 0; isa < 3; isa++) {
            lathe_gemm_fn f = kernel((layout)lay, (lathe_isa)isa);
            f(0, 2, 4, NULL, 4, NULL, 2, NULL, NULL, 2, 0);
            f(1, 0, 4, NULL, 4, NULL, 1, NULL, NULL, 1, 1);
            f(1, 2, 0, NULL, 1, NULL, 2, NULL, out, 2, 1);
        }
        CHECK(out[0] == 1.0f && out[1] == 2.0f, "%s: K=0 accumulate changed out", layout_name[lay]);
    }
}

/* Every sum starts at +0: products that are all -0 give +0, never -0. */
static void check_signed_zero(void) {
    float a[3 * 5], b[5 * 9], out[3 * 9];
    for (size_t i = 0; i < 15; i++)
        a[i] = 0.0f;
    for (size_t i = 0; i < 45; i++)
        b[i] = -1.0f - (float)i;
    for (int lay = 0; lay < 3; lay++) {
        for (int isa = 0; isa < 3; isa++) {
            /* nn: a (3,5) b (5,9); nt: b as (9,5); tn: a as (5,3). */
            size_t lda = lay == TN ? 3 : 5, ldb = lay == NT ? 5 : 9;
            for (size_t i = 0; i < 27; i++)
                out[i] = 7.0f;
            kernel((layout)lay, (lathe_isa)isa)(3, 9, 5, a, lda, b, ldb, NULL, out, 9, 0);
            for (size_t i = 0; i < 27; i++)
                CHECK(bits32(out[i]) == 0u, "%s %s: out[%zu] = %08x, want +0", layout_name[lay],
                      lathe_kernels_for((lathe_isa)isa)->name, i, bits32(out[i]));
        }
    }
}

static void check_table(void) {
    const lathe_kernel_table *r = lathe_kernels_for(LATHE_ISA_REF);
    const lathe_kernel_table *s = lathe_kernels_for(LATHE_ISA_SIMD128);
    const lathe_kernel_table *w = lathe_kernels_for(LATHE_ISA_AVX2);
#ifdef LATHE_KERNELS_AVX2
    const lathe_gemm_fn avx2_nn = lathe_f32_gemm_nn__avx2, avx2_nt = lathe_f32_gemm_nt__avx2,
                        avx2_tn = lathe_f32_gemm_tn__avx2;
#else
    const lathe_gemm_fn avx2_nn = NULL, avx2_nt = NULL, avx2_tn = NULL;
#endif
    CHECK(r->isa == LATHE_ISA_REF && strcmp(r->name, "ref") == 0, "ref table");
    CHECK(r->gemm_nn == lathe_f32_gemm_nn__ref && r->gemm_nt == lathe_f32_gemm_nt__ref &&
              r->gemm_tn == lathe_f32_gemm_tn__ref,
          "ref table entries");
    CHECK(s->isa == LATHE_ISA_SIMD128 && strcmp(s->name, "simd128") == 0, "simd128 table");
    CHECK(s->gemm_nn == lathe_f32_gemm_nn__simd128 && s->gemm_nt == lathe_f32_gemm_nt__simd128 &&
              s->gemm_tn == lathe_f32_gemm_tn__simd128,
          "simd128 table entries");
    CHECK(w->isa == LATHE_ISA_AVX2 ? strcmp(w->name, "avx2") == 0 && w->gemm_nn == avx2_nn &&
                                         w->gemm_nt == avx2_nt && w->gemm_tn == avx2_tn
                                   : w == s,
          "avx2 table entries, or simd128 without AVX2");
    CHECK(lathe_kernels() == w, "the widest SIMD table is the default");
    lathe_kernels_select(LATHE_ISA_REF);
    CHECK(lathe_kernels() == r, "select ref");
    lathe_kernels_select(LATHE_ISA_SIMD128);
    CHECK(lathe_kernels() == s, "select simd128");
    lathe_kernels_select(LATHE_ISA_AVX2);
    CHECK(lathe_kernels() == w, "select avx2");
    CHECK(lathe_kernels_for((lathe_isa)7) != NULL, "unknown isa gives a table");
}

static uint64_t fnv1a(uint64_t h, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u = bits32(x[i]);
        for (int byte = 0; byte < 4; byte++) {
            h ^= (u >> (8 * byte)) & 0xffu;
            h *= 0x100000001b3ULL;
        }
    }
    return h;
}

/* The digest: a fixed list of cases (every layout, block edges, bias and accumulate) from a
 * fixed seed, hashed from the simd128 outputs (which must equal ref's, checked above). */
static uint64_t digest(void) {
    static const size_t shapes[][3] = {{1, 1, 1},      {4, 8, 16},   {7, 10, 33},
                                       {64, 128, 100}, {65, 9, 257}, {130, 24, 600}};
    uint64_t h = 0xcbf29ce484222325ULL;
    check_lcg g = {20240611u};
    for (int lay = 0; lay < 3; lay++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            gemm_case c = {(layout)lay,
                           M,
                           N,
                           K,
                           lay == TN ? M + 1 : K + 1,
                           lay == NT ? K + 2 : N + 2,
                           N + 3,
                           (int)(s & 1),
                           (int)((s >> 1) & 1)};
            operands op;
            float *out;
            make_operands(&c, &g, &op);
            out = alloc_floats(op.n_out);
            memcpy(out, op.out_init, op.n_out * sizeof(float));
            call(&c, &op, LATHE_ISA_SIMD128, out);
            h = fnv1a(h, out, op.n_out);
            free(out);
            free_operands(&op);
        }
    }
    return h;
}

int main(void) {
    check_lcg g = {12345u};
    if (lathe_kernels_for(LATHE_ISA_AVX2)->isa == LATHE_ISA_AVX2)
        n_simd_isas = 2;
    else if (check_cpu_has_avx2())
        check_skip_part("test_gemm: the avx2 twins", "this CPU has AVX2 but the build lacks them");
    else
        printf("test_gemm: no avx2 twins to test (not an x86 CPU with AVX2)\n");
    check_table();
    check_signed_zero();
    check_empty(&g);
    /* Around the micro-tile: the whole cube of SIZES, each layout. */
    for (int lay = 0; lay < 3; lay++)
        for (size_t m = 0; m < N_SIZES; m++)
            for (size_t n = 0; n < N_SIZES; n++)
                for (size_t k = 0; k < N_SIZES; k++)
                    check_sizes((layout)lay, SIZES[m], SIZES[n], SIZES[k], &g);
    /* Around the blocking: row blocks of 512, k panels of 256. */
    {
        static const size_t Ms[] = {63, 64, 65, 511, 512, 513}, Ns[] = {8, 9, 23},
                            Ks[] = {255, 256, 257, 513};
        for (int lay = 0; lay < 3; lay++)
            for (size_t m = 0; m < 6; m++)
                for (size_t n = 0; n < 3; n++)
                    for (size_t k = 0; k < 4; k++)
                        check_sizes((layout)lay, Ms[m], Ns[n], Ks[k], &g);
    }
    /* Random sizes. */
    for (int t = 0; t < 150; t++) {
        size_t M = 1 + lcg_below(&g, 140), N = 1 + lcg_below(&g, 40);
        size_t K = 1 + lcg_below(&g, 600);
        check_sizes((layout)(t % 3), M, N, K, &g);
    }
    /* The inputs are order-sensitive: a test that only ever saw order-free sums could not
     * tell a reordered kernel from the canonical one. */
    CHECK(n_differ[0] > 0, "reversing the order of k never changed a result");
    CHECK(n_differ[1] > 0, "fusing multiply-add never changed a result");
    printf("order-sensitivity: reversed k changes %zu outputs, fma changes %zu\n", n_differ[0],
           n_differ[1]);
    printf("gemm digest: %016" PRIx64 "\n", digest());
    return check_finish("test_gemm");
}
