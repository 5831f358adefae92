/* The trainer's int8 form (lathe_trainer_set_int8): copies of each layer's quantisation, the
 * packed weights, the workspace, the int8 forward of a layer and the weights hash. */
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/sha256.h"

#include "trainer_internal.h"

static void free_state(struct int8_state *s) {
    size_t l;
    if (!s) return;
    for (l = 0; l < LATHE_MAX_LAYERS; l++) {
        lathe_free(s->layers[l].q.weight_scales);
        lathe_free(s->layers[l].q.weights);
        lathe_free(s->layers[l].w16);
        lathe_free(s->layers[l].mult);
    }
    lathe_free(s->xq);
    lathe_free(s->rows);
    lathe_free(s->acc);
    lathe_free(s);
}

void lathe_int8_clear(lathe_trainer *t) {
    free_state(t->int8);
    t->int8 = NULL;
}

void lathe_trainer_set_float(lathe_trainer *t) { lathe_int8_clear(t); }

static int finite_positive(float v) { return v > 0.0f && v - v == 0.0f; }

/* Checks layer l's int8 form against the network. */
static lathe_status check_layer(const lathe_trainer *t, size_t l, const lathe_int8_layer *q,
                                lathe_error *err) {
    const layer *ly = &t->layers[l];
    size_t channels, c;
    if (!q->on) return LATHE_OK;
    if (ly->kind != LATHE_LAYER_DENSE && ly->kind != LATHE_LAYER_CONV2D)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "layers[%zu]: only dense and conv2d layers have an int8 form", l);
    channels = ly->kind == LATHE_LAYER_DENSE ? ly->out : ly->out_c;
    if (q->channels != channels || q->channels * q->fan_in != ly->n_w)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "layers[%zu].int8: %zu channels of %zu weights, the layer has "
                               "%zu weights in %zu channels",
                               l, q->channels, q->fan_in, ly->n_w, channels);
    if (q->fan_in > LATHE_INT8_MAX_FAN_IN)
        return lathe_error_set(err, LATHE_ERR_LIMIT,
                               "layers[%zu]: %zu inputs per output; int8 sums stay exact up to "
                               "%u",
                               l, q->fan_in, LATHE_INT8_MAX_FAN_IN);
    if (!finite_positive(q->input_scale))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "layers[%zu].int8.input_scale: %g, must be finite and > 0", l,
                               (double)q->input_scale);
    if (q->input_zero_point < -128 || q->input_zero_point > 127)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "layers[%zu].int8.input_zero_point: %ld, must be in [-128, 127]",
                               l, (long)q->input_zero_point);
    for (c = 0; c < channels; c++)
        if (!finite_positive(q->weight_scales[c]))
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "layers[%zu].int8.weight_scales[%zu]: %g, must be finite and "
                                   "> 0",
                                   l, c, (double)q->weight_scales[c]);
    for (c = 0; c < ly->n_w; c++)
        if (q->weights[c] == -128)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "layers[%zu].int8.weights[%zu]: -128; symmetric int8 weights "
                                   "are in [-127, 127]",
                                   l, c);
    return LATHE_OK;
}

