/* int8 layers (lathe/quant.h): quantisation arithmetic and the dense and conv2d forward
 * passes over the integer GEMM. */
#include "lathe/quant.h"

#include <string.h>

/* 1.5 · 2^23: adding it puts any |v| ≤ 2^22 where the float spacing is 1, so the addition
 * rounds v to an integer, ties to even (IEEE round-to-nearest), and the subtraction is exact. */
#define ROUND_MAGIC 12582912.0f

float lathe_int8_round(float v) {
    float r = v + ROUND_MAGIC; /* not folded away: the build has no fast-math */
    return r - ROUND_MAGIC;
}

int32_t lathe_int8_quantize(float x, float scale, int32_t zero_point) {
    float r = x / scale;
    int32_t q;
    if (r != r) return zero_point;
    if (r > 512.0f) r = 512.0f; /* beyond any int8 after the zero point: saturates */
    if (r < -512.0f) r = -512.0f;
    q = (int32_t)lathe_int8_round(r) + zero_point;
    return q < -128 ? -128 : q > 127 ? 127 : q;
}

void lathe_int8_activation_params(float lo, float hi, float *scale, int32_t *zero_point) {
    float s, z;
    if (!(lo < 0.0f)) lo = 0.0f;
    if (!(hi > 0.0f)) hi = 0.0f;
    s = (hi - lo) / 255.0f;
    if (!(s > 0.0f) || s != s || s - s != 0.0f) s = 1.0f;
    z = -128.0f - lo / s;
    if (z < -128.0f) z = -128.0f;
    if (z > 127.0f) z = 127.0f;
    *scale = s;
    *zero_point = (int32_t)lathe_int8_round(z);
}

void lathe_int8_quantize_weights(size_t channels, size_t fan_in, const float *w, int8_t *q,
                                 float *scales) {
    size_t c, k;
    for (c = 0; c < channels; c++) {
        const float *wc = w + c * fan_in;
        float m = 0.0f, s;
        for (k = 0; k < fan_in; k++) {
            float a = wc[k] < 0.0f ? -wc[k] : wc[k];
            if (a > m) m = a;
        }
        s = m > 0.0f ? m / 127.0f : 1.0f;
        if (!(s > 0.0f)) s = 1.0f; /* a maximum so small that m / 127 underflows */
        scales[c] = s;
        for (k = 0; k < fan_in; k++) {
            float r = wc[k] / s;
            int32_t v;
            if (r > 127.0f) r = 127.0f;
            if (r < -127.0f) r = -127.0f;
            v = (int32_t)lathe_int8_round(r);
            q[c * fan_in + k] = (int8_t)v;
        }
    }
}

void lathe_int8_hash_layer(lathe_sha256 *ctx, const float *w, size_t n_w, const lathe_int8_layer *q,
                           const float *b, size_t n_b) {
    if (q) {
        uint32_t zp = (uint32_t)q->input_zero_point;
        uint8_t le[4];
        le[0] = (uint8_t)zp, le[1] = (uint8_t)(zp >> 8), le[2] = (uint8_t)(zp >> 16),
        le[3] = (uint8_t)(zp >> 24);
        lathe_sha256_update(ctx, (const uint8_t *)q->weights, q->channels * q->fan_in);
        lathe_sha256_update_f32le(ctx, q->weight_scales, q->channels);
        lathe_sha256_update_f32le(ctx, &q->input_scale, 1);
        lathe_sha256_update(ctx, le, 4);
    } else {
        lathe_sha256_update_f32le(ctx, w, n_w);
    }
    lathe_sha256_update_f32le(ctx, b, n_b);
}

void lathe_int8_pack(const lathe_int8_layer *q, size_t kpad, int16_t *w16, float *mult) {
    size_t c, k;
    for (c = 0; c < q->channels; c++) {
        for (k = 0; k < q->fan_in; k++) w16[c * kpad + k] = q->weights[c * q->fan_in + k];
        for (; k < kpad; k++) w16[c * kpad + k] = 0;
        mult[c] = q->input_scale * q->weight_scales[c];
    }
}


