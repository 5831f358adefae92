#include "lathe/schedule.h"

#include "lathe/mathf.h"

static const double pi = 3.14159265358979323846;

double lathe_cos(double x) {
    /* reduce to [-π, π], then to [0, π] (cos is even), then the series to x^30 */
    double k = (double)(long long)(x / (2.0 * pi)), x2, term = 1.0, sum = 1.0;
    int i;
    x = x - k * (2.0 * pi);
    if (x > pi) x -= 2.0 * pi;
    if (x < -pi) x += 2.0 * pi;
    if (x < 0.0) x = -x;
    x2 = x * x;
    for (i = 1; i <= 15; i++) {
        term = -term * x2 / (double)((2 * i - 1) * (2 * i));
        sum += term;
    }
    return sum;
}

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

double lathe_clip_grad_norm(size_t n, float *grads, float max_norm) {
    double sum = 0.0, norm, coef;
    size_t i;
    for (i = 0; i < n; i++) sum += (double)grads[i] * (double)grads[i];
    norm = __builtin_sqrt(sum);
    coef = (double)max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        float c = (float)coef;
        for (i = 0; i < n; i++) grads[i] *= c;
    }
    return norm;
}
