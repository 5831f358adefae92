/* Transcendental kernels (lathe/kernels.h): every __simd128 twin must give the same bits as
 * its __ref twin, and each __ref twin the bits of the core's scalar functions (lathe/mathf.h)
 * applied in a loop written here.
 *
 * Cases, for exp, sigmoid and tanh: (a) n in 0..33, 63, 64, 65 with random data (magnitudes
 * 2^-14..2^8, both signs, some exact zeros), in place and not; (b) a grid of 2^22 points
 * over [-30, 30] (about 1.4e-5 apart, so every lane position sees each region), every 65537th
 * float bit pattern (65537 is odd, so the low bits and lane positions vary) plus explicit
 * specials: NaNs of both signs and several payloads, ±inf, ±0, the smallest and largest
 * subnormals, FLT_MAX, and a window of floats around every threshold of mathf.c (expf's
 * overflow at 88.72 and underflow at -150, the subnormal results below -87.3, sigmoid's 40
 * and -150, tanh's 2^-12 and 10), each special placed in every lane of a vector with ordinary
 * neighbours; (c) starts at offsets 1..3 from an aligned block (also n = 1000). Softmax and
 * log-softmax: rows n in 0..5, c in 1..33, 63..65, 130 of random logits with spreads up to ±200 (so
 * some exponentials underflow and groups take the scalar path), rows with NaN, ±inf and all-equal
 * values, in place and not. Also the table entries, and that lathe_activation_forward and
 * the softmax layer functions use the table in use.
 *
 * Parity: prints "transcendental digest: <hex>", a 64-bit FNV-1a hash of the simd128 outputs
 * of a fixed set of cases, to compare between native and wasm builds. */
#include "check.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/mathf.h"

#include <float.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One in eight an exact ±0, else a random sign and significand times 2^e, e in [-14, 8]
 * (so |x| reaches 512: past every threshold). Built from bits, the same on every target. */
static float random_value(check_lcg *g) {
    uint32_t r = check_lcg_next(g);
    if ((r & 7u) == 0) return f32((r & 8u) << 28);
    return f32(((r >> 4) & 1u) << 31 | ((uint32_t)(127 - 14) + (r >> 8) % 23u) << 23 |
               check_lcg_next(g) >> 9);
}

static void *alloc_bytes(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "test_transcendental: out of memory\n");
        exit(2);
    }
    return p;
}

