/* Element-wise, column-sum and pooling kernels (lathe/kernels.h): every __simd128 twin must
 * give the same bits as its __ref twin, and each __ref twin must give the bits of a naive loop
 * written here in another form (for the pooling gradients, a gather over the outputs that
 * cover each input, where the kernels scatter).
 *
 * Cases: element-wise n in 0..33, 63, 64, 65 (around the 4-lane vector), in place and not;
 * column sums with rows 0..9 and 64, cols 0..33, 63..65 and 131, row strides cols..cols+3;
 * pooling with (k, stride) in (2,2) (3,1) (3,2) (2,1), and (1,1) (3,3) (2,4) (5,2) for the
 * generic paths, on every H, W in {2..9, 28} the kernel fits, with 1-3 planes. Data mix
 * small integers, +0 and -0 (so windows hold ties and signed zeros) with random values of
 * magnitude 2^-12..2^12 (so the order of additions shows: the test checks that another order
 * changes some bits). Buffers are allocated at their exact size (run under ASan to catch a
 * stray access). Also: the tie and NaN rules of max pooling (and random data with NaNs), the
 * table entries, and that the core's layer functions (activations, dense db, pooling) use the
 * table in use.
 *
 * Parity: prints "kernels digest: <hex>", a 64-bit FNV-1a hash of the simd128 outputs of a
 * fixed set of cases, to compare between native and wasm builds. */
#include "check.h"
#include "lathe/conv.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/pool.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- data -------------------------------------------------------------------------------- */

/* Half the time a small integer in -2..2 or a signed zero (ties), else a random sign and
 * 24-bit significand times 2^e, e in [-12, 12]. Built from bits: every target draws the same
 * floats. Never NaN or infinite. */
static float random_value(check_lcg *g) {
    uint32_t r = check_lcg_next(g);
    if (r & 1u) {
        static const float small[] = {-2.0f, -1.0f, -0.0f, 0.0f, 1.0f, 2.0f};
        return small[(r >> 1) % 6u];
    }
    {
        uint32_t sign = (r >> 1) & 1u;
        uint32_t e = (uint32_t)(127 - 12) + (r >> 8) % 25u;
        uint32_t mant = check_lcg_next(g) >> 9;
        return f32(sign << 31 | e << 23 | mant);
    }
}

/* Exactly n floats (a 1-byte block when n is 0, so any access is out of bounds). */
static void *alloc_bytes(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "test_kernels: out of memory\n");
        exit(2);
    }
    return p;
}

static float *alloc_floats(size_t n) {
    return alloc_bytes(n * sizeof(float));
}

static float *random_floats(check_lcg *g, size_t n) {
    float *p = alloc_floats(n);
    for (size_t i = 0; i < n; i++)
        p[i] = random_value(g);
    return p;
}

static const lathe_kernel_table *ref_table(void) {
    return lathe_kernels_for(LATHE_ISA_REF);
}

