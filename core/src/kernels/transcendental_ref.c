/* Transcendental element-wise kernels and the row-wise softmaxes, scalar twins: the core's
 * own functions (lathe/mathf.h) element by element, which define the bits (kernels.h). The
 * __simd128 twins in transcendental_simd128.c must reproduce them exactly. */
#include "lathe/kernels.h"
#include "lathe/mathf.h"

void lathe_f32_exp__ref(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = lathe_expf(x[i]);
}

void lathe_f32_sigmoid__ref(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = lathe_sigmoidf(x[i]);
}

void lathe_f32_tanh__ref(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = lathe_tanhf(x[i]);
}

/* m = z[0]; for j = 1..c-1: m = z[j] > m ? z[j] : m (a NaN after z[0] never replaces m). */
static float row_max(size_t c, const float *z) {
    float m = z[0];
    for (size_t j = 1; j < c; j++)
        if (z[j] > m) m = z[j];
    return m;
}

void lathe_f32_softmax__ref(size_t n, size_t c, const float *x, float *y) {
    if (c == 0) return;
    for (size_t i = 0; i < n; i++) {
        const float *z = x + i * c;
        float *out = y + i * c, m = row_max(c, z), sum = 0.0f;
        for (size_t j = 0; j < c; j++) {
            out[j] = lathe_expf(z[j] - m);
            sum += out[j];
        }
        for (size_t j = 0; j < c; j++)
            out[j] = out[j] / sum;
    }
}

void lathe_f32_log_softmax__ref(size_t n, size_t c, const float *x, float *y) {
    if (c == 0) return;
    for (size_t i = 0; i < n; i++) {
        const float *z = x + i * c;
        float m = row_max(c, z), sum = 0.0f, log_sum;
        for (size_t j = 0; j < c; j++)
            sum += lathe_expf(z[j] - m);
        log_sum = lathe_logf(sum);
        for (size_t j = 0; j < c; j++)
            y[i * c + j] = (z[j] - m) - log_sum;
    }
}
