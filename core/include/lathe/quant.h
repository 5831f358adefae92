/* Post-training int8 quantisation (TensorFlow Lite's scheme): the arithmetic that defines an
 * int8 layer's bits, shared by the core, the calibration (quantize.h) and the C export.
 *
 * An int8 dense or conv2d layer holds its weights per output channel, symmetric: w ≈ q·s_c
 * with q in [−127, 127] and zero point 0. Its input is quantised per tensor, asymmetric:
 *     x_q = clamp(round_half_even(x / s_in) + z_in, −128, 127)      (ONNX QuantizeLinear)
 * Each output is an exact int32 sum in any order (integer addition is associative),
 *     acc[o] = Σ_k (x_q[k] − z_in) · q[o][k],
 * dequantised to float and given the float bias, in this order and without contraction:
 *     y[o] = (float)acc[o] · m[o] + b[o],   with m[o] = s_in · s_c[o] rounded to float.
 * The activations between layers stay float and are requantised at the next int8 layer's
 * input: the network is what ONNX writes as QuantizeLinear/DequantizeLinear pairs. */
#ifndef LATHE_QUANT_H
#define LATHE_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/conv.h"
#include "lathe/kernels.h"
#include "lathe/sha256.h"

/* The largest fan-in of an int8 layer: 255 · 127 · K stays below 2^31 (no int32 overflow). */
#define LATHE_INT8_MAX_FAN_IN 65536u
/* The int16 operands of the integer GEMM are padded with zeros to a multiple of this. */
#define LATHE_INT8_K_ALIGN 8u

/* One layer's int8 form. */
typedef struct lathe_int8_layer {
    int on;                   /* 1: this dense or conv2d layer runs in int8 */
    float input_scale;        /* s_in > 0 */
    int32_t input_zero_point; /* z_in in [−128, 127] */
    size_t channels, fan_in;  /* output channels; weights per channel */
    float *weight_scales;     /* (channels) s_c > 0 */
    int8_t *weights;          /* (channels · fan_in) q, in the float weights' layout */
} lathe_int8_layer;

/* round(v) with ties to even, for |v| ≤ 2^22 (callers clamp first): (v + 1.5·2^23) − 1.5·2^23. */
float lathe_int8_round(float v);
/* x quantised with (scale, zero_point) as above; a NaN gives the zero point. */
int32_t lathe_int8_quantize(float x, float scale, int32_t zero_point);
/* The activation parameters for observed values in [lo, hi] (widened to include 0, so that
 * zero, and so the padding of a convolution, is exact): s = (hi − lo) / 255 (1 when hi = lo),
 * z = clamp(round_half_even(−128 − lo / s), −128, 127). */
void lathe_int8_activation_params(float lo, float hi, float *scale, int32_t *zero_point);
/* Quantises w:(channels, fan_in) per channel: s_c = max|w| / 127 (1 for an all-zero channel),
 * q = clamp(round_half_even(w / s_c), −127, 127). */
void lathe_int8_quantize_weights(size_t channels, size_t fan_in, const float *w, int8_t *q,
                                 float *scales);
/* The float the core computes with for q·s (dequantised weights, for the float view). */
static inline float lathe_int8_dequantize(int8_t q, float scale) { return (float)q * scale; }

/* Adds one layer to a weights hash (docs/model-format.md): its weights w:(n_w) as little-endian
 * float32 or, for an int8 layer (q not NULL), q's int8 bytes, weight scales (float32), input
 * scale (float32) and zero point (int32, little-endian); then its bias b:(n_b). The trainer and
 * the model loader both hash through it. */
void lathe_int8_hash_layer(lathe_sha256 *ctx, const float *w, size_t n_w, const lathe_int8_layer *q,
                           const float *b, size_t n_b);

/* Widens q:(channels, fan_in) to int16 rows of stride kpad (fan_in rounded up to
 * LATHE_INT8_K_ALIGN, zero padded) and fills mult:(channels) with s_in · s_c. */
void lathe_int8_pack(const lathe_int8_layer *q, size_t kpad, int16_t *w16, float *mult);

/* Dense forward of n rows x:(n, in) to y:(n, out) in int8, with the packed weights w16:(out,
 * kpad) and mult:(out); b:(out) or NULL. Workspace xq:(n, kpad) int16, acc:(n, out). */
void lathe_int8_dense_forward(const lathe_kernel_table *k, size_t n, size_t in, size_t out,
                              size_t kpad, const float *x, float in_scale, int32_t zero_point,
                              const int16_t *w16, const float *mult, const float *b,
                              int16_t *xq, int32_t *acc, float *y);
/* Conv2d forward in int8 (shape s, weights packed as (out_ch, kpad), kpad ≥ in_ch·kh·kw) from
 * x:(n, C, H, W) to y:(n, out_ch, Ho, Wo). Workspace, per sample: xq:(C·H·W) int16,
 * rows:(Ho·Wo, kpad) int16, acc:(out_ch, Ho·Wo). */
void lathe_int8_conv2d_forward(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                               size_t kpad, const float *x, float in_scale, int32_t zero_point,
                               const int16_t *w16, const float *mult, const float *b,
                               int16_t *xq, int16_t *rows, int32_t *acc, float *y);

#endif
