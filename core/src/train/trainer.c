/* The trainer: a sequential network (dense, conv2d, pooling, flatten, batch norm, dropout and
 * activation layers) over one parameter block, trained by mini-batches in a seeded order.
 * Shapes: B = batch size, F = features; each layer's per-sample tensor is an image (C,H,W)
 * in NCHW order or a flat vector (F), and a batch of either is the row-major (B, C·H·W)
 * matrix, so flatten (and a dense layer on an image: implicit flatten) moves no memory. */
#include "lathe/pool.h"
#include "lathe/trainer.h"

#include <stdio.h>
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/batchnorm.h"
#include "lathe/conv.h"
#include "lathe/dropout.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/limits.h"
#include "lathe/losses.h"
#include "lathe/schedule.h"
#include "lathe/mathf.h"
#include "lathe/optim.h"
#include "lathe/rng.h"
#include "lathe/sha256.h"

#include "trainer_internal.h"

void lathe_trainer_destroy(lathe_trainer *t) {
    if (!t) return;
    lathe_free(t->best_params);
    lathe_free(t->best_stats);
    lathe_free(t->params);
    lathe_free(t->grads);
    lathe_free(t->opt_state);
    lathe_free(t->snapshot);
    lathe_free(t->stats);
    lathe_free(t->stats_snapshot);
    lathe_free(t->x);
    lathe_free(t->target);
    lathe_free(t->labels);
    lathe_free(t->delta_a);
    lathe_free(t->delta_b);
    lathe_free(t->activations);
    lathe_free(t->work);
    lathe_free(t->cols);
    lathe_free(t->bn_save);
    lathe_free(t->argmax);
    lathe_free(t->masks);
    lathe_free(t->order);
    lathe_free(t->prune_mask);
    lathe_free(t->prune_work);
    lathe_free(t->teacher_logits);
    lathe_int8_clear(t);
    lathe_free(t);
}

/* Initial weights from stream 1 of the seed, layer by layer; within a layer W in memory order,
 * then b. Dense and conv2d draw; batch norm starts at gamma 1, beta 0 and draws nothing. */
static void init_weights(lathe_trainer *t) {
    lathe_rng rng;
    size_t l, i;
    lathe_rng_seed(&rng, t->exp->seed, LATHE_STREAM_INIT);
    for (l = 0; l < t->n_layers; l++) {
        layer *ly = &t->layers[l];
        float w_bound, b_bound, w_std = 0.0f;
        size_t fan_in, fan_out;
        if (ly->kind == LATHE_LAYER_BATCH_NORM) {
            for (i = 0; i < ly->n_w; i++) t->params[ly->w_off + i] = 1.0f;
            for (i = 0; i < ly->n_b; i++) t->params[ly->b_off + i] = 0.0f;
            lathe_batchnorm_init_running(ly->bn_c, t->stats + ly->stat_off,
                                         t->stats + ly->stat_off + ly->bn_c);
            continue;
        }
        if (ly->kind == LATHE_LAYER_DENSE) {
            fan_in = ly->in, fan_out = ly->out;
        } else if (ly->kind == LATHE_LAYER_CONV2D) {
            fan_in = ly->in_c * ly->kernel * ly->kernel;
            fan_out = ly->out_c * ly->kernel * ly->kernel;
        } else {
            continue;
        }
        switch (t->exp->init) {
        case LATHE_INIT_XAVIER_UNIFORM:
            w_bound = lathe_sqrtf(6.0f / (float)(fan_in + fan_out)), b_bound = 0.0f;
            break;
        case LATHE_INIT_HE_UNIFORM:
            w_bound = lathe_sqrtf(6.0f / (float)fan_in), b_bound = 0.0f;
            break;
        case LATHE_INIT_XAVIER_NORMAL:
            w_std = lathe_sqrtf(2.0f / (float)(fan_in + fan_out)), w_bound = b_bound = 0.0f;
            break;
        case LATHE_INIT_HE_NORMAL:
            w_std = lathe_sqrtf(2.0f / (float)fan_in), w_bound = b_bound = 0.0f;
            break;
        case LATHE_INIT_ZEROS:
            w_bound = b_bound = 0.0f;
            break;
        default:
            w_bound = b_bound = 1.0f / lathe_sqrtf((float)fan_in);
            break;
        }
        for (i = 0; i < ly->n_w; i++)
            t->params[ly->w_off + i] =
                w_std > 0.0f    ? w_std * lathe_rng_normal(&rng)
                : w_bound > 0.0f ? lathe_rng_uniform_range(&rng, -w_bound, w_bound)
                                 : 0.0f;
        for (i = 0; i < ly->n_b; i++)
            t->params[ly->b_off + i] =
                b_bound > 0.0f ? lathe_rng_uniform_range(&rng, -b_bound, b_bound) : 0.0f;
    }
}

static const char *kind_name(const layer *ly) { return lathe_layer_type_name(ly->kind, ly->activation); }

/* Where layer l is written in the experiment: "model.layers[l]", or inside a template. */
static void layer_path(const lathe_experiment *exp, size_t l, char *path, size_t cap) {
    if (exp->model_template[0])
        snprintf(path, cap, "model.template '%s', layer %zu", exp->model_template, l);
    else
        snprintf(path, cap, "model.layers[%zu]", l);
}

static lathe_conv2d_shape conv_shape(const layer *ly, size_t n) {
    lathe_conv2d_shape s;
    s.n = n, s.in_ch = ly->in_c, s.h = ly->in_h, s.w = ly->in_w;
    s.out_ch = ly->out_c, s.kh = s.kw = ly->kernel, s.stride = ly->stride, s.pad = ly->pad;
    return s;
}

