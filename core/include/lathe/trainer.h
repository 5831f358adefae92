/* The trainer: a steppable object, create -> step(n) -> evaluate -> destroy. Creation
 * allocates every buffer (parameters, gradients, optimiser state, activations for one
 * batch); stepping allocates nothing. The browser's worker steps it a slice at a time, the
 * CLI in a loop: same object, same bits. */
#ifndef LATHE_TRAINER_H
#define LATHE_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/quant.h"
#include "lathe/status.h"

typedef struct lathe_trainer lathe_trainer;

typedef struct lathe_progress {
    size_t epoch;            /* completed epochs */
    size_t epochs;           /* planned epochs */
    size_t batch;            /* batches done in the current epoch */
    size_t batches_per_epoch;
    size_t steps;            /* optimiser steps so far */
    float last_epoch_loss;   /* mean training loss of the last completed epoch (NaN before) */
    float last_batch_loss;   /* the last step's batch loss, before its update (NaN before a
                              * step of this object; not in checkpoints) */
    float last_lr;           /* the learning rate the last step used (NaN likewise) */
    double last_grad_norm;   /* the last step's global gradient L2 norm before clipping (NaN
                              * likewise, and when train.clip_norm is off) */
    int done;                /* 1 when every epoch has run (or training diverged) */
    int stopped_early;       /* 1 when early stopping ended training */
    size_t best_epoch;       /* early stopping: the epoch whose weights are kept (0: none yet) */
    float best_value;        /* early stopping: its validation loss or accuracy */
} lathe_progress;

typedef struct lathe_metrics {
    size_t rows;
    float loss;       /* the training loss function on these rows */
    float accuracy;   /* classification */
    float mse, mae, r2; /* regression */
} lathe_metrics;

typedef enum lathe_split { LATHE_SPLIT_TRAIN = 0, LATHE_SPLIT_VALIDATION, LATHE_SPLIT_TEST } lathe_split;

/* Builds the network for exp on prepared data (borrowed: it must outlive the trainer) and
 * initialises the weights from exp->seed. The input is an image (C, H, W) when data declares
 * one (prepared->image), else a vector of n_features. Checks every layer's shape: an error
 * names the layer ("model.layers[0]: conv2d needs an image input; ..."). Allocates every
 * buffer the steps need (activations, gradients, conv workspace, pooling indices, dropout
 * masks, batch-norm statistics). The caller owns *out. */
lathe_status lathe_trainer_create(const lathe_experiment *exp, const lathe_prepared *data,
                                  lathe_trainer **out, lathe_error *err);
void lathe_trainer_destroy(lathe_trainer *trainer);

/* Runs up to `batches` mini-batches (fewer when training ends). A NaN or infinite loss stops
 * training with LATHE_ERR_DIVERGED and restores the weights of the last completed epoch. */
lathe_status lathe_trainer_step(lathe_trainer *trainer, size_t batches, lathe_error *err);
lathe_progress lathe_trainer_progress(const lathe_trainer *trainer);

/* Metrics of the current weights on one split (rows 0 gives NaN metrics). No allocation. */
lathe_metrics lathe_trainer_evaluate(lathe_trainer *trainer, lathe_split split);

/* Predicts on prepared rows x:(n, n_features): out:(n, n_outputs) gets the class
 * probabilities (classification) or the predicted values (regression). No allocation. */
void lathe_trainer_predict(lathe_trainer *trainer, size_t n, const float *x, float *out);
/* lathe_trainer_predict on every row of one of the trainer's splits, prepared batch by batch
 * (lathe_prepared_rows): out:(rows, n_outputs). No allocation. */
void lathe_trainer_predict_split(lathe_trainer *trainer, lathe_split split, float *out);
/* Columns of lathe_trainer_predict's output: the classes (also 2 for a binary model with one
 * logit, whose output is (1 − p, p)), or 1 for regression. */
size_t lathe_trainer_n_outputs(const lathe_trainer *trainer);

/* One layer of the network, for serialising and inspecting. Shapes are per sample: an image
 * is (c, h, w) (image = 1), a flat vector of f features is (f, 1, 1) (image = 0). */
typedef struct lathe_layer_info {
    lathe_layer_kind kind;
    lathe_activation activation;
    size_t in, out;           /* features per sample: in_c·in_h·in_w, out_c·out_h·out_w */
    size_t in_c, in_h, in_w, out_c, out_h, out_w;
    int in_image, out_image;
    size_t kernel, stride, pad; /* conv2d (kernel × kernel); pools: kernel = window size */
    float rate;               /* dropout */
    const float *weights;     /* dense: (out, in); conv2d: (out_c, in_c, k, k); batch norm:
                               * gamma (c); else NULL */
    size_t n_weights;
    const float *bias;        /* dense: (out); conv2d: (out_c); batch norm: beta (c); else NULL */
    size_t n_bias;
    const float *running_mean, *running_var; /* batch norm: (c) each, not parameters */
    size_t channels;          /* batch norm: c (channels after conv, features after dense) */
    const lathe_int8_layer *int8; /* dense and conv2d: the int8 form, or NULL (float) */
} lathe_layer_info;

