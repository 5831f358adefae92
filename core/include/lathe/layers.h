/* Layer, activation and loss kernels on flat arrays, in PyTorch's conventions (see
 * ../shared/reference/vectors/README.md): dense W is (out,in), y = x·Wᵀ + b; feature maps are
 * NCHW. Backward functions take the upstream gradient dy and write (not accumulate) the
 * gradients asked for; any gradient pointer may be NULL to skip it. No allocation. */
#ifndef LATHE_LAYERS_H
#define LATHE_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/kernels.h"

/* y:(n,out) = x:(n,in) · w:(out,in)ᵀ + b:(out) (b may be NULL). */
void lathe_dense_forward(const lathe_kernel_table *k, size_t n, size_t in, size_t out,
                         const float *x, const float *w, const float *b, float *y);
/* dx:(n,in) = dy·w; dw:(out,in) = dyᵀ·x; db:(out) = Σ_n dy (summed in row order). */
void lathe_dense_backward(const lathe_kernel_table *k, size_t n, size_t in, size_t out,
                          const float *x, const float *w, const float *dy, float *dx, float *dw,
                          float *db);

typedef enum lathe_activation {
    LATHE_ACT_IDENTITY = 0,
    LATHE_ACT_RELU,
    LATHE_ACT_LEAKY_RELU, /* slope 0.01 for x < 0 */
    LATHE_ACT_SIGMOID,
    LATHE_ACT_TANH
} lathe_activation;

/* y[i] = f(x[i]) for n elements. */
void lathe_activation_forward(const lathe_kernel_table *k, lathe_activation act, size_t n,
                              const float *x, float *y);
/* dx[i] = dy[i] · f'(x[i]) using x and/or y (ReLU'(0) = 0, sigmoid' = y(1−y), tanh' = 1−y²). */
void lathe_activation_backward(const lathe_kernel_table *k, lathe_activation act, size_t n,
                               const float *x, const float *y, const float *dy, float *dx);

/* Row-wise softmax of x:(n,c) into y:(n,c), subtracting the row max first. */
void lathe_softmax_forward(const lathe_kernel_table *k, size_t n, size_t c, const float *x,
                           float *y);
/* Row-wise log-softmax: y = x − max − log Σ exp(x − max). */
void lathe_log_softmax_forward(const lathe_kernel_table *k, size_t n, size_t c, const float *x,
                               float *y);

/* Backward of softmax given its output y:(n,c): dx = y ⊙ (dy − Σ_j dy_j·y_j) per row. */
void lathe_softmax_backward(size_t n, size_t c, const float *y, const float *dy, float *dx);
/* Backward of log-softmax given its output y:(n,c): dx = dy − exp(y)·Σ_j dy_j per row. */
void lathe_log_softmax_backward(size_t n, size_t c, const float *y, const float *dy, float *dx);


#endif
