/* The trainer: a sequential network of dense and activation layers over one parameter block,
 * trained by mini-batches in a seeded order. Shapes: B = batch size, F = features. */
#include "lathe/trainer.h"

#include <string.h>

#include "lathe/alloc.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/mathf.h"
#include "lathe/optim.h"
#include "lathe/rng.h"
#include "lathe/sha256.h"

typedef struct layer {
    lathe_layer_kind kind;
    lathe_activation activation;
    size_t in, out;       /* features per sample */
    size_t w_off, b_off;  /* dense: W:(out,in) and b:(out) in the parameter block */
    float *y;             /* (B, out) this layer's output for the current batch */
} layer;

struct lathe_trainer {
    const lathe_experiment *exp;
    const lathe_prepared *data;
    const lathe_kernel_table *k;
    size_t n_layers;
    layer layers[LATHE_MAX_LAYERS];
    size_t n_params, n_outputs, batch_size, max_width;
    float *params, *grads, *opt_state, *snapshot; /* (n_params) each; state (n_params·s) */
    float *x;                 /* (B, F) gathered input batch */
    float *target;            /* (B, n_outputs) regression targets for the batch */
    uint32_t *labels;         /* (B) */
    float *delta_a, *delta_b; /* (B, max_width) ping-pong gradients */
    float *activations;       /* one block for every layer's y */
    uint32_t *order;          /* (train rows) this epoch's order */
    lathe_rng shuffle_rng;
    size_t epoch, batch, batches_per_epoch, steps;
    double epoch_loss_sum;
    float last_epoch_loss;
    int done;
};

void lathe_trainer_destroy(lathe_trainer *t) {
    if (!t) return;
    lathe_free(t->params);
    lathe_free(t->grads);
    lathe_free(t->opt_state);
    lathe_free(t->snapshot);
    lathe_free(t->x);
    lathe_free(t->target);
    lathe_free(t->labels);
    lathe_free(t->delta_a);
    lathe_free(t->delta_b);
    lathe_free(t->activations);
    lathe_free(t->order);
    lathe_free(t);
}

static void init_weights(lathe_trainer *t) {
    lathe_rng rng;
    size_t l, i;
    lathe_rng_seed(&rng, t->exp->seed, 1);
    for (l = 0; l < t->n_layers; l++) {
        layer *ly = &t->layers[l];
        float w_bound, b_bound;
        if (ly->kind != LATHE_LAYER_DENSE) continue;
        switch (t->exp->init) {
        case LATHE_INIT_XAVIER_UNIFORM:
            w_bound = lathe_sqrtf(6.0f / (float)(ly->in + ly->out)), b_bound = 0.0f;
            break;
        case LATHE_INIT_HE_UNIFORM:
            w_bound = lathe_sqrtf(6.0f / (float)ly->in), b_bound = 0.0f;
            break;
        default:
            w_bound = b_bound = 1.0f / lathe_sqrtf((float)ly->in);
            break;
        }
        for (i = 0; i < ly->in * ly->out; i++)
            t->params[ly->w_off + i] = lathe_rng_uniform_range(&rng, -w_bound, w_bound);
        for (i = 0; i < ly->out; i++)
            t->params[ly->b_off + i] =
                b_bound > 0.0f ? lathe_rng_uniform_range(&rng, -b_bound, b_bound) : 0.0f;
    }
}

