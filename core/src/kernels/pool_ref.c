/* 2-D max and average pooling, scalar twins: the loops conv.c had, which the PyTorch vectors
 * verify, in the canonical order of kernels.h. These define the bits; pool_simd128.c must
 * reproduce them exactly. */
#include "lathe/kernels.h"

void lathe_f32_max_pool2d__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                               const float *x, float *y, uint32_t *argmax) {
    const size_t ho = (h - k) / stride + 1, wo = (w - k) / stride + 1, plane = h * w;
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * plane;
        for (size_t i = 0; i < ho; i++) {
            for (size_t j = 0; j < wo; j++) {
                const size_t top = i * stride, left = j * stride;
                size_t best = top * w + left;
                float m = xp[best];
                for (size_t ki = 0; ki < k; ki++) {
                    for (size_t kj = 0; kj < k; kj++) {
                        const size_t at = (top + ki) * w + left + kj;
                        const float v = xp[at];
                        /* Strictly greater keeps the first maximum; a NaN wins once and stays
                         * (nothing compares greater than it). */
                        if (v > m || (v != v && m == m)) m = v, best = at;
                    }
                }
                *y++ = m;
                if (argmax) *argmax++ = (uint32_t)best;
            }
        }
    }
}

void lathe_f32_max_pool2d_backward__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                        const uint32_t *argmax, const float *dy, float *dx) {
    const size_t ho = (h - k) / stride + 1, wo = (w - k) / stride + 1, plane = h * w;
    for (size_t e = 0; e < planes * plane; e++)
        dx[e] = 0.0f;
    for (size_t p = 0; p < planes; p++) {
        float *dxp = dx + p * plane;
        for (size_t o = 0; o < ho * wo; o++) {
            const size_t at = *argmax++;
            const float g = *dy++;
            if (at < plane) dxp[at] = dxp[at] + g;
        }
    }
}

void lathe_f32_avg_pool2d__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                               const float *x, float *y) {
    const size_t ho = (h - k) / stride + 1, wo = (w - k) / stride + 1, plane = h * w;
    const float count = (float)(k * k);
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * plane;
        for (size_t i = 0; i < ho; i++) {
            for (size_t j = 0; j < wo; j++) {
                const float *win = xp + i * stride * w + j * stride;
                float s = 0.0f;
                for (size_t ki = 0; ki < k; ki++)
                    for (size_t kj = 0; kj < k; kj++)
                        s = s + win[ki * w + kj];
                *y++ = s / count;
            }
        }
    }
}

void lathe_f32_avg_pool2d_backward__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                        const float *dy, float *dx) {
    const size_t ho = (h - k) / stride + 1, wo = (w - k) / stride + 1, plane = h * w;
    const float count = (float)(k * k);
    for (size_t e = 0; e < planes * plane; e++)
        dx[e] = 0.0f;
    for (size_t p = 0; p < planes; p++) {
        float *dxp = dx + p * plane;
        for (size_t i = 0; i < ho; i++) {
            for (size_t j = 0; j < wo; j++) {
                float *win = dxp + i * stride * w + j * stride;
                const float g = *dy++ / count;
                for (size_t ki = 0; ki < k; ki++)
                    for (size_t kj = 0; kj < k; kj++)
                        win[ki * w + kj] = win[ki * w + kj] + g;
            }
        }
    }
}
