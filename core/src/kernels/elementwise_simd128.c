/* Element-wise kernels and the column sum, SIMD twins (SIMDe's wasm SIMD128 API). Same bits
 * as elementwise_ref.c: every lane computes one output with the scalar twin's operations.
 *
 * "x > 0 ? x : 0" is pmax(0, x): wasm defines pmax(a, b) as a < b ? b : a, so -0 and NaN give
 * the +0 of the first operand, as in the scalar twin (f32x4_max would propagate NaN, and
 * SIMDe's native max picks a different signed zero than wasm). The other selections are a
 * lane mask from f32x4_gt, which is false for -0 and NaN exactly like the scalar ">". The
 * column sum keeps one accumulator per column and adds the rows in increasing i. */
#include "lathe/kernels.h"

#include <simde/wasm/simd128.h>

typedef simde_v128_t v128;

#define LOAD(p) simde_wasm_v128_load(p)
#define STORE(p, v) simde_wasm_v128_store((p), (v))

void lathe_f32_relu__simd128(size_t n, const float *x, float *y) {
    const v128 zero = simde_wasm_f32x4_splat(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        STORE(y + i, simde_wasm_f32x4_pmax(zero, LOAD(x + i)));
    for (; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void lathe_f32_relu_backward__simd128(size_t n, const float *x, const float *dy, float *dx) {
    const v128 zero = simde_wasm_f32x4_splat(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 pos = simde_wasm_f32x4_gt(LOAD(x + i), zero);
        STORE(dx + i, simde_wasm_v128_and(LOAD(dy + i), pos));
    }
    for (; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

void lathe_f32_leaky_relu__simd128(size_t n, const float *x, float *y) {
    const v128 zero = simde_wasm_f32x4_splat(0.0f);
    const v128 slope = simde_wasm_f32x4_splat(LATHE_LEAKY_RELU_SLOPE);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 v = LOAD(x + i);
        v128 pos = simde_wasm_f32x4_gt(v, zero);
        STORE(y + i, simde_wasm_v128_bitselect(v, simde_wasm_f32x4_mul(slope, v), pos));
    }
    for (; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : LATHE_LEAKY_RELU_SLOPE * x[i];
}

void lathe_f32_leaky_relu_backward__simd128(size_t n, const float *x, const float *dy, float *dx) {
    const v128 zero = simde_wasm_f32x4_splat(0.0f);
    const v128 slope = simde_wasm_f32x4_splat(LATHE_LEAKY_RELU_SLOPE);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 g = LOAD(dy + i);
        v128 pos = simde_wasm_f32x4_gt(LOAD(x + i), zero);
        STORE(dx + i, simde_wasm_v128_bitselect(g, simde_wasm_f32x4_mul(slope, g), pos));
    }
    for (; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : LATHE_LEAKY_RELU_SLOPE * dy[i];
}

/* Sixteen columns at a time walk down the rows in four accumulators (one cache line of each
 * row per step), then four, then one. */
void lathe_f32_colsum__simd128(size_t rows, size_t cols, const float *x, size_t ldx, float *out) {
    size_t j = 0;
    for (; j + 16 <= cols; j += 16) {
        v128 s0 = simde_wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
        for (size_t i = 0; i < rows; i++) {
            const float *p = x + i * ldx + j;
            s0 = simde_wasm_f32x4_add(s0, LOAD(p));
            s1 = simde_wasm_f32x4_add(s1, LOAD(p + 4));
            s2 = simde_wasm_f32x4_add(s2, LOAD(p + 8));
            s3 = simde_wasm_f32x4_add(s3, LOAD(p + 12));
        }
        STORE(out + j, s0);
        STORE(out + j + 4, s1);
        STORE(out + j + 8, s2);
        STORE(out + j + 12, s3);
    }
    for (; j + 4 <= cols; j += 4) {
        v128 s = simde_wasm_f32x4_splat(0.0f);
        for (size_t i = 0; i < rows; i++)
            s = simde_wasm_f32x4_add(s, LOAD(x + i * ldx + j));
        STORE(out + j, s);
    }
    for (; j < cols; j++) {
        float s = 0.0f;
        for (size_t i = 0; i < rows; i++)
            s = s + x[i * ldx + j];
        out[j] = s;
    }
}

void lathe_f32_sigmoid_backward__simd128(size_t n, const float *y, const float *dy, float *dx) {
    const v128 one = simde_wasm_f32x4_splat(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 v = LOAD(y + i);
        v128 d = simde_wasm_f32x4_mul(v, simde_wasm_f32x4_sub(one, v));
        STORE(dx + i, simde_wasm_f32x4_mul(LOAD(dy + i), d));
    }
    for (; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
}

void lathe_f32_tanh_backward__simd128(size_t n, const float *y, const float *dy, float *dx) {
    const v128 one = simde_wasm_f32x4_splat(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 v = LOAD(y + i);
        v128 d = simde_wasm_f32x4_sub(one, simde_wasm_f32x4_mul(v, v));
        STORE(dx + i, simde_wasm_f32x4_mul(LOAD(dy + i), d));
    }
    for (; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void lathe_f32_adam__simd128(size_t n, float *p, const float *g, float *m, float *v,
                             const lathe_adam_step *s) {
    const v128 b1 = simde_wasm_f32x4_splat(s->b1), c1 = simde_wasm_f32x4_splat(s->one_minus_b1);
    const v128 b2 = simde_wasm_f32x4_splat(s->b2), c2 = simde_wasm_f32x4_splat(s->one_minus_b2);
    const v128 step = simde_wasm_f32x4_splat(s->step_size);
    const v128 bias = simde_wasm_f32x4_splat(s->bias2_sqrt), eps = simde_wasm_f32x4_splat(s->eps);
    const v128 l2 = simde_wasm_f32x4_splat(s->l2), decay = simde_wasm_f32x4_splat(s->decay);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 pv = LOAD(p + i), gv = LOAD(g + i), mv, vv, den;
        if (s->decoupled) pv = simde_wasm_f32x4_mul(pv, decay);
        else if (s->l2 != 0.0f) gv = simde_wasm_f32x4_add(gv, simde_wasm_f32x4_mul(l2, pv));
        mv = simde_wasm_f32x4_add(simde_wasm_f32x4_mul(b1, LOAD(m + i)), simde_wasm_f32x4_mul(c1, gv));
        vv = simde_wasm_f32x4_add(simde_wasm_f32x4_mul(b2, LOAD(v + i)),
                                  simde_wasm_f32x4_mul(c2, simde_wasm_f32x4_mul(gv, gv)));
        den = simde_wasm_f32x4_add(simde_wasm_f32x4_div(simde_wasm_f32x4_sqrt(vv), bias), eps);
        STORE(m + i, mv);
        STORE(v + i, vv);
        STORE(p + i, simde_wasm_f32x4_sub(pv, simde_wasm_f32x4_mul(step, simde_wasm_f32x4_div(mv, den))));
    }
    lathe_f32_adam__ref(n - i, p + i, g + i, m + i, v + i, s);
}