static lathe_pool2d_shape pool_shape(const layer *ly, size_t n) {
    lathe_pool2d_shape s;
    s.n = n, s.c = ly->in_c, s.h = ly->in_h, s.w = ly->in_w, s.k = ly->kernel;
    s.stride = ly->stride;
    return s;
}

/* Size of every layer from the input shape on; sets the parameter offsets and the counts the
 * buffers need. An error names the layer and the reason. */
static lathe_status plan_layers(lathe_trainer *t, size_t *work_floats, size_t *n_save,
                                size_t *n_argmax, size_t *n_mask, lathe_error *err) {
    const lathe_experiment *exp = t->exp;
    const lathe_prepared *data = t->data;
    size_t l, c, h, w, smallest_batch;
    int image = data->image[0] != 0;
    char path[96];
    c = image ? data->image[0] : data->n_features;
    h = image ? data->image[1] : 1;
    w = image ? data->image[2] : 1;
    smallest_batch = data->train.rows % t->batch_size ? data->train.rows % t->batch_size
                                                      : t->batch_size;
    *work_floats = *n_save = *n_argmax = *n_mask = 0;
    for (l = 0; l < exp->n_layers; l++) {
        layer *ly = &t->layers[l];
        const lathe_layer_spec *spec = &exp->layers[l];
        ly->kind = spec->kind;
        ly->activation = spec->activation;
        ly->in_c = c, ly->in_h = h, ly->in_w = w, ly->in_image = image;
        ly->in = c * h * w;
        layer_path(exp, l, path, sizeof path);
        switch (spec->kind) {
        case LATHE_LAYER_DENSE: /* flattens an image input implicitly */
            c = spec->units ? spec->units : t->n_outputs, h = w = 1, image = 0;
            if ((uint64_t)c * ly->in > LATHE_LIMIT_PARAMETERS)
                return lathe_error_set(err, LATHE_ERR_LIMIT,
                                       "%s: dense %zu -> %zu needs %llu weights; Lathe's limit is "
                                       "%u (64 Mi)",
                                       path, ly->in, c, (unsigned long long)((uint64_t)c * ly->in),
                                       LATHE_LIMIT_PARAMETERS);
            ly->n_w = c * ly->in, ly->n_b = c;
            break;
        case LATHE_LAYER_CONV2D:
        case LATHE_LAYER_MAX_POOL:
        case LATHE_LAYER_AVG_POOL: {
            size_t k = spec->kind == LATHE_LAYER_CONV2D ? spec->kernel : spec->size;
            size_t pad = spec->kind == LATHE_LAYER_CONV2D ? spec->pad : 0, ho, wo;
            lathe_error inner;
            lathe_status st;
            if (!image) {
                if (l == 0)
                    return lathe_error_set(err, LATHE_ERR_INVALID,
                                           "%s: %s needs an image input (C, H, W); the data has "
                                           "%zu feature columns (declare data.image, e.g. "
                                           "[1, 8, 8])",
                                           path, kind_name(ly), ly->in);
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%s: %s needs an image input (C, H, W), but the layer "
                                       "before it (%s) gives %zu flat features; image layers "
                                       "come before any dense or flatten layer",
                                       path, kind_name(ly), kind_name(&t->layers[l - 1]), ly->in);
            }
            if (k > h + 2 * pad || k > w + 2 * pad)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%s: the %s %s %zux%zu is larger than its input %zux%zu%s",
                                       path, kind_name(ly),
                                       spec->kind == LATHE_LAYER_CONV2D ? "kernel" : "window", k,
                                       k, h, w, pad ? " (with its padding)" : "");
            ly->kernel = k, ly->stride = spec->stride, ly->pad = pad;
            ly->out_c = spec->kind == LATHE_LAYER_CONV2D ? spec->filters : c;
            if (spec->kind == LATHE_LAYER_CONV2D) {
                lathe_conv2d_shape s = conv_shape(ly, t->batch_size);
                st = lathe_conv2d_output_size(&s, &ho, &wo, &inner);
                if (st == LATHE_OK && lathe_conv2d_workspace_size(&s) > *work_floats)
                    *work_floats = lathe_conv2d_workspace_size(&s);
                if ((uint64_t)ly->out_c * c * k * k > LATHE_LIMIT_PARAMETERS)
                    return lathe_error_set(err, LATHE_ERR_LIMIT,
                                           "%s: conv2d needs %llu weights; Lathe's limit is %u",
                                           path, (unsigned long long)((uint64_t)ly->out_c * c * k * k),
                                           LATHE_LIMIT_PARAMETERS);
                ly->n_w = ly->out_c * c * k * k, ly->n_b = ly->out_c;
            } else {
                lathe_pool2d_shape s = pool_shape(ly, t->batch_size);
                st = lathe_pool2d_output_size(&s, &ho, &wo, &inner);
            }
            if (st != LATHE_OK)
                return lathe_error_set(err, st, "%s: %s", path, inner.message);
            c = ly->out_c, h = ho, w = wo;
            if (spec->kind == LATHE_LAYER_MAX_POOL) *n_argmax += c * h * w;
            break;
        }
        case LATHE_LAYER_FLATTEN:
            c = c * h * w, h = w = 1, image = 0;
            break;
        case LATHE_LAYER_BATCH_NORM:
            ly->bn_c = image ? c : c * h * w;
            ly->bn_hw = image ? h * w : 1;
            if (smallest_batch * ly->bn_hw < 2)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%s: batch_norm needs at least 2 values per %s in every "
                                       "batch, but a batch of %zu row%s (%zu training rows, "
                                       "batch_size %zu) gives %zu: change train.batch_size",
                                       path, image ? "channel" : "feature", smallest_batch,
                                       smallest_batch == 1 ? "" : "s", data->train.rows,
                                       t->exp->batch_size, smallest_batch * ly->bn_hw);
            ly->n_w = ly->n_b = ly->bn_c;
            ly->stat_off = t->n_stats;
            t->n_stats += 2 * ly->bn_c;
            *n_save += 2 * ly->bn_c;
            break;
        case LATHE_LAYER_DROPOUT:
            ly->rate = spec->rate;
            *n_mask += c * h * w;
            break;
        default:
            break;
        }
        ly->out_c = c, ly->out_h = h, ly->out_w = w, ly->out_image = image;
        if ((uint64_t)c * h * w > LATHE_LIMIT_LAYER_WIDTH)
            return lathe_error_set(err, LATHE_ERR_LIMIT,
                                   "%s: its output has %llu values per sample; Lathe's limit is %u",
                                   path, (unsigned long long)((uint64_t)c * h * w),
                                   LATHE_LIMIT_LAYER_WIDTH);
        ly->out = c * h * w;
        if ((uint64_t)t->n_params + ly->n_w + ly->n_b > LATHE_LIMIT_PARAMETERS)
            return lathe_error_set(err, LATHE_ERR_LIMIT,
                                   "%s: the network reaches %llu parameters here; Lathe's limit is "
                                   "%u (64 Mi)",
                                   path, (unsigned long long)((uint64_t)t->n_params + ly->n_w + ly->n_b),
                                   LATHE_LIMIT_PARAMETERS);
        if (ly->n_w + ly->n_b > 0) {
            ly->w_off = t->n_params;
            ly->b_off = ly->w_off + ly->n_w;
            t->n_params = ly->b_off + ly->n_b;
        }
        if (ly->in > t->max_width) t->max_width = ly->in;
        if (ly->out > t->max_width) t->max_width = ly->out;
    }
    t->n_layers = exp->n_layers;
    if (exp->raw_outputs) {
        t->n_outputs = c * h * w;
        return LATHE_OK;
    }
    if (image || c != t->n_outputs)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "model.layers[%zu].units: the last layer gives %zu outputs, but "
                               "the data needs %zu (%s)",
                               exp->n_layers - 1, c * h * w, t->n_outputs,
                               data->task == LATHE_TASK_CLASSIFICATION ? "one per class"
                                                                       : "one value");
    return LATHE_OK;
}

