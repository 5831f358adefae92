/* Image augmentation transforms (shift, flip, rotate, noise) and their seeded mix. */
#include "lathe/augment.h"

#include <string.h>

#include "lathe/mathf.h"

static const double pi = 3.14159265358979323846;

void lathe_augment_shift(const float *src, float *dst, size_t C, size_t H, size_t W, long dx,
                         long dy) {
    size_t c, y, x;
    for (c = 0; c < C; c++)
        for (y = 0; y < H; y++)
            for (x = 0; x < W; x++) {
                long sx = (long)x - dx, sy = (long)y - dy;
                int inside = sx >= 0 && sy >= 0 && sx < (long)W && sy < (long)H;
                dst[(c * H + y) * W + x] =
                    inside ? src[(c * H + (size_t)sy) * W + (size_t)sx] : 0.0f;
            }
}

void lathe_augment_flip(const float *src, float *dst, size_t C, size_t H, size_t W) {
    size_t r, x;
    for (r = 0; r < C * H; r++)
        for (x = 0; x < W; x++)
            dst[r * W + x] = src[r * W + (W - 1 - x)];
}

/* src's pixel (x, y) of channel plane p, or 0 outside the image. */
static double pixel(const float *p, size_t H, size_t W, long x, long y) {
    if (x < 0 || y < 0 || x >= (long)W || y >= (long)H) return 0.0;
    return (double)p[(size_t)y * W + (size_t)x];
}

void lathe_augment_rotate(const float *src, float *dst, size_t C, size_t H, size_t W,
                          double degrees) {
    double theta = degrees * (pi / 180.0), cs, sn;
    double cx = ((double)W - 1.0) / 2.0, cy = ((double)H - 1.0) / 2.0;
    size_t c, y, x;
    if (degrees == 0.0) {
        memcpy(dst, src, C * H * W * sizeof *dst);
        return;
    }
    cs = lathe_cos(theta), sn = lathe_sin(theta);
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            /* inverse rotation of the output position: (u, v) = R(−θ)·(x − cx, y − cy) + c */
            double ox = (double)x - cx, oy = (double)y - cy;
            double u = cs * ox - sn * oy + cx, v = sn * ox + cs * oy + cy;
            double fu = __builtin_floor(u), fv = __builtin_floor(v);
            double fx = u - fu, fy = v - fv;
            long x0 = (long)fu, y0 = (long)fv;
            for (c = 0; c < C; c++) {
                const float *p = src + c * H * W;
                double value = (1.0 - fx) * (1.0 - fy) * pixel(p, H, W, x0, y0);
                value += fx * (1.0 - fy) * pixel(p, H, W, x0 + 1, y0);
                value += (1.0 - fx) * fy * pixel(p, H, W, x0, y0 + 1);
                value += fx * fy * pixel(p, H, W, x0 + 1, y0 + 1);
                dst[(c * H + y) * W + x] = (float)value;
            }
        }
}

void lathe_augment_noise(float *x, size_t n, float std, lathe_rng *rng) {
    size_t i;
    if (std == 0.0f) return;
    for (i = 0; i < n; i++) {
        float z = lathe_rng_normal(rng);
        x[i] += std * z;
    }
}

void lathe_augment_image(const float *src, float *dst, float *tmp, size_t C, size_t H, size_t W,
                         const lathe_augment_config *cfg, lathe_rng *rng) {
    size_t n = C * H * W;
    double angle = 0.0;
    int flip = 0;
    long dx = 0, dy = 0;
    if (cfg->rotate > 0.0f) {
        float u = lathe_rng_uniform(rng);
        angle = (2.0 * (double)u - 1.0) * (double)cfg->rotate;
    }
    if (cfg->flip) flip = lathe_rng_uniform(rng) < 0.5f;
    if (cfg->shift > 0) {
        uint32_t span = (uint32_t)(2 * cfg->shift + 1);
        dx = (long)lathe_rng_below(rng, span) - (long)cfg->shift;
        dy = (long)lathe_rng_below(rng, span) - (long)cfg->shift;
    }
    /* rotate → dst, flip → tmp → dst, shift dst → tmp → dst: dst always ends with the result */
    lathe_augment_rotate(src, dst, C, H, W, angle);
    if (flip) {
        lathe_augment_flip(dst, tmp, C, H, W);
        memcpy(dst, tmp, n * sizeof *dst);
    }
    if (dx != 0 || dy != 0) {
        lathe_augment_shift(dst, tmp, C, H, W, dx, dy);
        memcpy(dst, tmp, n * sizeof *dst);
    }
    lathe_augment_noise(dst, n, cfg->noise, rng);
}

/* The augment step's transforms on sample images, for the page's preview: dst:(copies, n, C·H·W)
 * gets `copies` augmented copies of each src:(n, C·H·W) image, copy by copy then image by image,
 * drawn from stream 0xA06 of seed as the preparation pipeline draws them (its copies are of the
 * training rows, so these show the kind of change, not the same copies). tmp:(C·H·W) scratch.
 * No allocation. */
void lathe_augment_images(const float *src, float *dst, float *tmp, size_t n, size_t copies,
                                 size_t c, size_t h, size_t w, size_t shift, int flip,
                                 double rotate, double noise, uint64_t seed) {
    size_t size = c * h * w, k, i;
    lathe_augment_config cfg;
    lathe_rng rng;
    cfg.shift = shift, cfg.flip = flip, cfg.rotate = (float)rotate, cfg.noise = (float)noise;
    lathe_rng_seed(&rng, seed, LATHE_STREAM_AUGMENT);
    for (k = 0; k < copies; k++)
        for (i = 0; i < n; i++)
            lathe_augment_image(src + i * size, dst + (k * n + i) * size, tmp, c, h, w, &cfg, &rng);
}
