/* conv2d through im2col + the GEMM kernels (the pools are nn/pool.c).
 * The canonical order of every sum is documented in lathe/conv.h; the comments here show how
 * the GEMM calls realise it. */
#include "lathe/conv.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/checked_size.h"

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
    if (!lathe_size_mul(s->kh, s->kw, &taps) ||
        !lathe_size_mul4(s->n, s->in_ch, s->h, s->w, &total) ||
        !lathe_size_mul4(s->n, s->out_ch, ho, wo, &total) ||
        !lathe_size_mul4(s->out_ch, s->in_ch, taps, 1, &total) || s->out_ch > SIZE_MAX - ho * wo ||
        !lathe_size_mul4(s->in_ch, taps, ho * wo + s->out_ch, 1, &total))
        return lathe_error_set(err, LATHE_ERR_INVALID, "conv2d: tensor sizes overflow");
    if (h_out) *h_out = ho;
    if (w_out) *w_out = wo;
    return LATHE_OK;
}

size_t lathe_conv2d_workspace_size(const lathe_conv2d_shape *s) {
    size_t ho, wo;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return 0;
    return s->in_ch * s->kh * s->kw * (ho * wo + s->out_ch); /* col, then dWᵀ */
}

/* The span [*lo, *hi) of the output indices t < n_out whose tap k lands inside an input axis
 * of length len, that is 0 <= t·stride + k − pad < len; empty (*lo == *hi) when none does. */
static void valid_span(size_t n_out, size_t len, size_t stride, size_t pad, size_t k, size_t *lo,
                       size_t *hi) {
    size_t first = k < pad ? pad - k : 0, end = k < len + pad ? len + pad - k : 0;
    if (stride > 1) /* round both up: the first t with t·stride >= the bound */
        first = (first + stride - 1) / stride, end = (end + stride - 1) / stride;
    if (end > n_out) end = n_out;
    if (first > end) first = end;
    *lo = first, *hi = end;
}

/* The output rows [*i0, *i1) and columns [*j0, *j1) where tap (ki, kj) reads the input (not
 * the padding); the row span is empty when the column span is. */
static void tap_spans(const lathe_conv2d_shape *s, size_t ho, size_t wo, size_t ki, size_t kj,
                      size_t *i0, size_t *i1, size_t *j0, size_t *j1) {
    valid_span(ho, s->h, s->stride, s->pad, ki, i0, i1);
    valid_span(wo, s->w, s->stride, s->pad, kj, j0, j1);
    if (*j0 == *j1) *i1 = *i0;
}

/* dst[t] = dst[t] + src[t] for t < n. Written four at a time so that gcc -O2 vectorises it
 * (its cheap cost model leaves the plain loop scalar); each element is one addition either
 * way. */
static void add_floats(size_t n, float *restrict dst, const float *restrict src) {
    size_t t = 0;
    for (; t + 4 <= n; t += 4) {
        dst[t] = dst[t] + src[t];
        dst[t + 1] = dst[t + 1] + src[t + 1];
        dst[t + 2] = dst[t + 2] + src[t + 2];
        dst[t + 3] = dst[t + 3] + src[t + 3];
    }
    for (; t < n; t++)
        dst[t] = dst[t] + src[t];
}

/* dst[t] = dst[t] + v for t < n, four at a time like add_floats. */
static void add_scalar(size_t n, float *dst, float v) {
    size_t t = 0;
    for (; t + 4 <= n; t += 4) {
        dst[t] = dst[t] + v;
        dst[t + 1] = dst[t + 1] + v;
        dst[t + 2] = dst[t + 2] + v;
        dst[t + 3] = dst[t + 3] + v;
    }
    for (; t < n; t++)
        dst[t] = dst[t] + v;
}

/* dst[t] = src[t] for t < n, four at a time and the tail by hand: a plain loop becomes a call
 * to memcpy, which Emscripten sends to JavaScript from 512 bytes on (9% of a CNN step in
 * wasm, measured). */
static void copy_floats(size_t n, float *restrict dst, const float *restrict src) {
    size_t t = 0;
    for (; t + 4 <= n; t += 4) {
        dst[t] = src[t];
        dst[t + 1] = src[t + 1];
        dst[t + 2] = src[t + 2];
        dst[t + 3] = src[t + 3];
    }
    if (t < n) dst[t] = src[t];
    if (t + 1 < n) dst[t + 1] = src[t + 1];
    if (t + 2 < n) dst[t + 2] = src[t + 2];
}

/* Zeros col_row[i·wo + j] for the rows i in [i0, i1) and the columns j outside [j0, j1): the
 * places where a shifted whole-plane copy or sum crosses from one row into the next. Written
 * column by column (at most pad columns each side) so that no call is made per row. */
static void zero_row_ends(float *col_row, size_t wo, size_t i0, size_t i1, size_t j0, size_t j1) {
    size_t i, j;
    for (j = 0; j < j0; j++)
        for (i = i0; i < i1; i++)
            col_row[i * wo + j] = 0.0f;
    for (j = j1; j < wo; j++)
        for (i = i0; i < i1; i++)
            col_row[i * wo + j] = 0.0f;
}

