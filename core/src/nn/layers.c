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

void lathe_activation_forward(const lathe_kernel_table *k, lathe_activation act, size_t n,
                              const float *x, float *y) {
    size_t i;
    switch (act) {
    case LATHE_ACT_IDENTITY:
        for (i = 0; i < n; i++)
            y[i] = x[i];
        break;
    case LATHE_ACT_RELU:
        k->relu(n, x, y);
        break;
    case LATHE_ACT_LEAKY_RELU:
        k->leaky_relu(n, x, y);
        break;
    case LATHE_ACT_SIGMOID:
        k->sigmoid(n, x, y);
        break;
    case LATHE_ACT_TANH:
        k->tanh_each(n, x, y);
        break;
    }
}

void lathe_activation_backward(const lathe_kernel_table *k, lathe_activation act, size_t n,
                               const float *x, const float *y, const float *dy, float *dx) {
    size_t i;
    switch (act) {
    case LATHE_ACT_IDENTITY:
        for (i = 0; i < n; i++)
            dx[i] = dy[i];
        break;
    case LATHE_ACT_RELU:
        k->relu_backward(n, x, dy, dx);
        break;
    case LATHE_ACT_LEAKY_RELU:
        k->leaky_relu_backward(n, x, dy, dx);
        break;
    case LATHE_ACT_SIGMOID:
        k->sigmoid_backward(n, y, dy, dx);
        break;
    case LATHE_ACT_TANH:
        k->tanh_backward(n, y, dy, dx);
        break;
    }
}

void lathe_softmax_forward(const lathe_kernel_table *k, size_t n, size_t c, const float *x,
                           float *y) {
    k->softmax(n, c, x, y);
}

void lathe_log_softmax_forward(const lathe_kernel_table *k, size_t n, size_t c, const float *x,
                               float *y) {
    k->log_softmax(n, c, x, y);
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