enum { CONV_COLS_MAX = 16u << 20 }; /* floats of kept im2col matrices: 64 MiB */

/* Floats of one sample's im2col matrix for a conv2d layer. */
static size_t conv_cols(const layer *ly) {
    lathe_conv2d_shape s = conv_shape(ly, 1);
    return lathe_conv2d_cols_size(&s);
}

/* Floats of one sample's im2col matrices over every conv2d layer. */
static uint64_t conv_cols_per_sample(const lathe_trainer *t) {
    uint64_t n = 0;
    size_t l;
    for (l = 0; l < t->n_layers; l++)
        if (t->layers[l].kind == LATHE_LAYER_CONV2D) n += conv_cols(&t->layers[l]);
    return n;
}

lathe_status lathe_trainer_create(const lathe_experiment *exp, const lathe_prepared *data,
                                  lathe_trainer **out, lathe_error *err) {
    lathe_trainer *t;
    size_t l, total_act = 0, per_param, work_floats, n_save, n_argmax, n_mask, n_cols, n_kept = 0;
    lathe_status st;
    *out = NULL;
    t = lathe_calloc(1, sizeof *t);
    if (!t) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory creating the trainer");
    t->exp = exp, t->data = data, t->k = lathe_kernels();
    t->binary = exp->loss == LATHE_LOSS_BINARY_CROSS_ENTROPY;
    if (t->binary && data->n_classes != 2) {
        lathe_trainer_destroy(t);
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "train.loss: binary_cross_entropy needs 2 classes; the data has %zu "
                               "(use softmax_cross_entropy)",
                               data->n_classes);
    }
    t->n_outputs = data->task == LATHE_TASK_CLASSIFICATION && !t->binary ? data->n_classes : 1;
    /* A network without training rows (a loaded model) predicts in batches of batch_size. */
    t->batch_size = data->train.rows && data->train.rows < exp->batch_size ? data->train.rows
                                                                           : exp->batch_size;
    t->max_width = data->n_features;
    st = plan_layers(t, &work_floats, &n_save, &n_argmax, &n_mask, err);
    if (st != LATHE_OK) {
        lathe_trainer_destroy(t);
        return st;
    }
    for (l = 0; l < t->n_layers; l++) total_act += t->layers[l].out;
    per_param = lathe_optimizer_state_per_param(&exp->optimizer);
    {
        uint64_t B = t->batch_size, floats, bytes, cols;
        floats = (uint64_t)t->n_params * (4 + per_param + (exp->early_stopping ? 1 : 0)) +
                 B * (data->n_features + t->n_outputs + 2 * (uint64_t)t->max_width + total_act) +
                 (uint64_t)t->n_stats * 3 + work_floats + n_save + B * n_argmax;
        bytes = floats * 4 + B * 4 + B * n_mask + (uint64_t)data->train.rows * 4;
        /* The forward pass keeps each conv2d layer's im2col matrices for the backward pass
         * (one im2col fewer per layer and step) when they all fit CONV_COLS_MAX floats and the
         * trainer's limit; otherwise the backward pass builds them again. A network that only
         * predicts (no training rows: a loaded model) keeps none. */
        cols = data->train.rows ? conv_cols_per_sample(t) : 0, n_cols = 0;
        if (cols && B * cols <= CONV_COLS_MAX && bytes + B * cols * 4 <= LATHE_LIMIT_TRAINER_BYTES)
            bytes += B * cols * 4, n_cols = (size_t)cols;
        if (B * total_act > LATHE_LIMIT_ACTIVATIONS || bytes > LATHE_LIMIT_TRAINER_BYTES) {
            lathe_status st_limit = lathe_error_set(
                err, LATHE_ERR_LIMIT,
                "the trainer would need %llu MiB (%zu parameters, batch %zu); Lathe's limit is "
                "%u MiB: use a smaller batch_size or model",
                (unsigned long long)(bytes >> 20), t->n_params, t->batch_size,
                LATHE_LIMIT_TRAINER_BYTES >> 20);
            lathe_trainer_destroy(t);
            return st_limit;
        }
        t->memory_bytes = (size_t)bytes;
    }
    t->params = lathe_calloc(t->n_params, sizeof(float));
    t->grads = lathe_calloc(t->n_params, sizeof(float));
    t->opt_state = lathe_calloc(t->n_params * per_param, sizeof(float));
    t->snapshot = lathe_calloc(t->n_params, sizeof(float));
    t->x = lathe_calloc(t->batch_size * data->n_features, sizeof(float));
    t->target = lathe_calloc(t->batch_size * t->n_outputs, sizeof(float));
    t->labels = lathe_calloc(t->batch_size, sizeof(uint32_t));
    t->delta_a = lathe_calloc(t->batch_size * t->max_width, sizeof(float));
    t->delta_b = lathe_calloc(t->batch_size * t->max_width, sizeof(float));
    t->activations = lathe_calloc(t->batch_size * total_act, sizeof(float));
    t->order = lathe_calloc(data->train.rows ? data->train.rows : 1, sizeof(uint32_t));
    if (!t->params || !t->grads || !t->opt_state || !t->snapshot || !t->x || !t->target ||
        !t->labels || !t->delta_a || !t->delta_b || !t->activations || !t->order)
        goto nomem;
    /* Buffers only some layer kinds need: none at all for an MLP. */
    if (t->n_stats) {
        t->stats = lathe_calloc(t->n_stats, sizeof(float));
        t->stats_snapshot = lathe_calloc(t->n_stats, sizeof(float));
        t->bn_save = lathe_calloc(n_save, sizeof(float));
        if (!t->stats || !t->stats_snapshot || !t->bn_save) goto nomem;
    }
    if (work_floats && !(t->work = lathe_calloc(work_floats, sizeof(float)))) goto nomem;
    if (n_cols && !(t->cols = lathe_calloc(t->batch_size * n_cols, sizeof(float)))) goto nomem;
    if (n_argmax && !(t->argmax = lathe_calloc(t->batch_size * n_argmax, sizeof(uint32_t))))
        goto nomem;
    if (n_mask && !(t->masks = lathe_calloc(t->batch_size * n_mask, 1))) goto nomem;
    if (exp->early_stopping) {
        if (data->validation.rows == 0) {
            lathe_trainer_destroy(t);
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "train.early_stopping: the validation split has no rows");
        }
        t->best_params = lathe_calloc(t->n_params, sizeof(float));
        if (!t->best_params) goto nomem;
        if (t->n_stats && !(t->best_stats = lathe_calloc(t->n_stats, sizeof(float)))) goto nomem;
    }
    for (l = 0, total_act = 0, n_save = 0, n_argmax = 0, n_mask = 0; l < t->n_layers; l++) {
        layer *ly = &t->layers[l];
        ly->y = t->activations + total_act * t->batch_size;
        total_act += ly->out;
        if (ly->kind == LATHE_LAYER_BATCH_NORM) ly->save = t->bn_save + n_save, n_save += 2 * ly->bn_c;
        if (ly->kind == LATHE_LAYER_MAX_POOL)
            ly->argmax = t->argmax + n_argmax * t->batch_size, n_argmax += ly->out;
        if (ly->kind == LATHE_LAYER_DROPOUT)
            ly->mask = t->masks + n_mask * t->batch_size, n_mask += ly->out;
        if (ly->kind == LATHE_LAYER_CONV2D && t->cols)
            ly->cols = t->cols + n_kept * t->batch_size, n_kept += conv_cols(ly);
    }
    init_weights(t);
    memcpy(t->snapshot, t->params, t->n_params * sizeof(float));
    if (t->n_stats) memcpy(t->stats_snapshot, t->stats, t->n_stats * sizeof(float));
    lathe_rng_seed(&t->shuffle_rng, exp->seed, LATHE_STREAM_SHUFFLE);
    lathe_rng_seed(&t->dropout_rng, exp->seed, LATHE_STREAM_DROPOUT);
    t->batches_per_epoch = (data->train.rows + t->batch_size - 1) / t->batch_size;
    t->last_epoch_loss = t->last_batch_loss = t->last_lr = __builtin_nanf("");
    t->last_grad_norm = __builtin_nan("");
    if ((st = lathe_prune_setup(t, err)) != LATHE_OK) {
        lathe_trainer_destroy(t);
        return st;
    }
    *out = t;
    return LATHE_OK;
