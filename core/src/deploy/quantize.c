/* Post-training int8 quantisation (lathe/quantize.h). */
#include "lathe/quantize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/json_hooks.h"
#include "lathe/limits.h"
#include "lathe/quant.h"
#include "lathe/rng.h"

lathe_status lathe_calibration_rows(size_t rows, size_t count, uint64_t seed, uint32_t *out,
                                    lathe_error *err) {
    lathe_rng rng;
    size_t i, j;
    if (count > rows)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%zu calibration rows asked for, the training split has %zu", count,
                               rows);
    if (count > LATHE_CALIBRATION_MAX_ROWS)
        return lathe_error_set(err, LATHE_ERR_LIMIT,
                               "%zu calibration rows asked for; at most %u (a few hundred is "
                               "usual)",
                               count, LATHE_CALIBRATION_MAX_ROWS);
    if (rows > UINT32_MAX)
        return lathe_error_set(err, LATHE_ERR_LIMIT, "too many training rows to choose from");
    /* Floyd's algorithm: count distinct draws without a table of all rows; then sorted */
    lathe_rng_seed(&rng, seed, LATHE_STREAM_CALIBRATE);
    for (i = 0; i < count; i++) {
        size_t r = rows - count + i;
        uint32_t v = lathe_rng_below(&rng, (uint32_t)(r + 1)), k;
        for (k = 0; k < i; k++)
            if (out[k] == v) break;
        out[i] = k < i ? (uint32_t)r : v;
    }
    for (i = 1; i < count; i++) { /* insertion sort: count ≤ LATHE_CALIBRATION_MAX_ROWS */
        uint32_t v = out[i];
        for (j = i; j > 0 && out[j - 1] > v; j--) out[j] = out[j - 1];
        out[j] = v;
    }
    return LATHE_OK;
}

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

lathe_status lathe_quantize_network(lathe_trainer *net, size_t n, const float *x,
                                    double percentile, lathe_error *err) {
    size_t L = lathe_trainer_layer_count(net), F, B = lathe_trainer_batch_rows(net), l, start;
    lathe_int8_layer *q = NULL;
    float *lo = NULL, *hi = NULL, **seen = NULL;
    const float *outs[LATHE_MAX_LAYERS];
    int exact = percentile >= 100.0;
    lathe_status st = LATHE_OK;
    lathe_layer_info first;
    if (n == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "no calibration rows");
    if (!(percentile >= 50.0 && percentile <= 100.0))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the calibration percentile %g is outside [50, 100]", percentile);
    lathe_trainer_layer(net, 0, &first);
    F = first.in;
    q = lathe_calloc(L, sizeof *q);
    lo = lathe_malloc(L * sizeof *lo);
    hi = lathe_malloc(L * sizeof *hi);
    seen = lathe_calloc(L, sizeof *seen);
    if (!q || !lo || !hi || !seen) goto nomem;
    for (l = 0; l < L; l++) {
        lathe_layer_info li;
        lathe_trainer_layer(net, l, &li);
        lo[l] = INFINITY, hi[l] = -INFINITY;
        if (li.kind != LATHE_LAYER_DENSE && li.kind != LATHE_LAYER_CONV2D) continue;
        q[l].on = 1;
        q[l].channels = li.kind == LATHE_LAYER_DENSE ? li.out : li.out_c;
        q[l].fan_in = li.n_weights / q[l].channels;
        if (q[l].fan_in > LATHE_INT8_MAX_FAN_IN) {
            st = lathe_error_set(err, LATHE_ERR_LIMIT,
                                 "layers[%zu]: %zu inputs per output; int8 sums stay exact up "
                                 "to %u",
                                 l, q[l].fan_in, LATHE_INT8_MAX_FAN_IN);
            goto done;
        }
        if (!exact && !(seen[l] = lathe_malloc(n * li.in * sizeof(float)))) goto nomem;
    }
    /* the activations: each int8 layer's input over the calibration rows */
    for (start = 0; start < n; start += B) {
        size_t rows = n - start < B ? n - start : B;
        lathe_trainer_forward_float(net, rows, x + start * F, outs);
        for (l = 0; l < L; l++) {
            lathe_layer_info li;
            const float *in = l == 0 ? x + start * F : outs[l - 1];
            size_t i, count;
            if (!q[l].on) continue;
            lathe_trainer_layer(net, l, &li);
            count = rows * li.in;
            for (i = 0; i < count; i++) {
                float v = in[i];
                if (v != v) {
                    st = lathe_error_set(err, LATHE_ERR_INVALID,
                                         "layers[%zu]: a NaN among its inputs on the calibration "
                                         "rows",
                                         l);
                    goto done;
                }
                if (v < lo[l]) lo[l] = v;
                if (v > hi[l]) hi[l] = v;
            }
            if (seen[l]) memcpy(seen[l] + start * li.in, in, count * sizeof(float));
        }
    }
    for (l = 0; l < L; l++) {
        lathe_layer_info li;
        if (!q[l].on) continue;
        lathe_trainer_layer(net, l, &li);
        if (seen[l]) { /* the values at the percentile from each end */
            size_t count = n * li.in;
            double at = (percentile / 100.0) * (double)(count - 1);
            qsort(seen[l], count, sizeof(float), compare_floats);
            hi[l] = seen[l][(size_t)ceil(at)];
            lo[l] = seen[l][count - 1 - (size_t)ceil(at)];
        }
        lathe_int8_activation_params(lo[l], hi[l], &q[l].input_scale, &q[l].input_zero_point);
        q[l].weight_scales = lathe_malloc(q[l].channels * sizeof(float));
        q[l].weights = lathe_malloc(li.n_weights ? li.n_weights : 1);
        if (!q[l].weight_scales || !q[l].weights) goto nomem;
        lathe_int8_quantize_weights(q[l].channels, q[l].fan_in, li.weights, q[l].weights,
                                    q[l].weight_scales);
    }
    st = lathe_trainer_set_int8(net, q, err);
    goto done;
nomem:
    st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory quantising the model");
done:
    for (l = 0; q && l < L; l++) {
        lathe_free(q[l].weight_scales);
        lathe_free(q[l].weights);
    }
    for (l = 0; seen && l < L; l++) lathe_free(seen[l]);
    lathe_free(q);
    lathe_free(lo);
    lathe_free(hi);
    lathe_free(seen);
    return st;
}

