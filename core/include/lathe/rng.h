/* The core's seeded random number generator: PCG32 (O'Neill, XSH-RR 64/32), with helpers
 * for floats, normals, shuffles and masks. Identical on every target: integer arithmetic
 * only, and float helpers built from fixed IEEE operations. Each call advances the state by
 * a documented amount, so callers sequence calls explicitly (never two in one expression). */
#ifndef LATHE_RNG_H
#define LATHE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct lathe_rng {
    uint64_t state;
    uint64_t inc; /* always odd */
} lathe_rng;

/* The random streams of one experiment's seed: each use draws from its own stream, so adding
 * draws to one never changes another (docs/experiment-format.md lists them). */
typedef enum lathe_rng_stream {
    LATHE_STREAM_INIT = 1,              /* weight initialisation, layer by layer */
    LATHE_STREAM_SHUFFLE = 2,           /* the order of training rows, epoch by epoch */
    LATHE_STREAM_DROPOUT = 3,           /* dropout masks, step by step */
    LATHE_STREAM_AUGMENT = 0xA06,       /* augment's copies of training images */
    LATHE_STREAM_LIMIT = 0x1117,        /* data.limit's subsets of each split */
    LATHE_STREAM_SYNTHETIC = 0x5157,    /* the synthetic data sets */
    LATHE_STREAM_SPLIT = 0x5711,        /* the train / validation / test split and the folds */
    LATHE_STREAM_BALANCE = 0xBA1A,      /* balance_classes' oversampling */
    LATHE_STREAM_CALIBRATE = 0xCA1       /* int8 calibration's choice of training rows */
} lathe_rng_stream;

/* Seeds rng from (seed, stream); equal arguments give equal sequences everywhere. */
void lathe_rng_seed(lathe_rng *rng, uint64_t seed, uint64_t stream);
/* Next 32 uniform bits. Advances one step. */
uint32_t lathe_rng_u32(lathe_rng *rng);
/* Uniform integer in [0, bound) without modulo bias (rejection). bound 0 -> 0. */
uint32_t lathe_rng_below(lathe_rng *rng, uint32_t bound);
/* Uniform float in [0, 1) with 24 random bits. Advances one step. */
float lathe_rng_uniform(lathe_rng *rng);
/* Uniform float in [lo, hi). */
float lathe_rng_uniform_range(lathe_rng *rng, float lo, float hi);
/* Standard normal N(0,1) by Marsaglia's polar method: consumes pairs of steps until a pair
 * is accepted (on average 2.55 steps), the same pairs on every target. */
float lathe_rng_normal(lathe_rng *rng);
/* Fisher-Yates shuffle of idx[0..n) from the last element down, one lathe_rng_below each. */
void lathe_rng_shuffle_u32(lathe_rng *rng, uint32_t *idx, size_t n);
/* Bernoulli mask: mask[i] = 1 with probability p (uniform < p), else 0. One step each. */
void lathe_rng_bernoulli(lathe_rng *rng, float p, uint8_t *mask, size_t n);

#endif
