/* Products of sizes that refuse to wrap: the shape checks of conv2d and the pools. Private to
 * the core. */
#ifndef LATHE_CHECKED_SIZE_H
#define LATHE_CHECKED_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* *out = a·b; 0 on size_t overflow (*out unchanged), else 1. */
static inline int lathe_size_mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

/* *out = a·b·c·d; 0 on size_t overflow, else 1. */
static inline int lathe_size_mul4(size_t a, size_t b, size_t c, size_t d, size_t *out) {
    size_t ab, abc;
    return lathe_size_mul(a, b, &ab) && lathe_size_mul(ab, c, &abc) &&
           lathe_size_mul(abc, d, out);
}

#endif
