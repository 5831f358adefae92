/* Magnitude pruning (lathe/prune.h, train.prune): each pruning step ranks the weights of the
 * dense and conv2d layers by |w| (ties by index, so the order is the same on every target)
 * and masks the smallest k = round(s · n) of each layer, or of all of them for the global
 * scope; every step then zeroes the masked weights after the optimiser's update, so a pruned
 * weight is exactly zero in every snapshot, checkpoint and model file. */
#include "lathe/prune.h"

#include <stdlib.h>
#include <string.h>

#include "lathe/alloc.h"
#include "trainer_internal.h"

double lathe_prune_sparsity_at(double final, size_t begin, size_t end, size_t step) {
    double left;
    if (step < begin) return 0.0;
    if (step >= end) return final;
    left = 1.0 - (double)(step - begin) / (double)(end - begin);
    return final * (1.0 - left * left * left);
}

int lathe_prune_is_update(size_t begin, size_t end, size_t frequency, size_t step) {
    return step >= begin && step <= end && ((step - begin) % frequency == 0 || step == end);
}

int lathe_prune_layer(const layer *ly) {
    return ly->kind == LATHE_LAYER_DENSE || ly->kind == LATHE_LAYER_CONV2D;
}

void lathe_trainer_layer_zeros(const lathe_trainer *t, size_t index, size_t *zeros,
                               size_t *weights) {
    const layer *ly = &t->layers[index];
    size_t i, z = 0;
    *zeros = *weights = 0;
    if (!lathe_prune_layer(ly)) return;
    for (i = 0; i < ly->n_w; i++) z += t->params[ly->w_off + i] == 0.0f;
    *zeros = z, *weights = ly->n_w;
}

lathe_status lathe_prune_setup(lathe_trainer *t, lathe_error *err) {
    const lathe_experiment *exp = t->exp;
    size_t total = exp->epochs * t->batches_per_epoch, l, work = 0, i;
    if (!exp->prune || t->data->train.rows == 0) return LATHE_OK;
    t->prune_end = exp->prune_end ? exp->prune_end
                   : total > t->batches_per_epoch ? total - t->batches_per_epoch
                                                  : total;
    if (t->prune_end > total)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "train.prune.end_step: %zu, but training takes %zu steps (%zu "
                               "epochs of %zu batches)",
                               t->prune_end, total, exp->epochs, t->batches_per_epoch);
    if (exp->prune_begin >= t->prune_end)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "train.prune.begin_step: %zu, but pruning ends at step %zu",
                               exp->prune_begin, t->prune_end);
    for (l = 0; l < t->n_layers; l++)
        if (lathe_prune_layer(&t->layers[l]))
            work = exp->prune_global ? work + t->layers[l].n_w
                                     : (t->layers[l].n_w > work ? t->layers[l].n_w : work);
    t->prune_mask = lathe_malloc(t->n_params);
    t->prune_work = lathe_malloc(work * sizeof *t->prune_work);
    if (!t->prune_mask || !t->prune_work)
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory creating the trainer");
    for (i = 0; i < t->n_params; i++) t->prune_mask[i] = 1;
    t->memory_bytes += t->n_params + work * sizeof *t->prune_work;
    return LATHE_OK;
}

static int by_magnitude(const void *a, const void *b) {
    const struct prune_rank *x = a, *y = b;
    if (x->magnitude != y->magnitude) return x->magnitude < y->magnitude ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Masks the k smallest of the n ranked weights (their parameter indices in the ranks). */
static void mask_smallest(lathe_trainer *t, size_t n, double sparsity) {
    size_t k = (size_t)(sparsity * (double)n + 0.5), i;
    qsort(t->prune_work, n, sizeof *t->prune_work, by_magnitude);
    for (i = 0; i < n; i++) t->prune_mask[t->prune_work[i].index] = i >= k;
}

/* Ranks layer l's weights into the workspace from position at; returns the next position. */
static size_t rank_layer(lathe_trainer *t, const layer *ly, size_t at) {
    size_t i;
    for (i = 0; i < ly->n_w; i++) {
        float w = t->params[ly->w_off + i];
        t->prune_work[at + i].magnitude = w < 0.0f ? -w : w;
        t->prune_work[at + i].index = (uint32_t)(ly->w_off + i);
    }
    return at + ly->n_w;
}

void lathe_prune_after_step(lathe_trainer *t) {
    const lathe_experiment *exp = t->exp;
    size_t l, i, n = 0;
    if (!t->prune_mask) return;
    if (lathe_prune_is_update(exp->prune_begin, t->prune_end, exp->prune_frequency, t->steps)) {
        double s = lathe_prune_sparsity_at((double)exp->prune_sparsity, exp->prune_begin,
                                           t->prune_end, t->steps);
        for (l = 0; l < t->n_layers; l++) {
            const layer *ly = &t->layers[l];
            if (!lathe_prune_layer(ly)) continue;
            n = rank_layer(t, ly, exp->prune_global ? n : 0);
            if (!exp->prune_global) mask_smallest(t, n, s);
        }
        if (exp->prune_global) mask_smallest(t, n, s);
    }
    for (i = 0; i < t->n_params; i++)
        if (!t->prune_mask[i]) t->params[i] = 0.0f;
}
