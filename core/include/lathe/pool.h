/* Pooling layers over NCHW images: max (with the argmax routing for backward) and average,
 * a k×k window moved by stride, no padding, floor mode. The kernels are in lathe/kernels.h. */
#ifndef LATHE_POOL_H
#define LATHE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/kernels.h"
#include "lathe/status.h"

/* Geometry of one pooling layer: x:(n, c, h, w), a k×k window moved by stride, no padding,
 * floor mode. */
typedef struct lathe_pool2d_shape {
    size_t n, c, h, w;
    size_t k, stride;
} lathe_pool2d_shape;

/* Checks s (every size >= 1, k <= h and k <= w, h·w fits in uint32_t, no size_t overflow) and
 * writes H_out = floor((h − k) / stride) + 1 and W_out likewise; h_out, w_out may be NULL. */
lathe_status lathe_pool2d_output_size(const lathe_pool2d_shape *s, size_t *h_out, size_t *w_out,
                                      lathe_error *err);

/* y:(n,c,H_out,W_out) = the window maxima of x:(n,c,h,w); argmax:(n,c,H_out,W_out) (or NULL
 * at inference) receives each maximum's index h·W + w inside its plane, the FIRST maximum in
 * row-major window order on ties (PyTorch CPU's choice). */
void lathe_max_pool2d_forward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                              const float *x, float *y, uint32_t *argmax);
/* dx:(n,c,h,w) = 0 except dy routed to each window's recorded argmax (overlaps add up). */
void lathe_max_pool2d_backward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                               const uint32_t *argmax, const float *dy, float *dx);

/* y:(n,c,H_out,W_out) = the window means of x:(n,c,h,w) (sum divided by k·k). */
void lathe_avg_pool2d_forward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                              const float *x, float *y);
/* dx:(n,c,h,w): each dy/(k·k) spread over its window (overlaps add up). */
void lathe_avg_pool2d_backward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                               const float *dy, float *dx);

#endif
