/* Max and average pooling: the shape check, then the pool kernels of the table in use. */
#include "lathe/pool.h"

#include <stdint.h>

#include "lathe/kernels.h"

#include "base/checked_size.h"

lathe_status lathe_pool2d_output_size(const lathe_pool2d_shape *s, size_t *h_out, size_t *w_out,
                                      lathe_error *err) {
    size_t total;
    if (s->n == 0 || s->c == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "pool2d: batch %zu, channels %zu", s->n,
                               s->c);
    if (s->h == 0 || s->w == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "pool2d: input is %zux%zu", s->h, s->w);
    if (s->k == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "pool2d: kernel size is 0");
    if (s->stride == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "pool2d: stride is 0");
    if (s->k > s->h || s->k > s->w)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "pool2d: kernel %zu is larger than the input %zux%zu", s->k, s->h,
                               s->w);
    if (!lathe_size_mul4(s->n, s->c, s->h, s->w, &total) || !lathe_size_mul(s->k, s->k, &total) ||
        s->h * s->w > UINT32_MAX)
        return lathe_error_set(err, LATHE_ERR_INVALID, "pool2d: tensor sizes overflow");
    if (h_out) *h_out = (s->h - s->k) / s->stride + 1;
    if (w_out) *w_out = (s->w - s->k) / s->stride + 1;
    return LATHE_OK;
}

/* The pooling layers check the shape and hand the n·c planes to the pool kernels of the table
 * the caller passes, which follow the order documented in lathe/conv.h and
 * lathe/kernels.h; every table gives the same bits. */
void lathe_max_pool2d_forward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                              const float *x, float *y, uint32_t *argmax) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    k->max_pool2d(s->n * s->c, s->h, s->w, s->k, s->stride, x, y, argmax);
}

void lathe_max_pool2d_backward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                               const uint32_t *argmax, const float *dy, float *dx) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    k->max_pool2d_backward(s->n * s->c, s->h, s->w, s->k, s->stride, argmax, dy, dx);
}

void lathe_avg_pool2d_forward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                              const float *x, float *y) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    k->avg_pool2d(s->n * s->c, s->h, s->w, s->k, s->stride, x, y);
}

void lathe_avg_pool2d_backward(const lathe_kernel_table *k, const lathe_pool2d_shape *s,
                               const float *dy, float *dx) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    k->avg_pool2d_backward(s->n * s->c, s->h, s->w, s->k, s->stride, dy, dx);
}