size_t lathe_trainer_layer_count(const lathe_trainer *trainer);
/* Fills *info for layer index (< lathe_trainer_layer_count). Pointers are borrowed. */
void lathe_trainer_layer(const lathe_trainer *trainer, size_t index, lathe_layer_info *info);
/* Floating-point operations of one sample forward through the layer: a multiply or an add is
 * one (dense and conv2d: 2 per weight use; pools: one per window element; batch norm: 2 per
 * output; flatten and dropout: 0; other element-wise layers: 1 per output). */
double lathe_layer_flops(const lathe_layer_info *info);

/* All parameters, layer by layer (W row-major, then b; batch norm: gamma, then beta), and
 * their count. Batch-norm running statistics are state, not parameters: they are not here,
 * not optimised and not in the weights hash (lathe_layer_info has them). */
const float *lathe_trainer_params(const lathe_trainer *trainer, size_t *count);
/* SHA-256 of the parameters as little-endian float32 bytes in layer order. */
void lathe_trainer_weights_sha256(const lathe_trainer *trainer, char hex[65]);

/* The network exp builds on data (its shapes only; nothing is allocated): the layers' infos
 * (tensor pointers NULL) into infos (room for LATHE_MAX_LAYERS), their count, and the
 * parameter and batch-norm statistic counts. Errors are lathe_trainer_create's. */
lathe_status lathe_trainer_plan(const lathe_experiment *exp, const lathe_prepared *data,
                                lathe_layer_info *infos, size_t *n_layers, size_t *n_params,
                                size_t *n_stats, lathe_error *err);

/* Replaces the parameters (n_params of lathe_trainer_params) and the batch-norm running
 * statistics (n_stats of lathe_trainer_stats; may be NULL when there are none), e.g. with a
 * loaded model's, and makes them the divergence fallback. The optimiser state is untouched. */
void lathe_trainer_set_weights(lathe_trainer *trainer, const float *params, const float *stats);
/* int8 inference (quant.h). layers:(lathe_trainer_layer_count) gives each layer's int8 form
 * (on 0: float; only dense and conv2d may have one). The trainer copies them, packs the
 * weights, sizes the workspace and replaces those layers' float weights by the dequantised
 * ones (q·s_c); evaluation and prediction then run them in int8, and the weights hash covers
 * the int8 form. A training step makes the network float again. An error names the layer; on
 * one the network is unchanged. */
lathe_status lathe_trainer_set_int8(lathe_trainer *trainer, const lathe_int8_layer *layers,
                                    lathe_error *err);
/* Drops the int8 form: the network computes in float (on the dequantised weights). */
void lathe_trainer_set_float(lathe_trainer *trainer);
/* Layer index's int8 form (borrowed), or NULL when it computes in float. */
const lathe_int8_layer *lathe_trainer_int8(const lathe_trainer *trainer, size_t index);
/* The float inference pass (int8 layers too in float) on n ≤ lathe_trainer_batch_rows rows
 * x:(n, n_features): outs[l] gets layer l's output (n, out), borrowed until the next call. No
 * allocation. Calibration's view of the activations. */
void lathe_trainer_forward_float(lathe_trainer *trainer, size_t n, const float *x,
                                 const float **outs);
/* The rows one forward pass takes at most (the batch size the buffers were made for). */
size_t lathe_trainer_batch_rows(const lathe_trainer *trainer);

/* The bytes the trainer's buffers take (what creation checked against the limits). */
size_t lathe_trainer_memory_bytes(const lathe_trainer *trainer);
/* The batch-norm running statistics, layer by layer (mean, then var), and their count. */
const float *lathe_trainer_stats(const lathe_trainer *trainer, size_t *count);

/* train.distill: each training step runs teacher (a loaded model's network, borrowed: it must
 * outlive the trainer) at evaluation on the batch and trains on lathe_loss_distill against
 * its logits (train.distill.alpha 0: the plain loss, the teacher never runs). The teacher
 * must classify the same classes, in order, from the same prepared features (its fitted
 * preparation the trainer's data's, bit for bit); an error names train.distill.teacher.
 * Allocates the teacher's logits (batch, classes) now; stepping allocates nothing. */
lathe_status lathe_trainer_set_teacher(lathe_trainer *trainer, lathe_trainer *teacher,
                                       lathe_error *err);

#endif