nomem:
    lathe_trainer_destroy(t);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory creating the trainer");
}

/* Forward pass of n rows x:(n, F); returns the output layer's buffer (n, n_outputs). In
 * training, batch norm normalises with the batch statistics (and updates its running ones),
 * dropout draws its masks (layer by layer, each mask in index order, from stream 3 of the
 * seed) and max pooling records its indices; at evaluation batch norm uses the running
 * statistics and dropout is the identity, so evaluating never changes training. */
static const float *forward(lathe_trainer *t, size_t n, const float *x, int training) {
    size_t l;
    const float *in = x;
    for (l = 0; l < t->n_layers; l++) {
        layer *ly = &t->layers[l];
        const float *wt = t->params + ly->w_off, *b = t->params + ly->b_off;
        switch (ly->kind) {
        case LATHE_LAYER_DENSE:
            if (!training && lathe_int8_forward(t, l, n, in)) break;
            lathe_dense_forward(t->k, n, ly->in, ly->out, in, wt, b, ly->y);
            break;
        case LATHE_LAYER_CONV2D: {
            lathe_conv2d_shape s = conv_shape(ly, n);
            if (!training && lathe_int8_forward(t, l, n, in)) break;
            if (training && ly->cols)
                lathe_conv2d_forward_keep(t->k, &s, in, wt, b, ly->y, ly->cols);
            else
                lathe_conv2d_forward(t->k, &s, in, wt, b, ly->y, t->work);
            break;
        }
        case LATHE_LAYER_MAX_POOL: {
            lathe_pool2d_shape s = pool_shape(ly, n);
            lathe_max_pool2d_forward(t->k, &s, in, ly->y, training ? ly->argmax : NULL);
            break;
        }
        case LATHE_LAYER_AVG_POOL: {
            lathe_pool2d_shape s = pool_shape(ly, n);
            lathe_avg_pool2d_forward(t->k, &s, in, ly->y);
            break;
        }
        case LATHE_LAYER_BATCH_NORM: {
            float *mean = t->stats + ly->stat_off, *var = mean + ly->bn_c;
            if (training)
                (void)lathe_batchnorm_forward_train(n, ly->bn_c, ly->bn_hw, LATHE_BATCHNORM_EPS,
                                                    LATHE_BATCHNORM_MOMENTUM, in, wt, b, ly->y,
                                                    ly->save, ly->save + ly->bn_c, mean, var,
                                                    NULL); /* sizes checked at creation */
            else
                lathe_batchnorm_forward_eval(n, ly->bn_c, ly->bn_hw, LATHE_BATCHNORM_EPS, in, wt,
                                             b, mean, var, ly->y);
            break;
        }
        case LATHE_LAYER_DROPOUT:
            if (training) lathe_dropout_forward(&t->dropout_rng, ly->rate, n * ly->out, in, ly->y, ly->mask);
            else memcpy(ly->y, in, n * ly->out * sizeof(float));
            break;
        case LATHE_LAYER_FLATTEN:
            memcpy(ly->y, in, n * ly->out * sizeof(float));
            break;
        default:
            lathe_activation_forward(t->k, ly->activation, n * ly->out, in, ly->y);
            break;
        }
        in = ly->y;
    }
    return in;
}

