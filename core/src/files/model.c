/* Loading a model file: validate everything, then build the network and give it the weights.
 * The order of the checks is the contract of model.h: nothing sized from the file is
 * allocated before the file has shown it holds that much. */
#include "lathe/model.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/base64.h"
#include "lathe/json_hooks.h"
#include "lathe/model_file.h"
#include "lathe/sha256.h"

struct lathe_model {
    lathe_experiment *exp;
    char *experiment_json;
    lathe_prepared *prep;
    lathe_trainer *net;
    char *metrics_json;
    char *producer;
    char weights_sha256[65];
};

void lathe_model_destroy(lathe_model *m) {
    if (!m) return;
    lathe_trainer_destroy(m->net);
    lathe_prepared_destroy(m->prep);
    lathe_experiment_destroy(m->exp);
    lathe_free(m->experiment_json);
    lathe_free(m->metrics_json);
    lathe_free(m->producer);
    lathe_free(m);
}

const lathe_experiment *lathe_model_experiment(const lathe_model *m) { return m->exp; }
const char *lathe_model_experiment_json(const lathe_model *m) { return m->experiment_json; }
const lathe_prepared *lathe_model_preparation(const lathe_model *m) { return m->prep; }
lathe_trainer *lathe_model_network(lathe_model *m) { return m->net; }
const char *lathe_model_metrics_json(const lathe_model *m) { return m->metrics_json; }
const char *lathe_model_producer(const lathe_model *m) { return m->producer ? m->producer : ""; }
const char *lathe_model_weights_sha256(const lathe_model *m) { return m->weights_sha256; }

/* ---- JSON field helpers --------------------------------------------------------------- */

static const cJSON *member(const cJSON *obj, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

static lathe_status need_string(const cJSON *obj, const char *name, const char *path,
                                const char **out, lathe_error *err) {
    const cJSON *v = member(obj, name);
    if (!v) return lathe_error_set(err, LATHE_ERR_INVALID, "%s%s: missing", path, name);
    if (!cJSON_IsString(v))
        return lathe_error_set(err, LATHE_ERR_INVALID, "%s%s: must be a string", path, name);
    *out = v->valuestring;
    return LATHE_OK;
}

/* A whole number in [0, max]. */
static lathe_status need_count(const cJSON *obj, const char *name, const char *path,
                               size_t max, size_t *out, lathe_error *err) {
    const cJSON *v = member(obj, name);
    if (!v) return lathe_error_set(err, LATHE_ERR_INVALID, "%s%s: missing", path, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0.0 || v->valuedouble > (double)max ||
        v->valuedouble != (double)(size_t)v->valuedouble)
        return lathe_error_set(err, LATHE_ERR_INVALID, "%s%s: must be a whole number in [0, %zu]",
                               path, name, max);
    *out = (size_t)v->valuedouble;
    return LATHE_OK;
}

static lathe_status need_array(const cJSON *obj, const char *name, const char *path,
                               const cJSON **out, size_t *n, lathe_error *err) {
    const cJSON *v = member(obj, name);
    if (!v) return lathe_error_set(err, LATHE_ERR_INVALID, "%s%s: missing", path, name);
    if (!cJSON_IsArray(v))
        return lathe_error_set(err, LATHE_ERR_INVALID, "%s%s: must be an array", path, name);
    *out = v;
    *n = (size_t)cJSON_GetArraySize(v);
    return LATHE_OK;
}

/* Line and column of byte offset at in text. */
static void line_column(const char *text, size_t at, size_t *line, size_t *column) {
    size_t i;
    *line = 1, *column = 1;
    for (i = 0; i < at; i++) {
        if (text[i] == '\n') (*line)++, *column = 1;
        else (*column)++;
    }
}

/* ---- the preparation ------------------------------------------------------------------ */

/* obj.name (path names obj, e.g. "preparation.steps[1].") as exactly n float32 values, each
 * finite as a float (null allowed for NaN when nullable). */
static lathe_status read_floats(const cJSON *obj, const char *path, const char *name, size_t n,
                                int nullable, float *out, lathe_error *err) {
    const cJSON *a, *v;
    size_t count, i = 0;
    lathe_status st = need_array(obj, name, path, &a, &count, err);
    if (st != LATHE_OK) return st;
    if (count != n)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%s%s: %zu values, expected %zu (one per feature)", path, name,
                               count, n);
    cJSON_ArrayForEach(v, a) {
        float x;
        if (nullable && cJSON_IsNull(v)) {
            out[i++] = __builtin_nanf("");
            continue;
        }
        x = cJSON_IsNumber(v) ? (float)v->valuedouble : 0.0f;
        if (!cJSON_IsNumber(v) || !(v->valuedouble - v->valuedouble == 0.0) || !(x - x == 0.0f))
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%s%s[%zu]: must be a finite float32 number%s", path, name, i,
                                   nullable ? " or null" : "");
        out[i++] = x;
    }
    return LATHE_OK;
}

/* A step's fill, shift or scale: version 5 may hold it as base64 of n little-endian float32
 * (NaN allowed where nullable); otherwise read_floats' array. */
static lathe_status read_step_floats(const cJSON *obj, const char *path, const char *name,
                                     size_t n, int nullable, int version, float *out,
                                     lathe_error *err) {
    const cJSON *v = member(obj, name);
    char field[96];
    size_t i;
    lathe_status st;
    if (!cJSON_IsString(v)) return read_floats(obj, path, name, n, nullable, out, err);
    snprintf(field, sizeof field, "%s%s", path, name);
    if (version < 5)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%s: base64 values need a version 5 model file (else an array)", field);
    /* the bytes, then each little-endian word as a float in place (NaN bits allowed here) */
    if ((st = lathe_base64_decode(v->valuestring, n * 4, out, field, err)) != LATHE_OK) return st;
    for (i = 0; i < n; i++) {
        const uint8_t *b = (const uint8_t *)&out[i];
        uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(&out[i], &bits, 4);
    }
    for (i = 0; i < n; i++)
        if (!(out[i] - out[i] == 0.0f) && !(nullable && out[i] != out[i]))
            return lathe_error_set(err, LATHE_ERR_INVALID, "%s[%zu]: must be a finite float32%s",
                                   field, i, nullable ? " or NaN" : "");
    return LATHE_OK;
}

