/* The training losses, with PyTorch's definitions and mean reduction (over the n rows for
 * softmax cross-entropy, over all n·d elements for the rest). Each returns the mean loss
 * and, when grad is not NULL, writes grad:(n,d) = ∂loss/∂pred. No allocation. */
#ifndef LATHE_LOSSES_H
#define LATHE_LOSSES_H

#include <stddef.h>
#include <stdint.h>

/* Softmax cross-entropy, mean over the n rows: loss_i = logsumexp(z_i) − z_i[t_i].
 * Returns the mean loss; when grad is not NULL writes grad:(n,c) = (softmax(z) − onehot)/n.
 * Targets must be < c (callers validate). Finite for any finite logits (1000 gives 2000). */
float lathe_loss_softmax_cross_entropy(size_t n, size_t c, const float *logits,
                                  const uint32_t *targets, float *grad);
/* Knowledge distillation (Hinton et al. 2015; PyTorch's usual recipe) over n rows of c classes,
 * student and teacher logits s, t:(n,c), labels:(n) < c, temperature T > 0, α in [0, 1]:
 * loss = α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, labels), KL summed over the
 * classes and averaged over the rows (KLDivLoss's "batchmean"), CE as above. When grad is not
 * NULL writes grad:(n,c) = α·T·(softmax(s/T) − softmax(t/T))/n + (1 − α)·(softmax(s) −
 * onehot)/n. Finite for any finite logits. No allocation. */
float lathe_loss_distill(size_t n, size_t c, float temperature, float alpha, const float *student,
                         const float *teacher, const uint32_t *labels, float *grad);
/* Mean squared error over all n·d elements: mean((p−t)²); grad = 2(p−t)/(n·d). */
float lathe_loss_mse(size_t n, size_t d, const float *pred, const float *target, float *grad);

/* BCEWithLogitsLoss: mean(max(z,0) − z·t + log(1 + e^−|z|)); grad = (σ(z) − t)/(n·d).
 * Finite for any finite logit (z = ±1000 gives 0 or 1000, never inf or NaN). */
float lathe_loss_bce_with_logits(size_t n, size_t d, const float *logits, const float *targets,
                                 float *grad);
/* L1Loss: mean |p − t|; grad = sign(p − t)/(n·d), 0 where p = t. */
float lathe_loss_mae(size_t n, size_t d, const float *pred, const float *target, float *grad);
/* HuberLoss(delta): ½e² where |e| < delta, else delta·(|e| − ½delta), e = p − t; grad = e or
 * ±delta, over n·d. delta > 0. */
float lathe_loss_huber(size_t n, size_t d, float delta, const float *pred, const float *target,
                       float *grad);

#endif