static float *alloc_floats(size_t n) {
    return alloc_bytes(n * sizeof(float));
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t bytes) {
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- element-wise ------------------------------------------------------------------------ */

enum { EXP, SIGMOID, TANH, N_OPS };
static const char *const op_name[N_OPS] = {"exp", "sigmoid", "tanh"};
static float (*const op_scalar[N_OPS])(float) = {lathe_expf, lathe_sigmoidf, lathe_tanhf};

static lathe_unary_fn op_kernel(const lathe_kernel_table *t, int op) {
    return op == EXP ? t->exp_each : op == SIGMOID ? t->sigmoid : t->tanh_each;
}

/* ref against the scalar loop, simd128 against ref, on x:(n) (not modified), out of place and
 * in place. Returns mismatches. */
static size_t check_unary(int op, size_t n, const float *x, const char *what) {
    const lathe_kernel_table *r = lathe_kernels_for(LATHE_ISA_REF);
    const lathe_kernel_table *s = lathe_kernels_for(LATHE_ISA_SIMD128);
    float *want = alloc_floats(n), *y_ref = alloc_floats(n), *y_simd = alloc_floats(n);
    char label[160];
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        want[i] = op_scalar[op](x[i]);
    op_kernel(r, op)(n, x, y_ref);
    op_kernel(s, op)(n, x, y_simd);
    snprintf(label, sizeof label, "%s %s n=%zu ref", op_name[op], what, n);
    bad += check_same_bits(__FILE__, __LINE__, label, y_ref, want, n);
    snprintf(label, sizeof label, "%s %s n=%zu simd128", op_name[op], what, n);
    bad += check_same_bits(__FILE__, __LINE__, label, y_simd, y_ref, n);
    if (n) memcpy(y_simd, x, n * sizeof(float));
    op_kernel(s, op)(n, y_simd, y_simd);
    snprintf(label, sizeof label, "%s %s n=%zu simd128 in place", op_name[op], what, n);
    bad += check_same_bits(__FILE__, __LINE__, label, y_simd, y_ref, n);
    free(want), free(y_ref), free(y_simd);
    return bad;
}

/* (a) sizes around the 4-lane group, and (c) unaligned starts of the same data. */
static void check_sizes(check_lcg *g) {
    static const size_t big[] = {63, 64, 65, 1000};
    for (int op = 0; op < N_OPS; op++)
        for (size_t k = 0; k < 34 + 4; k++) {
            const size_t n = k < 34 ? k : big[k - 34];
            float *x = alloc_floats(n + 3);
            char what[32];
            for (size_t i = 0; i < n + 3; i++)
                x[i] = random_value(g);
            for (size_t off = 0; off < 4; off++) {
                snprintf(what, sizeof what, "random offset %zu", off);
                check_unary(op, n, x + off, what);
            }
            free(x);
        }
}

/* (b) a grid over [-30, 30] and a bit-pattern sweep of all floats. */
static void check_sweeps(void) {
    enum { GRID = 1 << 22, BLOCK = 1 << 16 };
    float *x = alloc_floats(BLOCK);
    for (int op = 0; op < N_OPS; op++) {
        size_t bad = 0;
        for (size_t i0 = 0; i0 < GRID && bad == 0; i0 += BLOCK) {
            for (size_t i = 0; i < BLOCK; i++)
                x[i] = (float)(-30.0 + 60.0 * (double)(i0 + i) / (double)GRID);
            bad += check_unary(op, BLOCK, x, "grid [-30,30]");
        }
        bad = 0;
        for (uint64_t u0 = 0; u0 < (1ull << 32) && bad == 0; u0 += (uint64_t)BLOCK * 65537u) {
            size_t m = 0;
            for (uint64_t u = u0; u < (1ull << 32) && m < BLOCK; u += 65537u)
                x[m++] = f32((uint32_t)u);
            bad += check_unary(op, m, x, "bit patterns");
        }
    }
    free(x);
}

/* Specials and threshold neighbourhoods, each in every lane of a vector of ordinary values. */
static void check_specials(void) {
    static const uint32_t fixed[] = {
        0x7fc00000u, 0xffc00000u, 0x7fc00001u, 0x7fa00000u,
        0xff800001u,                                        /* NaNs (incl. signaling) */
        0x7f800000u, 0xff800000u, 0x00000000u, 0x80000000u, /* ±inf, ±0 */
        0x00000001u, 0x80000001u, 0x007fffffu, 0x807fffffu, /* subnormals */
        0x00800000u, 0x80800000u, 0x7f7fffffu, 0xff7fffffu, /* FLT_MIN, FLT_MAX */
    };
    const float centres[] = {0x1.62e42ep+6f, -150.0f, -87.33654f, -103.97208f, 40.0f,
                             0x1p-12f,       10.0f,   -10.0f,     -0x1p-12f,   5.0f,
                             0x1p-11f,       -40.0f,  88.0f,      -88.0f,      0.5f};
    enum { WIN = 64 };
    size_t count = sizeof fixed / sizeof fixed[0] + 2 * WIN * (sizeof centres / sizeof centres[0]);
    uint32_t *vals = alloc_bytes(count * sizeof(uint32_t));
    size_t m = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        vals[m++] = fixed[i];
    for (size_t c = 0; c < sizeof centres / sizeof centres[0]; c++)
        for (int d = -WIN; d < WIN; d++)
            vals[m++] = (uint32_t)((int64_t)bits32(centres[c]) + d);
    for (int op = 0; op < N_OPS; op++) {
        /* Each value v at lane p of an 11-float buffer of 0.25s (two vectors and a tail). */
        float *x = alloc_floats(m * 11);
        for (size_t k = 0; k < m; k++) {
            for (size_t j = 0; j < 11; j++)
                x[k * 11 + j] = 0.25f;
            x[k * 11 + k % 11] = f32(vals[k]);
        }
        check_unary(op, m * 11, x, "specials");
        /* And the specials packed next to each other. */
        for (size_t k = 0; k < m; k++)
            x[k] = f32(vals[k]);
        check_unary(op, m, x, "specials packed");
        free(x);
    }
    free(vals);
}

/* ---- softmax ----------------------------------------------------------------------------- */

static void check_softmax_case(size_t n, size_t c, const float *x, const char *what) {
    const lathe_kernel_table *r = lathe_kernels_for(LATHE_ISA_REF);
    const lathe_kernel_table *s = lathe_kernels_for(LATHE_ISA_SIMD128);
    const size_t nc = n * c;
    float *want = alloc_floats(nc), *y_ref = alloc_floats(nc), *y_simd = alloc_floats(nc);
    char label[160];
    for (int log = 0; log < 2; log++) {
        const char *name = log ? "log_softmax" : "softmax";
        lathe_softmax_fn fr = log ? r->log_softmax : r->softmax;
        lathe_softmax_fn fs = log ? s->log_softmax : s->softmax;
        /* The definition (kernels.h), written out. */
        for (size_t i = 0; i < n; i++) {
            const float *z = x + i * c;
            float m = z[0], sum = 0.0f;
            for (size_t j = 1; j < c; j++)
                m = z[j] > m ? z[j] : m;
            for (size_t j = 0; j < c; j++)
                sum = sum + lathe_expf(z[j] - m);
            for (size_t j = 0; j < c; j++)
                want[i * c + j] = log ? (z[j] - m) - lathe_logf(sum) : lathe_expf(z[j] - m) / sum;
        }
        fr(n, c, x, y_ref);
        fs(n, c, x, y_simd);
        snprintf(label, sizeof label, "%s %s n=%zu c=%zu ref", name, what, n, c);
        check_same_bits(__FILE__, __LINE__, label, y_ref, want, nc);
        snprintf(label, sizeof label, "%s %s n=%zu c=%zu simd128", name, what, n, c);
        check_same_bits(__FILE__, __LINE__, label, y_simd, y_ref, nc);
        if (nc) memcpy(y_simd, x, nc * sizeof(float));
        fs(n, c, y_simd, y_simd);
        snprintf(label, sizeof label, "%s %s n=%zu c=%zu simd128 in place", name, what, n, c);
        check_same_bits(__FILE__, __LINE__, label, y_simd, y_ref, nc);
    }
    free(want), free(y_ref), free(y_simd);
}

static void check_softmax(check_lcg *g) {
    static const size_t wide[] = {63, 64, 65, 130};
    static const float spreads[] = {1.0f, 10.0f, 200.0f};
    for (size_t n = 0; n <= 5; n++)
        for (size_t k = 1; k < 34 + 4; k++) {
            const size_t c = k < 34 ? k : wide[k - 34];
            float *x = alloc_floats(n * c + 3);
            char what[48];
            for (size_t sp = 0; sp < 3; sp++)
                for (size_t off = 0; off < 4; off += 3) {
                    for (size_t i = 0; i < n * c + 3; i++)
                        x[i] = spreads[sp] * (float)((int32_t)check_lcg_next(g) / 2147483648.0);
                    snprintf(what, sizeof what, "spread %g offset %zu", (double)spreads[sp], off);
                    check_softmax_case(n, c, x + off, what);
                }
            free(x);
        }
    {
        /* Rows with NaN first / later, ±inf, all equal, a -inf max. */
        const float nan = f32(0x7fc00000u), inf = f32(0x7f800000u);
        enum { C = 9 };
        const float rows[][C] = {{nan, 1, 2, 3, 4, 5, 6, 7, 8},
                                 {1, 2, nan, 3, 4, 5, 6, 7, 8},
                                 {1, 2, 3, 4, 5, 6, 7, 8, inf},
                                 {-inf, 1, 2, 3, 4, 5, 6, 7, 8},
                                 {3, 3, 3, 3, 3, 3, 3, 3, 3},
                                 {-inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf},
                                 {0, -0.0f, 1e-40f, 88, 89, -200, -150, -149, 0.5f}};
        check_softmax_case(sizeof rows / sizeof rows[0], C, &rows[0][0], "specials");
    }
}

/* ---- tables and the core's use of them ------------------------------------------------- */

static void check_tables_and_layers(check_lcg *g) {
    const lathe_kernel_table *r = lathe_kernels_for(LATHE_ISA_REF);
    const lathe_kernel_table *s = lathe_kernels_for(LATHE_ISA_SIMD128);
    enum { N = 7, C = 13 };
    float x[N * C], y[N * C], want[N * C];
    CHECK(r->exp_each == lathe_f32_exp__ref && r->sigmoid == lathe_f32_sigmoid__ref &&
              r->tanh_each == lathe_f32_tanh__ref && r->softmax == lathe_f32_softmax__ref &&
              r->log_softmax == lathe_f32_log_softmax__ref,
          "ref table entries");
    CHECK(s->exp_each == lathe_f32_exp__simd128 && s->sigmoid == lathe_f32_sigmoid__simd128 &&
              s->tanh_each == lathe_f32_tanh__simd128 && s->softmax == lathe_f32_softmax__simd128 &&
              s->log_softmax == lathe_f32_log_softmax__simd128,
          "simd128 table entries");
    for (size_t i = 0; i < N * C; i++)
        x[i] = random_value(g);
    for (int isa = 0; isa < 2; isa++) {
        const lathe_kernel_table *t = lathe_kernels_for((lathe_isa)isa);
        lathe_kernels_select((lathe_isa)isa);
        for (size_t i = 0; i < N * C; i++)
            want[i] = lathe_sigmoidf(x[i]);
        lathe_activation_forward(lathe_kernels(), LATHE_ACT_SIGMOID, N * C, x, y);
        CHECK(check_same_bits(__FILE__, __LINE__, "sigmoid layer", y, want, N * C) == 0,
              "lathe_activation_forward sigmoid (%s)", t->name);
        for (size_t i = 0; i < N * C; i++)
            want[i] = lathe_tanhf(x[i]);
        lathe_activation_forward(lathe_kernels(), LATHE_ACT_TANH, N * C, x, y);
        CHECK(check_same_bits(__FILE__, __LINE__, "tanh layer", y, want, N * C) == 0,
              "lathe_activation_forward tanh (%s)", t->name);
        r->softmax(N, C, x, want);
        lathe_softmax_forward(lathe_kernels(), N, C, x, y);
        CHECK(check_same_bits(__FILE__, __LINE__, "softmax layer", y, want, N * C) == 0,
              "lathe_softmax_forward (%s)", t->name);
        r->log_softmax(N, C, x, want);
        lathe_log_softmax_forward(lathe_kernels(), N, C, x, y);
        CHECK(check_same_bits(__FILE__, __LINE__, "log_softmax layer", y, want, N * C) == 0,
              "lathe_log_softmax_forward (%s)", t->name);
    }
    lathe_kernels_select(LATHE_ISA_SIMD128);
}

static uint64_t digest(void) {
    const lathe_kernel_table *t = lathe_kernels_for(LATHE_ISA_SIMD128);
    enum { N = 4099 };
    uint64_t h = 0xcbf29ce484222325ULL;
    check_lcg g = {20240613u};
    float *x = alloc_floats(N), *y = alloc_floats(N);
    for (size_t i = 0; i < N; i++)
        x[i] = random_value(&g);
    t->exp_each(N, x, y), h = fnv1a(h, y, sizeof(float) * N);
    t->sigmoid(N, x, y), h = fnv1a(h, y, sizeof(float) * N);
    t->tanh_each(N, x, y), h = fnv1a(h, y, sizeof(float) * N);
    t->softmax(N / 10, 10, x, y), h = fnv1a(h, y, sizeof(float) * (N / 10) * 10);
    t->log_softmax(N / 10, 10, x, y), h = fnv1a(h, y, sizeof(float) * (N / 10) * 10);
    free(x), free(y);
    return h;
}

int main(void) {
    check_lcg g = {4242u};
    check_tables_and_layers(&g);
    check_sizes(&g);
    check_specials();
    check_sweeps();
    check_softmax(&g);
    printf("transcendental digest: %016" PRIx64 "\n", digest());
    return check_finish("test_transcendental");
}
