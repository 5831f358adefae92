#include "lathe/optim.h"

#include "lathe/mathf.h"

lathe_optimizer_config lathe_optimizer_defaults(lathe_optimizer_kind kind) {
    lathe_optimizer_config cfg = {0};
    cfg.kind = kind;
    cfg.lr = kind == LATHE_OPT_SGD ? 0.01f : 0.001f;
    cfg.beta1 = 0.9f;
    cfg.beta2 = 0.999f;
    cfg.eps = 1e-8f;
    return cfg;
}

size_t lathe_optimizer_state_per_param(const lathe_optimizer_config *cfg) {
    if (cfg->kind == LATHE_OPT_SGD) return cfg->momentum != 0.0f ? 1 : 0;
    return 2;
}

/* β^t in float by repeated multiplication, as PyTorch's float pow would differ by target;
 * computed in double then rounded, t ≤ 2^32. */
static double power(double base, unsigned long t) {
    double result = 1.0;
    while (t) {
        if (t & 1u) result *= base;
        base *= base;
        t >>= 1;
    }
    return result;
}

void lathe_optimizer_step(const lathe_optimizer_config *cfg, float lr, unsigned long t,
                          size_t n, float *p, const float *grad, float *state) {
    size_t i;
    if (cfg->kind == LATHE_OPT_SGD) {
        float mu = cfg->momentum, wd = cfg->weight_decay;
        for (i = 0; i < n; i++) {
            float g = grad[i];
            if (wd != 0.0f) g = g + wd * p[i];
            if (mu != 0.0f) {
                float buf = t == 1 ? g : mu * state[i] + (1.0f - cfg->dampening) * g;
                state[i] = buf;
                g = cfg->nesterov ? g + mu * buf : buf;
            }
            p[i] = p[i] - lr * g;
        }
        return;
    }
    {
        float b1 = cfg->beta1, b2 = cfg->beta2, wd = cfg->weight_decay;
        float bias1 = (float)(1.0 - power((double)b1, t));
        float bias2_sqrt = lathe_sqrtf((float)(1.0 - power((double)b2, t)));
        float step_size = lr / bias1;
        float *m = state, *v = state + n;
        for (i = 0; i < n; i++) {
            float g = grad[i];
            if (cfg->kind == LATHE_OPT_ADAMW) p[i] = p[i] * (1.0f - lr * wd);
            else if (wd != 0.0f) g = g + wd * p[i];
            m[i] = b1 * m[i] + (1.0f - b1) * g;
            v[i] = b2 * v[i] + (1.0f - b2) * (g * g);
            p[i] = p[i] - step_size * (m[i] / (lathe_sqrtf(v[i]) / bias2_sqrt + cfg->eps));
        }
    }
}