/* Version 2's preparation.steps: every fitted step in order, into p->steps (and p->fill for
 * an impute, which must come first). p->fill is NaN everywhere on entry. Each step's arrays
 * are checked against the feature count before they are allocated. */
static lathe_status read_steps(const cJSON *prep, lathe_prepared *p, int version, lathe_error *err) {
    static const char *const fields[] = {"fill", "shift", "scale"};
    const cJSON *steps, *v;
    size_t n, k = 0, F = p->n_features, j;
    lathe_status st;
    for (j = 0; j < 3; j++)
        if (member(prep, fields[j]))
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "preparation.%s: version 2 keeps its fitted values in "
                                   "preparation.steps",
                                   fields[j]);
    if ((st = need_array(prep, "steps", "preparation.", &steps, &n, err)) != LATHE_OK) return st;
    if (n > LATHE_MAX_OPS)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.steps: %zu steps (at most %d)", n, LATHE_MAX_OPS);
    p->steps = lathe_calloc(n ? n : 1, sizeof *p->steps);
    if (!p->steps) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory loading the model");
    cJSON_ArrayForEach(v, steps) {
        char path[48];
        const char *op;
        const cJSON *field;
        lathe_prepared_step *step = &p->steps[k];
        snprintf(path, sizeof path, "preparation.steps[%zu].", k);
        if (!cJSON_IsObject(v))
            return lathe_error_set(err, LATHE_ERR_INVALID, "preparation.steps[%zu]: must be an object", k);
        if ((st = need_string(v, "op", path, &op, err)) != LATHE_OK) return st;
        if (strcmp(op, "impute") == 0) step->kind = LATHE_PREP_IMPUTE;
        else if (strcmp(op, "standardize") == 0) step->kind = LATHE_PREP_STANDARDIZE;
        else if (strcmp(op, "minmax") == 0) step->kind = LATHE_PREP_MINMAX;
        else
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%sop: '%s' is not a fitted step (impute, standardize, minmax)",
                                   path, op);
        if (step->kind == LATHE_PREP_IMPUTE && k > 0)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%sop: an impute must be the first step (it fills cells "
                                   "while the rows are encoded)",
                                   path);
        cJSON_ArrayForEach(field, v) {
            int known = strcmp(field->string, "op") == 0 ||
                        (step->kind == LATHE_PREP_IMPUTE ? strcmp(field->string, "fill") == 0
                                                         : strcmp(field->string, "shift") == 0 ||
                                                               strcmp(field->string, "scale") == 0);
            if (!known)
                return lathe_error_set(err, LATHE_ERR_INVALID, "%s%s: not a field of %s", path,
                                       field->string, op);
        }
        p->n_steps = ++k;
        if (step->kind == LATHE_PREP_IMPUTE) {
            if ((st = read_step_floats(v, path, "fill", F, 1, version, p->fill, err)) != LATHE_OK) return st;
            continue;
        }
        for (j = 0; j < 2; j++) { /* both present, as arrays or (version 5) base64, before allocating */
            const char *name = j ? "scale" : "shift";
            field = member(v, name);
            size_t values;
            if (!cJSON_IsString(field) &&
                (st = need_array(v, name, path, &field, &values, err)) != LATHE_OK)
                return st;
            if (cJSON_IsString(field) && strlen(field->valuestring) != lathe_base64_length(F * 4) &&
                version >= 5)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%s%s: %zu base64 characters, expected %zu (%zu floats)",
                                       path, name, strlen(field->valuestring),
                                       lathe_base64_length(F * 4), F);
        }
        step->shift = lathe_malloc(F * sizeof *step->shift);
        step->scale = lathe_malloc(F * sizeof *step->scale);
        if (!step->shift || !step->scale)
            return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory loading the model");
        if ((st = read_step_floats(v, path, "shift", F, 0, version, step->shift, err)) != LATHE_OK ||
            (st = read_step_floats(v, path, "scale", F, 0, version, step->scale, err)) != LATHE_OK)
            return st;
    }
    return LATHE_OK;
}

/* Version 1's "fill", "shift" and "scale": the imputation, and the one shift/scale pair as a
 * single scaling step, applied as that version applied it (the identity when the model had no
 * scaler). That file does not say which scaler fitted the pair; the step's kind is unused,
 * since a preparation with one scaling step is saved as version 1 again. */
static lathe_status read_v1_steps(const cJSON *prep, lathe_prepared *p, lathe_error *err) {
    size_t F = p->n_features;
    lathe_prepared_step *step;
    lathe_status st;
    if (member(prep, "steps"))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.steps: a version 1 file has fill, shift and scale");
    p->steps = step = lathe_calloc(1, sizeof *p->steps);
    if (step) p->n_steps = 1, step->kind = LATHE_PREP_STANDARDIZE;
    if (step) step->shift = lathe_malloc(F * sizeof *step->shift);
    if (step) step->scale = lathe_malloc(F * sizeof *step->scale);
    if (!step || !step->shift || !step->scale)
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory loading the model");
    if ((st = read_floats(prep, "preparation.", "fill", F, 1, p->fill, err)) != LATHE_OK ||
        (st = read_floats(prep, "preparation.", "shift", F, 0, step->shift, err)) != LATHE_OK)
        return st;
    return read_floats(prep, "preparation.", "scale", F, 0, step->scale, err);
}

static lathe_status read_strings(const cJSON *a, const char *path, char **out, lathe_error *err) {
    const cJSON *v;
    size_t i = 0;
    cJSON_ArrayForEach(v, a) {
        if (!cJSON_IsString(v))
            return lathe_error_set(err, LATHE_ERR_INVALID, "%s[%zu]: must be a string", path, i);
        out[i] = lathe_strdup(v->valuestring);
        if (!out[i]) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory loading the model");
        i++;
    }
    return LATHE_OK;
}

