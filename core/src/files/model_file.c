#include "lathe/model_file.h"

#include <stdint.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/base64.h"
#include "lathe/json_hooks.h"
#include "lathe/batchnorm.h"
#include "lathe/version.h"

#ifdef __EMSCRIPTEN__
#define LATHE_MODEL_PRODUCER "lathe " LATHE_VERSION " (wasm)"
#else
#define LATHE_MODEL_PRODUCER "lathe " LATHE_VERSION " (native)"
#endif

/* A base64 string of n floats as little-endian bytes, or NULL when out of memory. */
static cJSON *floats_base64(const float *v, size_t n) {
    uint8_t *bytes = lathe_malloc(n * 4);
    char *text = lathe_malloc(((n * 4 + 2) / 3) * 4 + 1);
    cJSON *item = NULL;
    size_t i;
    if (bytes && text) {
        for (i = 0; i < n; i++) {
            uint32_t bits;
            memcpy(&bits, &v[i], 4);
            bytes[4 * i] = (uint8_t)bits, bytes[4 * i + 1] = (uint8_t)(bits >> 8);
            bytes[4 * i + 2] = (uint8_t)(bits >> 16), bytes[4 * i + 3] = (uint8_t)(bits >> 24);
        }
        lathe_base64_encode(bytes, n * 4, text);
        item = cJSON_CreateString(text);
    }
    lathe_free(bytes);
    lathe_free(text);
    return item;
}

/* Adds item to obj under key (or to an array when key is NULL); on failure deletes item, so
 * nothing leaks whichever allocation failed. Returns 0 on failure (item NULL included). */
static int add(cJSON *obj, const char *key, cJSON *item) {
    cJSON_bool ok;
    if (!item) return 0;
    ok = key ? cJSON_AddItemToObject(obj, key, item) : cJSON_AddItemToArray(obj, item);
    if (!ok) cJSON_Delete(item);
    return ok != 0;
}

/* The values of v:(n) whose bits are all zero (+0.0: what pruning leaves; -0.0 is a value). */
static size_t zero_bits(const float *v, size_t n) {
    size_t i, z = 0;
    for (i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        z += bits == 0;
    }
    return z;
}

/* Whether a weight tensor is stored sparse (version 3): at least half its values are +0.0. */
static int stored_sparse(const float *v, size_t n) { return n > 0 && 2 * zero_bits(v, n) >= n; }

/* A sparse tensor: {"nonzeros": K, "mask": base64 of ceil(n/8) bytes (bit i % 8 of byte i / 8,
 * least significant first: value i is not +0.0), "values": base64 of the K other values as
 * little-endian float32, in order}; NULL when out of memory. */
static cJSON *sparse_base64(const float *v, size_t n) {
    size_t k = n - zero_bits(v, n), i, j = 0, mask_n = (n + 7) / 8;
    uint8_t *mask = lathe_calloc(mask_n ? mask_n : 1, 1);
    char *text = lathe_malloc(lathe_base64_length(mask_n) + 1);
    float *values = lathe_malloc((k ? k : 1) * sizeof *values);
    cJSON *o = NULL, *vals = NULL;
    if (mask && text && values) {
        for (i = 0; i < n; i++) {
            uint32_t bits;
            memcpy(&bits, &v[i], 4);
            if (bits) mask[i / 8] |= (uint8_t)(1u << (i % 8)), values[j++] = v[i];
        }
        lathe_base64_encode(mask, mask_n, text);
        vals = floats_base64(values, k);
        o = vals ? cJSON_CreateObject() : NULL;
        if (o && !(cJSON_AddNumberToObject(o, "nonzeros", (double)k) &&
                   cJSON_AddStringToObject(o, "mask", text) && add(o, "values", vals))) {
            cJSON_Delete(o);
            o = NULL;
        } else if (!o) {
            cJSON_Delete(vals);
        }
    }
    lathe_free(mask);
    lathe_free(text);
    lathe_free(values);
    return o;
}

