#include "lathe/losses.h"

#include "lathe/mathf.h"

/* The largest of z:(c). */
static float row_max(size_t c, const float *z) {
    float m = z[0];
    size_t j;
    for (j = 1; j < c; j++)
        if (z[j] > m) m = z[j];
    return m;
}

float lathe_loss_softmax_cross_entropy(size_t n, size_t c, const float *logits,
                                  const uint32_t *targets, float *grad) {
    float total = 0.0f, inv_n = 1.0f / (float)n;
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *z = logits + i * c;
        float m = row_max(c, z), sum = 0.0f, log_sum;
        for (j = 0; j < c; j++) sum += lathe_expf(z[j] - m);
        log_sum = lathe_logf(sum);
        total += (log_sum + m) - z[targets[i]];
        if (grad) {
            float *g = grad + i * c;
            for (j = 0; j < c; j++) {
                float p = lathe_expf(z[j] - m) / sum;
                g[j] = (p - (j == targets[i] ? 1.0f : 0.0f)) * inv_n;
            }
        }
    }
    return total / (float)n;
}

float lathe_loss_distill(size_t n, size_t c, float temperature, float alpha, const float *student,
                         const float *teacher, const uint32_t *labels, float *grad) {
    float kl_total = 0.0f, ce_total = 0.0f, inv_n = 1.0f / (float)n;
    float ka = alpha * temperature, kc = 1.0f - alpha;
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *s = student + i * c, *t = teacher + i * c;
        /* max(s/T) = max(s)/T: division by T > 0 is monotonic in float too */
        float ms = row_max(c, s), ma = ms / temperature, mb = row_max(c, t) / temperature;
        float sum_s = 0.0f, sum_a = 0.0f, sum_b = 0.0f, log_a, log_b, kl = 0.0f;
        for (j = 0; j < c; j++) {
            sum_s += lathe_expf(s[j] - ms);
            sum_a += lathe_expf(s[j] / temperature - ma);
            sum_b += lathe_expf(t[j] / temperature - mb);
        }
        log_a = lathe_logf(sum_a), log_b = lathe_logf(sum_b);
        /* KL_i = Σ p·(log p − log q), p = softmax(t/T), q = softmax(s/T), from the logits: a
         * p that underflows to 0 adds 0, never 0·(−inf) */
        for (j = 0; j < c; j++) {
            float b = t[j] / temperature - mb;
            float p = lathe_expf(b) / sum_b;
            kl += p * ((b - log_b) - ((s[j] / temperature - ma) - log_a));
        }
        kl_total += kl;
        ce_total += (lathe_logf(sum_s) + ms) - s[labels[i]];
        if (grad) {
            float *g = grad + i * c;
            for (j = 0; j < c; j++) {
                float q = lathe_expf(s[j] / temperature - ma) / sum_a;
                float p = lathe_expf(t[j] / temperature - mb) / sum_b;
                float r = lathe_expf(s[j] - ms) / sum_s;
                g[j] = (ka * (q - p) + kc * (r - (j == labels[i] ? 1.0f : 0.0f))) * inv_n;
            }
        }
    }
    return alpha * (temperature * temperature) * (kl_total / (float)n) +
           kc * (ce_total / (float)n);
}

float lathe_loss_mse(size_t n, size_t d, const float *pred, const float *target, float *grad) {
    size_t i, count = n * d;
    float total = 0.0f, scale = 2.0f / (float)count;
    for (i = 0; i < count; i++) {
        float diff = pred[i] - target[i];
        total += diff * diff;
        if (grad) grad[i] = scale * diff;
    }
    return total / (float)count;
}

float lathe_loss_bce_with_logits(size_t n, size_t d, const float *logits, const float *targets,
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

float lathe_loss_mae(size_t n, size_t d, const float *pred, const float *target, float *grad) {
    size_t i, count = n * d;
    float total = 0.0f, inv = 1.0f / (float)count;
    for (i = 0; i < count; i++) {
        float e = pred[i] - target[i];
        total += e < 0.0f ? -e : e;
        if (grad) grad[i] = (e > 0.0f ? 1.0f : e < 0.0f ? -1.0f : 0.0f) * inv;
    }
    return total / (float)count;
}

float lathe_loss_huber(size_t n, size_t d, float delta, const float *pred, const float *target,
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