static const lathe_kernel_table *simd_table(void) {
    return lathe_kernels_for(LATHE_ISA_SIMD128);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t bytes) {
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- element-wise ---------------------------------------------------------------------- */

typedef enum { RELU, RELU_BWD, LEAKY, LEAKY_BWD, SIG_BWD, TANH_BWD, N_UNARY } unary_op;
static const char *const unary_name[N_UNARY] = {"relu", "relu_backward", "leaky_relu",
                                                "leaky_relu_backward", "sigmoid_backward",
                                                "tanh_backward"};

/* The definition, one element: x is the forward input, g the upstream gradient. */
static float naive_unary(unary_op op, float x, float g) {
    switch (op) {
    case RELU:
        return x > 0.0f ? x : 0.0f;
    case RELU_BWD:
        return x > 0.0f ? g : 0.0f;
    case LEAKY:
        return x > 0.0f ? x : 0.01f * x;
    case LEAKY_BWD:
        return x > 0.0f ? g : 0.01f * g;
    case SIG_BWD: /* x is the forward output here */
        return g * (x * (1.0f - x));
    case TANH_BWD:
        return g * (1.0f - x * x);
    default:
        return 0.0f;
    }
}

/* out:(n) by the table's kernel; in_place computes into a copy of x (forward) or dy. */
static void call_unary(const lathe_kernel_table *t, unary_op op, size_t n, const float *x,
                       const float *dy, float *out, int in_place) {
    if (in_place && n) memcpy(out, op == RELU || op == LEAKY ? x : dy, n * sizeof(float));
    switch (op) {
    case RELU:
        t->relu(n, in_place ? out : x, out);
        break;
    case RELU_BWD:
        t->relu_backward(n, x, in_place ? out : dy, out);
        break;
    case LEAKY:
        t->leaky_relu(n, in_place ? out : x, out);
        break;
    case LEAKY_BWD:
        t->leaky_relu_backward(n, x, in_place ? out : dy, out);
        break;
    case SIG_BWD:
        t->sigmoid_backward(n, x, in_place ? out : dy, out);
        break;
    case TANH_BWD:
        t->tanh_backward(n, x, in_place ? out : dy, out);
        break;
    default:
        break;
    }
}

static void check_unary_case(unary_op op, size_t n, int in_place, check_lcg *g) {
    float *x = random_floats(g, n), *dy = random_floats(g, n);
    float *out_ref = alloc_floats(n), *out_simd = alloc_floats(n), *want = alloc_floats(n);
    char what[96];
    for (size_t i = 0; i < n; i++)
        want[i] = naive_unary(op, x[i], dy[i]);
    call_unary(ref_table(), op, n, x, dy, out_ref, in_place);
    call_unary(simd_table(), op, n, x, dy, out_simd, in_place);
    snprintf(what, sizeof what, "%s n=%zu%s ref", unary_name[op], n, in_place ? " in place" : "");
    CHECK_SAME_BITS(what, out_ref, want, n);
    snprintf(what, sizeof what, "%s n=%zu%s simd128", unary_name[op], n,
             in_place ? " in place" : "");
    CHECK_SAME_BITS(what, out_simd, out_ref, n);
    free(x), free(dy), free(out_ref), free(out_simd), free(want);
}

/* The special values, with the expected bits spelled out: ReLU(-0) = +0, ReLU'(0) = 0,
 * ReLU(NaN) = +0, leaky(-0) = -0, leaky(NaN) is NaN; in every lane position. */
static void check_unary_specials(void) {
    const float nan = f32(0x7fc00000u), inf = f32(0x7f800000u);
    const float x[8] = {-0.0f, 0.0f, nan, -inf, inf, FLT_MIN, -FLT_MIN, 3.0f};
    const float dy[8] = {5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, -0.0f, 5.0f};
    for (int isa = 0; isa < 2; isa++) {
        const lathe_kernel_table *t = lathe_kernels_for((lathe_isa)isa);
        for (size_t shift = 0; shift < 4; shift++) {
            float xs[12], dys[12], y[12];
            for (size_t i = 0; i < 12; i++)
                xs[i] = x[(i + shift) % 8], dys[i] = dy[(i + shift) % 8];
            t->relu(12, xs, y);
            for (size_t i = 0; i < 12; i++)
                CHECK(bits32(y[i]) == bits32(xs[i] > 0.0f ? xs[i] : 0.0f), "%s relu(%08x) = %08x",
                      t->name, bits32(xs[i]), bits32(y[i]));
            t->relu_backward(12, xs, dys, y);
            for (size_t i = 0; i < 12; i++)
                CHECK(bits32(y[i]) == bits32(xs[i] > 0.0f ? dys[i] : 0.0f), "%s relu'(%08x) = %08x",
                      t->name, bits32(xs[i]), bits32(y[i]));
            t->leaky_relu(12, xs, y);
            for (size_t i = 0; i < 12; i++) {
                if (xs[i] != xs[i])
                    CHECK(y[i] != y[i], "%s leaky_relu(NaN) = %08x", t->name, bits32(y[i]));
                else
                    CHECK(bits32(y[i]) == bits32(xs[i] > 0.0f ? xs[i] : 0.01f * xs[i]),
                          "%s leaky_relu(%08x) = %08x", t->name, bits32(xs[i]), bits32(y[i]));
            }
        }
        {
            float z[2] = {-0.0f, 0.0f}, y[2], d[2] = {7.0f, 7.0f};
            t->relu(2, z, y);
            CHECK(bits32(y[0]) == 0u && bits32(y[1]) == 0u, "%s relu(+-0) is not +0", t->name);
            t->relu_backward(2, z, d, y);
            CHECK(bits32(y[0]) == 0u && bits32(y[1]) == 0u, "%s relu'(+-0) is not 0", t->name);
            t->leaky_relu(2, z, y);
            CHECK(bits32(y[0]) == 0x80000000u && bits32(y[1]) == 0u, "%s leaky_relu(+-0)", t->name);
        }
    }
}

/* ---- column sums -------------------------------------------------------------------------- */

static size_t colsum_differ; /* outputs whose bits change when the rows are added in reverse */

static void check_colsum_case(size_t rows, size_t cols, size_t ldx, check_lcg *g) {
    const size_t n = rows == 0 || cols == 0 ? 0 : (rows - 1) * ldx + cols;
    float *x = random_floats(g, n);
    float *out_ref = alloc_floats(cols), *out_simd = alloc_floats(cols), *want = alloc_floats(cols);
    char what[96];
    /* The naive loop of the former dense backward: rows outside, columns inside. */
    for (size_t j = 0; j < cols; j++)
        want[j] = 0.0f;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            want[j] = want[j] + x[i * ldx + j];
    ref_table()->colsum(rows, cols, x, ldx, out_ref);
    simd_table()->colsum(rows, cols, x, ldx, out_simd);
    snprintf(what, sizeof what, "colsum rows=%zu cols=%zu ldx=%zu ref", rows, cols, ldx);
    CHECK_SAME_BITS(what, out_ref, want, cols);
    snprintf(what, sizeof what, "colsum rows=%zu cols=%zu ldx=%zu simd128", rows, cols, ldx);
    CHECK_SAME_BITS(what, out_simd, out_ref, cols);
    for (size_t j = 0; j < cols; j++) {
        float r = 0.0f;
        double exact = 0.0, mag = 0.0;
        for (size_t i = rows; i-- > 0;)
            r = r + x[i * ldx + j];
        if (bits32(r) != bits32(out_ref[j])) colsum_differ++;
        for (size_t i = 0; i < rows; i++)
            exact += (double)x[i * ldx + j], mag += fabs((double)x[i * ldx + j]);
        CHECK(check_close((double)out_ref[j], exact, (double)rows * (double)FLT_EPSILON * mag, 0.0),
              "colsum rows=%zu col %zu: %.9g vs double %.17g", rows, j, (double)out_ref[j], exact);
    }
    free(x), free(out_ref), free(out_simd), free(want);
}

/* ---- pooling ------------------------------------------------------------------------------ */

typedef struct {
    size_t planes, h, w, k, s, ho, wo;
} pool_shape;

static pool_shape make_pool(size_t planes, size_t h, size_t w, size_t k, size_t s) {
    pool_shape p = {planes, h, w, k, s, (h - k) / s + 1, (w - k) / s + 1};
    return p;
}

/* Naive max pooling: the window's values in row-major order, then the first position holding
 * the largest (a NaN counts as the largest, the first NaN wins). */
static void naive_max_pool(const pool_shape *p, const float *x, float *y, uint32_t *argmax) {
    for (size_t q = 0; q < p->planes; q++)
        for (size_t i = 0; i < p->ho; i++)
            for (size_t j = 0; j < p->wo; j++) {
                size_t best = 0, n = p->k * p->k;
                float vals[64] = {0};
                for (size_t t = 0; t < n; t++)
                    vals[t] =
                        x[q * p->h * p->w + (i * p->s + t / p->k) * p->w + j * p->s + t % p->k];
                for (size_t t = 1; t < n; t++) {
                    int t_nan = vals[t] != vals[t], best_nan = vals[best] != vals[best];
                    if (!best_nan && (t_nan || vals[t] > vals[best])) best = t;
                }
                y[(q * p->ho + i) * p->wo + j] = vals[best];
                argmax[(q * p->ho + i) * p->wo + j] =
                    (uint32_t)((i * p->s + best / p->k) * p->w + j * p->s + best % p->k);
            }
}

static void naive_avg_pool(const pool_shape *p, const float *x, float *y) {
    for (size_t q = 0; q < p->planes; q++)
        for (size_t i = 0; i < p->ho; i++)
            for (size_t j = 0; j < p->wo; j++) {
                float s = 0.0f;
                for (size_t ki = 0; ki < p->k; ki++)
                    for (size_t kj = 0; kj < p->k; kj++)
                        s = s + x[q * p->h * p->w + (i * p->s + ki) * p->w + j * p->s + kj];
                y[(q * p->ho + i) * p->wo + j] = s / (float)(p->k * p->k);
            }
}

/* Naive pooling gradients, gathered: dx[r,c] = 0, then for every output (i,j) in row-major
 * order whose window covers (r,c) (and, for max, whose argmax is (r,c)): dx += its share.
 * reverse != 0 visits the outputs in the opposite order instead (to show that order shows). */
static void naive_pool_backward(const pool_shape *p, const uint32_t *argmax, const float *dy,
                                float *dx, int reverse) {
    const float count = (float)(p->k * p->k);
    const size_t n_out = p->ho * p->wo;
    for (size_t q = 0; q < p->planes; q++)
        for (size_t r = 0; r < p->h; r++)
            for (size_t c = 0; c < p->w; c++) {
                float s = 0.0f;
                for (size_t t = 0; t < n_out; t++) {
                    const size_t o = reverse ? n_out - 1 - t : t, i = o / p->wo, j = o % p->wo;
                    const size_t at = q * n_out + o;
                    if (r < i * p->s || r >= i * p->s + p->k || c < j * p->s ||
                        c >= j * p->s + p->k)
                        continue;
                    if (argmax ? argmax[at] == r * p->w + c : 1)
                        s = s + (argmax ? dy[at] : dy[at] / count);
                }
                dx[(q * p->h + r) * p->w + c] = s;
            }
}

static size_t avg_bwd_differ; /* avg-pool gradients whose bits change in reverse order */

static void check_pool_case(const pool_shape *p, check_lcg *g) {
    const size_t nx = p->planes * p->h * p->w, ny = p->planes * p->ho * p->wo;
    float *x = random_floats(g, nx), *dy = random_floats(g, ny);
    float *y_ref = alloc_floats(ny), *y_simd = alloc_floats(ny), *y_want = alloc_floats(ny);
    float *dx_ref = alloc_floats(nx), *dx_simd = alloc_floats(nx), *dx_want = alloc_floats(nx);
    uint32_t *am_ref = alloc_bytes(ny * 4), *am_simd = alloc_bytes(ny * 4);
    uint32_t *am_want = alloc_bytes(ny * 4);
    char what[128];
    const lathe_kernel_table *r = ref_table(), *s = simd_table();
#define WHAT(op, isa)                                                                              \
    (snprintf(what, sizeof what, "%s planes=%zu %zux%zu k=%zu s=%zu %s", op, p->planes, p->h,      \
              p->w, p->k, p->s, isa),                                                              \
     what)

    /* max, forward */
    naive_max_pool(p, x, y_want, am_want);
    r->max_pool2d(p->planes, p->h, p->w, p->k, p->s, x, y_ref, am_ref);
    s->max_pool2d(p->planes, p->h, p->w, p->k, p->s, x, y_simd, am_simd);
    check_same_bits(__FILE__, __LINE__, WHAT("max_pool", "ref"), y_ref, y_want, ny);
    check_same_bits(__FILE__, __LINE__, WHAT("max_pool", "simd128"), y_simd, y_ref, ny);
    CHECK(ny == 0 || memcmp(am_ref, am_want, ny * 4) == 0, "%s", WHAT("argmax", "ref"));
    CHECK(ny == 0 || memcmp(am_simd, am_ref, ny * 4) == 0, "%s", WHAT("argmax", "simd128"));
    /* Without argmax (inference): the same maxima. */
    s->max_pool2d(p->planes, p->h, p->w, p->k, p->s, x, y_simd, NULL);
    check_same_bits(__FILE__, __LINE__, WHAT("max_pool no argmax", "simd128"), y_simd, y_ref, ny);
    r->max_pool2d(p->planes, p->h, p->w, p->k, p->s, x, y_simd, NULL);
    check_same_bits(__FILE__, __LINE__, WHAT("max_pool no argmax", "ref"), y_simd, y_ref, ny);

    /* max, backward, from the reference argmax */
    naive_pool_backward(p, am_want, dy, dx_want, 0);
    r->max_pool2d_backward(p->planes, p->h, p->w, p->k, p->s, am_ref, dy, dx_ref);
    s->max_pool2d_backward(p->planes, p->h, p->w, p->k, p->s, am_ref, dy, dx_simd);
    check_same_bits(__FILE__, __LINE__, WHAT("max_pool_backward", "ref"), dx_ref, dx_want, nx);
    check_same_bits(__FILE__, __LINE__, WHAT("max_pool_backward", "simd128"), dx_simd, dx_ref, nx);

    /* avg, forward and backward */
    naive_avg_pool(p, x, y_want);
    r->avg_pool2d(p->planes, p->h, p->w, p->k, p->s, x, y_ref);
    s->avg_pool2d(p->planes, p->h, p->w, p->k, p->s, x, y_simd);
    check_same_bits(__FILE__, __LINE__, WHAT("avg_pool", "ref"), y_ref, y_want, ny);
    check_same_bits(__FILE__, __LINE__, WHAT("avg_pool", "simd128"), y_simd, y_ref, ny);
    naive_pool_backward(p, NULL, dy, dx_want, 0);
    r->avg_pool2d_backward(p->planes, p->h, p->w, p->k, p->s, dy, dx_ref);
    s->avg_pool2d_backward(p->planes, p->h, p->w, p->k, p->s, dy, dx_simd);
    check_same_bits(__FILE__, __LINE__, WHAT("avg_pool_backward", "ref"), dx_ref, dx_want, nx);
    check_same_bits(__FILE__, __LINE__, WHAT("avg_pool_backward", "simd128"), dx_simd, dx_ref, nx);
    naive_pool_backward(p, NULL, dy, dx_want, 1);
    for (size_t e = 0; e < nx; e++)
        if (bits32(dx_want[e]) != bits32(dx_ref[e])) avg_bwd_differ++;
#undef WHAT
    free(x), free(dy), free(y_ref), free(y_simd), free(y_want);
    free(dx_ref), free(dx_simd), free(dx_want), free(am_ref), free(am_simd), free(am_want);
}

/* Ties keep the first maximum, whatever the signs of zero; a NaN wins and stays; the same in
 * each lane position and in the scalar tail. */
static void check_pool_rules(void) {
    for (int isa = 0; isa < 2; isa++) {
        const lathe_kernel_table *t = lathe_kernels_for((lathe_isa)isa);
        /* One row of 2x2 windows, stride 2, 6 windows (4 in a vector, 2 in the tail). */
        float x[2 * 12], y[6];
        uint32_t am[6];
        const float nan = f32(0x7fc00001u);
        /* window 0: all 1 -> first; 1: -0,+0 / +0,-0 -> -0 at 0; 2: +0 then -0s -> +0 at 0;
         * 3: 1,NaN / 2,NaN -> first NaN (1); 4: NaN first then 5 -> NaN at 0; 5: 3 on the
         * second row twice -> the first of them (row 1, col 0). */
        const float top[12] = {1, 1, -0.0f, 0.0f, 0.0f, -0.0f, 1, nan, nan, 5, 0, 0};
        const float bot[12] = {1, 1, 0.0f, -0.0f, -0.0f, -0.0f, 2, nan, 5, 5, 3, 3};
        const uint32_t want_am[6] = {0, 2, 4, 7, 8, 22};
        memcpy(x, top, sizeof top);
        memcpy(x + 12, bot, sizeof bot);
        t->max_pool2d(1, 2, 12, 2, 2, x, y, am);
        for (size_t j = 0; j < 6; j++)
            CHECK(am[j] == want_am[j], "%s tie/NaN rule, window %zu: argmax %u, want %u", t->name,
                  j, (unsigned)am[j], (unsigned)want_am[j]);
        CHECK(bits32(y[1]) == 0x80000000u && bits32(y[2]) == 0u && y[3] != y[3] && y[4] != y[4],
              "%s signed zero / NaN maxima", t->name);
    }
}

/* Max pooling on data with NaNs (1 in 16; both payload signs): the twins and the naive loop
 * agree on maxima (bits) and argmax, in vector lanes and tails alike. */
static void check_max_pool_nan(check_lcg *g) {
    static const size_t ks[][2] = {{2, 2}, {3, 1}, {3, 2}, {2, 1}, {2, 4}};
    static const size_t sides[][2] = {{9, 9}, {7, 28}, {28, 28}};
    for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++)
        for (size_t d = 0; d < sizeof sides / sizeof sides[0]; d++) {
            pool_shape p = make_pool(2, sides[d][0], sides[d][1], ks[c][0], ks[c][1]);
            const size_t nx = 2 * p.h * p.w, ny = 2 * p.ho * p.wo;
            float *x = random_floats(g, nx), *y_ref = alloc_floats(ny);
            float *y_simd = alloc_floats(ny), *y_want = alloc_floats(ny);
            uint32_t *am_ref = alloc_bytes(ny * 4), *am_simd = alloc_bytes(ny * 4);
            uint32_t *am_want = alloc_bytes(ny * 4);
            char what[96];
            for (size_t e = 0; e < nx; e++) {
                uint32_t r = check_lcg_next(g);
                if ((r & 15u) == 0) x[e] = f32((r & 0x80000000u) | 0x7fc00000u | (r >> 12 & 0xffu));
            }
            naive_max_pool(&p, x, y_want, am_want);
            ref_table()->max_pool2d(2, p.h, p.w, p.k, p.s, x, y_ref, am_ref);
            simd_table()->max_pool2d(2, p.h, p.w, p.k, p.s, x, y_simd, am_simd);
            snprintf(what, sizeof what, "max_pool NaN %zux%zu k=%zu s=%zu ref", p.h, p.w, p.k, p.s);
            CHECK_SAME_BITS(what, y_ref, y_want, ny);
            CHECK(memcmp(am_ref, am_want, ny * 4) == 0, "%s: argmax", what);
            snprintf(what, sizeof what, "max_pool NaN %zux%zu k=%zu s=%zu simd128", p.h, p.w, p.k,
                     p.s);
            CHECK_SAME_BITS(what, y_simd, y_ref, ny);
            CHECK(memcmp(am_simd, am_ref, ny * 4) == 0, "%s: argmax", what);
            free(x), free(y_ref), free(y_simd), free(y_want), free(am_ref), free(am_simd);
            free(am_want);
        }
}

