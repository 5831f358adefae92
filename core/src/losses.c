#include "lathe/losses.h"

#include "lathe/mathf.h"

float lathe_bce_with_logits(size_t n, size_t d, const float *logits, const float *targets,
                            float *grad) {
    size_t i, count = n * d;
    float total = 0.0f, inv = 1.0f / (float)count;
    for (i = 0; i < count; i++) {
        float z = logits[i], t = targets[i];
        float abs_z = z < 0.0f ? -z : z;
        total += (z > 0.0f ? z : 0.0f) - z * t + lathe_log1pf(lathe_expf(-abs_z));
        if (grad) grad[i] = (lathe_sigmoidf(z) - t) * inv;
    }
    return total / (float)count;
}

float lathe_mae(size_t n, size_t d, const float *pred, const float *target, float *grad) {
    size_t i, count = n * d;
    float total = 0.0f, inv = 1.0f / (float)count;
    for (i = 0; i < count; i++) {
        float e = pred[i] - target[i];
        total += e < 0.0f ? -e : e;
        if (grad) grad[i] = (e > 0.0f ? 1.0f : e < 0.0f ? -1.0f : 0.0f) * inv;
    }
    return total / (float)count;
}

float lathe_huber(size_t n, size_t d, float delta, const float *pred, const float *target,
                  float *grad) {
    size_t i, count = n * d;
    float total = 0.0f, inv = 1.0f / (float)count;
    for (i = 0; i < count; i++) {
        float e = pred[i] - target[i], abs_e = e < 0.0f ? -e : e;
        if (abs_e < delta) {
            total += 0.5f * e * e;
            if (grad) grad[i] = e * inv;
        } else {
            total += delta * (abs_e - 0.5f * delta);
            if (grad) grad[i] = (e > 0.0f ? delta : -delta) * inv;
        }
    }
    return total / (float)count;
}