static lathe_status read_preparation(const cJSON *prep, const lathe_experiment *exp,
                                     int version, lathe_prepared **out, lathe_error *err) {
    const cJSON *features, *inputs, *classes, *image, *v;
    const char *task, *target;
    size_t F, n_inputs, n_classes, i, total = 0;
    int imputed;
    lathe_prepared *p;
    lathe_status st;
    *out = NULL;
    if (!cJSON_IsObject(prep))
        return lathe_error_set(err, LATHE_ERR_INVALID, "preparation: %s",
                               prep ? "must be an object" : "missing");
    if ((st = need_string(prep, "task", "preparation.", &task, err)) != LATHE_OK) return st;
    if (strcmp(task, "classification") != 0 && strcmp(task, "regression") != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.task: '%s' is neither classification nor regression",
                               task);
    if ((strcmp(task, "regression") == 0) != (exp->task == LATHE_TASK_REGRESSION))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.task: '%s' disagrees with the experiment's task", task);
    if ((st = need_string(prep, "target", "preparation.", &target, err)) != LATHE_OK) return st;
    if (!target[0])
        return lathe_error_set(err, LATHE_ERR_INVALID, "preparation.target: must name a column");
    if ((st = need_array(prep, "features", "preparation.", &features, &F, err)) != LATHE_OK) return st;
    if (F == 0 || F > LATHE_MODEL_MAX_FEATURES)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.features: %zu features (1 to %u allowed)", F,
                               LATHE_MODEL_MAX_FEATURES);
    inputs = member(prep, "inputs");
    if (cJSON_IsString(inputs)) { /* version 5: each feature a numeric column of its name */
        if (version < 5 || strcmp(inputs->valuestring, "features") != 0)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "preparation.inputs: must be an array%s", version < 5 ? "" :
                                   ", or \"features\" (each feature a numeric column of its name)");
        n_inputs = F;
    } else if ((st = need_array(prep, "inputs", "preparation.", &inputs, &n_inputs, err)) != LATHE_OK) {
        return st;
    }
    if (n_inputs == 0 || n_inputs > F)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.inputs: %zu inputs for %zu features", n_inputs, F);
    if ((st = need_array(prep, "classes", "preparation.", &classes, &n_classes, err)) != LATHE_OK) return st;
    if (exp->task == LATHE_TASK_CLASSIFICATION && (n_classes < 2 || n_classes > LATHE_MODEL_MAX_CLASSES))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.classes: a classifier needs 2 to %u classes, it has %zu",
                               LATHE_MODEL_MAX_CLASSES, n_classes);
    if (exp->task == LATHE_TASK_REGRESSION && n_classes != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "preparation.classes: a regression model has no classes");

    p = lathe_calloc(1, sizeof *p);
    if (!p) goto nomem;
    p->task = exp->task;
    p->n_features = F, p->n_classes = n_classes;
    p->target = lathe_strdup(target);
    p->feature_names = lathe_calloc(F, sizeof *p->feature_names);
    p->fill = lathe_malloc(F * sizeof *p->fill);
    p->inputs = lathe_calloc(n_inputs, sizeof *p->inputs);
    p->class_names = lathe_calloc(n_classes ? n_classes : 1, sizeof *p->class_names);
    if (!p->target || !p->feature_names || !p->fill || !p->inputs || !p->class_names)
        goto nomem;
    for (i = 0; i < F; i++) p->fill[i] = __builtin_nanf("");
    if ((st = read_strings(features, "preparation.features", p->feature_names, err)) != LATHE_OK ||
        (st = read_strings(classes, "preparation.classes", p->class_names, err)) != LATHE_OK ||
        (st = version == 1 ? read_v1_steps(prep, p, err) : read_steps(prep, p, version, err)) != LATHE_OK)
        goto fail;
    /* Without an impute step a missing category encodes as all zeros (lathe_prepare's fill). */
    imputed = p->n_steps > 0 && p->steps[0].kind == LATHE_PREP_IMPUTE;
    if (cJSON_IsString(inputs)) {
        for (i = 0; i < F; i++) {
            lathe_prepared_input *in = &p->inputs[i];
            in->type = LATHE_COLUMN_NUMERIC;
            in->first = i, in->width = 1;
            if (!(in->name = lathe_strdup(p->feature_names[i]))) goto nomem;
            p->n_inputs = i + 1;
        }
        total = F;
        inputs = NULL; /* nothing to walk below */
    }
    i = 0;
    cJSON_ArrayForEach(v, inputs) {
        char path[64];
        const char *column, *type;
        size_t width, k;
        lathe_prepared_input *in = &p->inputs[i];
        snprintf(path, sizeof path, "preparation.inputs[%zu].", i);
        if (!cJSON_IsObject(v)) {
            st = lathe_error_set(err, LATHE_ERR_INVALID, "preparation.inputs[%zu]: must be an object", i);
            goto fail;
        }
        if ((st = need_string(v, "column", path, &column, err)) != LATHE_OK ||
            (st = need_string(v, "type", path, &type, err)) != LATHE_OK ||
            (st = need_count(v, "features", path, F, &width, err)) != LATHE_OK)
            goto fail;
        if (strcmp(type, "numeric") == 0) in->type = LATHE_COLUMN_NUMERIC;
        else if (strcmp(type, "boolean") == 0) in->type = LATHE_COLUMN_BOOLEAN;
        else if (strcmp(type, "categorical") == 0) in->type = LATHE_COLUMN_CATEGORICAL;
        else {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "%stype: '%s' is not numeric, boolean or categorical", path, type);
            goto fail;
        }
        if ((in->type != LATHE_COLUMN_CATEGORICAL && width != 1) || total + width > F) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "%sfeatures: %zu does not fit (%s column; %zu of %zu features "
                                 "already taken)",
                                 path, width, type, total, F);
            goto fail;
        }
        in->name = lathe_strdup(column);
        if (!in->name) goto nomem;
        in->first = total, in->width = width;
        p->n_inputs = i + 1;
        for (k = total; k < total + width; k++) {
            size_t nc = strlen(column);
            const char *name = p->feature_names[k];
            int ok = in->type == LATHE_COLUMN_CATEGORICAL
                         ? strncmp(name, column, nc) == 0 && name[nc] == '='
                         : strcmp(name, column) == 0;
            if (!ok) {
                st = lathe_error_set(err, LATHE_ERR_INVALID,
                                     "preparation.features[%zu]: '%s' is not a feature of input "
                                     "'%s'",
                                     k, name, column);
                goto fail;
            }
            if (in->type == LATHE_COLUMN_CATEGORICAL && version >= 2 && !imputed) p->fill[k] = 0.0f;
            if (in->type == LATHE_COLUMN_CATEGORICAL && !(p->fill[k] == 0.0f || p->fill[k] == 1.0f)) {
                st = lathe_error_set(err, LATHE_ERR_INVALID, "preparation.%s[%zu]: a one-hot fill "
                                     "must be 0 or 1", version == 1 ? "fill" : "steps[0].fill", k);
                goto fail;
            }
        }
        total += width;
        i++;
    }
    if (total != F) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "preparation.inputs: they give %zu features, the model has %zu",
                             total, F);
        goto fail;
    }
    image = member(prep, "image");
    if (image) {
        size_t d[3] = {0, 0, 0}, n = 0;
        const cJSON *x;
        if (!cJSON_IsArray(image) || cJSON_GetArraySize(image) != 3) {
            st = lathe_error_set(err, LATHE_ERR_INVALID, "preparation.image: must be [C, H, W]");
            goto fail;
        }
        cJSON_ArrayForEach(x, image) {
            if (!cJSON_IsNumber(x) || x->valuedouble < 1.0 || x->valuedouble > (double)F ||
                x->valuedouble != (double)(size_t)x->valuedouble) {
                st = lathe_error_set(err, LATHE_ERR_INVALID,
                                     "preparation.image[%zu]: must be a whole number in [1, %zu]", n, F);
                goto fail;
            }
            d[n++] = (size_t)x->valuedouble;
        }
        if (d[0] * d[1] * d[2] != F) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "preparation.image: [%zu, %zu, %zu] holds %zu values, the model "
                                 "has %zu features",
                                 d[0], d[1], d[2], d[0] * d[1] * d[2], F);
            goto fail;
        }
        memcpy(p->image, d, sizeof d);
    }
    *out = p;
    return LATHE_OK;
