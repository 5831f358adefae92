/* Optimisers on flat parameter arrays, with PyTorch's semantics exactly (see
 * ../shared/reference/vectors/README.md). One update touches n parameters in index order. */
#ifndef LATHE_OPTIM_H
#define LATHE_OPTIM_H

#include <stddef.h>

#include "lathe/kernels.h"

typedef enum lathe_optimizer_kind {
    LATHE_OPT_SGD = 0, /* with optional momentum, Nesterov, L2 weight decay */
    LATHE_OPT_ADAM,    /* L2 weight decay added to the gradient */
    LATHE_OPT_ADAMW    /* decoupled weight decay */
} lathe_optimizer_kind;

typedef struct lathe_optimizer_config {
    lathe_optimizer_kind kind;
    float lr;
    float momentum;     /* SGD */
    float dampening;    /* SGD, applied from the second step */
    int nesterov;       /* SGD */
    float weight_decay;
    float beta1, beta2, eps; /* Adam/AdamW */
} lathe_optimizer_config;

/* Defaults: SGD lr 0.01; Adam betas (0.9, 0.999), eps 1e-8; everything else 0. */
lathe_optimizer_config lathe_optimizer_defaults(lathe_optimizer_kind kind);

/* Floats of state per parameter: SGD with momentum 1, Adam/AdamW 2, plain SGD 0. */
size_t lathe_optimizer_state_per_param(const lathe_optimizer_config *cfg);

/* One step t (1-based) at learning rate lr on p:(n) given grad:(n); state:(n·per_param)
 * zero-initialised before step 1. */
void lathe_optimizer_step(const lathe_kernel_table *k, const lathe_optimizer_config *cfg, float lr,
                          unsigned long t, size_t n, float *p, const float *grad, float *state);

/* Scales grads:(n) in place so that their global L2 norm is at most max_norm, as PyTorch's
 * clip_grad_norm_ (coefficient max_norm/(norm + 1e-6), applied only when below 1). The sum
 * of squares is taken in double in index order. Returns the norm before clipping. */
double lathe_optim_clip_grad_norm(size_t n, float *grads, float max_norm);

#endif