/* ---- tables and the core's use of them ------------------------------------------------- */

static void check_tables(void) {
    const lathe_kernel_table *r = ref_table(), *s = simd_table();
    CHECK(r->relu == lathe_f32_relu__ref && r->relu_backward == lathe_f32_relu_backward__ref &&
              r->leaky_relu == lathe_f32_leaky_relu__ref &&
              r->leaky_relu_backward == lathe_f32_leaky_relu_backward__ref &&
              r->colsum == lathe_f32_colsum__ref && r->max_pool2d == lathe_f32_max_pool2d__ref &&
              r->max_pool2d_backward == lathe_f32_max_pool2d_backward__ref &&
              r->avg_pool2d == lathe_f32_avg_pool2d__ref &&
              r->avg_pool2d_backward == lathe_f32_avg_pool2d_backward__ref,
          "ref table entries");
    CHECK(s->relu == lathe_f32_relu__simd128 &&
              s->relu_backward == lathe_f32_relu_backward__simd128 &&
              s->leaky_relu == lathe_f32_leaky_relu__simd128 &&
              s->leaky_relu_backward == lathe_f32_leaky_relu_backward__simd128 &&
              s->sigmoid_backward == lathe_f32_sigmoid_backward__simd128 &&
              s->tanh_backward == lathe_f32_tanh_backward__simd128 &&
              s->colsum == lathe_f32_colsum__simd128 &&
              s->max_pool2d == lathe_f32_max_pool2d__simd128 &&
              s->max_pool2d_backward == lathe_f32_max_pool2d_backward__simd128 &&
              s->avg_pool2d == lathe_f32_avg_pool2d__simd128 &&
              s->avg_pool2d_backward == lathe_f32_avg_pool2d_backward__simd128,
          "simd128 table entries");
}

