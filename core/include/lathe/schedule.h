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

#endif
