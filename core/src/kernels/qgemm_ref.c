/* Integer kernels, scalar twins: the definitions of lathe_s16_gemm_nt and lathe_f32_quantize_s16 (kernels.h). */
#include "lathe/kernels.h"
#include "lathe/quant.h"

void lathe_s16_gemm_nt__ref(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                            const int16_t *b, size_t ldb, int32_t *out, size_t ldc) {
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            int32_t s = 0;
            for (size_t k = 0; k < K; k++) s += (int32_t)a[i * lda + k] * (int32_t)b[j * ldb + k];
            out[i * ldc + j] = s;
        }
}

void lathe_f32_quantize_s16__ref(size_t n, const float *x, float scale, int32_t zero_point,
                                 int16_t *out) {
    for (size_t i = 0; i < n; i++)
        out[i] = (int16_t)(lathe_int8_quantize(x[i], scale, zero_point) - zero_point);
}