/* The layer functions give the naive bits with either table in use (or passed in). */
static void check_core_uses_tables(check_lcg *g) {
    enum { N = 37, IN = 5, OUT = 19 };
    float *x = random_floats(g, N * OUT), *dy = random_floats(g, N * OUT);
    float *xin = random_floats(g, N * IN), *w = random_floats(g, OUT * IN);
    float y[N * OUT], want[N * OUT], db[OUT], db_want[OUT];
    lathe_pool2d_shape ps = {2, 3, 9, 7, 3, 2};
    pool_shape p = make_pool(6, 9, 7, 3, 2);
    float px[6 * 9 * 7], py[6 * 4 * 3], py_want[6 * 4 * 3], pdy[6 * 4 * 3];
    float pdx[6 * 9 * 7], pdx_want[6 * 9 * 7];
    uint32_t pam[6 * 4 * 3], pam_want[6 * 4 * 3];
    for (size_t i = 0; i < sizeof px / sizeof px[0]; i++)
        px[i] = random_value(g);
    for (size_t i = 0; i < sizeof pdy / sizeof pdy[0]; i++)
        pdy[i] = random_value(g);
    for (int isa = 0; isa < 2; isa++) {
        const lathe_kernel_table *t = lathe_kernels_for((lathe_isa)isa);
        lathe_kernels_select((lathe_isa)isa);
        for (int op = 0; op < N_UNARY; op++) {
            for (size_t i = 0; i < N * OUT; i++)
                want[i] = naive_unary((unary_op)op, x[i], dy[i]);
            if (op == RELU || op == LEAKY)
                lathe_activation_forward(lathe_kernels(), op == RELU ? LATHE_ACT_RELU : LATHE_ACT_LEAKY_RELU,
                                         N * OUT, x, y);
            else if (op == SIG_BWD || op == TANH_BWD) /* these take the forward output */
                lathe_activation_backward(lathe_kernels(), op == SIG_BWD ? LATHE_ACT_SIGMOID : LATHE_ACT_TANH,
                                          N * OUT, NULL, x, dy, y);
            else
                lathe_activation_backward(lathe_kernels(), op == RELU_BWD ? LATHE_ACT_RELU : LATHE_ACT_LEAKY_RELU,
                                          N * OUT, x, NULL, dy, y);
            CHECK(check_same_bits(__FILE__, __LINE__, unary_name[op], y, want, N * OUT) == 0,
                  "lathe_activation_* (%s in use)", t->name);
        }
        for (size_t j = 0; j < OUT; j++) {
            db_want[j] = 0.0f;
            for (size_t i = 0; i < N; i++)
                db_want[j] = db_want[j] + dy[i * OUT + j];
        }
        lathe_dense_backward(t, N, IN, OUT, xin, w, dy, NULL, NULL, db);
        CHECK(check_same_bits(__FILE__, __LINE__, "dense db", db, db_want, OUT) == 0,
              "lathe_dense_backward db (%s)", t->name);
        naive_max_pool(&p, px, py_want, pam_want);
        lathe_max_pool2d_forward(lathe_kernels(), &ps, px, py, pam);
        check_same_bits(__FILE__, __LINE__, "lathe_max_pool2d_forward", py, py_want, 72);
        CHECK(memcmp(pam, pam_want, sizeof pam) == 0, "lathe_max_pool2d_forward argmax (%s)",
              t->name);
        naive_pool_backward(&p, pam_want, pdy, pdx_want, 0);
        lathe_max_pool2d_backward(lathe_kernels(), &ps, pam, pdy, pdx);
        check_same_bits(__FILE__, __LINE__, "lathe_max_pool2d_backward", pdx, pdx_want, 378);
        naive_avg_pool(&p, px, py_want);
        lathe_avg_pool2d_forward(lathe_kernels(), &ps, px, py);
        check_same_bits(__FILE__, __LINE__, "lathe_avg_pool2d_forward", py, py_want, 72);
        naive_pool_backward(&p, NULL, pdy, pdx_want, 0);
        lathe_avg_pool2d_backward(lathe_kernels(), &ps, pdy, pdx);
        check_same_bits(__FILE__, __LINE__, "lathe_avg_pool2d_backward", pdx, pdx_want, 378);
    }
    lathe_kernels_select(LATHE_ISA_SIMD128);
    free(x), free(dy), free(xin), free(w);
}