/* Backward pass from dlogits in t->delta_a; fills t->grads. */
static void backward(lathe_trainer *t, size_t n) {
    float *delta = t->delta_a, *next = t->delta_b, *swap;
    size_t l = t->n_layers;
    while (l-- > 0) {
        layer *ly = &t->layers[l];
        const float *in = l > 0 ? t->layers[l - 1].y : t->x;
        const float *wt = t->params + ly->w_off;
        float *dx = l > 0 ? next : NULL, *gw = t->grads + ly->w_off, *gb = t->grads + ly->b_off;
        switch (ly->kind) {
        case LATHE_LAYER_DENSE:
            lathe_dense_backward(t->k, n, ly->in, ly->out, in, wt, delta, dx, gw, gb);
            break;
        case LATHE_LAYER_CONV2D: {
            lathe_conv2d_shape s = conv_shape(ly, n);
            if (ly->cols) /* kept by this batch's forward pass */
                lathe_conv2d_backward_weights_kept(t->k, &s, ly->cols, delta, gw, gb, t->work);
            else
                lathe_conv2d_backward_weights(t->k, &s, in, delta, gw, gb, t->work);
            if (dx) lathe_conv2d_backward_data(t->k, &s, wt, delta, dx, t->work);
            break;
        }
        case LATHE_LAYER_MAX_POOL: {
            lathe_pool2d_shape s = pool_shape(ly, n);
            if (dx) lathe_max_pool2d_backward(t->k, &s, ly->argmax, delta, dx);
            break;
        }
        case LATHE_LAYER_AVG_POOL: {
            lathe_pool2d_shape s = pool_shape(ly, n);
            if (dx) lathe_avg_pool2d_backward(t->k, &s, delta, dx);
            break;
        }
        case LATHE_LAYER_BATCH_NORM:
            lathe_batchnorm_backward(n, ly->bn_c, ly->bn_hw, in, wt, ly->save,
                                     ly->save + ly->bn_c, delta, dx, gw, gb);
            break;
        case LATHE_LAYER_DROPOUT:
            if (dx) lathe_dropout_backward(ly->rate, n * ly->out, ly->mask, delta, dx);
            break;
        case LATHE_LAYER_FLATTEN:
            if (dx) memcpy(dx, delta, n * ly->out * sizeof(float));
            break;
        default:
            if (dx) lathe_activation_backward(t->k, ly->activation, n * ly->out, in, ly->y, delta, dx);
            break;
        }
        swap = delta, delta = next, next = swap;
    }
}

/* The loss of a batch; t->labels (classification) or t->target hold its truth. With one
 * logit (binary) the labels are copied to t->target as 0/1 first. */
