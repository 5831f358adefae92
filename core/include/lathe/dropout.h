/* Inverted dropout, as PyTorch's nn.Dropout: in training each element is kept with probability
 * 1 − p and a kept value is scaled by 1/(1 − p), so the expected output equals the input; at
 * inference dropout is the identity (callers copy x, or skip the layer, and do not call these).
 * The mask comes from the core's seeded generator, so the same seed drops the same elements on
 * every target. No allocation. */
#ifndef LATHE_DROPOUT_H
#define LATHE_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/rng.h"

/* Training forward on n elements: mask:(n) = lathe_rng_bernoulli(rng, 1 − p) (one rng step per
 * element, in index order), y:(n) = mask ? x·scale : 0 with scale = 1/(1 − p) in float.
 * p <= 0 (or NaN) copies x and sets every mask entry to 1; p >= 1 writes zeros and masks of 0;
 * neither of those two draws from rng. y may alias x. */
void lathe_dropout_forward(lathe_rng *rng, float p, size_t n, const float *x, float *y,
                           uint8_t *mask);

/* dx:(n) = mask ? dy·scale : 0, the same scale and p rules as the forward (dx may alias dy). */
void lathe_dropout_backward(float p, size_t n, const uint8_t *mask, const float *dy, float *dx);

#endif
