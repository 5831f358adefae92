/* 2-D convolution and pooling on NCHW feature maps, in PyTorch's conventions (see
 * ../shared/reference/vectors/README.md): W is (out_ch, in_ch, kh, kw); the convolution is a
 * cross-correlation (no kernel flip) with zero padding, dilation 1 and groups 1; pooling has no
 * padding and floor mode (a 5×5 input with k = 2, s = 2 gives 2×2: the last row and column are
 * dropped). Output sizes: H_out = floor((H + 2·pad − kh) / stride) + 1, the same for W.
 *
 * Flatten needs no function: an NCHW tensor x:(n,c,h,w) is already the row-major matrix
 * (n, c·h·w) a dense layer takes, with feature index c·h·w + i·w + j, so flatten (and its
 * backward) is a no-op on the memory; only the shape the caller records changes.
 *
 * Canonical order (the parity contract; every target gives the same bits). Here xpad is x with
 * `pad` zeros on each side; taps that fall in the padding take part as products 0·w (forward,
 * grad_W) or are skipped (grad_x, where they have no input element to go to).
 *   conv forward   y[n,o,i,j]  = s + b[o], where s = 0; for c, for ki, for kj (row-major):
 *                                s = s + xpad[n,c,i·stride+ki,j·stride+kj] · W[o,c,ki,kj]
 *                                (no "+ b" when b is NULL)
 *   conv grad_x    dx[n,c,h,w] = 0; for ki, for kj (row-major) whose tap lands on (h,w) from an
 *                                output position (i,j): dx = dx + t, where t = 0; for o:
 *                                t = t + dy[n,o,i,j] · W[o,c,ki,kj]
 *   conv grad_W    per sample   s_n = 0; for i, for j: s_n = s_n + dy[n,o,i,j] · xpad[...];
 *                  dW[o,c,ki,kj] = s_0, then dW = dW + s_n for n = 1, 2, …
 *   conv grad_b    db[o]       = 0; for n, for i, for j: db = db + dy[n,o,i,j]
 *   max pool       y = the first maximum of the window in row-major order (a later element
 *                  replaces it only when strictly greater; a NaN, once met, is kept);
 *                  argmax = h·W + w of that element inside its (n,c) plane
 *   max pool dx    dx = 0; for each output (n,c,i,j) in row-major order: dx[argmax] += dy
 *                  (overlapping windows add up)
 *   avg pool       y = s / (k·k), where s = 0; for ki, for kj: s = s + x[...]
 *   avg pool dx    dx = 0; for each output (n,c,i,j) in row-major order, for ki, for kj:
 *                  dx[...] += dy[n,c,i,j] / (k·k)
 * The convolution computes its sums with the GEMM kernels of the table passed in (im2col
 * into a caller-provided workspace); every table gives the same bits by kernels.h's contract.
 * (grad_W is computed transposed, dWᵀ = col · dyᵀ, with the products xpad·dy: multiplication
 * commutes exactly, so the order above is kept.)
 *
 * Callers check a shape once with lathe_conv2d_output_size (pools: lathe_pool2d_output_size
 * in lathe/pool.h), which report what is wrong; the layer functions trust the buffers' sizes and do nothing for a shape
 * those functions reject. None of them allocates. */
#ifndef LATHE_CONV_H
#define LATHE_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/kernels.h"
#include "lathe/status.h"

/* Geometry of one conv2d layer: input x:(n, in_ch, h, w), weight W:(out_ch, in_ch, kh, kw),
 * the same stride and zero padding along both axes. */
typedef struct lathe_conv2d_shape {
    size_t n, in_ch, h, w;
    size_t out_ch, kh, kw;
    size_t stride, pad;
} lathe_conv2d_shape;

/* Checks s (every size >= 1, the kernel fits the padded input, no size_t overflow in any
 * tensor or workspace size) and writes H_out, W_out. LATHE_ERR_INVALID with a message naming
 * the field otherwise; h_out and w_out may be NULL. */
lathe_status lathe_conv2d_output_size(const lathe_conv2d_shape *s, size_t *h_out, size_t *w_out,
                                      lathe_error *err);

/* Floats of workspace every conv2d function below needs: in_ch·kh·kw · (H_out·W_out + out_ch)
 * (one sample's im2col matrix, then the transposed weight gradient that backward_weights sums
 * over the batch). 0 for a shape lathe_conv2d_output_size rejects. */
size_t lathe_conv2d_workspace_size(const lathe_conv2d_shape *s);

/* y:(n,out_ch,H_out,W_out) from x:(n,in_ch,h,w), w:(out_ch,in_ch,kh,kw), b:(out_ch) or NULL.
 * work: lathe_conv2d_workspace_size(s) floats, overwritten. */
void lathe_conv2d_forward(const lathe_kernel_table *k, const lathe_conv2d_shape *s, const float *x,
                          const float *w, const float *b, float *y, float *work);

/* Floats of the im2col matrices of a whole batch: n · in_ch·kh·kw · H_out·W_out, what
 * lathe_conv2d_forward_keep keeps for lathe_conv2d_backward_weights_kept. 0 for a shape
 * lathe_conv2d_output_size rejects or a size that does not fit a size_t. */
size_t lathe_conv2d_cols_size(const lathe_conv2d_shape *s);

/* As lathe_conv2d_forward, with every sample's im2col matrix kept in cols
 * (lathe_conv2d_cols_size(s) floats, overwritten), so the backward pass that follows need not
 * build them again: training trades that memory for one im2col per layer and step. */
void lathe_conv2d_forward_keep(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                               const float *x, const float *w, const float *b, float *y,
                               float *cols);

/* dx:(n,in_ch,h,w) = the gradient of Σ y·dy with respect to x, given w and
 * dy:(n,out_ch,H_out,W_out). Writes (does not accumulate) dx. work as for forward. */
void lathe_conv2d_backward_data(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                                const float *w, const float *dy, float *dx, float *work);

/* dw:(out_ch,in_ch,kh,kw) and db:(out_ch) (either may be NULL) from x and dy. Writes (does not
 * accumulate) them. work as for forward. */
void lathe_conv2d_backward_weights(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                                   const float *x, const float *dy, float *dw, float *db,
                                   float *work);

/* As lathe_conv2d_backward_weights, with x given by the cols lathe_conv2d_forward_keep kept
 * for it (same shape, same x): the same bits. work as for forward (its dWᵀ part is used). */
void lathe_conv2d_backward_weights_kept(const lathe_kernel_table *k, const lathe_conv2d_shape *s,
                                        const float *cols, const float *dy, float *dw, float *db,
                                        float *work);

#endif
