/* Integer GEMM, SIMD twin (SIMDe's wasm SIMD128 API): i32x4.dot_i16x8_s multiplies eight
 * int16 pairs and adds adjacent products into four int32 lanes (pmaddwd on x86). Integer sums
 * are exact in any order, so this twin may split each reduction across lanes and still give
 * the bits of qgemm_ref.c.
 *
 * A tile of 2 rows × 4 columns keeps eight accumulators: per step of 8 values of k it loads 2
 * A vectors and 4 B vectors for 8 dot products. At the end, the four accumulators of a row are
 * folded into one vector of its four outputs. K is a multiple of 8 (kernels.h). */
#include "lathe/kernels.h"

#include <simde/wasm/simd128.h>

#define LOAD(p) simde_wasm_v128_load(p)
#define DOT(a, b) simde_wasm_i32x4_dot_i16x8(a, b)
#define ADD(a, b) simde_wasm_i32x4_add(a, b)

/* [Σ a, Σ b, Σ c, Σ d] from four vectors of partial sums. */
static simde_v128_t fold4(simde_v128_t a, simde_v128_t b, simde_v128_t c, simde_v128_t d) {
    simde_v128_t ab = ADD(simde_wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), simde_wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    simde_v128_t cd = ADD(simde_wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), simde_wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return ADD(simde_wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), simde_wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* The sum of one vector's four lanes. */
static int32_t fold1(simde_v128_t v) {
    return simde_wasm_i32x4_extract_lane(v, 0) + simde_wasm_i32x4_extract_lane(v, 1) +
           simde_wasm_i32x4_extract_lane(v, 2) + simde_wasm_i32x4_extract_lane(v, 3);
}

void lathe_s16_gemm_nt__simd128(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                                const int16_t *b, size_t ldb, int32_t *out, size_t ldc) {
    size_t i = 0, j, k;
    for (; i + 2 <= M; i += 2) {
        const int16_t *a0 = a + i * lda, *a1 = a0 + lda;
        for (j = 0; j + 4 <= N; j += 4) {
            const int16_t *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            simde_v128_t c00 = simde_wasm_i32x4_splat(0), c01 = c00, c02 = c00, c03 = c00;
            simde_v128_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            for (k = 0; k < K; k += 8) {
                simde_v128_t x0 = LOAD(a0 + k), x1 = LOAD(a1 + k);
                simde_v128_t w0 = LOAD(b0 + k), w1 = LOAD(b1 + k), w2 = LOAD(b2 + k), w3 = LOAD(b3 + k);
                c00 = ADD(c00, DOT(x0, w0)), c01 = ADD(c01, DOT(x0, w1));
                c02 = ADD(c02, DOT(x0, w2)), c03 = ADD(c03, DOT(x0, w3));
                c10 = ADD(c10, DOT(x1, w0)), c11 = ADD(c11, DOT(x1, w1));
                c12 = ADD(c12, DOT(x1, w2)), c13 = ADD(c13, DOT(x1, w3));
            }
            simde_wasm_v128_store(out + i * ldc + j, fold4(c00, c01, c02, c03));
            simde_wasm_v128_store(out + (i + 1) * ldc + j, fold4(c10, c11, c12, c13));
        }
        for (; j < N; j++) {
            const int16_t *bj = b + j * ldb;
            simde_v128_t c0 = simde_wasm_i32x4_splat(0), c1 = c0;
            for (k = 0; k < K; k += 8) {
                simde_v128_t w = LOAD(bj + k);
                c0 = ADD(c0, DOT(LOAD(a0 + k), w)), c1 = ADD(c1, DOT(LOAD(a1 + k), w));
            }
            out[i * ldc + j] = fold1(c0), out[(i + 1) * ldc + j] = fold1(c1);
        }
    }
    for (; i < M; i++) {
        const int16_t *a0 = a + i * lda;
        for (j = 0; j + 4 <= N; j += 4) {
            const int16_t *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            simde_v128_t c0 = simde_wasm_i32x4_splat(0), c1 = c0, c2 = c0, c3 = c0;
            for (k = 0; k < K; k += 8) {
                simde_v128_t x0 = LOAD(a0 + k);
                c0 = ADD(c0, DOT(x0, LOAD(b0 + k))), c1 = ADD(c1, DOT(x0, LOAD(b1 + k)));
                c2 = ADD(c2, DOT(x0, LOAD(b2 + k))), c3 = ADD(c3, DOT(x0, LOAD(b3 + k)));
            }
            simde_wasm_v128_store(out + i * ldc + j, fold4(c0, c1, c2, c3));
        }
        for (; j < N; j++) {
            const int16_t *bj = b + j * ldb;
            simde_v128_t c0 = simde_wasm_i32x4_splat(0);
            for (k = 0; k < K; k += 8) c0 = ADD(c0, DOT(LOAD(a0 + k), LOAD(bj + k)));
            out[i * ldc + j] = fold1(c0);
        }
    }
}

/* lathe_int8_quantize less the zero point, four lanes at a time, in quant.h's steps: the
 * division, a NaN to 0, the clamp to ±512, the rounding by adding and subtracting 1.5·2^23,
 * then in integers the zero point, the clamp to [−128, 127] and the zero point back off. */
void lathe_f32_quantize_s16__simd128(size_t n, const float *x, float scale, int32_t zero_point,
                                     int16_t *out) {
    const simde_v128_t s = simde_wasm_f32x4_splat(scale), lo = simde_wasm_f32x4_splat(-512.0f),
                       hi = simde_wasm_f32x4_splat(512.0f), magic = simde_wasm_f32x4_splat(12582912.0f),
                       z = simde_wasm_i32x4_splat(zero_point), qlo = simde_wasm_i32x4_splat(-128),
                       qhi = simde_wasm_i32x4_splat(127);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        simde_v128_t r[2], q[2];
        for (int h = 0; h < 2; h++) {
            simde_v128_t v = simde_wasm_f32x4_div(LOAD(x + i + 4 * h), s);
            v = simde_wasm_v128_and(v, simde_wasm_f32x4_eq(v, v));
            v = simde_wasm_f32x4_pmin(hi, simde_wasm_f32x4_pmax(lo, v));
            r[h] = simde_wasm_f32x4_sub(simde_wasm_f32x4_add(v, magic), magic);
            q[h] = simde_wasm_i32x4_add(simde_wasm_i32x4_trunc_sat_f32x4(r[h]), z);
            q[h] = simde_wasm_i32x4_min(simde_wasm_i32x4_max(q[h], qlo), qhi);
            q[h] = simde_wasm_i32x4_sub(q[h], z);
        }
        simde_wasm_v128_store(out + i, simde_wasm_i16x8_narrow_i32x4(q[0], q[1]));
    }
    lathe_f32_quantize_s16__ref(n - i, x + i, scale, zero_point, out + i);
}