void lathe_int8_dense_forward(const lathe_kernel_table *k, size_t n, size_t in, size_t out,
                              size_t kpad, const float *x, float in_scale, int32_t zero_point,
                              const int16_t *w16, const float *mult, const float *b,
                              int16_t *xq, int32_t *acc, float *y) {
    size_t i, o;
    for (i = 0; i < n; i++) {
        k->quantize_s16(in, x + i * in, in_scale, zero_point, xq + i * kpad);
        memset(xq + i * kpad + in, 0, (kpad - in) * sizeof *xq);
    }
    k->s16_gemm_nt(n, out, kpad, xq, kpad, w16, kpad, acc, out);
    for (i = 0; i < n; i++)
        for (o = 0; o < out; o++) {
            float v = (float)acc[i * out + o] * mult[o];
            y[i * out + o] = b ? v + b[o] : v;
        }
}

/* t[0..kw) = src[0..kw): straight moves for the common 3- and 5-wide kernels. */
static void copy_taps(int16_t *t, const int16_t *src, size_t kw) {
    size_t k;
    switch (kw) {
    case 5:
        t[0] = src[0], t[1] = src[1], t[2] = src[2], t[3] = src[3], t[4] = src[4];
        return;
    case 3:
        t[0] = src[0], t[1] = src[1], t[2] = src[2];
        return;
    default:
        for (k = 0; k < kw; k++) t[k] = src[k];
    }
}

void lathe_int8_conv2d_forward(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                               size_t kpad, const float *x, float in_scale, int32_t zero_point,
                               const int16_t *w16, const float *mult, const float *b,
                               int16_t *xq, int16_t *rows, int32_t *acc, float *y) {
    size_t ho, wo, n, plane, hw = s->h * s->w, fan_in = s->in_ch * s->kh * s->kw;
    if (lathe_conv2d_output_size(s, &ho, &wo, NULL) != LATHE_OK) return;
    plane = ho * wo;
    for (n = 0; n < s->n; n++) {
        size_t i, j, c, ki, kj, o;
        float *yn = y + n * s->out_ch * plane;
        k->quantize_s16(s->in_ch * hw, x + n * s->in_ch * hw, in_scale, zero_point, xq);
        /* rows:(P, kpad): row i·wo + j holds the taps (c, ki, kj) of output (i, j), padding 0
         * (the zero point: x_q − z_in = 0) */
        for (i = 0; i < ho; i++)
            for (j = 0; j < wo; j++) {
                int16_t *t = rows + (i * wo + j) * kpad;
                long c0 = (long)(j * s->stride) - (long)s->pad; /* the window's first column */
                int whole = c0 >= 0 && c0 + (long)s->kw <= (long)s->w;
                for (c = 0; c < s->in_ch; c++)
                    for (ki = 0; ki < s->kh; ki++, t += s->kw) {
                        long row = (long)(i * s->stride + ki) - (long)s->pad;
                        const int16_t *src;
                        if (row < 0 || row >= (long)s->h) {
                            for (kj = 0; kj < s->kw; kj++) t[kj] = 0;
                            continue;
                        }
                        src = xq + c * hw + (size_t)row * s->w;
                        if (whole) {
                            copy_taps(t, src + c0, s->kw);
                        } else {
                            for (kj = 0; kj < s->kw; kj++) {
                                long col = c0 + (long)kj;
                                t[kj] = col >= 0 && col < (long)s->w ? src[col] : 0;
                            }
                        }
                    }
                for (kj = fan_in; kj < kpad; kj++) *t++ = 0;
            }
        /* acc:(out_ch, P), so that each channel's outputs are contiguous */
        k->s16_gemm_nt(s->out_ch, plane, kpad, w16, kpad, rows, kpad, acc, plane);
        for (o = 0; o < s->out_ch; o++)
            for (i = 0; i < plane; i++) {
                float v = (float)acc[o * plane + i] * mult[o];
                yn[o * plane + i] = b ? v + b[o] : v;
            }
    }
}