/* The headline value of metrics m: accuracy for a classifier, R² for a regression; NaN
 * without rows. */
static double headline(const lathe_metrics *m, int classifier) {
    if (m->rows == 0) return (double)NAN;
    return classifier ? (double)m->accuracy : (double)m->r2;
}

static cJSON *number_or_null(double v) {
    return v == v ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* The parameters as binary bytes: 4 per float, an int8 layer's weights 1 each plus 4 per
 * weight scale, its input scale and its zero point. */
static double weight_bytes(const lathe_trainer *t) {
    size_t l;
    double bytes = 0.0;
    for (l = 0; l < lathe_trainer_layer_count(t); l++) {
        lathe_layer_info li;
        lathe_trainer_layer(t, l, &li);
        if (li.int8)
            bytes += (double)li.n_weights + 4.0 * (double)li.int8->channels + 8.0;
        else
            bytes += 4.0 * (double)li.n_weights;
        bytes += 4.0 * (double)li.n_bias;
    }
    return bytes;
}

/* Adds {"test", "validation"} headline values of t to o under key. */
static int add_split_values(cJSON *o, const char *key, lathe_trainer *t, int classifier) {
    cJSON *v = cJSON_AddObjectToObject(o, key);
    lathe_metrics test, val;
    if (!v) return 0;
    test = lathe_trainer_evaluate(t, LATHE_SPLIT_TEST);
    val = lathe_trainer_evaluate(t, LATHE_SPLIT_VALIDATION);
    return cJSON_AddItemToObject(v, "test", number_or_null(headline(&test, classifier))) &&
           cJSON_AddItemToObject(v, "validation", number_or_null(headline(&val, classifier)));
}

lathe_status lathe_session_quantize(lathe_session *s, size_t rows, double percentile,
                                    char **report, char **metrics, lathe_error *err) {
    lathe_trainer *t = lathe_session_trainer(s);
    const lathe_experiment *exp = lathe_session_experiment(s);
    const lathe_split_data *train = lathe_session_split(s, LATHE_SPLIT_TRAIN);
    int classifier = lathe_session_prepared(s)->task == LATHE_TASK_CLASSIFICATION;
    size_t F = lathe_session_prepared(s)->n_features, i, l;
    uint32_t *idx = NULL;
    float *x = NULL, y;
    char float_hash[65], hash[65], *float_file = NULL, *int8_file = NULL, *session_metrics = NULL;
    double float_test, float_bytes;
    lathe_metrics m;
    cJSON *r = NULL, *mj = NULL, *o, *layers;
    lathe_status st;
    int ok;
    *report = *metrics = NULL;
    lathe_json_hooks_install();
    if (!t) return lathe_error_set(err, LATHE_ERR_INVALID, "no network to quantise (build the session first)");
    for (l = 0; l < lathe_trainer_layer_count(t); l++)
        if (lathe_trainer_int8(t, l))
            return lathe_error_set(err, LATHE_ERR_INVALID, "the model is int8 already");
    if (rows == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "the calibration needs at least 1 row");
    idx = lathe_malloc(rows * sizeof *idx);
    x = lathe_malloc(rows * F * sizeof *x);
    if (!idx || !x) goto nomem;
    if ((st = lathe_calibration_rows(train->rows, rows, exp->seed, idx, err)) != LATHE_OK) goto done;
    for (i = 0; i < rows; i++) lathe_session_rows(s, LATHE_SPLIT_TRAIN, idx[i], 1, x + i * F, &y, NULL);
    lathe_trainer_weights_sha256(t, float_hash);
    m = lathe_trainer_evaluate(t, LATHE_SPLIT_TEST);
    float_test = headline(&m, classifier);
    float_bytes = weight_bytes(t);
    r = cJSON_CreateObject();
    ok = r && add_split_values(r, "float", t, classifier);
    /* the model files' sizes with their metrics, as `lathe run` and `lathe quantize` write them */
    if ((st = lathe_session_metrics_json(s, &session_metrics, err)) != LATHE_OK ||
        (st = lathe_session_model_file(s, session_metrics, &float_file, err)) != LATHE_OK)
        goto done;
    lathe_free(session_metrics);
    session_metrics = NULL;
    if ((st = lathe_quantize_network(t, rows, x, percentile, err)) != LATHE_OK) goto done;
    if ((st = lathe_session_metrics_json(s, &session_metrics, err)) != LATHE_OK) goto done;
    /* the int8 file's metrics: the session's, with where the int8 form came from */
    mj = ok ? cJSON_Parse(session_metrics) : NULL;
    o = mj ? cJSON_AddObjectToObject(mj, "int8") : NULL;
    ok = ok && o && cJSON_AddNumberToObject(o, "calibration_rows", (double)rows) &&
         cJSON_AddNumberToObject(o, "percentile", percentile) &&
         cJSON_AddStringToObject(o, "float_weights_sha256", float_hash) &&
         cJSON_AddItemToObject(o, "float_test", number_or_null(float_test));
    if (ok && !(*metrics = cJSON_PrintUnformatted(mj))) ok = 0;
    if (!ok) goto nomem;
    if ((st = lathe_session_model_file(s, *metrics, &int8_file, err)) != LATHE_OK) goto done;
    lathe_trainer_weights_sha256(t, hash);
    m = lathe_trainer_evaluate(t, LATHE_SPLIT_TEST);
    ok = ok && cJSON_AddNumberToObject(r, "calibration_rows", (double)rows);
    ok = ok && cJSON_AddNumberToObject(r, "percentile", percentile);
    ok = ok && cJSON_AddStringToObject(r, "metric", classifier ? "accuracy" : "r2");
    ok = ok && add_split_values(r, "int8", t, classifier);
    ok = ok && cJSON_AddItemToObject(r, "drop_points",
                                     number_or_null(100.0 * (float_test - headline(&m, classifier))));
    ok = ok && cJSON_AddStringToObject(r, "float_weights_sha256", float_hash);
    ok = ok && cJSON_AddStringToObject(r, "weights_sha256", hash);
    o = ok ? cJSON_AddObjectToObject(r, "weight_bytes") : NULL;
    ok = o && cJSON_AddNumberToObject(o, "float", float_bytes) &&
         cJSON_AddNumberToObject(o, "int8", weight_bytes(t));
    o = ok ? cJSON_AddObjectToObject(r, "model_bytes") : NULL;
    ok = o && cJSON_AddNumberToObject(o, "float", (double)strlen(float_file)) &&
         cJSON_AddNumberToObject(o, "int8", (double)strlen(int8_file));
    layers = ok ? cJSON_AddArrayToObject(r, "layers") : NULL;
    ok = layers != NULL;
    for (l = 0; ok && l < lathe_trainer_layer_count(t); l++) {
        lathe_layer_info li;
        cJSON *e;
        lathe_trainer_layer(t, l, &li);
        if (!li.int8) continue;
        e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(layers, e);
        if (!ok) {
            cJSON_Delete(e);
            break;
        }
        ok = cJSON_AddNumberToObject(e, "index", (double)l) &&
             cJSON_AddStringToObject(e, "type", lathe_layer_type_name(li.kind, li.activation)) &&
             cJSON_AddNumberToObject(e, "input_scale", (double)li.int8->input_scale) &&
             cJSON_AddNumberToObject(e, "input_zero_point", (double)li.int8->input_zero_point) &&
             cJSON_AddNumberToObject(e, "weights", (double)li.n_weights);
    }
    if (ok) *report = cJSON_PrintUnformatted(r);
    if (!*report) goto nomem;
    st = LATHE_OK;
    goto done;
nomem:
    st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory quantising the model");
done:
    if (st != LATHE_OK) { /* a failure leaves the network float and returns nothing */
        lathe_trainer_set_float(t);
        lathe_free(*metrics);
        *metrics = NULL;
    }
    cJSON_Delete(r);
    cJSON_Delete(mj);
    lathe_free(idx);
    lathe_free(x);
    lathe_free(float_file);
    lathe_free(int8_file);
    lathe_free(session_metrics);
    return st;
}
