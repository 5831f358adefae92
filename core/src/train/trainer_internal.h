/* The trainer's layout, shared by trainer.c and checkpoint.c only (not a public header). */
#ifndef LATHE_TRAINER_INTERNAL_H
#define LATHE_TRAINER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/kernels.h"
#include "lathe/limits.h"
#include "lathe/quant.h"
#include "lathe/rng.h"
#include "lathe/sha256.h"
#include "lathe/trainer.h"

typedef struct layer {
    lathe_layer_kind kind;
    lathe_activation activation;
    size_t in_c, in_h, in_w, out_c, out_h, out_w; /* per-sample shapes */
    int in_image, out_image;
    size_t in, out;       /* features per sample */
    size_t kernel, stride, pad; /* conv2d; pools: kernel = window */
    float rate;           /* dropout */
    size_t w_off, n_w;    /* dense W:(out,in); conv W:(out_c,in_c,k,k); batch norm gamma:(c) */
    size_t b_off, n_b;    /* dense b:(out); conv b:(out_c); batch norm beta:(c) */
    size_t bn_c, bn_hw;   /* batch norm: channels and positions per channel */
    size_t stat_off;      /* batch norm: running mean (c) then running var (c) in t->stats */
    float *y;             /* (B, out) this layer's output for the current batch */
    float *save;          /* batch norm: save_mean (c) then save_invstd (c) */
    uint32_t *argmax;     /* max pool: (B, out) */
    uint8_t *mask;        /* dropout: (B, out) */
    float *cols;          /* conv2d: (B, in_c·k·k, out_h·out_w) the batch's im2col, or NULL */
} layer;

struct lathe_trainer {
    const lathe_experiment *exp;
    const lathe_prepared *data;
    const lathe_kernel_table *k;
    size_t n_layers;
    layer layers[LATHE_MAX_LAYERS];
    size_t n_params, n_outputs, batch_size, max_width, n_stats;
    int binary;               /* two classes through one logit and BCE-with-logits */
    float *params, *grads, *opt_state, *snapshot; /* (n_params) each; state (n_params·s) */
    float *stats, *stats_snapshot; /* (n_stats) batch-norm running statistics */
    float *x;                 /* (B, F) gathered input batch */
    float *target;            /* (B, n_outputs) regression targets for the batch */
    uint32_t *labels;         /* (B) */
    float *delta_a, *delta_b; /* (B, max_width) ping-pong gradients */
    float *activations;       /* one block for every layer's y */
    float *work;              /* conv2d workspace (im2col, dW transposed): the largest need */
    float *cols;              /* every conv2d layer's kept im2col, when they fit the cap */
    float *bn_save;           /* every batch-norm layer's save_mean and save_invstd */
    uint32_t *argmax;         /* every max-pool layer's indices */
    uint8_t *masks;           /* every dropout layer's mask */
    uint32_t *order;          /* (train rows) this epoch's order */
    lathe_rng shuffle_rng, dropout_rng;
    size_t epoch, batch, batches_per_epoch, steps;
    double epoch_loss_sum;
    float last_epoch_loss;
    float last_batch_loss, last_lr; /* of the last step (NaN before one) */
    double last_grad_norm;          /* before clipping, of the last step (NaN: no clipping) */
    int done;
    /* early stopping: the best epoch's parameters and statistics */
    float *best_params, *best_stats;
    size_t best_epoch, epochs_since_best;
    float best_value;
    int stopped_early;
    size_t memory_bytes; /* what creation allocated for the buffers */
    struct int8_state *int8; /* int8.c: the int8 layers for inference, or NULL (float) */
    /* train.prune (prune.c): 1 keeps parameter i, 0 holds it at zero (NULL: no pruning); the
     * ranking workspace; the effective end step */
    uint8_t *prune_mask;
    struct prune_rank {
        float magnitude;
        uint32_t index;
    } *prune_work;
    size_t prune_end;
    /* train.distill (distill.c): the teacher's network (borrowed; NULL: none) and its logits
     * for the current batch:(B, n_outputs) */
    lathe_trainer *teacher;
    float *teacher_logits;
};

/* Pruning (prune.c): the masks and workspace for train.prune, allocated at creation (counted
 * in *bytes); an error names train.prune's field (an end step past the run's last). */
lathe_status lathe_prune_setup(lathe_trainer *t, lathe_error *err);
/* After optimiser step t->steps: updates the masks on a pruning step, then zeroes every
 * pruned weight. No allocation. */
void lathe_prune_after_step(lathe_trainer *t);
/* Whether layer l's weights are pruned (dense and conv2d). */
int lathe_prune_layer(const layer *ly);

/* The int8 form of a network (int8.c, set by lathe_trainer_set_int8): per layer its owned
 * quantisation (q.on 0: float), the packed int16 weights and the dequantisation multipliers;
 * and the workspace of the largest layer for one batch. */
typedef struct int8_layer_state {
    lathe_int8_layer q;
    size_t kpad;
    int16_t *w16;  /* (channels, kpad) */
    float *mult;   /* (channels) */
} int8_layer_state;
struct int8_state {
    int8_layer_state layers[LATHE_MAX_LAYERS];
    int16_t *xq, *rows; /* dense: xq (B, kpad); conv2d: xq (C·H·W) and rows (P, kpad) */
    int32_t *acc;       /* dense (B, out); conv2d (P, out_c) */
};

/* Runs layer l on n rows in int8 when it has an int8 form (returns 1), else returns 0. */
int lathe_int8_forward(lathe_trainer *t, size_t l, size_t n, const float *in);
/* Frees the int8 form (the network computes in float again). */
void lathe_int8_clear(lathe_trainer *t);
/* Adds the parameters to a weights hash, int8 layers as their int8 form (int8.c). */
void lathe_int8_hash(const lathe_trainer *t, lathe_sha256 *ctx);

#endif
