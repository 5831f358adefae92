/* Learning-rate schedules (PyTorch's closed forms) and gradient clipping by global norm. */
#ifndef LATHE_SCHEDULE_H
#define LATHE_SCHEDULE_H

#include <stddef.h>

typedef enum lathe_schedule_kind {
    LATHE_SCHEDULE_CONSTANT = 0,
    LATHE_SCHEDULE_STEP,        /* lr·gamma^floor(epoch / step_size)            (StepLR) */
    LATHE_SCHEDULE_EXPONENTIAL, /* lr·gamma^epoch                               (ExponentialLR) */
    LATHE_SCHEDULE_COSINE       /* eta_min + (lr − eta_min)(1 + cosine of π·epoch/t_max)/2 for
                                   every epoch: past t_max it rises again, back to lr at 2·t_max
                                   (CosineAnnealingLR, closed form) */
} lathe_schedule_kind;

typedef struct lathe_schedule {
    lathe_schedule_kind kind;
    size_t step_size;  /* step */
    float gamma;       /* step, exponential */
    size_t t_max;      /* cosine, in epochs */
    float eta_min;     /* cosine */
    size_t warmup;     /* linear warm-up over the first `warmup` optimiser steps (0: none):
                          the rate is multiplied by (step + 1)/warmup until then */
} lathe_schedule;

/* The learning rate for an epoch (0-based) and optimiser step (0-based) from base_lr.
 * Computed in double with the core's own exp/log/cos, rounded once: identical everywhere. */
float lathe_schedule_lr(const lathe_schedule *s, float base_lr, size_t epoch, size_t step);

/* Scales grads:(n) in place so that their global L2 norm is at most max_norm, as PyTorch's
 * clip_grad_norm_ (coefficient max_norm/(norm + 1e-6), applied only when below 1). The sum
 * of squares is taken in double in index order. Returns the norm before clipping. */
double lathe_clip_grad_norm(size_t n, float *grads, float max_norm);

/* cos x in double by range reduction and a Taylor series (error < 1e-15 for |x| < 2^20). */
double lathe_cos(double x);

#endif