lathe_status lathe_trainer_create(const lathe_experiment *exp, const lathe_prepared *data,
                                  lathe_trainer **out, lathe_error *err) {
    lathe_trainer *t;
    size_t l, width, total_act = 0, per_param;
    *out = NULL;
    t = lathe_calloc(1, sizeof *t);
    if (!t) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory creating the trainer");
    t->exp = exp, t->data = data, t->k = lathe_kernels();
    t->n_outputs = data->task == LATHE_TASK_CLASSIFICATION ? data->n_classes : 1;
    t->batch_size = exp->batch_size < data->train.rows ? exp->batch_size : data->train.rows;
    width = data->n_features;
    t->max_width = width;
    for (l = 0; l < exp->n_layers; l++) {
        layer *ly = &t->layers[l];
        const lathe_layer_spec *spec = &exp->layers[l];
        ly->kind = spec->kind;
        ly->activation = spec->activation;
        ly->in = width;
        if (spec->kind == LATHE_LAYER_DENSE) {
            ly->out = spec->units ? spec->units : t->n_outputs;
            ly->w_off = t->n_params;
            ly->b_off = ly->w_off + ly->out * ly->in;
            t->n_params = ly->b_off + ly->out;
        } else {
            ly->out = width;
        }
        width = ly->out;
        if (width > t->max_width) t->max_width = width;
        total_act += width;
    }
    t->n_layers = exp->n_layers;
    if (width != t->n_outputs) {
        lathe_trainer_destroy(t);
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "model.layers[%zu].units: the last layer gives %zu outputs, but "
                               "the data needs %zu (%s)",
                               exp->n_layers - 1, width, t->n_outputs,
                               data->task == LATHE_TASK_CLASSIFICATION ? "one per class"
                                                                       : "one value");
    }
    per_param = lathe_optimizer_state_per_param(&exp->optimizer);
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
    t->order = lathe_calloc(data->train.rows, sizeof(uint32_t));
    if (!t->params || !t->grads || !t->opt_state || !t->snapshot || !t->x || !t->target ||
        !t->labels || !t->delta_a || !t->delta_b || !t->activations || !t->order) {
        lathe_trainer_destroy(t);
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory creating the trainer");
    }
    for (l = 0, total_act = 0; l < t->n_layers; l++) {
        t->layers[l].y = t->activations + total_act * t->batch_size;
        total_act += t->layers[l].out;
    }
    init_weights(t);
    memcpy(t->snapshot, t->params, t->n_params * sizeof(float));
    lathe_rng_seed(&t->shuffle_rng, exp->seed, 2);
    t->batches_per_epoch = (data->train.rows + t->batch_size - 1) / t->batch_size;
    t->last_epoch_loss = __builtin_nanf("");
    *out = t;
    return LATHE_OK;
}

/* Forward pass of n rows already in t->x; returns the output layer's buffer (n, n_outputs). */
static const float *forward(lathe_trainer *t, size_t n, const float *x) {
    size_t l;
    const float *in = x;
    for (l = 0; l < t->n_layers; l++) {
        layer *ly = &t->layers[l];
        if (ly->kind == LATHE_LAYER_DENSE)
            lathe_dense_forward(t->k, n, ly->in, ly->out, in, t->params + ly->w_off,
                                t->params + ly->b_off, ly->y);
        else
            lathe_activation_forward(ly->activation, n * ly->out, in, ly->y);
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
        float *dx = l > 0 ? next : NULL;
        if (ly->kind == LATHE_LAYER_DENSE)
            lathe_dense_backward(t->k, n, ly->in, ly->out, in, t->params + ly->w_off, delta, dx,
                                 t->grads + ly->w_off, t->grads + ly->b_off);
        else if (dx)
            lathe_activation_backward(ly->activation, n * ly->out, in, ly->y, delta, dx);
        swap = delta, delta = next, next = swap;
    }
}

static float batch_loss(lathe_trainer *t, size_t n, const float *out, float *grad) {
    if (t->data->task == LATHE_TASK_CLASSIFICATION)
        return lathe_softmax_cross_entropy(n, t->n_outputs, out, t->labels, grad);
    return lathe_mse(n, t->n_outputs, out, t->target, grad);
}

static int finite(float v) { return v == v && v - v == 0.0f; }