/* The offset from col_row[i·wo + j] to the input element plane[(i·s+ki−pad)·w + j·s+kj−pad]
 * it reads (or adds to) when stride is 1 and wo == w: (ki − pad)·w + kj − pad, as a signed
 * number of floats. */
static ptrdiff_t shift_of(const lathe_conv2d_shape *s, size_t ki, size_t kj) {
    return ((ptrdiff_t)ki - (ptrdiff_t)s->pad) * (ptrdiff_t)s->w + (ptrdiff_t)kj -
           (ptrdiff_t)s->pad;
}

/* col_row:(ho·wo) = the row of im2col for tap (ki, kj) of one input plane:(h, w):
 * col_row[i·wo + j] = xpad[i·s+ki, j·s+kj], 0 in the padding. When stride is 1 and wo == w the
 * valid part is one shifted copy of the plane, whose row-crossing ends are then zeroed;
 * otherwise each output row is zeros, a span gathered from one input row, zeros. */
static void im2col_tap(const lathe_conv2d_shape *s, size_t ho, size_t wo, size_t ki, size_t kj,
                       const float *plane, float *col_row) {
    size_t i, t, i0, i1, j0, j1;
    tap_spans(s, ho, wo, ki, kj, &i0, &i1, &j0, &j1);
    memset(col_row, 0, i0 * wo * sizeof(float));
    if (i0 < i1 && s->stride == 1 && wo == s->w) {
        size_t first = i0 * wo + j0, end = (i1 - 1) * wo + j1;
        copy_floats(end - first, col_row + first, plane + ((ptrdiff_t)first + shift_of(s, ki, kj)));
        zero_row_ends(col_row, wo, i0, i1, j0, j1);
    } else {
        for (i = i0; i < i1; i++) {
            const float *src =
                plane + ((i * s->stride + ki - s->pad) * s->w + (j0 * s->stride + kj - s->pad));
            float *dst = col_row + i * wo;
            memset(dst, 0, j0 * sizeof(float));
            for (t = 0; t < j1 - j0; t++)
                dst[j0 + t] = src[t * s->stride];
            memset(dst + j1, 0, (wo - j1) * sizeof(float));
        }
    }
    memset(col_row + i1 * wo, 0, (ho - i1) * wo * sizeof(float));
}

/* col:(in_ch·kh·kw, ho·wo) with col[(c·kh + ki)·kw + kj][i·wo + j] = xpad[c, i·s+ki, j·s+kj]
 * for one sample x:(in_ch, h, w); padding taps are 0. */
static void im2col(const lathe_conv2d_shape *s, size_t ho, size_t wo, const float *x, float *col) {
    size_t c, ki, kj;
    for (c = 0; c < s->in_ch; c++)
        for (ki = 0; ki < s->kh; ki++)
            for (kj = 0; kj < s->kw; kj++, col += ho * wo)
                im2col_tap(s, ho, wo, ki, kj, x + c * s->h * s->w, col);
}

/* plane:(h, w) += the row of col for tap (ki, kj): col_row[i·wo + j] is added to the element
 * its tap lands on, padding taps are dropped. Every (i, j) of one tap lands on a different
 * element. When stride is 1 and wo == w this is one shifted whole-plane sum after the
 * row-crossing ends of col_row are set to +0: adding +0 leaves every sum unchanged, since a
 * sum that starts at +0 is never -0 (x + y is -0 only when both are -0). col_row is
 * overwritten. */
static void col2im_tap(const lathe_conv2d_shape *s, size_t ho, size_t wo, size_t ki, size_t kj,
                       float *col_row, float *plane) {
    size_t i, t, i0, i1, j0, j1;
    tap_spans(s, ho, wo, ki, kj, &i0, &i1, &j0, &j1);
    if (i0 < i1 && s->stride == 1 && wo == s->w) {
        size_t first = i0 * wo + j0, end = (i1 - 1) * wo + j1;
        float *dst = plane + ((ptrdiff_t)first + shift_of(s, ki, kj));
        zero_row_ends(col_row, wo, i0, i1, j0, j1);
        add_floats(end - first, dst, col_row + first);
        return;
    }
    for (i = i0; i < i1; i++) {
        float *dst =
            plane + ((i * s->stride + ki - s->pad) * s->w + (j0 * s->stride + kj - s->pad));
        const float *src = col_row + i * wo + j0;
        if (s->stride == 1)
            add_floats(j1 - j0, dst, src);
        else
            for (t = 0; t < j1 - j0; t++)
                dst[t * s->stride] = dst[t * s->stride] + src[t];
    }
}

/* dx:(in_ch, h, w) = 0, then for each row (c, ki, kj) of col in order, each value added to
 * the input element its tap lands on (padding taps are dropped), so each element receives its
 * contributions in (ki, kj) order. col is overwritten. */
static void col2im(const lathe_conv2d_shape *s, size_t ho, size_t wo, float *col, float *dx) {
    size_t c, ki, kj, plane = s->h * s->w;
    memset(dx, 0, s->in_ch * plane * sizeof(float));
    for (c = 0; c < s->in_ch; c++)
        for (ki = 0; ki < s->kh; ki++)
            for (kj = 0; kj < s->kw; kj++, col += ho * wo)
                col2im_tap(s, ho, wo, ki, kj, col, dx + c * plane);
}