/* Version 4's int8 weights: "int8": {"input_scale", "input_zero_point", "weight_scales"
 * (base64 float32, one per output channel), and "weights" (base64 of the int8 bytes) or, when
 * at least half are 0, "weights_sparse" (the mask of version 3 and the other bytes)}. */
static cJSON *int8_object(const lathe_int8_layer *q) {
    size_t n = q->channels * q->fan_in, k = 0, i, j = 0, mask_n = (n + 7) / 8;
    cJSON *o = cJSON_CreateObject();
    uint8_t *mask = NULL, *values = NULL;
    char *text = NULL;
    int ok = o != NULL;
    for (i = 0; i < n; i++) k += q->weights[i] != 0;
    ok = ok && cJSON_AddNumberToObject(o, "input_scale", (double)q->input_scale);
    ok = ok && cJSON_AddNumberToObject(o, "input_zero_point", (double)q->input_zero_point);
    ok = ok && add(o, "weight_scales", floats_base64(q->weight_scales, q->channels));
    if (ok && 2 * k > n) {
        ok = (text = lathe_malloc(lathe_base64_length(n) + 1)) != NULL;
        if (ok) lathe_base64_encode(q->weights, n, text);
        ok = ok && cJSON_AddStringToObject(o, "weights", text);
    } else if (ok) {
        cJSON *sparse = cJSON_CreateObject();
        mask = lathe_calloc(mask_n ? mask_n : 1, 1);
        values = lathe_malloc(k ? k : 1);
        text = lathe_malloc(lathe_base64_length(mask_n > k ? mask_n : k) + 1);
        ok = add(o, "weights_sparse", sparse) && mask && values && text;
        for (i = 0; ok && i < n; i++)
            if (q->weights[i]) mask[i / 8] |= (uint8_t)(1u << (i % 8)), values[j++] = (uint8_t)q->weights[i];
        ok = ok && cJSON_AddNumberToObject(sparse, "nonzeros", (double)k);
        if (ok) lathe_base64_encode(mask, mask_n, text);
        ok = ok && cJSON_AddStringToObject(sparse, "mask", text);
        if (ok) lathe_base64_encode(values, k, text);
        ok = ok && cJSON_AddStringToObject(sparse, "values", text);
    }
    lathe_free(mask);
    lathe_free(values);
    lathe_free(text);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* A layer's weights: "weights" (dense base64), or in version 3 "weights_sparse" when at
 * least half of them are +0.0, or in version 4 "int8" for an int8 layer. */
static int add_weights(cJSON *layer, const lathe_layer_info *info, int version) {
    if (info->int8) return add(layer, "int8", int8_object(info->int8));
    if (version >= 3 && stored_sparse(info->weights, info->n_weights))
        return add(layer, "weights_sparse", sparse_base64(info->weights, info->n_weights));
    return add(layer, "weights", floats_base64(info->weights, info->n_weights));
}

/* n floats, or n times dflt when v is NULL. */
static cJSON *float_array(const float *v, size_t n, float dflt) {
    cJSON *a = cJSON_CreateArray();
    size_t i;
    for (i = 0; a && i < n; i++) {
        float f = v ? v[i] : dflt;
        /* NaN (a feature without a fill) is written as null: cJSON_CreateNumber would cast
         * it to int, which is undefined. */
        cJSON *x = f != f ? cJSON_CreateNull() : cJSON_CreateNumber((double)f);
        if (!add(a, NULL, x)) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *size_array(const size_t *v, size_t n) {
    cJSON *a = cJSON_CreateArray();
    size_t i;
    for (i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateNumber((double)v[i]);
        if (!add(a, NULL, x)) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* One layer: its type, the fields that rebuild it, and its tensors as base64 little-endian
 * float32 (dense W:(units, in); conv2d W:(filters, in_channels, kernel, kernel); batch norm
 * gamma, beta and the running statistics, which are state, not parameters). */
static int add_layer_fields(cJSON *layer, const lathe_layer_info *info, int version) {
    int ok = 1;
    size_t in_shape[3];
    in_shape[0] = info->in_c, in_shape[1] = info->in_h, in_shape[2] = info->in_w;
    switch (info->kind) {
    case LATHE_LAYER_DENSE:
        ok = ok && cJSON_AddStringToObject(layer, "type", "dense");
        ok = ok && cJSON_AddNumberToObject(layer, "in", (double)info->in);
        ok = ok && cJSON_AddNumberToObject(layer, "units", (double)info->out);
        ok = ok && add_weights(layer, info, version);
        ok = ok && add(layer, "bias", floats_base64(info->bias, info->n_bias));
        break;
    case LATHE_LAYER_CONV2D:
        ok = ok && cJSON_AddStringToObject(layer, "type", "conv2d");
        ok = ok && add(layer, "in", size_array(in_shape, 3));
        ok = ok && cJSON_AddNumberToObject(layer, "filters", (double)info->out_c);
        ok = ok && cJSON_AddNumberToObject(layer, "kernel", (double)info->kernel);
        ok = ok && cJSON_AddNumberToObject(layer, "stride", (double)info->stride);
        ok = ok && cJSON_AddNumberToObject(layer, "padding", (double)info->pad);
        ok = ok && add_weights(layer, info, version);
        ok = ok && add(layer, "bias", floats_base64(info->bias, info->n_bias));
        break;
    case LATHE_LAYER_MAX_POOL:
    case LATHE_LAYER_AVG_POOL:
        ok = ok && cJSON_AddStringToObject(layer, "type",
                                           info->kind == LATHE_LAYER_MAX_POOL ? "max_pool" : "avg_pool");
        ok = ok && add(layer, "in", size_array(in_shape, 3));
        ok = ok && cJSON_AddNumberToObject(layer, "size", (double)info->kernel);
        ok = ok && cJSON_AddNumberToObject(layer, "stride", (double)info->stride);
        break;
    case LATHE_LAYER_FLATTEN:
        ok = ok && cJSON_AddStringToObject(layer, "type", "flatten");
        ok = ok && add(layer, "in", size_array(in_shape, 3));
        break;
    case LATHE_LAYER_BATCH_NORM:
        ok = ok && cJSON_AddStringToObject(layer, "type", "batch_norm");
        ok = ok && cJSON_AddNumberToObject(layer, "channels", (double)info->channels);
        ok = ok && cJSON_AddNumberToObject(layer, "eps", (double)LATHE_BATCHNORM_EPS);
        ok = ok && cJSON_AddNumberToObject(layer, "momentum", (double)LATHE_BATCHNORM_MOMENTUM);
        ok = ok && add(layer, "gamma", floats_base64(info->weights, info->n_weights));
        ok = ok && add(layer, "beta", floats_base64(info->bias, info->n_bias));
        ok = ok && add(layer, "running_mean", floats_base64(info->running_mean, info->channels));
        ok = ok && add(layer, "running_var", floats_base64(info->running_var, info->channels));
        break;
    case LATHE_LAYER_DROPOUT:
        ok = ok && cJSON_AddStringToObject(layer, "type", "dropout");
        ok = ok && cJSON_AddNumberToObject(layer, "rate", (double)info->rate);
        break;
    default:
        ok = ok && cJSON_AddStringToObject(layer, "type", lathe_layer_type_name(LATHE_LAYER_ACTIVATION, info->activation));
        break;
    }
    return ok;
}

/* The fitted preparation's values. Version 1: "fill", then one "shift" and "scale" pair (the
 * one scaling step's, or the identity). Version 2: "steps", every fitted step in order, each
 * {"op", its arrays}: impute {"fill"}, standardize and minmax {"shift", "scale"}. */
/* A fitted step's values:(n): version 5's base64 of little-endian float32 (NaN as its bits),
 * else float_array's numbers (NaN as null; v NULL: n times dflt). */
static cJSON *step_values(const float *v, size_t n, float dflt, int version) {
    return version >= 5 && v ? floats_base64(v, n) : float_array(v, n, dflt);
}

/* Whether every input is a numeric column of one feature, named as that feature, in order:
 * version 5 then writes "inputs": "features". */
static int inputs_are_features(const lathe_prepared *prep) {
    size_t i;
    if (prep->n_inputs != prep->n_features) return 0;
    for (i = 0; i < prep->n_inputs; i++) {
        const lathe_prepared_input *in = &prep->inputs[i];
        if (in->type != LATHE_COLUMN_NUMERIC || in->width != 1 || in->first != i ||
            strcmp(in->name, prep->feature_names[i]) != 0)
            return 0;
    }
    return 1;
}

/* Whether the fill holds what only an impute step says: a value for a numeric or boolean
 * feature, or a one-hot 1 (without an impute step, a version 2 file means NaN and 0). */
static int fill_needs_impute(const lathe_prepared *prep) {
    size_t i, k;
    for (i = 0; i < prep->n_inputs; i++)
        for (k = prep->inputs[i].first; k < prep->inputs[i].first + prep->inputs[i].width; k++) {
            float f = prep->fill[k];
            if (f == f && (prep->inputs[i].type != LATHE_COLUMN_CATEGORICAL || f != 0.0f)) return 1;
        }
    return 0;
}

static int add_fitted_steps(cJSON *prepared, const lathe_prepared *prep, int version) {
    size_t F = prep->n_features, k;
    cJSON *steps;
    int ok = 1;
    if (version == 1) {
        const lathe_prepared_step *scaler = NULL;
        for (k = 0; k < prep->n_steps; k++)
            if (prep->steps[k].kind != LATHE_PREP_IMPUTE) scaler = &prep->steps[k];
        return add(prepared, "fill", float_array(prep->fill, F, 0.0f)) &&
               add(prepared, "shift", float_array(scaler ? scaler->shift : NULL, F, 0.0f)) &&
               add(prepared, "scale", float_array(scaler ? scaler->scale : NULL, F, 1.0f));
    }
    steps = cJSON_AddArrayToObject(prepared, "steps");
    ok = steps != NULL;
    if (ok && (prep->n_steps == 0 || prep->steps[0].kind != LATHE_PREP_IMPUTE) && fill_needs_impute(prep)) {
        /* a version 1 file's fill (its preparation read back, then saved as version 2 or
         * later, e.g. quantised): the fill becomes the impute step it stands for */
        cJSON *item = cJSON_CreateObject();
        ok = add(steps, NULL, item) && cJSON_AddStringToObject(item, "op", "impute") &&
             add(item, "fill", step_values(prep->fill, F, 0.0f, version));
    }
    for (k = 0; ok && k < prep->n_steps; k++) {
        const lathe_prepared_step *step = &prep->steps[k];
        cJSON *item = cJSON_CreateObject();
        ok = add(steps, NULL, item);
        ok = ok && cJSON_AddStringToObject(item, "op", step->kind == LATHE_PREP_IMPUTE ? "impute"
                                                       : step->kind == LATHE_PREP_MINMAX ? "minmax"
                                                                                         : "standardize");
        if (ok && step->kind == LATHE_PREP_IMPUTE) {
            ok = add(item, "fill", step_values(prep->fill, F, 0.0f, version));
            continue;
        }
        ok = ok && add(item, "shift", step_values(step->shift, F, 0.0f, version));
        ok = ok && add(item, "scale", step_values(step->scale, F, 0.0f, version));
    }
    return ok;
}

lathe_status lathe_model_file_write(const char *experiment_json, size_t n,
                                    const lathe_prepared *prep, const lathe_trainer *trainer,
                                    const char *metrics_json, char **out, lathe_error *err) {
    cJSON *root, *prepared, *layers, *features, *classes, *inputs;
    char hash[65];
    size_t i, count;
    int ok;
    /* The oldest version that holds the preparation: 1 for at most one scaling step. */
    int version = lathe_prepared_scaling_steps(prep) <= 1 ? 1 : 2;
    /* version 3 (the steps of version 2) when a dense or conv2d layer is stored sparse */
    for (i = 0; i < lathe_trainer_layer_count(trainer); i++) {
        lathe_layer_info li;
        lathe_trainer_layer(trainer, i, &li);
        if ((li.kind == LATHE_LAYER_DENSE || li.kind == LATHE_LAYER_CONV2D) &&
            stored_sparse(li.weights, li.n_weights) && version < 3)
            version = 3;
        if (li.int8 && version < 4) version = 4; /* int8 layers */
    }
    /* version 5 for a wide preparation: compact inputs and base64 fitted values */
    if (prep->n_features >= LATHE_MODEL_COMPACT_FEATURES) version = 5;
    *out = NULL;
    lathe_json_hooks_install(); /* cJSON allocates through the core's hook */
    root = cJSON_CreateObject();
    ok = root != NULL;
    lathe_trainer_weights_sha256(trainer, hash);
    ok = ok && cJSON_AddStringToObject(root, "format", "lathe-model");
    ok = ok && cJSON_AddNumberToObject(root, "version", version);
    ok = ok && cJSON_AddStringToObject(root, "producer", LATHE_MODEL_PRODUCER);
    ok = ok && add(root, "experiment", cJSON_ParseWithLength(experiment_json, n));
    prepared = cJSON_AddObjectToObject(root, "preparation");
    ok = ok && prepared;
    ok = ok && cJSON_AddStringToObject(prepared, "task",
                                       prep->task == LATHE_TASK_CLASSIFICATION ? "classification"
                                                                               : "regression");
    ok = ok && cJSON_AddStringToObject(prepared, "target", prep->target ? prep->target : "");
    if (version >= 5 && inputs_are_features(prep)) { /* an image's pixels, say */
        ok = ok && cJSON_AddStringToObject(prepared, "inputs", "features");
        inputs = NULL;
    } else {
        inputs = ok ? cJSON_AddArrayToObject(prepared, "inputs") : NULL;
        ok = ok && inputs;
    }
    for (i = 0; ok && inputs && i < prep->n_inputs; i++) {
        const lathe_prepared_input *in = &prep->inputs[i];
        cJSON *item = cJSON_CreateObject();
        ok = item && cJSON_AddItemToArray(inputs, item);
        if (!ok) {
            cJSON_Delete(item);
            break;
        }
        ok = cJSON_AddStringToObject(item, "column", in->name) &&
             cJSON_AddStringToObject(item, "type", in->type == LATHE_COLUMN_CATEGORICAL ? "categorical"
                                                   : in->type == LATHE_COLUMN_BOOLEAN ? "boolean"
                                                                                      : "numeric") &&
             cJSON_AddNumberToObject(item, "features", (double)in->width);
    }
    features = ok ? cJSON_AddArrayToObject(prepared, "features") : NULL;
    ok = ok && features;
    for (i = 0; ok && i < prep->n_features; i++)
        ok = add(features, NULL, cJSON_CreateString(prep->feature_names[i]));
    ok = ok && add_fitted_steps(prepared, prep, version);
    if (ok && prep->image[0])
        ok = add(prepared, "image", size_array(prep->image, 3));
    classes = ok ? cJSON_AddArrayToObject(prepared, "classes") : NULL;
    ok = ok && classes;
    for (i = 0; ok && i < prep->n_classes; i++)
        ok = add(classes, NULL, cJSON_CreateString(prep->class_names[i]));
    layers = ok ? cJSON_AddArrayToObject(root, "layers") : NULL;
    ok = ok && layers;
    for (i = 0, count = ok ? lathe_trainer_layer_count(trainer) : 0; ok && i < count; i++) {
        lathe_layer_info info;
        cJSON *layer = cJSON_CreateObject();
        lathe_trainer_layer(trainer, i, &info);
        ok = layer && cJSON_AddItemToArray(layers, layer);
        if (!ok) {
            cJSON_Delete(layer);
            break;
        }
        ok = add_layer_fields(layer, &info, version);
    }
    if (ok && metrics_json) ok = add(root, "metrics", cJSON_Parse(metrics_json));
    ok = ok && cJSON_AddStringToObject(root, "weights_sha256", hash);
    if (ok) *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory writing the model file");
    return LATHE_OK;
}
