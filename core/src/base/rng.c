#include "lathe/rng.h"

#include "lathe/mathf.h"

/* PCG32 XSH-RR, after M. O'Neill's reference implementation (pcg-random.org). */
static const uint64_t pcg_multiplier = 6364136223846793005ULL;

void lathe_rng_seed(lathe_rng *rng, uint64_t seed, uint64_t stream) {
    rng->state = 0;
    rng->inc = (stream << 1) | 1u;
    (void)lathe_rng_u32(rng);
    rng->state += seed;
    (void)lathe_rng_u32(rng);
}

uint32_t lathe_rng_u32(lathe_rng *rng) {
    uint64_t old = rng->state;
    uint32_t xorshifted, rot;
    rng->state = old * pcg_multiplier + rng->inc;
    xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

uint32_t lathe_rng_below(lathe_rng *rng, uint32_t bound) {
    /* Reject the lowest (2^32 mod bound) values so every residue is equally likely. */
    uint32_t threshold, r;
    if (bound == 0) return 0;
    threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        r = lathe_rng_u32(rng);
        if (r >= threshold) return r % bound;
    }
}

float lathe_rng_uniform(lathe_rng *rng) {
    /* 24 random bits scaled by 2^-24: exact, in [0, 1). */
    return (float)(lathe_rng_u32(rng) >> 8) * 0x1.0p-24f;
}

float lathe_rng_uniform_range(lathe_rng *rng, float lo, float hi) {
    float u = lathe_rng_uniform(rng);
    return lo + (hi - lo) * u;
}

float lathe_rng_normal(lathe_rng *rng) {
    /* Marsaglia's polar method in double (only +,*,/,sqrt and the core's log): rejection
     * consumes pairs of steps until the point falls inside the unit disc. */
    for (;;) {
        double u = 2.0 * (double)(lathe_rng_u32(rng) >> 8) * 0x1.0p-24 - 1.0;
        double v = 2.0 * (double)(lathe_rng_u32(rng) >> 8) * 0x1.0p-24 - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) {
            double factor = __builtin_sqrt(-2.0 * lathe_log(s) / s);
            return (float)(u * factor);
        }
    }
}

void lathe_rng_shuffle_u32(lathe_rng *rng, uint32_t *idx, size_t n) {
    size_t i;
    for (i = n; i > 1; i--) {
        uint32_t j = lathe_rng_below(rng, (uint32_t)i);
        uint32_t tmp = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = tmp;
    }
}

void lathe_rng_bernoulli(lathe_rng *rng, float p, uint8_t *mask, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        float u = lathe_rng_uniform(rng);
        mask[i] = (uint8_t)(u < p ? 1 : 0);
    }
}
