#include "lathe/optim.h"

#include "lathe/kernels.h"
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

void lathe_optimizer_step(const lathe_kernel_table *k, const lathe_optimizer_config *cfg, float lr,
                          unsigned long t, size_t n, float *p, const float *grad, float *state) {
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
        /* The element-wise step is a kernel twin (kernels.h): the constants here, once. */
        lathe_adam_step s;
        s.b1 = cfg->beta1, s.one_minus_b1 = 1.0f - cfg->beta1;
        s.b2 = cfg->beta2, s.one_minus_b2 = 1.0f - cfg->beta2;
        s.step_size = lr / (float)(1.0 - power((double)cfg->beta1, t));
        s.bias2_sqrt = lathe_sqrtf((float)(1.0 - power((double)cfg->beta2, t)));
        s.eps = cfg->eps;
        s.decoupled = cfg->kind == LATHE_OPT_ADAMW;
        s.decay = 1.0f - lr * cfg->weight_decay;
        s.l2 = cfg->weight_decay;
        k->adam(n, p, grad, state, state + n, &s);
    }
}

double lathe_optim_clip_grad_norm(size_t n, float *grads, float max_norm) {
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