static float batch_loss(lathe_trainer *t, size_t n, const float *out, float *grad) {
    if (t->binary) {
        size_t i;
        for (i = 0; i < n; i++) t->target[i] = (float)t->labels[i];
        return lathe_loss_bce_with_logits(n, 1, out, t->target, grad);
    }
    if (t->data->task == LATHE_TASK_CLASSIFICATION)
        return lathe_loss_softmax_cross_entropy(n, t->n_outputs, out, t->labels, grad);
    switch (t->exp->loss) {
    case LATHE_LOSS_MAE: return lathe_loss_mae(n, t->n_outputs, out, t->target, grad);
    case LATHE_LOSS_HUBER:
        return lathe_loss_huber(n, t->n_outputs, t->exp->huber_delta, out, t->target, grad);
    default: return lathe_loss_mse(n, t->n_outputs, out, t->target, grad);
    }
}

/* train.distill: the teacher's logits for the batch x:(n, F) in t->teacher_logits:(n, C), its
 * network at evaluation (running batch-norm statistics, no dropout), in chunks of its own
 * batch size. No allocation. */
static const float *teacher_logits(lathe_trainer *t, size_t n, const float *x) {
    lathe_trainer *teacher = t->teacher;
    size_t start, F = t->data->n_features, C = t->n_outputs;
    for (start = 0; start < n; start += teacher->batch_size) {
        size_t rows = n - start < teacher->batch_size ? n - start : teacher->batch_size;
        const float *y = forward(teacher, rows, x + start * F, 0);
        memcpy(t->teacher_logits + start * C, y, rows * C * sizeof(float));
    }
    return t->teacher_logits;
}

/* The training loss of the batch in t->x (out: the network's outputs), ∂loss/∂out into
 * t->delta_a: batch_loss, or with a teacher and train.distill.alpha > 0 the distillation loss
 * (lathe_loss_distill). Evaluation keeps batch_loss, the task's own loss. */
static float train_loss(lathe_trainer *t, size_t n, const float *out) {
    if (!t->teacher || !(t->exp->distill_alpha > 0.0f)) return batch_loss(t, n, out, t->delta_a);
    return lathe_loss_distill(n, t->n_outputs, t->exp->distill_temperature, t->exp->distill_alpha,
                              out, teacher_logits(t, n, t->x), t->labels, t->delta_a);
}

static int finite(float v) { return v == v && v - v == 0.0f; }

/* Keeps the best epoch's weights; after `patience` epochs without an improvement larger than
 * min_delta, ends training. Runs at the end of an epoch; allocates nothing. */
static void watch_validation(lathe_trainer *t) {
    lathe_metrics m = lathe_trainer_evaluate(t, LATHE_SPLIT_VALIDATION);
    float value = t->exp->early_stopping_accuracy ? m.accuracy : m.loss;
    float delta = t->exp->early_stopping_min_delta;
    int better = t->best_epoch == 0 ||
                 (t->exp->early_stopping_accuracy ? value > t->best_value + delta
                                                  : value < t->best_value - delta);
    if (value != value) better = 0;
    if (better) {
        t->best_value = value;
        t->best_epoch = t->epoch;
        t->epochs_since_best = 0;
        memcpy(t->best_params, t->params, t->n_params * sizeof(float));
        if (t->n_stats) memcpy(t->best_stats, t->stats, t->n_stats * sizeof(float));
    } else if (++t->epochs_since_best >= t->exp->early_stopping_patience) {
        t->done = 1;
        t->stopped_early = 1;
    }
}

static void restore_best(lathe_trainer *t) {
    memcpy(t->params, t->best_params, t->n_params * sizeof(float));
    if (t->n_stats) memcpy(t->stats, t->best_stats, t->n_stats * sizeof(float));
}

lathe_status lathe_trainer_step(lathe_trainer *t, size_t batches, lathe_error *err) {
    const lathe_split_data *train = &t->data->train;
    if (train->rows == 0 || t->exp->raw_outputs)
        return lathe_error_set(err, LATHE_ERR_INVALID, "there are no training rows to train on");
    if (t->int8) lathe_int8_clear(t); /* training changes the weights: the network is float again */
    while (batches > 0 && !t->done) {
        size_t start, n, i;
        float loss, lr;
        const float *out;
        if (t->batch == 0) { /* a new epoch: reshuffle (train.shuffle false: table order) */
            for (i = 0; i < train->rows; i++) t->order[i] = (uint32_t)i;
            if (t->exp->shuffle) lathe_rng_shuffle_u32(&t->shuffle_rng, t->order, train->rows);
            t->epoch_loss_sum = 0.0;
        }
        start = t->batch * t->batch_size;
        n = train->rows - start < t->batch_size ? train->rows - start : t->batch_size;
        lathe_prepared_gather(t->data, train, t->order + start, n, t->x);
        for (i = 0; i < n; i++) {
            uint32_t r = t->order[start + i];
            if (train->label) t->labels[i] = train->label[r];
            else t->target[i] = train->value[r];
        }
        out = forward(t, n, t->x, 1);
        loss = train_loss(t, n, out);
        if (!finite(loss)) {
            memcpy(t->params, t->snapshot, t->n_params * sizeof(float));
            if (t->n_stats) memcpy(t->stats, t->stats_snapshot, t->n_stats * sizeof(float));
            t->done = 1;
            return lathe_error_set(err, LATHE_ERR_DIVERGED,
                                   "training diverged at epoch %zu, batch %zu: the loss is %s; "
                                   "the weights of the last completed epoch were kept (try a "
                                   "smaller learning rate)",
                                   t->epoch + 1, t->batch + 1, loss != loss ? "NaN" : "infinite");
        }
        backward(t, n);
        if (t->exp->clip_norm > 0.0f)
            t->last_grad_norm = lathe_optim_clip_grad_norm(t->n_params, t->grads, t->exp->clip_norm);
        lr = lathe_schedule_lr(&t->exp->schedule, t->exp->optimizer.lr, t->epoch, t->steps);
        t->last_batch_loss = loss, t->last_lr = lr;
        t->steps++;
        lathe_optimizer_step(t->k, &t->exp->optimizer, lr, t->steps, t->n_params, t->params, t->grads,
                             t->opt_state);
        lathe_prune_after_step(t); /* train.prune: the masks, and the pruned weights at zero */
        t->epoch_loss_sum += (double)loss * (double)n;
        t->batch++;
        batches--;
        if (t->batch == t->batches_per_epoch) {
            t->batch = 0;
            t->epoch++;
            t->last_epoch_loss = (float)(t->epoch_loss_sum / (double)train->rows);
            memcpy(t->snapshot, t->params, t->n_params * sizeof(float));
            if (t->n_stats) memcpy(t->stats_snapshot, t->stats, t->n_stats * sizeof(float));
            if (t->exp->early_stopping) watch_validation(t);
            if (t->epoch == t->exp->epochs) t->done = 1;
            if (t->done && t->exp->early_stopping && t->best_epoch > 0) restore_best(t);
        }
    }
    return LATHE_OK;
}