nomem:
    st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory loading the model");
fail:
    lathe_prepared_destroy(p);
    return st;
}

/* ---- the layers ----------------------------------------------------------------------- */

static const char *layer_type(const lathe_layer_info *info) {
    return lathe_layer_type_name(info->kind, info->activation);
}

static lathe_status expect_count(const cJSON *layer, const char *name, const char *path,
                                 size_t want, lathe_error *err) {
    size_t got;
    lathe_status st = need_count(layer, name, path, SIZE_MAX / 2, &got, err);
    if (st != LATHE_OK) return st;
    if (got != want)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%s%s: %zu, but the experiment's network has %zu here", path, name,
                               got, want);
    return LATHE_OK;
}

static lathe_status expect_shape(const cJSON *layer, const char *path, const lathe_layer_info *info,
                                 lathe_error *err) {
    const cJSON *a = member(layer, "in"), *x;
    size_t want[3], i = 0;
    want[0] = info->in_c, want[1] = info->in_h, want[2] = info->in_w;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 3)
        return lathe_error_set(err, LATHE_ERR_INVALID, "%sin: must be [C, H, W]", path);
    cJSON_ArrayForEach(x, a) {
        if (!cJSON_IsNumber(x) || x->valuedouble != (double)want[i])
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%sin: must be [%zu, %zu, %zu] (the experiment's network)",
                                   path, want[0], want[1], want[2]);
        i++;
    }
    return LATHE_OK;
}

/* The tensors of one layer: names and float counts (at most 4). */
static size_t layer_tensors(const lathe_layer_info *info, const char *names[4], size_t counts[4]) {
    if (info->kind == LATHE_LAYER_DENSE || info->kind == LATHE_LAYER_CONV2D) {
        names[0] = "weights", counts[0] = info->n_weights;
        names[1] = "bias", counts[1] = info->n_bias;
        return 2;
    }
    if (info->kind == LATHE_LAYER_BATCH_NORM) {
        names[0] = "gamma", counts[0] = info->channels;
        names[1] = "beta", counts[1] = info->channels;
        names[2] = "running_mean", counts[2] = info->channels;
        names[3] = "running_var", counts[3] = info->channels;
        return 4;
    }
    return 0;
}

/* Version 3's sparse weights of a dense or conv2d layer: {"nonzeros", "mask", "values"}
 * (model_file.c); checks the count and both tensors' base64 (not decoded yet). */
static lathe_status check_sparse(const cJSON *sparse, const char *path, size_t n, lathe_error *err) {
    char field[128];
    const char *mask, *values;
    size_t k;
    lathe_status st;
    if (!cJSON_IsObject(sparse))
        return lathe_error_set(err, LATHE_ERR_INVALID, "%sweights_sparse: must be an object", path);
    snprintf(field, sizeof field, "%sweights_sparse.", path);
    if ((st = need_count(sparse, "nonzeros", field, n, &k, err)) != LATHE_OK ||
        (st = need_string(sparse, "mask", field, &mask, err)) != LATHE_OK ||
        (st = need_string(sparse, "values", field, &values, err)) != LATHE_OK)
        return st;
    snprintf(field, sizeof field, "%sweights_sparse.mask", path);
    if ((st = lathe_base64_check(mask, (n + 7) / 8, field, err)) != LATHE_OK) return st;
    snprintf(field, sizeof field, "%sweights_sparse.values", path);
    return lathe_base64_check(values, k * 4, field, err);
}

/* Decodes version 3's sparse weights (checked by check_sparse) into dst:(n). */
static lathe_status decode_sparse(const cJSON *sparse, const char *path, size_t n, float *dst,
                                  lathe_error *err) {
    size_t k = (size_t)member(sparse, "nonzeros")->valuedouble, mask_n = (n + 7) / 8, i, j = 0;
    uint8_t *mask = lathe_malloc(mask_n ? mask_n : 1);
    float *values = lathe_malloc((k ? k : 1) * sizeof *values);
    char field[128];
    lathe_status st;
    if (!mask || !values) {
        st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the model file");
        goto done;
    }
    snprintf(field, sizeof field, "%sweights_sparse.mask", path);
    if ((st = lathe_base64_decode(member(sparse, "mask")->valuestring, mask_n, mask, field, err)) != LATHE_OK)
        goto done;
    snprintf(field, sizeof field, "%sweights_sparse.values", path);
    if ((st = lathe_base64_decode_floats(member(sparse, "values")->valuestring, k, values, field, err)) != LATHE_OK)
        goto done;
    for (i = 0; i < n; i++) {
        if (!(mask[i / 8] >> (i % 8) & 1)) {
            dst[i] = 0.0f;
            continue;
        }
        if (j == k) break;
        dst[i] = values[j++];
        if (memcmp(&dst[i], &(uint32_t){0}, 4) == 0) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "%sweights_sparse.values[%zu]: +0.0, which the mask stores", path, j - 1);
            goto done;
        }
    }
    if (i < n || j != k || (n % 8 && mask[mask_n - 1] >> (n % 8))) {
        size_t set = 0;
        for (i = 0; i < mask_n; i++)
            for (j = 0; j < 8; j++) set += mask[i] >> j & 1;
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "%sweights_sparse: the mask marks %zu values (bits past weight %zu "
                             "included), nonzeros says %zu",
                             path, set, n, k);
        goto done;
    }
    st = LATHE_OK;
