#include "lathe/dropout.h"

/* 1/(1 − p) for 0 < p < 1; the caller handles the two ends. */
static float keep_scale(float p) {
    return 1.0f / (1.0f - p);
}

void lathe_dropout_forward(lathe_rng *rng, float p, size_t n, const float *x, float *y,
                           uint8_t *mask) {
    size_t i;
    float scale;
    if (!(p > 0.0f)) {
        for (i = 0; i < n; i++)
            y[i] = x[i], mask[i] = 1;
        return;
    }
    if (p >= 1.0f) {
        for (i = 0; i < n; i++)
            y[i] = 0.0f, mask[i] = 0;
        return;
    }
    lathe_rng_bernoulli(rng, 1.0f - p, mask, n);
    scale = keep_scale(p);
    for (i = 0; i < n; i++)
        y[i] = mask[i] ? x[i] * scale : 0.0f;
}

void lathe_dropout_backward(float p, size_t n, const uint8_t *mask, const float *dy, float *dx) {
    size_t i;
    float scale;
    if (!(p > 0.0f)) {
        for (i = 0; i < n; i++)
            dx[i] = dy[i];
        return;
    }
    if (p >= 1.0f) {
        for (i = 0; i < n; i++)
            dx[i] = 0.0f;
        return;
    }
    scale = keep_scale(p);
    for (i = 0; i < n; i++)
        dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}
