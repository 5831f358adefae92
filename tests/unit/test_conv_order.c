/* conv2d forward, backward-data and backward-weights follow the canonical order of lathe/conv.h
 * bit for bit: each is compared with a naive loop written straight from that contract, with
 * both kernel tables, on shapes that stress the padding and stride edge cases of im2col and
 * col2im (padding wider than the kernel's reach, kernels wider than the input, strides larger
 * than the kernel, non-square kernels and inputs), and training's pair that keeps the batch's
 * im2col matrices from the forward pass for the weight gradient. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/conv.h"
#include "lathe/kernels.h"

static check_lcg rng = {2024u};

/* Mixed signs and magnitudes, so that any other summation order changes bits. */
static float next_value(void) {
    uint32_t r = check_lcg_next(&rng);
    return ((float)(r >> 9) * 0x1.0p-23f - 0.5f) * (float)(1u << ((r >> 5) & 7u));
}

static float *random_buffer(size_t n) {
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = next_value();
    return v;
}

/* xpad[n,c,r,q] for r, q in padded coordinates (0 outside the input). */
static float xpad(const lathe_conv2d_shape *s, const float *x, size_t n, size_t c, size_t r,
                  size_t q) {
    if (r < s->pad || r - s->pad >= s->h || q < s->pad || q - s->pad >= s->w) return 0.0f;
    return x[((n * s->in_ch + c) * s->h + (r - s->pad)) * s->w + (q - s->pad)];
}

/* y:(n,out_ch,ho,wo) in the order of lathe/conv.h: s = 0; for c, ki, kj: s = s + xpad·W;
 * then + b. */
static void naive_forward(const lathe_conv2d_shape *s, size_t ho, size_t wo, const float *x,
                          const float *w, const float *b, float *y) {
    for (size_t n = 0; n < s->n; n++)
        for (size_t o = 0; o < s->out_ch; o++)
            for (size_t i = 0; i < ho; i++)
                for (size_t j = 0; j < wo; j++) {
                    float sum = 0.0f;
                    for (size_t c = 0; c < s->in_ch; c++)
                        for (size_t ki = 0; ki < s->kh; ki++)
                            for (size_t kj = 0; kj < s->kw; kj++) {
                                float p = xpad(s, x, n, c, i * s->stride + ki, j * s->stride + kj) *
                                          w[((o * s->in_ch + c) * s->kh + ki) * s->kw + kj];
                                sum = sum + p;
                            }
                    y[((n * s->out_ch + o) * ho + i) * wo + j] = b ? sum + b[o] : sum;
                }
}

/* dx:(n,in_ch,h,w): 0, then for ki, kj whose tap lands on (r,q) from output (i,j):
 * dx = dx + t, where t = 0; for o: t = t + dy·W. */
static void naive_backward_data(const lathe_conv2d_shape *s, size_t ho, size_t wo, const float *w,
                                const float *dy, float *dx) {
    for (size_t n = 0; n < s->n; n++)
        for (size_t c = 0; c < s->in_ch; c++)
            for (size_t r = 0; r < s->h; r++)
                for (size_t q = 0; q < s->w; q++) {
                    float acc = 0.0f;
                    for (size_t ki = 0; ki < s->kh; ki++)
                        for (size_t kj = 0; kj < s->kw; kj++) {
                            size_t rp = r + s->pad, qp = q + s->pad, i, j;
                            float t = 0.0f;
                            if (rp < ki || qp < kj || (rp - ki) % s->stride ||
                                (qp - kj) % s->stride)
                                continue;
                            i = (rp - ki) / s->stride, j = (qp - kj) / s->stride;
                            if (i >= ho || j >= wo) continue;
                            for (size_t o = 0; o < s->out_ch; o++) {
                                float p = dy[((n * s->out_ch + o) * ho + i) * wo + j] *
                                          w[((o * s->in_ch + c) * s->kh + ki) * s->kw + kj];
                                t = t + p;
                            }
                            acc = acc + t;
                        }
                    dx[((n * s->in_ch + c) * s->h + r) * s->w + q] = acc;
                }
}

/* dw: s_n = 0; for i, j: s_n = s_n + dy·xpad; dW = s_0, then dW = dW + s_n. db = 0; for n, i,
 * j: db = db + dy. */
static void naive_backward_weights(const lathe_conv2d_shape *s, size_t ho, size_t wo,
                                   const float *x, const float *dy, float *dw, float *db) {
    for (size_t o = 0; o < s->out_ch; o++) {
        float bsum = 0.0f;
        for (size_t c = 0; c < s->in_ch; c++)
            for (size_t ki = 0; ki < s->kh; ki++)
                for (size_t kj = 0; kj < s->kw; kj++) {
                    float total = 0.0f;
                    for (size_t n = 0; n < s->n; n++) {
                        float sn = 0.0f;
                        for (size_t i = 0; i < ho; i++)
                            for (size_t j = 0; j < wo; j++) {
                                float p = dy[((n * s->out_ch + o) * ho + i) * wo + j] *
                                          xpad(s, x, n, c, i * s->stride + ki, j * s->stride + kj);
                                sn = sn + p;
                            }
                        total = n == 0 ? sn : total + sn;
                    }
                    dw[((o * s->in_ch + c) * s->kh + ki) * s->kw + kj] = total;
                }
        for (size_t n = 0; n < s->n; n++)
            for (size_t p = 0; p < ho * wo; p++)
                bsum = bsum + dy[(n * s->out_ch + o) * ho * wo + p];
        db[o] = bsum;
    }
}

