/* Losses beyond softmax cross-entropy and MSE (see layers.h), with PyTorch's definitions and
 * mean reduction over all n·d elements. Each returns the mean loss and, when grad is not
 * NULL, writes grad:(n,d) = ∂loss/∂pred. No allocation. */
#ifndef LATHE_LOSSES_H
#define LATHE_LOSSES_H

#include <stddef.h>

/* BCEWithLogitsLoss: mean(max(z,0) − z·t + log(1 + e^−|z|)); grad = (σ(z) − t)/(n·d).
 * Finite for any finite logit (z = ±1000 gives 0 or 1000, never inf or NaN). */
float lathe_bce_with_logits(size_t n, size_t d, const float *logits, const float *targets,
                            float *grad);
/* L1Loss: mean |p − t|; grad = sign(p − t)/(n·d), 0 where p = t. */
float lathe_mae(size_t n, size_t d, const float *pred, const float *target, float *grad);
/* HuberLoss(delta): ½e² where |e| < delta, else delta·(|e| − ½delta), e = p − t; grad = e or
 * ±delta, over n·d. delta > 0. */
float lathe_huber(size_t n, size_t d, float delta, const float *pred, const float *target,
                  float *grad);

#endif
