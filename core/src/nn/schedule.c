#include "lathe/schedule.h"

#include "lathe/mathf.h"

static const double pi = 3.14159265358979323846;


/* base^e for a whole e ≥ 0 by repeated squaring in double. */
static double power(double base, size_t e) {
    double result = 1.0;
    while (e) {
        if (e & 1u) result *= base;
        base *= base;
        e >>= 1;
    }
    return result;
}

float lathe_schedule_lr(const lathe_schedule *s, float base_lr, size_t epoch, size_t step) {
    double lr = (double)base_lr;
    switch (s->kind) {
    case LATHE_SCHEDULE_STEP:
        lr *= power((double)s->gamma, s->step_size ? epoch / s->step_size : 0);
        break;
    case LATHE_SCHEDULE_EXPONENTIAL:
        lr *= power((double)s->gamma, epoch);
        break;
    case LATHE_SCHEDULE_COSINE: {
        /* PyTorch's CosineAnnealingLR keeps following the cosine past t_max (period 2·t_max):
         * no clamp at t_max */
        double t = (double)epoch, eta = (double)s->eta_min;
        if (s->t_max > 0) lr = eta + (lr - eta) * (1.0 + lathe_cos(pi * t / (double)s->t_max)) / 2.0;
        break;
    }
    default:
        break;
    }
    if (s->warmup > 0 && step < s->warmup) lr *= (double)(step + 1) / (double)s->warmup;
    return (float)lr;
}
