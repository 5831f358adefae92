/* 2-D max and average pooling, SIMD twins (SIMDe's wasm SIMD128 API). Same bits as
 * pool_ref.c.
 *
 * Forward: four neighbouring outputs of a row, (i, j..j+3), are one vector. Their windows
 * start `stride` floats apart, so tap (ki, kj) of the four windows is a strided load, and
 * every lane walks its own window in the scalar twin's row-major order: the same sum for the
 * mean, the same comparisons and replacements for the maximum (with its index in an i32x4).
 * Strides 1, 2 and 3 load with one or two unaligned loads and a shuffle, and the kernels are
 * specialised for them. A load never reads past tap (ki, kj) of the fourth window, so never
 * past the buffer. Max pooling ends a row whose width is not a multiple of 4 with the group of
 * its last four outputs (recomputing some, to the same values); other remaining outputs take
 * the scalar twin's loop.
 *
 * Backward: the canonical order is a scatter (each output adds its gradient into dx, in
 * row-major output order), and SIMD128 has no scatter. Gathering instead (four dx elements
 * per vector, each adding the gradients of the outputs that cover it, masked) gives the same
 * bits but was measured 1.4-6x slower than the scalar scatter for every (k, stride) tried,
 * so both backward kernels zero dx and scatter like the scalar twin. The
 * exception is average pooling with k = stride = 2, the usual CNN layer: there no two
 * windows overlap, so each covered dx is exactly 0 + g and four windows' values are stored
 * directly as two rows of eight (3x faster natively). */
#include "lathe/kernels.h"

#include <simde/wasm/simd128.h>
#include <string.h>

typedef simde_v128_t v128;

#define LOAD(p) simde_wasm_v128_load(p)
#define STORE(p, v) simde_wasm_v128_store((p), (v))

/* Specialising on the stride needs the helpers inlined into each case of the dispatch. */
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* An element index (< 2^32, kernels.h) as an i32x4 lane: the same 32 bits. */
static ALWAYS_INLINE int32_t lane_index(size_t v) {
    return (int32_t)(uint32_t)v;
}

/* (p[0], p[s], p[2s], p[3s]), reading nothing past p[3s]. */
static ALWAYS_INLINE v128 load_strided(const float *p, size_t s) {
    if (s == 1) return LOAD(p);
    if (s == 2) return simde_wasm_i32x4_shuffle(LOAD(p), LOAD(p + 3), 0, 2, 5, 7);
    if (s == 3) return simde_wasm_i32x4_shuffle(LOAD(p), LOAD(p + 6), 0, 3, 4, 7);
    return simde_wasm_f32x4_make(p[0], p[s], p[2 * s], p[3 * s]);
}

/* ---- max pool, forward --------------------------------------------------------------- */

/* The scalar twin's window maximum for the window at (top, left) of the plane xp. */
static float max_window(const float *xp, size_t w, size_t k, size_t top, size_t left,
                        uint32_t *best_out) {
    size_t best = top * w + left;
    float m = xp[best];
    for (size_t ki = 0; ki < k; ki++) {
        for (size_t kj = 0; kj < k; kj++) {
            const size_t at = (top + ki) * w + left + kj;
            const float v = xp[at];
            if (v > m || (v != v && m == m)) m = v, best = at;
        }
    }
    *best_out = (uint32_t)best;
    return m;
}

/* y[0..3] (and argmax[0..3] unless NULL) for the four outputs of row `top` whose windows start
 * at columns left, left + s, left + 2s, left + 3s of the plane xp:(h, w). lane_step holds
 * (0, s, 2s, 3s). */
static ALWAYS_INLINE void max_pool_4(const float *xp, size_t w, size_t k, size_t s, size_t top,
                                     size_t left, v128 lane_step, float *y, uint32_t *argmax) {
    v128 m = load_strided(xp + top * w + left, s);
    v128 best = simde_wasm_i32x4_add(simde_wasm_i32x4_splat(lane_index(top * w + left)), lane_step);
    for (size_t ki = 0; ki < k; ki++) {
        for (size_t kj = 0; kj < k; kj++) {
            const size_t at = (top + ki) * w + left + kj;
            const v128 v = load_strided(xp + at, s);
            /* v > m, or v is NaN and m is not: NOT(v <= m) AND (m == m). */
            const v128 take =
                simde_wasm_v128_andnot(simde_wasm_f32x4_eq(m, m), simde_wasm_f32x4_le(v, m));
            m = simde_wasm_v128_bitselect(v, m, take);
            if (argmax) {
                const v128 idx =
                    simde_wasm_i32x4_add(simde_wasm_i32x4_splat(lane_index(at)), lane_step);
                best = simde_wasm_v128_bitselect(idx, best, take);
            }
        }
    }
    STORE(y, m);
    if (argmax) STORE(argmax, best);
}

/* A row of wo >= 4 outputs ends with one more group of four, the last four outputs: those it
 * shares with the previous group are computed again, to the same values, which is much faster
 * than the scalar loop (a 7-wide row would otherwise do three of its seven outputs that way).
 * Narrower rows take the scalar twin's loop. */