lathe_progress lathe_trainer_progress(const lathe_trainer *t) {
    lathe_progress p;
    p.epoch = t->epoch;
    p.epochs = t->exp->epochs;
    p.batch = t->batch;
    p.batches_per_epoch = t->batches_per_epoch;
    p.steps = t->steps;
    p.last_epoch_loss = t->last_epoch_loss;
    p.last_batch_loss = t->last_batch_loss;
    p.last_lr = t->last_lr;
    p.last_grad_norm = t->last_grad_norm;
    p.done = t->done;
    p.stopped_early = t->stopped_early;
    p.best_epoch = t->best_epoch;
    p.best_value = t->best_value;
    return p;
}

lathe_metrics lathe_trainer_evaluate(lathe_trainer *t, lathe_split split) {
    const lathe_split_data *s = split == LATHE_SPLIT_TRAIN        ? &t->data->train
                                : split == LATHE_SPLIT_VALIDATION ? &t->data->validation
                                                                  : &t->data->test;
    lathe_metrics m;
    size_t C = t->n_outputs, start, i, j, correct = 0;
    double loss_sum = 0.0, se = 0.0, ae = 0.0, mean = 0.0, var = 0.0;
    float nan = __builtin_nanf("");
    m.rows = s->rows;
    m.loss = m.accuracy = m.mse = m.mae = m.r2 = nan;
    if (s->rows == 0) return m;
    if (s->value) {
        for (i = 0; i < s->rows; i++) mean += (double)s->value[i];
        mean /= (double)s->rows;
    }
    for (start = 0; start < s->rows; start += t->batch_size) {
        size_t n = s->rows - start < t->batch_size ? s->rows - start : t->batch_size;
        const float *out;
        for (i = 0; i < n; i++) {
            if (s->label) t->labels[i] = s->label[start + i];
            else t->target[i] = s->value[start + i];
        }
        lathe_prepared_rows(t->data, s, start, n, t->x);
        out = forward(t, n, t->x, 0);
        loss_sum += (double)batch_loss(t, n, out, NULL) * (double)n;
        for (i = 0; i < n; i++) {
            if (s->label && t->binary) {
                correct += (out[i] > 0.0f ? 1u : 0u) == s->label[start + i];
            } else if (s->label) {
                size_t best = 0;
                for (j = 1; j < C; j++)
                    if (out[i * C + j] > out[i * C + best]) best = j;
                correct += best == s->label[start + i];
            } else {
                double d = (double)out[i] - (double)s->value[start + i];
                double c = (double)s->value[start + i] - mean;
                se += d * d, ae += d < 0 ? -d : d, var += c * c;
            }
        }
    }
    m.loss = (float)(loss_sum / (double)s->rows);
    if (s->label) {
        m.accuracy = (float)((double)correct / (double)s->rows);
    } else {
        m.mse = (float)(se / (double)s->rows);
        m.mae = (float)(ae / (double)s->rows);
        m.r2 = var > 0.0 ? (float)(1.0 - se / var) : nan;
    }
    return m;
}

size_t lathe_trainer_n_outputs(const lathe_trainer *t) { return t->binary ? 2 : t->n_outputs; }

/* The outputs out:(rows, n_outputs) of one batch x:(rows ≤ batch_size, n_features). */
static void predict_batch(lathe_trainer *t, size_t rows, const float *x, float *out) {
    size_t C = t->n_outputs, i;
    const float *y = forward(t, rows, x, 0);
    if (t->binary) { /* (1 − p, p) with p = σ(z) */
        for (i = 0; i < rows; i++) {
            float p = lathe_sigmoidf(y[i]);
            out[i * 2] = 1.0f - p, out[i * 2 + 1] = p;
        }
    } else if (t->data->task == LATHE_TASK_CLASSIFICATION)
        lathe_softmax_forward(t->k, rows, C, y, out);
    else
        memcpy(out, y, rows * C * sizeof(float));
}

void lathe_trainer_predict(lathe_trainer *t, size_t n, const float *x, float *out) {
    size_t start, F = t->data->n_features;
    for (start = 0; start < n; start += t->batch_size) {
        size_t rows = n - start < t->batch_size ? n - start : t->batch_size;
        predict_batch(t, rows, x + start * F, out + start * lathe_trainer_n_outputs(t));
    }
}

void lathe_trainer_forward_float(lathe_trainer *t, size_t n, const float *x, const float **outs) {
    struct int8_state *int8 = t->int8;
    size_t l;
    t->int8 = NULL; /* the float network, whatever its int8 form */
    (void)forward(t, n, x, 0);
    t->int8 = int8;
    for (l = 0; l < t->n_layers; l++) outs[l] = t->layers[l].y;
}

