/* Batch normalisation over (N, C) and (N, C, H, W), in PyTorch's conventions (see
 * ../shared/reference/vectors/README.md). Both layouts are x:(n, c, hw) in row-major order,
 * with hw = 1 for (N, C) and hw = H·W for NCHW; each channel is normalised over its m = n·hw
 * values.
 *
 * Training: y = gamma·(x − mean)·invstd + beta with the batch mean and the BIASED batch variance
 * (÷ m), invstd = 1/sqrt(var + eps). The running statistics are then updated with the
 * UNBIASED variance (÷ (m − 1)): running = (1 − momentum)·running + momentum·batch_stat.
 * PyTorch's defaults are eps = 1e-5, momentum = 0.1, and running stats starting at mean 0 and
 * var 1 (lathe_batchnorm_init_running). Inference uses the running statistics.
 *
 * Canonical order (the parity contract). Per channel, every sum runs over the m values in
 * memory order (sample by sample, position by position within a sample), accumulated in
 * double from 0:
 *   mean = Σx / m;  var = Σ(x − mean)² / m  (two passes, both in double);
 *   save_mean = (float)mean;  save_invstd = (float)(1 / sqrt(var + eps));
 *   y = (float)(gamma·((x − save_mean)·save_invstd) + beta)        (evaluated in double);
 *   running_mean = (float)((1 − momentum)·running_mean + momentum·mean)          (double);
 *   running_var  = (float)((1 − momentum)·running_var + momentum·var·m/(m − 1))  (double).
 * Backward, with xhat = (x − save_mean)·save_invstd, in double:
 *   sum_dy = Σdy;  dot = Σdy·xhat;  grad_beta = (float)sum_dy;  grad_gamma = (float)dot;
 *   dx = (float)(gamma·save_invstd/m · (m·dy − sum_dy − xhat·dot)).
 * gamma and beta may be NULL (no affine part: gamma 1, beta 0). No function allocates. */
#ifndef LATHE_BATCHNORM_H
#define LATHE_BATCHNORM_H

#include <stddef.h>

#include "lathe/status.h"

#define LATHE_BATCHNORM_EPS 1e-5f
#define LATHE_BATCHNORM_MOMENTUM 0.1f

/* running_mean:(c) = 0, running_var:(c) = 1 (PyTorch's initial state). */
void lathe_batchnorm_init_running(size_t c, float *running_mean, float *running_var);

/* The batch statistics of x:(n,c,hw) per channel: mean:(c) and the biased variance var:(c),
 * in the canonical order above (the same values the training forward normalises with). */
void lathe_batchnorm_stats(size_t n, size_t c, size_t hw, const float *x, float *mean, float *var);

/* Training-mode forward: y:(n,c,hw) from x, gamma:(c), beta:(c); writes save_mean:(c) and
 * save_invstd:(c) for the backward pass and updates running_mean:(c), running_var:(c) in place
 * (either pair may be NULL to skip it). LATHE_ERR_INVALID, writing nothing, when n·hw < 2 (the
 * unbiased variance needs two values per channel, as PyTorch requires) or c is 0. */
lathe_status lathe_batchnorm_forward_train(size_t n, size_t c, size_t hw, float eps, float momentum,
                                           const float *x, const float *gamma, const float *beta,
                                           float *y, float *save_mean, float *save_invstd,
                                           float *running_mean, float *running_var,
                                           lathe_error *err);

/* Inference-mode forward: y = gamma·((x − running_mean)·invstd) + beta with
 * invstd = 1/sqrt(running_var + eps), evaluated in double and rounded once. */
void lathe_batchnorm_forward_eval(size_t n, size_t c, size_t hw, float eps, const float *x,
                                  const float *gamma, const float *beta, const float *running_mean,
                                  const float *running_var, float *y);

/* Training-mode backward from x, gamma (or NULL), the forward's save_mean/save_invstd and dy:
 * writes (does not accumulate) dx:(n,c,hw), grad_gamma:(c), grad_beta:(c); any of the three
 * may be NULL. */
void lathe_batchnorm_backward(size_t n, size_t c, size_t hw, const float *x, const float *gamma,
                              const float *save_mean, const float *save_invstd, const float *dy,
                              float *dx, float *grad_gamma, float *grad_beta);

#endif