static ALWAYS_INLINE void max_pool(size_t planes, size_t h, size_t w, size_t k, size_t s,
                                   const float *x, float *y, uint32_t *argmax) {
    const size_t ho = (h - k) / s + 1, wo = (w - k) / s + 1, plane = h * w;
    const v128 lane_step =
        simde_wasm_i32x4_make(0, lane_index(s), lane_index(2 * s), lane_index(3 * s));
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * plane;
        for (size_t i = 0; i < ho; i++, y += wo) {
            const size_t top = i * s;
            size_t j = 0;
            for (; j + 4 <= wo; j += 4)
                max_pool_4(xp, w, k, s, top, j * s, lane_step, y + j, argmax ? argmax + j : NULL);
            if (j < wo && wo >= 4) {
                j = wo - 4;
                max_pool_4(xp, w, k, s, top, j * s, lane_step, y + j, argmax ? argmax + j : NULL);
                j = wo;
            }
            for (; j < wo; j++) {
                uint32_t best;
                y[j] = max_window(xp, w, k, top, j * s, &best);
                if (argmax) argmax[j] = best;
            }
            if (argmax) argmax += wo;
        }
    }
}

void lathe_f32_max_pool2d__simd128(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                   const float *x, float *y, uint32_t *argmax) {
    switch (stride) {
    case 1:
        max_pool(planes, h, w, k, 1, x, y, argmax);
        break;
    case 2:
        max_pool(planes, h, w, k, 2, x, y, argmax);
        break;
    case 3:
        max_pool(planes, h, w, k, 3, x, y, argmax);
        break;
    default:
        max_pool(planes, h, w, k, stride, x, y, argmax);
        break;
    }
}

/* ---- avg pool, forward --------------------------------------------------------------- */

static ALWAYS_INLINE void avg_pool(size_t planes, size_t h, size_t w, size_t k, size_t s,
                                   const float *x, float *y) {
    const size_t ho = (h - k) / s + 1, wo = (w - k) / s + 1, plane = h * w;
    const float count = (float)(k * k);
    const v128 count4 = simde_wasm_f32x4_splat(count);
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * plane;
        for (size_t i = 0; i < ho; i++, y += wo) {
            const float *row = xp + i * s * w;
            size_t j = 0;
            for (; j + 4 <= wo; j += 4) {
                const float *win = row + j * s;
                v128 sum = simde_wasm_f32x4_splat(0.0f);
                for (size_t ki = 0; ki < k; ki++)
                    for (size_t kj = 0; kj < k; kj++)
                        sum = simde_wasm_f32x4_add(sum, load_strided(win + ki * w + kj, s));
                STORE(y + j, simde_wasm_f32x4_div(sum, count4));
            }
            for (; j < wo; j++) {
                const float *win = row + j * s;
                float sum = 0.0f;
                for (size_t ki = 0; ki < k; ki++)
                    for (size_t kj = 0; kj < k; kj++)
                        sum = sum + win[ki * w + kj];
                y[j] = sum / count;
            }
        }
    }
}

void lathe_f32_avg_pool2d__simd128(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                   const float *x, float *y) {
    switch (stride) {
    case 1:
        avg_pool(planes, h, w, k, 1, x, y);
        break;
    case 2:
        avg_pool(planes, h, w, k, 2, x, y);
        break;
    case 3:
        avg_pool(planes, h, w, k, 3, x, y);
        break;
    default:
        avg_pool(planes, h, w, k, stride, x, y);
        break;
    }
}

/* ---- backward ------------------------------------------------------------------------ */

/* dx:(n) = +0; memset is exact, the bits of 0.0f being all zero. */
static void zero_fill(size_t n, float *dx) {
    if (n) memset(dx, 0, n * sizeof(float));
}

void lathe_f32_max_pool2d_backward__simd128(size_t planes, size_t h, size_t w, size_t k,
                                            size_t stride, const uint32_t *argmax, const float *dy,
                                            float *dx) {
    const size_t ho = (h - k) / stride + 1, wo = (w - k) / stride + 1, plane = h * w;
    zero_fill(planes * plane, dx);
    for (size_t p = 0; p < planes; p++) {
        float *dxp = dx + p * plane;
        for (size_t o = 0; o < ho * wo; o++) {
            const size_t at = *argmax++;
            const float g = *dy++;
            if (at < plane) dxp[at] = dxp[at] + g;
        }
    }
}

void lathe_f32_avg_pool2d_backward__simd128(size_t planes, size_t h, size_t w, size_t k,
                                            size_t stride, const float *dy, float *dx) {
    const size_t ho = (h - k) / stride + 1, wo = (w - k) / stride + 1, plane = h * w;
    const float count = (float)(k * k);
    const v128 count4 = simde_wasm_f32x4_splat(count), zero = simde_wasm_f32x4_splat(0.0f);
    zero_fill(planes * plane, dx);
    for (size_t p = 0; p < planes; p++) {
        float *dxp = dx + p * plane;
        for (size_t i = 0; i < ho; i++, dy += wo) {
            size_t j = 0;
            if (k == 2 && stride == 2) {
                /* Windows (i, j..j+3) tile rows 2i, 2i+1 and columns 2j .. 2j+7, and no other
                 * window touches them: each of those dx is 0 + g, stored directly. */
                for (; j + 4 <= wo; j += 4) {
                    const v128 g =
                        simde_wasm_f32x4_add(zero, simde_wasm_f32x4_div(LOAD(dy + j), count4));
                    const v128 lo = simde_wasm_i32x4_shuffle(g, g, 0, 0, 1, 1);
                    const v128 hi = simde_wasm_i32x4_shuffle(g, g, 2, 2, 3, 3);
                    float *row = dxp + 2 * i * w + 2 * j;
                    STORE(row, lo);
                    STORE(row + 4, hi);
                    STORE(row + w, lo);
                    STORE(row + w + 4, hi);
                }
            }
            for (; j < wo; j++) {
                float *win = dxp + i * stride * w + j * stride;
                const float g = dy[j] / count;
                for (size_t ki = 0; ki < k; ki++)
                    for (size_t kj = 0; kj < k; kj++)
                        win[ki * w + kj] = win[ki * w + kj] + g;
            }
        }
    }
}