/* db:(out_ch) from dy:(n, out_ch, plane): db[o] = 0; for n, for p: db[o] = db[o] + dy[n,o,p].
 * Four channels at a time, so that four independent sums are in flight. */
static void bias_gradient(size_t n, size_t out_ch, size_t plane, const float *dy, float *db) {
    size_t o = 0, m, p;
    for (; o + 4 <= out_ch; o += 4) {
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (m = 0; m < n; m++) {
            const float *g = dy + (m * out_ch + o) * plane;
            for (p = 0; p < plane; p++) {
                s0 = s0 + g[p];
                s1 = s1 + g[plane + p];
                s2 = s2 + g[2 * plane + p];
                s3 = s3 + g[3 * plane + p];
            }
        }
        db[o] = s0, db[o + 1] = s1, db[o + 2] = s2, db[o + 3] = s3;
    }
    for (; o < out_ch; o++) {
        float sum = 0.0f;
        for (m = 0; m < n; m++)
            for (p = 0; p < plane; p++)
                sum = sum + dy[(m * out_ch + o) * plane + p];
        db[o] = sum;
    }
}

/* dst:(cols, rows) = srcᵀ for src:(rows, cols), both row-major: exact copies. */
static void transpose(size_t rows, size_t cols, const float *src, float *dst) {
    size_t r, c;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++)
            dst[c * rows + r] = src[r * cols + c];
}

size_t lathe_conv2d_cols_size(const lathe_conv2d_shape *s) {
    size_t ho, wo, per_sample;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return 0;
    per_sample = s->in_ch * s->kh * s->kw * ho * wo; /* checked: the workspace holds one */
    return per_sample > SIZE_MAX / s->n ? 0 : s->n * per_sample;
}

/* The forward pass; each sample's im2col matrix goes to work (cols NULL) or to its own place
 * in cols. */
static void forward_cols(const lathe_kernel_table *k, const lathe_conv2d_shape *s, const float *x,
                         const float *w, const float *b, float *y, float *work, float *cols) {
    size_t ho, wo, n, o, kk = s->in_ch * s->kh * s->kw, plane;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return;
    plane = ho * wo;
    for (n = 0; n < s->n; n++) {
        const float *xn = x + n * s->in_ch * s->h * s->w;
        float *yn = y + n * s->out_ch * plane, *col = cols ? cols + n * kk * plane : work;
        im2col(s, ho, wo, xn, col);
        /* yn:(out_ch, P) = W:(out_ch, K) · col:(K, P): s = 0; s += W·xpad over (c, ki, kj);
         * then s + b[o], row by row. */
        k->gemm_nn(s->out_ch, plane, kk, w, kk, col, plane, NULL, yn, plane, 0);
        if (b)
            for (o = 0; o < s->out_ch; o++)
                add_scalar(plane, yn + o * plane, b[o]);
    }
}

void lathe_conv2d_forward(const lathe_kernel_table *k, const lathe_conv2d_shape *s, const float *x,
                          const float *w, const float *b, float *y, float *work) {
    forward_cols(k, s, x, w, b, y, work, NULL);
}

void lathe_conv2d_forward_keep(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                               const float *x, const float *w, const float *b, float *y,
                               float *cols) {
    forward_cols(k, s, x, w, b, y, NULL, cols);
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

/* The weight and bias gradients; sample n's im2col matrix is rebuilt in work (cols NULL) or
 * read from cols. */
static void weights_cols(const lathe_kernel_table *k, const lathe_conv2d_shape *s, const float *x,
                         const float *cols, const float *dy, float *dw, float *db, float *work) {
    size_t ho, wo, n, kk = s->in_ch * s->kh * s->kw, plane;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return;
    plane = ho * wo;
    if (dw) {
        float *dwt = work + kk * plane; /* dwt:(K, out_ch) */
        for (n = 0; n < s->n; n++) {
            const float *col = cols ? cols + n * kk * plane : work;
            if (!cols) im2col(s, ho, wo, x + n * s->in_ch * s->h * s->w, work);
            /* dWᵀ:(K, out_ch) (+)= col:(K, P) · dy_nᵀ: the per-sample partial s_n (the products
             * xpad·dy are dy·xpad exactly), added from the second sample on. */
            k->gemm_nt(kk, s->out_ch, plane, col, plane, dy + n * s->out_ch * plane, plane, NULL,
                       dwt, s->out_ch, n > 0);
        }
        transpose(kk, s->out_ch, dwt, dw);
    }
    if (db) bias_gradient(s->n, s->out_ch, plane, dy, db);
}

void lathe_conv2d_backward_weights(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                                   const float *x, const float *dy, float *dw, float *db,
                                   float *work) {
    weights_cols(k, s, x, NULL, dy, dw, db, work);
}

void lathe_conv2d_backward_weights_kept(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                                        const float *cols, const float *dy, float *dw, float *db,
                                        float *work) {
    weights_cols(k, s, NULL, cols, dy, dw, db, work);
}