done:
    lathe_free(mask);
    lathe_free(values);
    return st;
}

/* Version 4's int8 weights of a dense or conv2d layer (model_file.c's int8_object): checks
 * the fields and the base64 lengths (not decoded yet). */
static lathe_status check_int8(const cJSON *q, const char *path, const lathe_layer_info *info,
                               lathe_error *err) {
    char field[128];
    const cJSON *v;
    const char *text;
    size_t channels = info->kind == LATHE_LAYER_DENSE ? info->out : info->out_c, k;
    lathe_status st;
    if (!cJSON_IsObject(q))
        return lathe_error_set(err, LATHE_ERR_INVALID, "%sint8: must be an object", path);
    snprintf(field, sizeof field, "%sint8.", path);
    v = member(q, "input_scale");
    if (!cJSON_IsNumber(v) || !((float)v->valuedouble > 0.0f) ||
        (float)v->valuedouble - (float)v->valuedouble != 0.0f)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%sinput_scale: %s", field,
                               v ? "must be a finite float32 number > 0" : "missing");
    v = member(q, "input_zero_point");
    if (!cJSON_IsNumber(v) || v->valuedouble < -128.0 || v->valuedouble > 127.0 ||
        v->valuedouble != (double)(int)v->valuedouble)
        return lathe_error_set(err, LATHE_ERR_INVALID, "%sinput_zero_point: %s", field,
                               v ? "must be a whole number in [-128, 127]" : "missing");
    if ((st = need_string(q, "weight_scales", field, &text, err)) != LATHE_OK) return st;
    snprintf(field, sizeof field, "%sint8.weight_scales", path);
    if ((st = lathe_base64_check(text, channels * 4, field, err)) != LATHE_OK) return st;
    snprintf(field, sizeof field, "%sint8.", path);
    if (member(q, "weights_sparse")) {
        const cJSON *sparse = member(q, "weights_sparse");
        if (member(q, "weights"))
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%sweights: and weights_sparse: give one of them", field);
        if (!cJSON_IsObject(sparse))
            return lathe_error_set(err, LATHE_ERR_INVALID, "%sweights_sparse: must be an object",
                                   field);
        snprintf(field, sizeof field, "%sint8.weights_sparse.", path);
        if ((st = need_count(sparse, "nonzeros", field, info->n_weights, &k, err)) != LATHE_OK ||
            (st = need_string(sparse, "mask", field, &text, err)) != LATHE_OK)
            return st;
        snprintf(field, sizeof field, "%sint8.weights_sparse.mask", path);
        if ((st = lathe_base64_check(text, (info->n_weights + 7) / 8, field, err)) != LATHE_OK)
            return st;
        snprintf(field, sizeof field, "%sint8.weights_sparse.", path);
        if ((st = need_string(sparse, "values", field, &text, err)) != LATHE_OK) return st;
        snprintf(field, sizeof field, "%sint8.weights_sparse.values", path);
        return lathe_base64_check(text, k, field, err);
    }
    if ((st = need_string(q, "weights", field, &text, err)) != LATHE_OK) return st;
    snprintf(field, sizeof field, "%sint8.weights", path);
    return lathe_base64_check(text, info->n_weights, field, err);
}

/* Decodes version 4's int8 weights (checked by check_int8) into q (its arrays allocated here,
 * freed by the caller) and their dequantised floats into dst:(n_weights). */
static lathe_status decode_int8(const cJSON *o, const char *path, const lathe_layer_info *info,
                                lathe_int8_layer *q, float *dst, lathe_error *err) {
    size_t n = info->n_weights, i;
    const cJSON *sparse = member(o, "weights_sparse");
    char field[128];
    lathe_status st;
    q->on = 1;
    q->channels = info->kind == LATHE_LAYER_DENSE ? info->out : info->out_c;
    q->fan_in = n / q->channels;
    q->input_scale = (float)member(o, "input_scale")->valuedouble;
    q->input_zero_point = (int32_t)member(o, "input_zero_point")->valuedouble;
    q->weight_scales = lathe_malloc(q->channels * sizeof(float));
    q->weights = lathe_malloc(n ? n : 1);
    if (!q->weight_scales || !q->weights)
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the model file");
    snprintf(field, sizeof field, "%sint8.weight_scales", path);
    st = lathe_base64_decode_floats(member(o, "weight_scales")->valuestring, q->channels,
                                    q->weight_scales, field, err);
    if (st != LATHE_OK) return st;
    for (i = 0; i < q->channels; i++)
        if (!(q->weight_scales[i] > 0.0f) || q->weight_scales[i] - q->weight_scales[i] != 0.0f)
            return lathe_error_set(err, LATHE_ERR_INVALID, "%s[%zu]: %g, must be finite and > 0",
                                   field, i, (double)q->weight_scales[i]);
    if (sparse) {
        size_t k = (size_t)member(sparse, "nonzeros")->valuedouble, mask_n = (n + 7) / 8, j = 0,
               set = 0;
        uint8_t *mask = lathe_malloc(mask_n ? mask_n : 1), *values = lathe_malloc(k ? k : 1);
        st = mask && values ? LATHE_OK
                            : lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the model file");
        snprintf(field, sizeof field, "%sint8.weights_sparse.mask", path);
        if (st == LATHE_OK)
            st = lathe_base64_decode(member(sparse, "mask")->valuestring, mask_n, mask, field, err);
        snprintf(field, sizeof field, "%sint8.weights_sparse.values", path);
        if (st == LATHE_OK)
            st = lathe_base64_decode(member(sparse, "values")->valuestring, k, values, field, err);
        for (i = 0; st == LATHE_OK && i < mask_n * 8; i++) set += mask[i / 8] >> (i % 8) & 1;
        if (st == LATHE_OK && set != k)
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "%sint8.weights_sparse: the mask marks %zu values (bits past "
                                 "weight %zu included), nonzeros says %zu",
                                 path, set, n, k);
        for (i = 0; st == LATHE_OK && i < n; i++) {
            q->weights[i] = mask[i / 8] >> (i % 8) & 1 ? (int8_t)values[j++] : 0;
            if (mask[i / 8] >> (i % 8) & 1 && q->weights[i] == 0)
                st = lathe_error_set(err, LATHE_ERR_INVALID,
                                     "%s[%zu]: 0, which the mask stores", field, j - 1);
        }
        if (st == LATHE_OK && j != k)
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "%sint8.weights_sparse: the mask marks bits past weight %zu",
                                 path, n);
        lathe_free(mask);
        lathe_free(values);
        if (st != LATHE_OK) return st;
    } else {
        snprintf(field, sizeof field, "%sint8.weights", path);
        st = lathe_base64_decode(member(o, "weights")->valuestring, n, q->weights, field, err);
        if (st != LATHE_OK) return st;
    }
    snprintf(field, sizeof field, "%sint8.weights", path);
    for (i = 0; i < n; i++) {
        if (q->weights[i] == -128)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%s[%zu]: -128; symmetric int8 weights are in [-127, 127]",
                                   field, i);
        dst[i] = lathe_int8_dequantize(q->weights[i], q->weight_scales[i / q->fan_in]);
    }
    return LATHE_OK;
}

