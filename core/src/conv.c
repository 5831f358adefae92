/* conv2d through im2col + the GEMM kernels, and max/avg pooling through the pool kernels.
 * The canonical order of every sum is documented in lathe/conv.h; the comments here show how
 * the GEMM calls realise it. */
#include "lathe/conv.h"

#include <stdint.h>

/* *out = a·b; 0 on size_t overflow. */
static int mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

static int mul4(size_t a, size_t b, size_t c, size_t d, size_t *out) {
    size_t ab, abc;
    return mul_size(a, b, &ab) && mul_size(ab, c, &abc) && mul_size(abc, d, out);
}

lathe_status lathe_conv2d_output_size(const lathe_conv2d_shape *s, size_t *h_out, size_t *w_out,
                                      lathe_error *err) {
    size_t ho, wo, padded_h, padded_w, taps, total;
    if (s->n == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "conv2d: batch size is 0");
    if (s->in_ch == 0 || s->out_ch == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "conv2d: channels must be >= 1 (in %zu, out %zu)", s->in_ch,
                               s->out_ch);
    if (s->h == 0 || s->w == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "conv2d: input is %zux%zu", s->h, s->w);
    if (s->kh == 0 || s->kw == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "conv2d: kernel is %zux%zu", s->kh, s->kw);
    if (s->stride == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "conv2d: stride is 0");
    if (s->pad > (SIZE_MAX - s->h) / 2 || s->pad > (SIZE_MAX - s->w) / 2)
        return lathe_error_set(err, LATHE_ERR_INVALID, "conv2d: padding %zu is too large", s->pad);
    padded_h = s->h + 2 * s->pad;
    padded_w = s->w + 2 * s->pad;
    if (s->kh > padded_h || s->kw > padded_w)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "conv2d: kernel %zux%zu is larger than the padded input %zux%zu",
                               s->kh, s->kw, padded_h, padded_w);
    ho = (padded_h - s->kh) / s->stride + 1;
    wo = (padded_w - s->kw) / s->stride + 1;
    if (!mul_size(s->kh, s->kw, &taps) || !mul4(s->n, s->in_ch, s->h, s->w, &total) ||
        !mul4(s->n, s->out_ch, ho, wo, &total) || !mul4(s->out_ch, s->in_ch, taps, 1, &total) ||
        !mul4(s->in_ch, taps, ho, wo, &total))
        return lathe_error_set(err, LATHE_ERR_INVALID, "conv2d: tensor sizes overflow");
    if (h_out) *h_out = ho;
    if (w_out) *w_out = wo;
    return LATHE_OK;
}

size_t lathe_conv2d_workspace_size(const lathe_conv2d_shape *s) {
    size_t ho, wo;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return 0;
    return s->in_ch * s->kh * s->kw * ho * wo;
}

/* col:(in_ch·kh·kw, ho·wo) with col[(c·kh + ki)·kw + kj][i·wo + j] = xpad[c, i·s+ki, j·s+kj]
 * for one sample x:(in_ch, h, w); padding taps are 0. */
static void im2col(const lathe_conv2d_shape *s, size_t ho, size_t wo, const float *x, float *col) {
    size_t c, ki, kj, i, j;
    for (c = 0; c < s->in_ch; c++)
        for (ki = 0; ki < s->kh; ki++)
            for (kj = 0; kj < s->kw; kj++) {
                const float *plane = x + c * s->h * s->w;
                for (i = 0; i < ho; i++) {
                    /* Row index in x, as an unsigned offset: hp = i·s + ki − pad. */
                    size_t hp = i * s->stride + ki;
                    int row_in = hp >= s->pad && hp - s->pad < s->h;
                    for (j = 0; j < wo; j++) {
                        size_t wp = j * s->stride + kj;
                        int in = row_in && wp >= s->pad && wp - s->pad < s->w;
                        *col++ = in ? plane[(hp - s->pad) * s->w + (wp - s->pad)] : 0.0f;
                    }
                }
            }
}

/* dx:(in_ch, h, w) = 0, then for each row (c, ki, kj) in order, for each (i, j): add
 * col[row][i·wo + j] to the input element its tap lands on (padding taps are dropped). */
static void col2im(const lathe_conv2d_shape *s, size_t ho, size_t wo, const float *col, float *dx) {
    size_t c, ki, kj, i, j, plane = s->h * s->w;
    for (i = 0; i < s->in_ch * plane; i++)
        dx[i] = 0.0f;
    for (c = 0; c < s->in_ch; c++)
        for (ki = 0; ki < s->kh; ki++)
            for (kj = 0; kj < s->kw; kj++) {
                float *out = dx + c * plane;
                for (i = 0; i < ho; i++) {
                    size_t hp = i * s->stride + ki;
                    int row_in = hp >= s->pad && hp - s->pad < s->h;
                    for (j = 0; j < wo; j++, col++) {
                        size_t wp = j * s->stride + kj;
                        if (row_in && wp >= s->pad && wp - s->pad < s->w)
                            out[(hp - s->pad) * s->w + (wp - s->pad)] += *col;
                    }
                }
            }
}

