/* Integer GEMM, scalar twin: the definition of lathe_s16_gemm_nt (kernels.h). */
#include "lathe/kernels.h"

void lathe_s16_gemm_nt__ref(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                            const int16_t *b, size_t ldb, int32_t *out, size_t ldc) {
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            int32_t s = 0;
            for (size_t k = 0; k < K; k++) s += (int32_t)a[i * lda + k] * (int32_t)b[j * ldb + k];
            out[i * ldc + j] = s;
        }
}