/* Checks one layer's fields and its tensors' base64 (not decoded yet). */
static lathe_status check_layer(const cJSON *layer, size_t index, const lathe_layer_info *info,
                                int version, lathe_error *err) {
    char path[48], field[64];
    const char *type, *names[4];
    size_t counts[4], n, k;
    lathe_status st;
    snprintf(path, sizeof path, "layers[%zu].", index);
    if (!cJSON_IsObject(layer))
        return lathe_error_set(err, LATHE_ERR_INVALID, "layers[%zu]: must be an object", index);
    if ((st = need_string(layer, "type", path, &type, err)) != LATHE_OK) return st;
    if (strcmp(type, layer_type(info)) != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%stype: '%s', but the experiment's network has %s here", path,
                               type, layer_type(info));
    switch (info->kind) {
    case LATHE_LAYER_DENSE:
        if ((st = expect_count(layer, "in", path, info->in, err)) != LATHE_OK ||
            (st = expect_count(layer, "units", path, info->out, err)) != LATHE_OK)
            return st;
        break;
    case LATHE_LAYER_CONV2D:
        if ((st = expect_shape(layer, path, info, err)) != LATHE_OK ||
            (st = expect_count(layer, "filters", path, info->out_c, err)) != LATHE_OK ||
            (st = expect_count(layer, "kernel", path, info->kernel, err)) != LATHE_OK ||
            (st = expect_count(layer, "stride", path, info->stride, err)) != LATHE_OK ||
            (st = expect_count(layer, "padding", path, info->pad, err)) != LATHE_OK)
            return st;
        break;
    case LATHE_LAYER_MAX_POOL:
    case LATHE_LAYER_AVG_POOL:
        if ((st = expect_shape(layer, path, info, err)) != LATHE_OK ||
            (st = expect_count(layer, "size", path, info->kernel, err)) != LATHE_OK ||
            (st = expect_count(layer, "stride", path, info->stride, err)) != LATHE_OK)
            return st;
        break;
    case LATHE_LAYER_FLATTEN:
        if ((st = expect_shape(layer, path, info, err)) != LATHE_OK) return st;
        break;
    case LATHE_LAYER_BATCH_NORM:
        if ((st = expect_count(layer, "channels", path, info->channels, err)) != LATHE_OK) return st;
        break;
    case LATHE_LAYER_DROPOUT: {
        const cJSON *rate = member(layer, "rate");
        if (!cJSON_IsNumber(rate) || (float)rate->valuedouble != info->rate)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%srate: must be %g (the experiment's)", path, (double)info->rate);
        break;
    }
    default:
        break;
    }
    n = layer_tensors(info, names, counts);
    for (k = 0; k < n; k++) {
        const char *text;
        snprintf(field, sizeof field, "%s%s", path, names[k]);
        if (k == 0 && n == 2 && member(layer, "int8")) { /* version 4: int8 weights */
            if (version < 4)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%sint8: needs a version 4 model file", path);
            if (member(layer, "weights") || member(layer, "weights_sparse"))
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%s%s: and int8: give one of them", path,
                                       member(layer, "weights") ? "weights" : "weights_sparse");
            if ((st = check_int8(member(layer, "int8"), path, info, err)) != LATHE_OK) return st;
            continue;
        }
        if (k == 0 && n == 2 && member(layer, "weights_sparse")) { /* version 3: sparse weights */
            if (version < 3)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%sweights_sparse: needs a version 3 model file", path);
            if (member(layer, "weights"))
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "%sweights: and weights_sparse: give one of them", path);
            if ((st = check_sparse(member(layer, "weights_sparse"), path, counts[k], err)) != LATHE_OK)
                return st;
            continue;
        }
        if ((st = need_string(layer, names[k], path, &text, err)) != LATHE_OK) return st;
        if ((st = lathe_base64_check(text, counts[k] * 4, field, err)) != LATHE_OK) {
            /* Say it in floats when the length is wrong. */
            size_t len = strlen(text);
            if (len != lathe_base64_length(counts[k] * 4) && len % 4 == 0) {
                size_t have = len / 4 * 3;
                if (len && text[len - 1] == '=') have--;
                if (len > 1 && text[len - 2] == '=') have--;
                return lathe_error_set(err, LATHE_ERR_INVALID, "%s: %zu%s floats, expected %zu",
                                       field, have / 4, have % 4 ? " and a fraction of" : "",
                                       counts[k]);
            }
            return st;
        }
    }
    return LATHE_OK;
}