size_t lathe_trainer_batch_rows(const lathe_trainer *t) { return t->batch_size; }

void lathe_trainer_predict_split(lathe_trainer *t, lathe_split split, float *out) {
    const lathe_split_data *s = split == LATHE_SPLIT_TRAIN        ? &t->data->train
                                : split == LATHE_SPLIT_VALIDATION ? &t->data->validation
                                                                  : &t->data->test;
    size_t start;
    for (start = 0; start < s->rows; start += t->batch_size) {
        size_t rows = s->rows - start < t->batch_size ? s->rows - start : t->batch_size;
        lathe_prepared_rows(t->data, s, start, rows, t->x);
        predict_batch(t, rows, t->x, out + start * lathe_trainer_n_outputs(t));
    }
}

const float *lathe_trainer_params(const lathe_trainer *t, size_t *count) {
    *count = t->n_params;
    return t->params;
}

void lathe_trainer_weights_sha256(const lathe_trainer *t, char hex[65]) {
    lathe_sha256 ctx;
    uint8_t digest[32];
    lathe_sha256_init(&ctx);
    lathe_int8_hash(t, &ctx); /* the float parameters, or the int8 form where there is one */
    lathe_sha256_final(&ctx, digest);
    lathe_sha256_to_hex(digest, hex);
}

size_t lathe_trainer_layer_count(const lathe_trainer *t) { return t->n_layers; }

/* The layer info of a planned layer: shapes only, no tensors. */
static void shape_info(const layer *ly, lathe_layer_info *info) {
    memset(info, 0, sizeof *info);
    info->kind = ly->kind;
    info->activation = ly->activation;
    info->in = ly->in, info->out = ly->out;
    info->in_c = ly->in_c, info->in_h = ly->in_h, info->in_w = ly->in_w;
    info->out_c = ly->out_c, info->out_h = ly->out_h, info->out_w = ly->out_w;
    info->in_image = ly->in_image, info->out_image = ly->out_image;
    info->kernel = ly->kernel, info->stride = ly->stride, info->pad = ly->pad;
    info->rate = ly->rate;
    info->n_weights = ly->n_w, info->n_bias = ly->n_b;
    if (ly->kind == LATHE_LAYER_BATCH_NORM) info->channels = ly->bn_c;
}

double lathe_layer_flops(const lathe_layer_info *info) {
    double out = (double)info->out;
    switch (info->kind) {
    case LATHE_LAYER_DENSE: return 2.0 * (double)info->n_weights;
    case LATHE_LAYER_CONV2D: return 2.0 * (double)info->n_weights * (double)info->out_h * (double)info->out_w;
    case LATHE_LAYER_MAX_POOL:
    case LATHE_LAYER_AVG_POOL: return out * (double)info->kernel * (double)info->kernel;
    case LATHE_LAYER_FLATTEN:
    case LATHE_LAYER_DROPOUT: return 0.0;
    case LATHE_LAYER_BATCH_NORM: return 2.0 * out;
    default: return out;
    }
}

void lathe_trainer_layer(const lathe_trainer *t, size_t index, lathe_layer_info *info) {
    const layer *ly = &t->layers[index];
    shape_info(ly, info);
    info->weights = ly->n_w ? t->params + ly->w_off : NULL;
    info->bias = ly->n_b ? t->params + ly->b_off : NULL;
    info->int8 = lathe_trainer_int8(t, index);
    if (ly->kind == LATHE_LAYER_BATCH_NORM) {
        info->running_mean = t->stats + ly->stat_off;
        info->running_var = t->stats + ly->stat_off + ly->bn_c;
    }
}

lathe_status lathe_trainer_plan(const lathe_experiment *exp, const lathe_prepared *data,
                                lathe_layer_info *infos, size_t *n_layers, size_t *n_params,
                                size_t *n_stats, lathe_error *err) {
    static lathe_trainer plan; /* only shapes: no buffers (static: too large for a wasm stack) */
    size_t work, save, argmax, mask, l;
    lathe_status st;
    memset(&plan, 0, sizeof plan);
    plan.exp = exp, plan.data = data;
    plan.binary = exp->loss == LATHE_LOSS_BINARY_CROSS_ENTROPY;
    plan.n_outputs = data->task == LATHE_TASK_CLASSIFICATION && !plan.binary ? data->n_classes : 1;
    plan.batch_size = data->train.rows && data->train.rows < exp->batch_size ? data->train.rows
                                                                             : exp->batch_size;
    plan.max_width = data->n_features;
    st = plan_layers(&plan, &work, &save, &argmax, &mask, err);
    if (st != LATHE_OK) return st;
    for (l = 0; l < plan.n_layers; l++) shape_info(&plan.layers[l], &infos[l]);
    *n_layers = plan.n_layers, *n_params = plan.n_params, *n_stats = plan.n_stats;
    return LATHE_OK;
}

void lathe_trainer_set_weights(lathe_trainer *t, const float *params, const float *stats) {
    memcpy(t->params, params, t->n_params * sizeof(float));
    memcpy(t->snapshot, params, t->n_params * sizeof(float));
    if (t->n_stats && stats) {
        memcpy(t->stats, stats, t->n_stats * sizeof(float));
        memcpy(t->stats_snapshot, stats, t->n_stats * sizeof(float));
    }
}

const float *lathe_trainer_stats(const lathe_trainer *t, size_t *count) {
    *count = t->n_stats;
    return t->stats;
}

size_t lathe_trainer_memory_bytes(const lathe_trainer *t) { return t->memory_bytes; }
