/* Integer GEMM, 256-bit twin (SIMDe's x86 API; LATHE_KERNELS_AVX2 builds only, used when the
 * CPU has AVX2): vpmaddwd multiplies sixteen int16 pairs and adds adjacent products into
 * eight int32 lanes. Exact sums in another order: the bits of qgemm_ref.c. The tile is the
 * simd128 twin's, 2 rows × 4 columns; K steps of 16, then one of 8 when K is an odd multiple
 * of 8 (kernels.h: K is a multiple of 8). */
#ifdef LATHE_KERNELS_AVX2

#include "lathe/kernels.h"

#include <simde/x86/avx2.h>

#define LOAD256(p) simde_mm256_loadu_si256((const simde__m256i *)(const void *)(p))
#define LOAD128(p) simde_mm_loadu_si128((const simde__m128i *)(const void *)(p))

/* [Σ a, Σ b, Σ c, Σ d] from four vectors of eight partial sums. */
static simde__m128i fold4(simde__m256i a, simde__m256i b, simde__m256i c, simde__m256i d) {
    simde__m256i ab = simde_mm256_hadd_epi32(a, b), cd = simde_mm256_hadd_epi32(c, d);
    simde__m256i abcd = simde_mm256_hadd_epi32(ab, cd); /* per 128-bit half: a b c d */
    return simde_mm_add_epi32(simde_mm256_castsi256_si128(abcd), simde_mm256_extracti128_si256(abcd, 1));
}

/* The dot product of one row pair's K values, as a sum of lanes. */
static int32_t dot(const int16_t *a, const int16_t *b, size_t K) {
    simde__m256i acc = simde_mm256_setzero_si256();
    simde__m128i acc4;
    size_t k = 0;
    int32_t lanes[4];
    for (; k + 16 <= K; k += 16) acc = simde_mm256_add_epi32(acc, simde_mm256_madd_epi16(LOAD256(a + k), LOAD256(b + k)));
    acc4 = simde_mm_add_epi32(simde_mm256_castsi256_si128(acc), simde_mm256_extracti128_si256(acc, 1));
    if (k < K) acc4 = simde_mm_add_epi32(acc4, simde_mm_madd_epi16(LOAD128(a + k), LOAD128(b + k)));
    simde_mm_storeu_si128((simde__m128i *)(void *)lanes, acc4);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

void lathe_s16_gemm_nt__avx2(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                             const int16_t *b, size_t ldb, int32_t *out, size_t ldc) {
    size_t i = 0, j, k, K16 = K / 16 * 16;
    for (; i + 2 <= M; i += 2) {
        const int16_t *a0 = a + i * lda, *a1 = a0 + lda;
        for (j = 0; j + 4 <= N; j += 4) {
            const int16_t *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            simde__m256i c00 = simde_mm256_setzero_si256(), c01 = c00, c02 = c00, c03 = c00;
            simde__m256i c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            simde__m128i r0, r1;
            for (k = 0; k < K16; k += 16) {
                simde__m256i x0 = LOAD256(a0 + k), x1 = LOAD256(a1 + k);
                simde__m256i w0 = LOAD256(b0 + k), w1 = LOAD256(b1 + k), w2 = LOAD256(b2 + k),
                             w3 = LOAD256(b3 + k);
                c00 = simde_mm256_add_epi32(c00, simde_mm256_madd_epi16(x0, w0));
                c01 = simde_mm256_add_epi32(c01, simde_mm256_madd_epi16(x0, w1));
                c02 = simde_mm256_add_epi32(c02, simde_mm256_madd_epi16(x0, w2));
                c03 = simde_mm256_add_epi32(c03, simde_mm256_madd_epi16(x0, w3));
                c10 = simde_mm256_add_epi32(c10, simde_mm256_madd_epi16(x1, w0));
                c11 = simde_mm256_add_epi32(c11, simde_mm256_madd_epi16(x1, w1));
                c12 = simde_mm256_add_epi32(c12, simde_mm256_madd_epi16(x1, w2));
                c13 = simde_mm256_add_epi32(c13, simde_mm256_madd_epi16(x1, w3));
            }
            r0 = fold4(c00, c01, c02, c03), r1 = fold4(c10, c11, c12, c13);
            if (K16 < K) { /* the last 8 values */
                int32_t t0[4], t1[4];
                size_t q;
                for (q = 0; q < 4; q++) {
                    const int16_t *bq = b0 + q * ldb;
                    simde__m128i w = LOAD128(bq + K16);
                    simde__m128i p0 = simde_mm_madd_epi16(LOAD128(a0 + K16), w), p1 = simde_mm_madd_epi16(LOAD128(a1 + K16), w);
                    int32_t l0[4], l1[4];
                    simde_mm_storeu_si128((simde__m128i *)(void *)l0, p0);
                    simde_mm_storeu_si128((simde__m128i *)(void *)l1, p1);
                    t0[q] = l0[0] + l0[1] + l0[2] + l0[3];
                    t1[q] = l1[0] + l1[1] + l1[2] + l1[3];
                }
                r0 = simde_mm_add_epi32(r0, LOAD128(t0));
                r1 = simde_mm_add_epi32(r1, LOAD128(t1));
            }
            simde_mm_storeu_si128((simde__m128i *)(void *)(out + i * ldc + j), r0);
            simde_mm_storeu_si128((simde__m128i *)(void *)(out + (i + 1) * ldc + j), r1);
        }
        for (; j < N; j++) {
            out[i * ldc + j] = dot(a0, b + j * ldb, K);
            out[(i + 1) * ldc + j] = dot(a1, b + j * ldb, K);
        }
    }
    for (; i < M; i++)
        for (j = 0; j < N; j++) out[i * ldc + j] = dot(a + i * lda, b + j * ldb, K);
}

#endif