void lathe_conv2d_forward(const lathe_kernel_table *k, const lathe_conv2d_shape *s, const float *x,
                          const float *w, const float *b, float *y, float *work) {
    size_t ho, wo, n, o, p, kk = s->in_ch * s->kh * s->kw, plane;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return;
    plane = ho * wo;
    for (n = 0; n < s->n; n++) {
        const float *xn = x + n * s->in_ch * s->h * s->w;
        float *yn = y + n * s->out_ch * plane;
        im2col(s, ho, wo, xn, work);
        /* yn:(out_ch, P) = W:(out_ch, K) · col:(K, P): s = 0; s += W·xpad over (c, ki, kj). */
        k->gemm_nn(s->out_ch, plane, kk, w, kk, work, plane, NULL, yn, plane, 0);
        if (b)
            for (o = 0; o < s->out_ch; o++)
                for (p = 0; p < plane; p++)
                    yn[o * plane + p] = yn[o * plane + p] + b[o];
    }
}

void lathe_conv2d_backward_data(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                                const float *w, const float *dy, float *dx, float *work) {
    size_t ho, wo, n, kk = s->in_ch * s->kh * s->kw, plane;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return;
    plane = ho * wo;
    for (n = 0; n < s->n; n++) {
        /* col:(K, P) = Wᵀ · dy_n:(out_ch, P): t = 0; t += dy·W over o, per tap and position. */
        k->gemm_tn(kk, plane, s->out_ch, w, kk, dy + n * s->out_ch * plane, plane, NULL, work,
                   plane, 0);
        col2im(s, ho, wo, work, dx + n * s->in_ch * s->h * s->w);
    }
}

void lathe_conv2d_backward_weights(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                                   const float *x, const float *dy, float *dw, float *db,
                                   float *work) {
    size_t ho, wo, n, o, p, kk = s->in_ch * s->kh * s->kw, plane;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return;
    plane = ho * wo;
    if (dw)
        for (n = 0; n < s->n; n++) {
            im2col(s, ho, wo, x + n * s->in_ch * s->h * s->w, work);
            /* dW:(out_ch, K) (+)= dy_n:(out_ch, P) · colᵀ: the per-sample partial s_n, added
             * to dW from the second sample on. */
            k->gemm_nt(s->out_ch, kk, plane, dy + n * s->out_ch * plane, plane, work, plane, NULL,
                       dw, kk, n > 0);
        }
    if (db)
        for (o = 0; o < s->out_ch; o++) {
            float sum = 0.0f;
            for (n = 0; n < s->n; n++) {
                const float *g = dy + (n * s->out_ch + o) * plane;
                for (p = 0; p < plane; p++)
                    sum = sum + g[p];
            }
            db[o] = sum;
        }
}

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
    if (!mul4(s->n, s->c, s->h, s->w, &total) || !mul_size(s->k, s->k, &total) ||
        s->h * s->w > UINT32_MAX)
        return lathe_error_set(err, LATHE_ERR_INVALID, "pool2d: tensor sizes overflow");
    if (h_out) *h_out = (s->h - s->k) / s->stride + 1;
    if (w_out) *w_out = (s->w - s->k) / s->stride + 1;
    return LATHE_OK;
}

/* The pooling layers check the shape and hand the n·c planes to the pool kernels of the table
 * in use (lathe_kernels()), which follow the order documented in lathe/conv.h and
 * lathe/kernels.h; every table gives the same bits. */
void lathe_max_pool2d_forward(const lathe_pool2d_shape *s, const float *x, float *y,
                              uint32_t *argmax) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    lathe_kernels()->max_pool2d(s->n * s->c, s->h, s->w, s->k, s->stride, x, y, argmax);
}

void lathe_max_pool2d_backward(const lathe_pool2d_shape *s, const uint32_t *argmax, const float *dy,
                               float *dx) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    lathe_kernels()->max_pool2d_backward(s->n * s->c, s->h, s->w, s->k, s->stride, argmax, dy, dx);
}

void lathe_avg_pool2d_forward(const lathe_pool2d_shape *s, const float *x, float *y) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    lathe_kernels()->avg_pool2d(s->n * s->c, s->h, s->w, s->k, s->stride, x, y);
}

void lathe_avg_pool2d_backward(const lathe_pool2d_shape *s, const float *dy, float *dx) {
    if (lathe_pool2d_output_size(s, NULL, NULL, NULL) != LATHE_OK) return;
    lathe_kernels()->avg_pool2d_backward(s->n * s->c, s->h, s->w, s->k, s->stride, dy, dx);
}