/* Decodes one layer's tensors into the parameter and statistic blocks. */
static lathe_status decode_layer(const cJSON *layer, size_t index, const lathe_layer_info *info,
                                 float *params, size_t *p_at, float *stats, size_t *s_at,
                                 lathe_int8_layer *q, lathe_error *err) {
    const char *names[4];
    size_t counts[4], n = layer_tensors(info, names, counts), k;
    char field[64];
    lathe_status st;
    for (k = 0; k < n; k++) {
        int is_stat = k >= 2; /* batch norm running statistics */
        float *dst = is_stat ? stats + *s_at : params + *p_at;
        snprintf(field, sizeof field, "layers[%zu].%s", index, names[k]);
        if (k == 0 && n == 2 && member(layer, "int8")) {
            snprintf(field, sizeof field, "layers[%zu].", index);
            st = decode_int8(member(layer, "int8"), field, info, q, dst, err);
        } else if (k == 0 && n == 2 && member(layer, "weights_sparse")) {
            snprintf(field, sizeof field, "layers[%zu].", index);
            st = decode_sparse(member(layer, "weights_sparse"), field, counts[k], dst, err);
        } else {
            st = lathe_base64_decode_floats(member(layer, names[k])->valuestring, counts[k], dst,
                                            field, err);
        }
        if (st != LATHE_OK) return st;
        if (is_stat) *s_at += counts[k];
        else *p_at += counts[k];
        if (k == 3) { /* a variance is never negative */
            size_t c;
            for (c = 0; c < counts[k]; c++)
                if (dst[c] < 0.0f)
                    return lathe_error_set(err, LATHE_ERR_INVALID, "%s[%zu]: a variance of %g",
                                           field, c, (double)dst[c]);
        }
    }
    return LATHE_OK;
}

/* Frees the arrays decode_int8 allocated, and q:(n) itself. */
static void free_int8(lathe_int8_layer *q, size_t n) {
    size_t l;
    for (l = 0; q && l < n; l++) {
        lathe_free(q[l].weight_scales);
        lathe_free(q[l].weights);
    }
    lathe_free(q);
}

/* weights_sha256 of the decoded parameters, layer by layer as the trainer hashes them
 * (lathe_int8_hash_layer): each layer's tensors follow one another in params. */
static void decoded_hash(const lathe_layer_info *infos, size_t n_layers, const float *params,
                         const lathe_int8_layer *int8, char hex[65]) {
    lathe_sha256 ctx;
    uint8_t digest[32];
    size_t l, at = 0;
    lathe_sha256_init(&ctx);
    for (l = 0; l < n_layers; l++) {
        size_t n_w = infos[l].kind == LATHE_LAYER_BATCH_NORM ? infos[l].channels : infos[l].n_weights;
        size_t n_b = infos[l].kind == LATHE_LAYER_BATCH_NORM ? infos[l].channels : infos[l].n_bias;
        lathe_int8_hash_layer(&ctx, params + at, n_w, int8[l].on ? &int8[l] : NULL,
                              params + at + n_w, n_b);
        at += n_w + n_b;
    }
    lathe_sha256_final(&ctx, digest);
    lathe_sha256_to_hex(digest, hex);
}

/* ---- loading -------------------------------------------------------------------------- */

