/* Compute kernels. Each kernel has a plain scalar twin (__ref) and a SIMD twin (__simd128,
 * written against SIMDe's wasm SIMD128 API: native SIMD128 in wasm, SSE on x86, NEON on
 * ARM). Both are always compiled; lathe_kernels() returns the table in use.
 *
 * Canonical order (the parity contract): every output element is one reduction computed in
 * a fixed order, so the twins agree bit for bit. SIMD code vectorises across independent
 * outputs, never along a reduction. For GEMM, each out[i,j] is
 *     s = 0;  for k = 0..K-1:  s = s + a_ik * b_kj;   (products rounded, then added)
 *     if (bias)       s = s + bias[j];
 *     out[i,j] = accumulate ? out[i,j] + s : s;
 * Matrices are row-major with leading dimensions (row strides, in elements) lda, ldb, ldc.
 * No kernel allocates. */
#ifndef LATHE_KERNELS_H
#define LATHE_KERNELS_H

#include <stddef.h>

/* out:(M,N) = a:(M,K) · b:(K,N) (+ bias:(N) or NULL) (+ out when accumulate != 0). */
typedef void (*lathe_gemm_fn)(size_t M, size_t N, size_t K, const float *a, size_t lda,
                              const float *b, size_t ldb, const float *bias, float *out,
                              size_t ldc, int accumulate);

void lathe_f32_gemm_nn__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out,
                            size_t ldc, int accumulate);
void lathe_f32_gemm_nn__simd128(size_t M, size_t N, size_t K, const float *a, size_t lda,
                                const float *b, size_t ldb, const float *bias, float *out,
                                size_t ldc, int accumulate);
/* out:(M,N) = a:(M,K) · bᵀ where b is (N,K) with row stride ldb. Same order as gemm_nn. */
void lathe_f32_gemm_nt__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out,
                            size_t ldc, int accumulate);
void lathe_f32_gemm_nt__simd128(size_t M, size_t N, size_t K, const float *a, size_t lda,
                                const float *b, size_t ldb, const float *bias, float *out,
                                size_t ldc, int accumulate);
/* out:(M,N) = aᵀ · b where a is (K,M) with row stride lda and b is (K,N). Same order. */
void lathe_f32_gemm_tn__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out,
                            size_t ldc, int accumulate);
void lathe_f32_gemm_tn__simd128(size_t M, size_t N, size_t K, const float *a, size_t lda,
                                const float *b, size_t ldb, const float *bias, float *out,
                                size_t ldc, int accumulate);

typedef enum lathe_isa { LATHE_ISA_REF = 0, LATHE_ISA_SIMD128 = 1 } lathe_isa;

typedef struct lathe_kernel_table {
    lathe_isa isa;
    const char *name; /* "ref" or "simd128" */
    lathe_gemm_fn gemm_nn;
    lathe_gemm_fn gemm_nt;
    lathe_gemm_fn gemm_tn;
} lathe_kernel_table;

/* The table for isa (a static object; never NULL). */
const lathe_kernel_table *lathe_kernels_for(lathe_isa isa);
/* The table in use (simd128 unless lathe_kernels_select chose otherwise). */
const lathe_kernel_table *lathe_kernels(void);
/* Chooses the table in use. Both give identical bits; ref is for tests and debugging. */
void lathe_kernels_select(lathe_isa isa);

#endif
