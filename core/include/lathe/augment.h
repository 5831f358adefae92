/* Image augmentation: small transforms of one image of (C, H, W) floats in row-major (NCHW)
 * order, and the seeded random mix of them that the "augment" preparation step applies.
 * Every transform writes dst from src (they must not overlap), allocates nothing, and uses
 * IEEE +, -, *, / in a fixed order only, so it gives the same bits on every target. */
#ifndef LATHE_AUGMENT_H
#define LATHE_AUGMENT_H

#include <stddef.h>

#include "lathe/rng.h"

/* dst:(C,H,W) = src moved by dx pixels right and dy pixels down (negative: left, up);
 * pixels moved in from outside are 0. */
void lathe_augment_shift(const float *src, float *dst, size_t C, size_t H, size_t W, long dx,
                         long dy);

/* dst:(C,H,W) = src mirrored left to right: dst[c][y][x] = src[c][y][W − 1 − x]. */
void lathe_augment_flip(const float *src, float *dst, size_t C, size_t H, size_t W);

/* dst:(C,H,W) = src rotated by `degrees` counter-clockwise as displayed (y down) about the
 * image centre ((W − 1)/2, (H − 1)/2): each output pixel samples src at the inversely rotated
 * position with bilinear interpolation, reading 0 outside the image. degrees 0 copies src
 * exactly. */
void lathe_augment_rotate(const float *src, float *dst, size_t C, size_t H, size_t W,
                          double degrees);

/* x[i] += std · N(0, 1) for i in [0, n), one lathe_rng_normal each, in order. std 0 leaves
 * x unchanged and draws nothing. */
void lathe_augment_noise(float *x, size_t n, float std, lathe_rng *rng);

/* The settings of one augment step. */
typedef struct lathe_augment_config {
    size_t shift; /* shifts are whole pixels in [−shift, shift] each way (0: none) */
    int flip;     /* 1: mirror with probability 1/2 */
    float rotate; /* rotations uniform in [−rotate, rotate] degrees (0: none) */
    float noise;  /* Gaussian noise std, in the units of the pixels (0: none) */
} lathe_augment_config;

/* dst:(C,H,W) = one random augmentation of src; tmp:(C·H·W) is scratch. Draws from rng, each
 * only when its transform is enabled, in this order: rotation angle (lathe_rng_uniform u,
 * angle (2u − 1)·rotate), flip (lathe_rng_uniform < 1/2), dx then dy (lathe_rng_below(2·shift
 * + 1) − shift), then the noise in pixel order. Applies rotate, flip, shift, noise in that
 * order. With every setting 0, dst is an exact copy of src. */
void lathe_augment_image(const float *src, float *dst, float *tmp, size_t C, size_t H, size_t W,
                         const lathe_augment_config *cfg, lathe_rng *rng);

/* The augment step's transforms on sample images, for the page's preview: dst:(copies, n, C·H·W)
 * gets `copies` augmented copies of each src:(n, C·H·W) image, copy by copy then image by image,
 * drawn from stream LATHE_STREAM_AUGMENT of seed as the preparation pipeline draws them (its copies are of the
 * training rows, so these show the kind of change, not the same copies). tmp:(C·H·W) scratch.
 * No allocation. */
void lathe_augment_images(const float *src, float *dst, float *tmp, size_t n, size_t copies,
                                 size_t c, size_t h, size_t w, size_t shift, int flip,
                                 double rotate, double noise, uint64_t seed);

#endif