/* ---- digest ------------------------------------------------------------------------------- */

static uint64_t digest(void) {
    uint64_t h = 0xcbf29ce484222325ULL;
    check_lcg g = {20240612u};
    const lathe_kernel_table *t = simd_table();
    {
        const size_t n = 1000;
        float *x = random_floats(&g, n), *dy = random_floats(&g, n), *y = alloc_floats(n);
        t->relu(n, x, y), h = fnv1a(h, y, n * 4);
        t->relu_backward(n, x, dy, y), h = fnv1a(h, y, n * 4);
        t->leaky_relu(n, x, y), h = fnv1a(h, y, n * 4);
        t->leaky_relu_backward(n, x, dy, y), h = fnv1a(h, y, n * 4);
        t->colsum(20, 50, x, 50, y), h = fnv1a(h, y, 50 * 4);
        free(x), free(dy), free(y);
    }
    {
        static const size_t ks[][2] = {{2, 2}, {3, 1}, {3, 2}, {2, 1}};
        for (size_t c = 0; c < 4; c++) {
            pool_shape p = make_pool(3, 28, 28, ks[c][0], ks[c][1]);
            size_t nx = 3 * 28 * 28, ny = 3 * p.ho * p.wo;
            float *x = random_floats(&g, nx), *dy = random_floats(&g, ny);
            float *y = alloc_floats(ny), *dx = alloc_floats(nx);
            uint32_t *am = alloc_bytes(ny * 4);
            t->max_pool2d(3, 28, 28, p.k, p.s, x, y, am);
            h = fnv1a(h, y, ny * 4), h = fnv1a(h, am, ny * 4);
            t->max_pool2d_backward(3, 28, 28, p.k, p.s, am, dy, dx), h = fnv1a(h, dx, nx * 4);
            t->avg_pool2d(3, 28, 28, p.k, p.s, x, y), h = fnv1a(h, y, ny * 4);
            t->avg_pool2d_backward(3, 28, 28, p.k, p.s, dy, dx), h = fnv1a(h, dx, nx * 4);
            free(x), free(dy), free(y), free(dx), free(am);
        }
    }
    return h;
}

