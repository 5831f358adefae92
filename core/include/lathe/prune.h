/* Magnitude pruning (train.prune, docs/experiment-format.md): the schedule and what a
 * network's layers hold of zeros. */
#ifndef LATHE_PRUNE_H
#define LATHE_PRUNE_H

#include <stddef.h>

#include "lathe/trainer.h"

/* The sparsity the masks hold after optimiser step `step` (1-based) on TF Model
 * Optimization's PolynomialDecay from 0 to final with power 3: 0 before begin, final from
 * end on, final·(1 − (1 − (step − begin)/(end − begin))³) between (in double). */
double lathe_prune_sparsity_at(double final, size_t begin, size_t end, size_t step);

/* Whether step is one that sets the masks: begin ≤ step ≤ end and (step − begin) is a
 * multiple of frequency, or step is end. */
int lathe_prune_is_update(size_t begin, size_t end, size_t frequency, size_t step);

/* The exact zeros among layer index's weights (dense and conv2d W; 0 for other layers) and
 * how many weights it has. */
void lathe_trainer_layer_zeros(const lathe_trainer *trainer, size_t index, size_t *zeros,
                               size_t *weights);

#endif
