/* Batch normalisation; the order of every sum is documented in lathe/batchnorm.h. Statistics
 * are accumulated in double (wasm and x86 both have IEEE double, so the bits agree) and each
 * stored value is rounded to float once. */
#include "lathe/batchnorm.h"

#include <math.h> /* sqrt only: correctly rounded on every target */

void lathe_batchnorm_init_running(size_t c, float *running_mean, float *running_var) {
    size_t i;
    for (i = 0; i < c; i++)
        running_mean[i] = 0.0f, running_var[i] = 1.0f;
}

/* Mean and biased variance of channel ch of x:(n,c,hw), two passes in double. */
static void channel_stats(size_t n, size_t c, size_t hw, const float *x, size_t ch, double *mean,
                          double *var) {
    size_t i, j, m = n * hw;
    double sum = 0.0, sq = 0.0, mu;
    for (i = 0; i < n; i++) {
        const float *row = x + (i * c + ch) * hw;
        for (j = 0; j < hw; j++)
            sum += (double)row[j];
    }
    mu = sum / (double)m;
    for (i = 0; i < n; i++) {
        const float *row = x + (i * c + ch) * hw;
        for (j = 0; j < hw; j++) {
            double d = (double)row[j] - mu;
            sq += d * d;
        }
    }
    *mean = mu;
    *var = sq / (double)m;
}

void lathe_batchnorm_stats(size_t n, size_t c, size_t hw, const float *x, float *mean, float *var) {
    size_t ch;
    for (ch = 0; ch < c; ch++) {
        double mu, v;
        channel_stats(n, c, hw, x, ch, &mu, &v);
        mean[ch] = (float)mu;
        var[ch] = (float)v;
    }
}

/* y = gamma·((x − mean)·invstd) + beta over channel ch, in double, rounded once. */
static void normalize_channel(size_t n, size_t c, size_t hw, size_t ch, const float *x, double mean,
                              double invstd, double gamma, double beta, float *y) {
    size_t i, j;
    for (i = 0; i < n; i++) {
        size_t at = (i * c + ch) * hw;
        for (j = 0; j < hw; j++)
            y[at + j] = (float)(gamma * (((double)x[at + j] - mean) * invstd) + beta);
    }
}

lathe_status lathe_batchnorm_forward_train(size_t n, size_t c, size_t hw, float eps, float momentum,
                                           const float *x, const float *gamma, const float *beta,
                                           float *y, float *save_mean, float *save_invstd,
                                           float *running_mean, float *running_var,
                                           lathe_error *err) {
    size_t ch, m = n * hw;
    double mom = (double)momentum;
    if (c == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "batch norm: 0 channels");
    if (hw != 0 && n > ((size_t)-1) / hw)
        return lathe_error_set(err, LATHE_ERR_INVALID, "batch norm: size overflows");
    if (m < 2)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "batch norm: training needs more than one value per channel "
                               "(batch %zu × %zu positions)",
                               n, hw);
    for (ch = 0; ch < c; ch++) {
        double mu, var;
        float mean_f, invstd_f;
        channel_stats(n, c, hw, x, ch, &mu, &var);
        mean_f = (float)mu;
        invstd_f = (float)(1.0 / sqrt(var + (double)eps));
        if (save_mean) save_mean[ch] = mean_f;
        if (save_invstd) save_invstd[ch] = invstd_f;
        normalize_channel(n, c, hw, ch, x, (double)mean_f, (double)invstd_f,
                          gamma ? (double)gamma[ch] : 1.0, beta ? (double)beta[ch] : 0.0, y);
        if (running_mean && running_var) {
            double unbiased = var * (double)m / (double)(m - 1);
            running_mean[ch] = (float)((1.0 - mom) * (double)running_mean[ch] + mom * mu);
            running_var[ch] = (float)((1.0 - mom) * (double)running_var[ch] + mom * unbiased);
        }
    }
    return LATHE_OK;
}

void lathe_batchnorm_forward_eval(size_t n, size_t c, size_t hw, float eps, const float *x,
                                  const float *gamma, const float *beta, const float *running_mean,
                                  const float *running_var, float *y) {
    size_t ch;
    for (ch = 0; ch < c; ch++) {
        double invstd = 1.0 / sqrt((double)running_var[ch] + (double)eps);
        normalize_channel(n, c, hw, ch, x, (double)running_mean[ch], invstd,
                          gamma ? (double)gamma[ch] : 1.0, beta ? (double)beta[ch] : 0.0, y);
    }
}

void lathe_batchnorm_backward(size_t n, size_t c, size_t hw, const float *x, const float *gamma,
                              const float *save_mean, const float *save_invstd, const float *dy,
                              float *dx, float *grad_gamma, float *grad_beta) {
    size_t ch, i, j, m = n * hw;
    for (ch = 0; ch < c; ch++) {
        double mean = (double)save_mean[ch], invstd = (double)save_invstd[ch];
        double sum_dy = 0.0, dot = 0.0, scale;
        for (i = 0; i < n; i++) {
            size_t at = (i * c + ch) * hw;
            for (j = 0; j < hw; j++) {
                double g = (double)dy[at + j];
                sum_dy += g;
                dot += g * (((double)x[at + j] - mean) * invstd);
            }
        }
        if (grad_beta) grad_beta[ch] = (float)sum_dy;
        if (grad_gamma) grad_gamma[ch] = (float)dot;
        if (!dx || m == 0) continue;
        scale = (gamma ? (double)gamma[ch] : 1.0) * invstd / (double)m;
        for (i = 0; i < n; i++) {
            size_t at = (i * c + ch) * hw;
            for (j = 0; j < hw; j++) {
                double xhat = ((double)x[at + j] - mean) * invstd;
                dx[at + j] =
                    (float)(scale * ((double)m * (double)dy[at + j] - sum_dy - xhat * dot));
            }
        }
    }
}