int main(void) {
    static const size_t shapes[][9] = {
        /* n, in_ch, h, w, out_ch, kh, kw, stride, pad */
        {2, 1, 28, 28, 8, 5, 5, 1, 2}, {3, 8, 14, 14, 16, 5, 5, 1, 2}, {2, 1, 8, 8, 8, 3, 3, 1, 1},
        {1, 1, 5, 5, 1, 3, 3, 1, 0},   {2, 2, 5, 5, 3, 3, 3, 2, 1},    {3, 3, 9, 7, 5, 3, 3, 1, 1},
        {1, 4, 11, 13, 9, 2, 4, 3, 0}, {4, 5, 8, 8, 17, 1, 1, 1, 0},   {1, 7, 6, 10, 4, 3, 5, 2, 2},
        {2, 2, 1, 2, 3, 5, 5, 1, 2},   {1, 3, 2, 3, 2, 3, 3, 1, 3},    {2, 2, 7, 6, 5, 2, 2, 4, 1},
        {1, 2, 3, 9, 6, 3, 7, 1, 3},   {5, 3, 6, 5, 4, 4, 3, 2, 3},    {1, 1, 1, 1, 1, 1, 1, 1, 0},
    };
    const lathe_kernel_table *tables[2] = {lathe_kernels_for(LATHE_ISA_REF),
                                           lathe_kernels_for(LATHE_ISA_SIMD128)};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        lathe_conv2d_shape s;
        size_t ho, wo, nx, nw, ny;
        lathe_error err;
        float *x, *w, *b, *dy, *work, *cols, *want_y, *want_dx, *want_dw, *want_db, *y, *dx, *dw, *db;
        s.n = shapes[t][0], s.in_ch = shapes[t][1], s.h = shapes[t][2], s.w = shapes[t][3];
        s.out_ch = shapes[t][4], s.kh = shapes[t][5], s.kw = shapes[t][6];
        s.stride = shapes[t][7], s.pad = shapes[t][8];
        if (lathe_conv2d_output_size(&s, &ho, &wo, &err) != LATHE_OK) {
            CHECK(0, "shape %zu: %s", t, err.message);
            continue;
        }
        nx = s.n * s.in_ch * s.h * s.w, nw = s.out_ch * s.in_ch * s.kh * s.kw;
        ny = s.n * s.out_ch * ho * wo;
        x = random_buffer(nx), w = random_buffer(nw), b = random_buffer(s.out_ch);
        dy = random_buffer(ny), work = random_buffer(lathe_conv2d_workspace_size(&s));
        cols = random_buffer(lathe_conv2d_cols_size(&s));
        want_y = malloc(ny * 4), want_dx = malloc(nx * 4), want_dw = malloc(nw * 4);
        want_db = malloc(s.out_ch * 4), y = malloc(ny * 4), dx = malloc(nx * 4);
        dw = malloc(nw * 4), db = malloc(s.out_ch * 4);
        if (!x || !w || !b || !dy || !work || !cols || !want_y || !want_dx || !want_dw || !want_db || !y ||
            !dx || !dw || !db) {
            CHECK(0, "out of memory");
            return check_finish("test_conv_order");
        }
        naive_forward(&s, ho, wo, x, w, b, want_y);
        naive_backward_data(&s, ho, wo, w, dy, want_dx);
        naive_backward_weights(&s, ho, wo, x, dy, want_dw, want_db);
        for (size_t k = 0; k < 2; k++) {
            char what[80];
            lathe_conv2d_forward(tables[k], &s, x, w, b, y, work);
            snprintf(what, sizeof what, "shape %zu, %s, forward", t, tables[k]->name);
            CHECK_SAME_BITS(what, y, want_y, ny);
            lathe_conv2d_forward(tables[k], &s, x, w, NULL, y, work);
            naive_forward(&s, ho, wo, x, w, NULL, want_y);
            snprintf(what, sizeof what, "shape %zu, %s, forward without bias", t, tables[k]->name);
            CHECK_SAME_BITS(what, y, want_y, ny);
            naive_forward(&s, ho, wo, x, w, b, want_y);
            lathe_conv2d_backward_data(tables[k], &s, w, dy, dx, work);
            snprintf(what, sizeof what, "shape %zu, %s, backward data", t, tables[k]->name);
            CHECK_SAME_BITS(what, dx, want_dx, nx);
            lathe_conv2d_backward_weights(tables[k], &s, x, dy, dw, db, work);
            snprintf(what, sizeof what, "shape %zu, %s, backward weights", t, tables[k]->name);
            CHECK_SAME_BITS(what, dw, want_dw, nw);
            CHECK_SAME_BITS(what, db, want_db, s.out_ch);
            /* Training's pair: the forward pass keeps the batch's im2col matrices and the
             * weight gradient reads them instead of x (dirty buffers: everything is written). */
            memset(y, 0xff, ny * 4), memset(dw, 0xff, nw * 4), memset(db, 0xff, s.out_ch * 4);
            lathe_conv2d_forward_keep(tables[k], &s, x, w, b, y, cols);
            snprintf(what, sizeof what, "shape %zu, %s, forward keeping im2col", t, tables[k]->name);
            CHECK_SAME_BITS(what, y, want_y, ny);
            lathe_conv2d_backward_weights_kept(tables[k], &s, cols, dy, dw, db, work);
            snprintf(what, sizeof what, "shape %zu, %s, backward weights from the kept im2col", t,
                     tables[k]->name);
            CHECK_SAME_BITS(what, dw, want_dw, nw);
            CHECK_SAME_BITS(what, db, want_db, s.out_ch);
        }
        free(x), free(w), free(b), free(dy), free(work), free(cols), free(want_y), free(want_dx);
        free(want_dw), free(want_db), free(y), free(dx), free(dw), free(db);
    }
    return check_finish("test_conv_order");
}
