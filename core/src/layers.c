#include "lathe/layers.h"

#include "lathe/mathf.h"

void lathe_dense_forward(const lathe_kernel_table *k, size_t n, size_t in, size_t out,
                         const float *x, const float *w, const float *b, float *y) {
    k->gemm_nt(n, out, in, x, in, w, in, b, y, out, 0);
}

void lathe_dense_backward(const lathe_kernel_table *k, size_t n, size_t in, size_t out,
                          const float *x, const float *w, const float *dy, float *dx, float *dw,
                          float *db) {
    if (dx) k->gemm_nn(n, in, out, dy, out, w, in, NULL, dx, in, 0);
    if (dw) k->gemm_tn(out, in, n, dy, out, x, in, NULL, dw, in, 0);
    if (db) k->colsum(n, out, dy, out, db);
}

void lathe_activation_forward(lathe_activation act, size_t n, const float *x, float *y) {
    size_t i;
    switch (act) {
    case LATHE_ACT_IDENTITY:
        for (i = 0; i < n; i++) y[i] = x[i];
        break;
    case LATHE_ACT_RELU:
        lathe_kernels()->relu(n, x, y);
        break;
    case LATHE_ACT_LEAKY_RELU:
        lathe_kernels()->leaky_relu(n, x, y);
        break;
    case LATHE_ACT_SIGMOID:
        lathe_kernels()->sigmoid(n, x, y);
        break;
    case LATHE_ACT_TANH:
        lathe_kernels()->tanh_each(n, x, y);
        break;
    }
}

void lathe_activation_backward(lathe_activation act, size_t n, const float *x, const float *y,
                               const float *dy, float *dx) {
    size_t i;
    switch (act) {
    case LATHE_ACT_IDENTITY:
        for (i = 0; i < n; i++) dx[i] = dy[i];
        break;
    case LATHE_ACT_RELU:
        lathe_kernels()->relu_backward(n, x, dy, dx);
        break;
    case LATHE_ACT_LEAKY_RELU:
        lathe_kernels()->leaky_relu_backward(n, x, dy, dx);
        break;
    case LATHE_ACT_SIGMOID:
        lathe_kernels()->sigmoid_backward(n, y, dy, dx);
        break;
    case LATHE_ACT_TANH:
        lathe_kernels()->tanh_backward(n, y, dy, dx);
        break;
    }
}

static float row_max(size_t c, const float *z) {
    float m = z[0];
    size_t j;
    for (j = 1; j < c; j++)
        if (z[j] > m) m = z[j];
    return m;
}

void lathe_softmax_forward(size_t n, size_t c, const float *x, float *y) {
    lathe_kernels()->softmax(n, c, x, y);
}

void lathe_log_softmax_forward(size_t n, size_t c, const float *x, float *y) {
    lathe_kernels()->log_softmax(n, c, x, y);
}

void lathe_softmax_backward(size_t n, size_t c, const float *y, const float *dy, float *dx) {
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *yr = y + i * c, *g = dy + i * c;
        float dot = 0.0f;
        for (j = 0; j < c; j++) dot += g[j] * yr[j];
        for (j = 0; j < c; j++) dx[i * c + j] = yr[j] * (g[j] - dot);
    }
}

void lathe_log_softmax_backward(size_t n, size_t c, const float *y, const float *dy, float *dx) {
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *yr = y + i * c, *g = dy + i * c;
        float sum = 0.0f;
        for (j = 0; j < c; j++) sum += g[j];
        for (j = 0; j < c; j++) dx[i * c + j] = g[j] - lathe_expf(yr[j]) * sum;
    }
}

float lathe_softmax_cross_entropy(size_t n, size_t c, const float *logits,
                                  const uint32_t *targets, float *grad) {
    float total = 0.0f, inv_n = 1.0f / (float)n;
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *z = logits + i * c;
        float m = row_max(c, z), sum = 0.0f, log_sum;
        for (j = 0; j < c; j++) sum += lathe_expf(z[j] - m);
        log_sum = lathe_logf(sum);
        total += (log_sum + m) - z[targets[i]];
        if (grad) {
            float *g = grad + i * c;
            for (j = 0; j < c; j++) {
                float p = lathe_expf(z[j] - m) / sum;
                g[j] = (p - (j == targets[i] ? 1.0f : 0.0f)) * inv_n;
            }
        }
    }
    return total / (float)n;
}

float lathe_mse(size_t n, size_t d, const float *pred, const float *target, float *grad) {
    size_t i, count = n * d;
    float total = 0.0f, scale = 2.0f / (float)count;
    for (i = 0; i < count; i++) {
        float diff = pred[i] - target[i];
        total += diff * diff;
        if (grad) grad[i] = scale * diff;
    }
    return total / (float)count;
}
