/* GEMM, scalar twins: plain loops in the canonical order of kernels.h. These define the
 * bits; the __simd128 twins in gemm_simd128.c must reproduce them exactly. */
#include "lathe/kernels.h"

/* out:(M,N) with element (i,j) = sum over k of A(i,k) * B(k,j), where A(i,k) is
 * a[i*a_rs + k*a_ks] and B(k,j) is b[k*b_ks + j*b_cs]: the three layouts differ only in
 * these strides. The sum starts at 0 and adds the rounded products in increasing k; then
 * bias[j]; then, when accumulating, it is added to the old out(i,j). */
static void gemm_strided(size_t M, size_t N, size_t K, const float *a, size_t a_rs, size_t a_ks,
                         const float *b, size_t b_ks, size_t b_cs, const float *bias, float *out,
                         size_t ldc, int accumulate) {
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            float s = 0.0f;
            for (size_t k = 0; k < K; k++) {
                float p = a[i * a_rs + k * a_ks] * b[k * b_ks + j * b_cs];
                s = s + p;
            }
            if (bias) s = s + bias[j];
            out[i * ldc + j] = accumulate ? out[i * ldc + j] + s : s;
        }
    }
}

void lathe_f32_gemm_nn__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out, size_t ldc,
                            int accumulate) {
    gemm_strided(M, N, K, a, lda, 1, b, ldb, 1, bias, out, ldc, accumulate);
}

/* b is (N,K): B(k,j) = b[j*ldb + k]. */
void lathe_f32_gemm_nt__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out, size_t ldc,
                            int accumulate) {
    gemm_strided(M, N, K, a, lda, 1, b, 1, ldb, bias, out, ldc, accumulate);
}

/* a is (K,M): A(i,k) = a[k*lda + i]. */
void lathe_f32_gemm_tn__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out, size_t ldc,
                            int accumulate) {
    gemm_strided(M, N, K, a, 1, lda, b, ldb, 1, bias, out, ldc, accumulate);
}
