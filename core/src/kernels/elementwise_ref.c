/* Element-wise kernels and the column sum, scalar twins: plain loops that define the bits
 * (kernels.h). The __simd128 twins in elementwise_simd128.c must reproduce them exactly. */
#include "lathe/kernels.h"

void lathe_f32_relu__ref(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void lathe_f32_relu_backward__ref(size_t n, const float *x, const float *dy, float *dx) {
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

void lathe_f32_leaky_relu__ref(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : LATHE_LEAKY_RELU_SLOPE * x[i];
}

void lathe_f32_leaky_relu_backward__ref(size_t n, const float *x, const float *dy, float *dx) {
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : LATHE_LEAKY_RELU_SLOPE * dy[i];
}

/* out:(cols): each column's sum starts at +0 and adds the rows in increasing i. */
void lathe_f32_colsum__ref(size_t rows, size_t cols, const float *x, size_t ldx, float *out) {
    for (size_t j = 0; j < cols; j++) {
        float s = 0.0f;
        for (size_t i = 0; i < rows; i++)
            s = s + x[i * ldx + j];
        out[j] = s;
    }
}

void lathe_f32_sigmoid_backward__ref(size_t n, const float *y, const float *dy, float *dx) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
}

void lathe_f32_tanh_backward__ref(size_t n, const float *y, const float *dy, float *dx) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void lathe_f32_adam__ref(size_t n, float *p, const float *g, float *m, float *v,
                         const lathe_adam_step *s) {
    for (size_t i = 0; i < n; i++) {
        float grad = g[i];
        if (s->decoupled) p[i] = p[i] * s->decay;
        else if (s->l2 != 0.0f) grad = grad + s->l2 * p[i];
        m[i] = s->b1 * m[i] + s->one_minus_b1 * grad;
        v[i] = s->b2 * v[i] + s->one_minus_b2 * (grad * grad);
        p[i] = p[i] - s->step_size * (m[i] / (__builtin_sqrtf(v[i]) / s->bias2_sqrt + s->eps));
    }
}