lathe_status lathe_model_load(const char *text, size_t n, lathe_model **out, lathe_error *err) {
    cJSON *root = NULL;
    const cJSON *v, *layers, *layer;
    const char *parse_end = NULL, *format, *hash;
    lathe_model *m = NULL;
    lathe_layer_info *infos = NULL;
    float *params = NULL, *stats = NULL;
    lathe_int8_layer *int8 = NULL;
    size_t n_layers = 0, n_params, n_stats, count, i, p_at = 0, s_at = 0;
    unsigned long failures;
    int version, any_int8 = 0;
    lathe_status st;
    *out = NULL;
    lathe_json_hooks_install(); /* cJSON allocates through the core's hook */
    if (n == 0) return lathe_error_set(err, LATHE_ERR_INVALID, "the model file is empty");
    failures = lathe_alloc_failures();
    root = cJSON_ParseWithLengthOpts(text, n, &parse_end, 0);
    if (!root && lathe_alloc_failures() != failures)
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the model file");
    if (!root) {
        size_t at = parse_end && parse_end >= text && parse_end <= text + n ? (size_t)(parse_end - text) : n;
        size_t line, column;
        size_t end = n;
        while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\n' || text[end - 1] == '\r' ||
                           text[end - 1] == '\t'))
            end--;
        if (end == 0 || text[end - 1] != '}') at = n; /* cut short: say so */
        line_column(text, at, &line, &column);
        if (at >= n)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "the model file ends early (line %zu, column %zu): truncated?",
                                   line, column);
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the model file is not valid JSON (line %zu, column %zu)", line,
                               column);
    }
    if (!cJSON_IsObject(root)) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "the model file must hold a JSON object");
        goto fail;
    }
    if ((st = need_string(root, "format", "", &format, err)) != LATHE_OK) goto fail;
    if (strcmp(format, "lathe-model") != 0) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "format: '%s' is not a Lathe model (\"lathe-model\")%s", format,
                             strcmp(format, "lathe-experiment") == 0
                                 ? "; this is an experiment file: train it with `lathe run`"
                                 : "");
        goto fail;
    }
    v = member(root, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1.0 || v->valuedouble > 5.0 ||
        v->valuedouble != (double)(int)v->valuedouble) {
        if (cJSON_IsNumber(v) && v->valuedouble > 5.0)
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "version: %g is newer than this Lathe reads (1 to 5): update "
                                 "Lathe",
                                 v->valuedouble);
        else
            st = lathe_error_set(err, LATHE_ERR_INVALID, "version: must be 1, 2, 3, 4 or 5");
        goto fail;
    }
    version = (int)v->valuedouble;
    m = lathe_calloc(1, sizeof *m);
    if (!m) goto nomem;
    v = member(root, "producer");
    if (v && !cJSON_IsString(v)) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "producer: must be a string");
        goto fail;
    }
    if (v && !(m->producer = lathe_strdup(v->valuestring))) goto nomem;

    /* The experiment, with the experiment parser's own messages. */
    v = member(root, "experiment");
    if (!cJSON_IsObject(v)) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "experiment: %s",
                             v ? "must be an object" : "missing");
        goto fail;
    }
    m->experiment_json = cJSON_PrintUnformatted(v);
    if (!m->experiment_json) goto nomem;
    /* A version 1 file's preparation did not follow its list's order: its experiment loads
     * without the order rules that came with version 2. */
    st = (version == 1 ? lathe_experiment_parse_v1_model : lathe_experiment_parse)(
        m->experiment_json, strlen(m->experiment_json), &m->exp, err);
    if (st != LATHE_OK) {
        if (st != LATHE_ERR_NOMEM) {
            lathe_error inner = *err;
            st = lathe_error_set(err, st, "experiment: %s", inner.message);
        }
        goto fail;
    }
    if ((st = read_preparation(member(root, "preparation"), m->exp, version, &m->prep, err)) != LATHE_OK)
        goto fail;

    /* The layers against the network the experiment builds, before allocating it. */
    infos = lathe_malloc(LATHE_MAX_LAYERS * sizeof *infos);
    if (!infos) goto nomem;
    st = lathe_trainer_plan(m->exp, m->prep, infos, &n_layers, &n_params, &n_stats, err);
    if (st != LATHE_OK) {
        lathe_error inner = *err;
        st = lathe_error_set(err, st, "experiment: %s", inner.message);
        goto fail;
    }
    if ((st = need_array(root, "layers", "", &layers, &count, err)) != LATHE_OK) goto fail;
    if (count != n_layers) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "layers: %zu layers, but the experiment's network has %zu", count,
                             n_layers);
        goto fail;
    }
    i = 0;
    cJSON_ArrayForEach(layer, layers) {
        if ((st = check_layer(layer, i, &infos[i], version, err)) != LATHE_OK) goto fail;
        i++;
    }
    if ((st = need_string(root, "weights_sha256", "", &hash, err)) != LATHE_OK) goto fail;
    if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "weights_sha256: must be 64 lowercase hexadecimal digits");
        goto fail;
    }
    v = member(root, "metrics");
    if (v && !cJSON_IsObject(v)) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "metrics: must be an object");
        goto fail;
    }
    if (v && !(m->metrics_json = cJSON_PrintUnformatted(v))) goto nomem;

    /* Every size is now known to be backed by the file: decode. */
    params = lathe_malloc((n_params ? n_params : 1) * sizeof *params);
    stats = lathe_malloc((n_stats ? n_stats : 1) * sizeof *stats);
    int8 = lathe_calloc(n_layers ? n_layers : 1, sizeof *int8);
    if (!params || !stats || !int8) goto nomem;
    i = 0;
    cJSON_ArrayForEach(layer, layers) {
        st = decode_layer(layer, i, &infos[i], params, &p_at, stats, &s_at, &int8[i], err);
        if (st != LATHE_OK) goto fail;
        any_int8 |= int8[i].on;
        i++;
    }
    decoded_hash(infos, n_layers, params, int8, m->weights_sha256);
    if (strcmp(m->weights_sha256, hash) != 0) {
        st = lathe_error_set(err, LATHE_ERR_MISMATCH,
                             "weights_sha256: the weights hash to %.12s…, the file says %.12s… "
                             "(the weights were altered or damaged)",
                             m->weights_sha256, hash);
        goto fail;
    }
    st = lathe_trainer_create(m->exp, m->prep, &m->net, err);
    if (st != LATHE_OK) goto fail;
    lathe_trainer_set_weights(m->net, params, n_stats ? stats : NULL);
    if (any_int8 && (st = lathe_trainer_set_int8(m->net, int8, err)) != LATHE_OK) goto fail;
    free_int8(int8, n_layers);
    lathe_free(params);
    lathe_free(stats);
    lathe_free(infos);
    cJSON_Delete(root);
    *out = m;
    return LATHE_OK;
nomem:
    st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory loading the model");
fail:
    free_int8(int8, n_layers);
    lathe_free(params);
    lathe_free(stats);
    lathe_free(infos);
    cJSON_Delete(root);
    lathe_model_destroy(m);
    return st;
}

lathe_status lathe_model_predict_table(lathe_model *m, const lathe_table *table, float **out,
                                       size_t *rows, size_t *unseen, lathe_error *err) {
    lathe_split_data data;
    size_t C = lathe_trainer_n_outputs(m->net);
    lathe_status st = lathe_prepare_rows(m->prep, table, 0, &data, unseen, err);
    *out = NULL, *rows = 0;
    if (st != LATHE_OK) return st;
    *out = lathe_malloc((data.rows ? data.rows : 1) * C * sizeof **out);
    if (!*out) {
        lathe_split_data_free(&data);
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory predicting");
    }
    lathe_trainer_predict(m->net, data.rows, data.x, *out);
    *rows = data.rows;
    lathe_split_data_free(&data);
    return LATHE_OK;
}

lathe_status lathe_model_save(const lathe_model *m, const char *metrics_json, char **out,
                              lathe_error *err) {
    return lathe_model_file_write(m->experiment_json, strlen(m->experiment_json), m->prep,
                                  m->net, metrics_json ? metrics_json : m->metrics_json, out, err);
}

lathe_status lathe_model_evaluate_table(lathe_model *m, const lathe_table *table,
                                        lathe_model_evaluation *out, lathe_error *err) {
    lathe_split_data data;
    size_t C = lathe_trainer_n_outputs(m->net);
    float *pred;
    lathe_status st;
    memset(out, 0, sizeof *out);
    st = lathe_prepare_rows(m->prep, table, 1, &data, &out->unseen, err);
    if (st != LATHE_OK) return st;
    if (data.rows == 0) {
        lathe_split_data_free(&data);
        return lathe_error_set(err, LATHE_ERR_INVALID, "the data has no rows to evaluate");
    }
    pred = lathe_malloc(data.rows * C * sizeof *pred);
    if (!pred) {
        lathe_split_data_free(&data);
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory evaluating");
    }
    lathe_trainer_predict(m->net, data.rows, data.x, pred);
    if (data.label)
        st = lathe_class_report_create(data.rows, C, data.label, pred, &out->report, err);
    else
        out->regression = lathe_regression_report_compute(data.rows, data.value, pred);
    out->rows = data.rows;
    lathe_free(pred);
    lathe_split_data_free(&data);
    return st;
}