int main(void) {
    check_lcg g = {777u};
    check_tables();
    check_unary_specials();
    for (int op = 0; op < N_UNARY; op++) {
        for (size_t n = 0; n <= 33; n++)
            for (int in_place = 0; in_place < 2; in_place++)
                check_unary_case((unary_op)op, n, in_place, &g);
        for (size_t n = 63; n <= 65; n++)
            for (int in_place = 0; in_place < 2; in_place++)
                check_unary_case((unary_op)op, n, in_place, &g);
        check_unary_case((unary_op)op, 1000, 0, &g);
    }
    {
        static const size_t rows[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 64};
        static const size_t wide[] = {63, 64, 65, 131};
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
            for (size_t c = 0; c < 34 + 4; c++) {
                size_t cols = c < 34 ? c : wide[c - 34];
                for (size_t extra = 0; extra < 4; extra++)
                    check_colsum_case(rows[r], cols, cols + extra, &g);
            }
    }
    {
        static const size_t ks[][2] = {{2, 2}, {3, 1}, {3, 2}, {2, 1},
                                       {1, 1}, {3, 3}, {2, 4}, {5, 2}};
        static const size_t sides[] = {2, 3, 4, 5, 6, 7, 8, 9, 28};
        const size_t n_sides = sizeof sides / sizeof sides[0];
        size_t planes = 1;
        for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++)
            for (size_t a = 0; a < n_sides; a++)
                for (size_t b = 0; b < n_sides; b++) {
                    pool_shape p;
                    if (ks[c][0] > sides[a] || ks[c][0] > sides[b]) continue;
                    p = make_pool(planes, sides[a], sides[b], ks[c][0], ks[c][1]);
                    check_pool_case(&p, &g);
                    planes = planes % 3 + 1;
                }
    }
    check_pool_rules();
    check_max_pool_nan(&g);
    check_core_uses_tables(&g);
    /* The inputs make the order of additions visible (else same-bits checks prove little). */
    CHECK(colsum_differ > 0, "adding the rows in reverse never changed a column sum");
    CHECK(avg_bwd_differ > 0, "reversing the outputs never changed an avg-pool gradient");
    printf("order-sensitivity: reversed rows change %zu column sums, reversed outputs change %zu "
           "avg-pool gradients\n",
           colsum_differ, avg_bwd_differ);
    printf("kernels digest: %016" PRIx64 "\n", digest());
    return check_finish("test_kernels");
}