lathe_status lathe_trainer_set_int8(lathe_trainer *t, const lathe_int8_layer *layers,
                                    lathe_error *err) {
    struct int8_state *s;
    size_t l, xq = 1, rows = 1, acc = 1, any = 0;
    lathe_status st;
    for (l = 0; l < t->n_layers; l++)
        if ((st = check_layer(t, l, &layers[l], err)) != LATHE_OK) return st;
    s = lathe_calloc(1, sizeof *s);
    if (!s) goto nomem;
    for (l = 0; l < t->n_layers; l++) {
        const layer *ly = &t->layers[l];
        const lathe_int8_layer *q = &layers[l];
        int8_layer_state *d = &s->layers[l];
        size_t kpad, n_w;
        if (!q->on) continue;
        any = 1;
        n_w = q->channels * q->fan_in;
        kpad = (q->fan_in + LATHE_INT8_K_ALIGN - 1) / LATHE_INT8_K_ALIGN * LATHE_INT8_K_ALIGN;
        d->q = *q;
        d->kpad = kpad;
        d->q.weight_scales = lathe_malloc(q->channels * sizeof(float));
        d->q.weights = lathe_malloc(n_w ? n_w : 1);
        d->w16 = lathe_malloc(q->channels * kpad * sizeof(int16_t));
        d->mult = lathe_malloc(q->channels * sizeof(float));
        if (!d->q.weight_scales || !d->q.weights || !d->w16 || !d->mult) goto nomem;
        memcpy(d->q.weight_scales, q->weight_scales, q->channels * sizeof(float));
        memcpy(d->q.weights, q->weights, n_w);
        lathe_int8_pack(&d->q, kpad, d->w16, d->mult);
        if (ly->kind == LATHE_LAYER_DENSE) {
            if (t->batch_size * kpad > xq) xq = t->batch_size * kpad;
            if (t->batch_size * ly->out > acc) acc = t->batch_size * ly->out;
        } else {
            size_t plane = ly->out_h * ly->out_w;
            if (ly->in > xq) xq = ly->in;
            if (plane * kpad > rows) rows = plane * kpad;
            if (plane * ly->out_c > acc) acc = plane * ly->out_c;
        }
    }
    if (!any) {
        lathe_free(s);
        lathe_int8_clear(t);
        return LATHE_OK;
    }
    s->xq = lathe_malloc(xq * sizeof(int16_t));
    s->rows = lathe_malloc(rows * sizeof(int16_t));
    s->acc = lathe_malloc(acc * sizeof(int32_t));
    if (!s->xq || !s->rows || !s->acc) goto nomem;
    /* the float view: the dequantised weights */
    for (l = 0; l < t->n_layers; l++) {
        const int8_layer_state *d = &s->layers[l];
        size_t i, n_w = d->q.channels * d->q.fan_in;
        if (!d->q.on) continue;
        for (i = 0; i < n_w; i++) {
            float w = lathe_int8_dequantize(d->q.weights[i], d->q.weight_scales[i / d->q.fan_in]);
            t->params[t->layers[l].w_off + i] = w;
            t->snapshot[t->layers[l].w_off + i] = w;
        }
    }
    lathe_int8_clear(t);
    t->int8 = s;
    return LATHE_OK;
nomem:
    free_state(s);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory making the network int8");
}

const lathe_int8_layer *lathe_trainer_int8(const lathe_trainer *t, size_t index) {
    return t->int8 && index < t->n_layers && t->int8->layers[index].q.on
               ? &t->int8->layers[index].q
               : NULL;
}

int lathe_int8_forward(lathe_trainer *t, size_t l, size_t n, const float *in) {
    const layer *ly = &t->layers[l];
    const int8_layer_state *d;
    const float *b;
    if (!t->int8 || !t->int8->layers[l].q.on) return 0;
    d = &t->int8->layers[l];
    b = ly->n_b ? t->params + ly->b_off : NULL;
    if (ly->kind == LATHE_LAYER_DENSE) {
        lathe_int8_dense_forward(t->k, n, ly->in, ly->out, d->kpad, in, d->q.input_scale,
                                 d->q.input_zero_point, d->w16, d->mult, b, t->int8->xq,
                                 t->int8->acc, ly->y);
    } else {
        lathe_conv2d_shape s = {n, ly->in_c, ly->in_h, ly->in_w, ly->out_c, ly->kernel, ly->kernel,
                                ly->stride, ly->pad};
        lathe_int8_conv2d_forward(t->k, &s, d->kpad, in, d->q.input_scale, d->q.input_zero_point,
                                  d->w16, d->mult, b, t->int8->xq, t->int8->rows, t->int8->acc,
                                  ly->y);
    }
    return 1;
}

void lathe_int8_hash(const lathe_trainer *t, lathe_sha256 *ctx) {
    size_t l;
    if (!t->int8) {
        lathe_sha256_update_f32le(ctx, t->params, t->n_params);
        return;
    }
    for (l = 0; l < t->n_layers; l++) {
        const layer *ly = &t->layers[l];
        const lathe_int8_layer *q = &t->int8->layers[l].q;
        lathe_int8_hash_layer(ctx, t->params + ly->w_off, ly->n_w, q->on ? q : NULL,
                              t->params + ly->b_off, ly->n_b);
    }
}