lathe_status lathe_trainer_step(lathe_trainer *t, size_t batches, lathe_error *err) {
    const lathe_split_data *train = &t->data->train;
    size_t F = t->data->n_features;
    while (batches > 0 && !t->done) {
        size_t start, n, i;
        float loss;
        const float *out;
        if (t->batch == 0) { /* a new epoch: reshuffle */
            for (i = 0; i < train->rows; i++) t->order[i] = (uint32_t)i;
            lathe_rng_shuffle_u32(&t->shuffle_rng, t->order, train->rows);
            t->epoch_loss_sum = 0.0;
        }
        start = t->batch * t->batch_size;
        n = train->rows - start < t->batch_size ? train->rows - start : t->batch_size;
        for (i = 0; i < n; i++) {
            uint32_t r = t->order[start + i];
            memcpy(t->x + i * F, train->x + (size_t)r * F, F * sizeof(float));
            if (train->label) t->labels[i] = train->label[r];
            else t->target[i] = train->value[r];
        }
        out = forward(t, n, t->x);
        loss = batch_loss(t, n, out, t->delta_a);
        if (!finite(loss)) {
            memcpy(t->params, t->snapshot, t->n_params * sizeof(float));
            t->done = 1;
            return lathe_error_set(err, LATHE_ERR_DIVERGED,
                                   "training diverged at epoch %zu, batch %zu: the loss is %s; "
                                   "the weights of the last completed epoch were kept (try a "
                                   "smaller learning rate)",
                                   t->epoch + 1, t->batch + 1, loss != loss ? "NaN" : "infinite");
        }
        backward(t, n);
        t->steps++;
        lathe_optimizer_step(&t->exp->optimizer, t->exp->optimizer.lr, t->steps, t->n_params,
                             t->params, t->grads, t->opt_state);
        t->epoch_loss_sum += (double)loss * (double)n;
        t->batch++;
        batches--;
        if (t->batch == t->batches_per_epoch) {
            t->batch = 0;
            t->epoch++;
            t->last_epoch_loss = (float)(t->epoch_loss_sum / (double)train->rows);
            memcpy(t->snapshot, t->params, t->n_params * sizeof(float));
            if (t->epoch == t->exp->epochs) t->done = 1;
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
    p.done = t->done;
    return p;
}

lathe_metrics lathe_trainer_evaluate(lathe_trainer *t, lathe_split split) {
    const lathe_split_data *s = split == LATHE_SPLIT_TRAIN        ? &t->data->train
                                : split == LATHE_SPLIT_VALIDATION ? &t->data->validation
                                                                  : &t->data->test;
    lathe_metrics m;
    size_t F = t->data->n_features, C = t->n_outputs, start, i, j, correct = 0;
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
        out = forward(t, n, s->x + start * F);
        loss_sum += (double)batch_loss(t, n, out, NULL) * (double)n;
        for (i = 0; i < n; i++) {
            if (s->label) {
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

size_t lathe_trainer_n_outputs(const lathe_trainer *t) { return t->n_outputs; }

void lathe_trainer_predict(lathe_trainer *t, size_t n, const float *x, float *out) {
    size_t start, C = t->n_outputs, F = t->data->n_features;
    for (start = 0; start < n; start += t->batch_size) {
        size_t rows = n - start < t->batch_size ? n - start : t->batch_size;
        const float *y = forward(t, rows, x + start * F);
        if (t->data->task == LATHE_TASK_CLASSIFICATION)
            lathe_softmax_forward(rows, C, y, out + start * C);
        else
            memcpy(out + start * C, y, rows * C * sizeof(float));
    }
}

const float *lathe_trainer_params(const lathe_trainer *t, size_t *count) {
    *count = t->n_params;
    return t->params;
}

void lathe_trainer_weights_sha256(const lathe_trainer *t, char hex[65]) {
    lathe_sha256 ctx;
    uint8_t digest[32];
    size_t i;
    lathe_sha256_init(&ctx);
    for (i = 0; i < t->n_params; i++) {
        uint32_t bits;
        uint8_t le[4];
        memcpy(&bits, &t->params[i], 4);
        le[0] = (uint8_t)bits, le[1] = (uint8_t)(bits >> 8), le[2] = (uint8_t)(bits >> 16),
        le[3] = (uint8_t)(bits >> 24);
        lathe_sha256_update(&ctx, le, 4);
    }
    lathe_sha256_final(&ctx, digest);
    lathe_sha256_to_hex(digest, hex);
}

size_t lathe_trainer_layer_count(const lathe_trainer *t) { return t->n_layers; }

void lathe_trainer_layer(const lathe_trainer *t, size_t index, lathe_layer_info *info) {
    const layer *ly = &t->layers[index];
    info->kind = ly->kind;
    info->activation = ly->activation;
    info->in = ly->in;
    info->out = ly->out;
    info->weights = ly->kind == LATHE_LAYER_DENSE ? t->params + ly->w_off : NULL;
    info->bias = ly->kind == LATHE_LAYER_DENSE ? t->params + ly->b_off : NULL;
}
