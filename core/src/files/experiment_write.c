/* The canonical experiment file: lathe_experiment_write (see experiment.h). Fields follow
 * docs/experiment-format.md's order; a field is written when it applies (the parser refuses
 * fields that do not, e.g. momentum with Adam), with its value even when it is the default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/json_hooks.h"
#include "lathe/experiment.h"
#include "lathe/layers.h"

/* A JSON number for a float: the shortest decimal (up to 9 digits) that reads back as v, so
 * 0.05f is written 0.05, not 0.0500000007. */
static cJSON *float_number(float v) {
    char text[32];
    int digits;
    for (digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)v);
        if ((float)strtod(text, NULL) == v) break;
    }
    return cJSON_CreateNumber(strtod(text, NULL));
}

/* Adds item under key; on failure deletes it and returns 0 (item NULL included). */
static int put(cJSON *obj, const char *key, cJSON *item) {
    cJSON_bool ok;
    if (!item) return 0;
    ok = key ? cJSON_AddItemToObject(obj, key, item) : cJSON_AddItemToArray(obj, item);
    if (!ok) cJSON_Delete(item);
    return ok != 0;
}

static int put_string(cJSON *o, const char *key, const char *v) {
    return put(o, key, cJSON_CreateString(v));
}
static int put_size(cJSON *o, const char *key, size_t v) {
    return put(o, key, cJSON_CreateNumber((double)v));
}
static int put_float(cJSON *o, const char *key, float v) {
    return put(o, key, float_number(v));
}
static int put_bool(cJSON *o, const char *key, int v) {
    return put(o, key, cJSON_CreateBool(v));
}

static cJSON *data_json(const lathe_experiment *e) {
    static const char *const limits[3] = {"train", "validation", "test"};
    cJSON *d = cJSON_CreateObject();
    int ok = d != NULL;
    size_t i;
    if (e->data_kind == LATHE_DATA_BUILTIN)
        ok = ok && put_string(d, "builtin", e->data_name);
    else if (e->data_kind == LATHE_DATA_FILE)
        ok = ok && put_string(d, "file", e->data_file);
    else if (e->data_kind == LATHE_DATA_IDX_FILES) {
        cJSON *files = cJSON_CreateArray();
        ok = ok && put(d, "files", files);
        for (i = 0; ok && i < e->n_data_files; i++)
            ok = put(files, NULL, cJSON_CreateString(e->data_files[i]));
    } else {
        ok = ok && put_string(d, "synthetic", e->data_name);
        ok = ok && put_size(d, "samples", e->synthetic_samples);
        ok = ok && put_float(d, "noise", e->synthetic_noise);
        ok = ok && put_size(d, "classes", e->synthetic_classes);
    }
    if (e->target[0]) ok = ok && put_string(d, "target", e->target);
    ok = ok &&
         put_string(d, "task", e->task == LATHE_TASK_REGRESSION ? "regression" : "classification");
    if (e->data_sha256[0]) ok = ok && put_string(d, "sha256", e->data_sha256);
    if (e->image[0]) {
        cJSON *a = ok ? cJSON_CreateArray() : NULL;
        ok = ok && put(d, "image", a);
        for (i = 0; ok && i < 3; i++)
            ok = put(a, NULL, cJSON_CreateNumber((double)e->image[i]));
    }
    if (e->limit[0] || e->limit[1] || e->limit[2]) {
        cJSON *l = ok ? cJSON_CreateObject() : NULL;
        ok = ok && put(d, "limit", l);
        for (i = 0; ok && i < 3; i++)
            if (e->limit[i]) ok = put_size(l, limits[i], e->limit[i]);
    }
    if (!ok) cJSON_Delete(d);
    return ok ? d : NULL;
}

static cJSON *op_json(const lathe_prep_op *op) {
    static const char *const names[] = {"drop_columns",    "drop_missing",    "split",
                                        "impute",          "standardize",     "minmax",
                                        "drop_duplicates", "balance_classes", "augment"};
    static const char *const strategies[] = {"mean", "median", "most_frequent", "constant"};
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && put_string(o, "op", names[op->kind]);
    size_t i;
    switch (op->kind) {
    case LATHE_PREP_DROP_COLUMNS: {
        cJSON *a = ok ? cJSON_CreateArray() : NULL;
        ok = ok && put(o, "columns", a);
        for (i = 0; ok && i < op->n_columns; i++)
            ok = put(a, NULL, cJSON_CreateString(op->columns[i]));
        break;
    }
    case LATHE_PREP_SPLIT:
        if (op->test_given) ok = ok && put_float(o, "test", op->test);
        if (!op->folds) ok = ok && put_float(o, "validation", op->validation);
        ok = ok && put_bool(o, "stratify", op->stratify);
        if (op->folds) ok = ok && put_size(o, "folds", op->folds) && put_size(o, "fold", op->fold);
        break;
    case LATHE_PREP_IMPUTE:
        ok = ok && put_string(o, "strategy", strategies[op->strategy]);
        if (op->strategy == LATHE_IMPUTE_CONSTANT) ok = ok && put_float(o, "value", op->constant);
        break;
    case LATHE_PREP_STANDARDIZE:
    case LATHE_PREP_MINMAX:
        ok = ok && put_string(o, "per", op->per_all ? "all" : "feature");
        break;
    case LATHE_PREP_AUGMENT:
        ok = ok && put_size(o, "copies", op->copies) && put_size(o, "shift", op->shift) &&
             put_bool(o, "flip", op->flip) && put_float(o, "rotate", op->rotate) &&
             put_float(o, "noise", op->noise);
        break;
    default:
        break;
    }
    if (!ok) cJSON_Delete(o);
    return ok ? o : NULL;
}

static cJSON *layer_json(const lathe_layer_spec *l) {
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && put_string(o, "type", lathe_layer_type_name(l->kind, l->activation));
    if (l->kind == LATHE_LAYER_DENSE && l->units) ok = ok && put_size(o, "units", l->units);
    if (l->kind == LATHE_LAYER_CONV2D)
        ok = ok && put_size(o, "filters", l->filters) && put_size(o, "kernel", l->kernel) &&
             put_size(o, "stride", l->stride) && put_size(o, "padding", l->pad);
    if (l->kind == LATHE_LAYER_MAX_POOL || l->kind == LATHE_LAYER_AVG_POOL)
        ok = ok && put_size(o, "size", l->size) && put_size(o, "stride", l->stride);
    if (l->kind == LATHE_LAYER_DROPOUT) ok = ok && put_float(o, "rate", l->rate);
    if (!ok) cJSON_Delete(o);
    return ok ? o : NULL;
}

/* A template's activation: the one after its first layer. */
static const char *act_name(const lathe_experiment *e) {
    return lathe_layer_type_name(LATHE_LAYER_ACTIVATION, e->layers[1].activation);
}

static cJSON *model_json(const lathe_experiment *e) {
    static const char *const inits[] = {"default",       "xavier_uniform", "he_uniform",
                                        "xavier_normal", "he_normal",      "zeros"};
    cJSON *m = cJSON_CreateObject();
    int ok = m != NULL;
    size_t i;
    if (e->model_template[0]) {
        ok = ok && put_string(m, "template", e->model_template);
        if (strcmp(e->model_template, "mlp") == 0) {
            cJSON *hidden = ok ? cJSON_CreateArray() : NULL;
            ok = ok && put(m, "hidden", hidden);
            for (i = 0; ok && i + 1 < e->n_layers; i += 2)
                ok = put(hidden, NULL, cJSON_CreateNumber((double)e->layers[i].units));
            ok = ok && put_string(m, "activation", act_name(e));
        } else if (strcmp(e->model_template, "cnn") == 0) {
            ok = ok && put_string(m, "activation", act_name(e));
        }
    } else {
        cJSON *layers = ok ? cJSON_CreateArray() : NULL;
        ok = ok && put(m, "layers", layers);
        for (i = 0; ok && i < e->n_layers; i++)
            ok = put(layers, NULL, layer_json(&e->layers[i]));
    }
    ok = ok && put_string(m, "init", inits[e->init]);
    if (!ok) cJSON_Delete(m);
    return ok ? m : NULL;
}

static cJSON *train_json(const lathe_experiment *e) {
    static const char *const optimizers[] = {"sgd", "adam", "adamw"};
    static const char *const losses[] = {"auto",  "softmax_cross_entropy", "mse", "mae",
                                         "huber", "binary_cross_entropy"};
    static const char *const schedules[] = {"constant", "step", "exponential", "cosine"};
    const lathe_optimizer_config *o = &e->optimizer;
    cJSON *t = cJSON_CreateObject();
    int ok = t != NULL && put_string(t, "optimizer", optimizers[o->kind]) &&
             put_float(t, "learning_rate", o->lr);
    if (o->kind == LATHE_OPT_SGD)
        ok = ok && put_float(t, "momentum", o->momentum) && put_bool(t, "nesterov", o->nesterov);
    ok = ok && put_float(t, "weight_decay", o->weight_decay);
    if (o->kind != LATHE_OPT_SGD)
        ok = ok && put_float(t, "beta1", o->beta1) && put_float(t, "beta2", o->beta2) &&
             put_float(t, "eps", o->eps);
    ok = ok && put_size(t, "batch_size", e->batch_size) && put_bool(t, "shuffle", e->shuffle) &&
         put_size(t, "epochs", e->epochs) && put_string(t, "loss", losses[e->loss]);
    if (e->loss == LATHE_LOSS_HUBER) ok = ok && put_float(t, "huber_delta", e->huber_delta);
    {
        const lathe_schedule *s = &e->schedule;
        cJSON *o2 = ok && s->kind != LATHE_SCHEDULE_CONSTANT ? cJSON_CreateObject() : NULL;
        if (s->kind != LATHE_SCHEDULE_CONSTANT) /* no schedule: a constant rate */
            ok = ok && put(t, "schedule", o2) && put_string(o2, "kind", schedules[s->kind]);
        if (s->kind == LATHE_SCHEDULE_STEP)
            ok = ok && put_size(o2, "step_size", s->step_size) && put_float(o2, "gamma", s->gamma);
        if (s->kind == LATHE_SCHEDULE_EXPONENTIAL) ok = ok && put_float(o2, "gamma", s->gamma);
        if (s->kind == LATHE_SCHEDULE_COSINE)
            ok = ok && put_size(o2, "t_max", s->t_max) && put_float(o2, "eta_min", s->eta_min);
        ok = ok && put_size(t, "warmup_steps", s->warmup);
    }
    ok = ok && put_float(t, "clip_norm", e->clip_norm);
    if (e->early_stopping) {
        cJSON *es = ok ? cJSON_CreateObject() : NULL;
        ok = ok && put(t, "early_stopping", es) &&
             put_size(es, "patience", e->early_stopping_patience) &&
             put_string(es, "metric",
                        e->early_stopping_accuracy ? "validation_accuracy" : "validation_loss") &&
             put_float(es, "min_delta", e->early_stopping_min_delta);
    }
    if (e->prune) {
        cJSON *pr = ok ? cJSON_CreateObject() : NULL;
        ok = ok && put(t, "prune", pr) && put_float(pr, "sparsity", e->prune_sparsity) &&
             put_size(pr, "begin_step", e->prune_begin) && put_size(pr, "end_step", e->prune_end) &&
             put_size(pr, "frequency", e->prune_frequency) &&
             put_string(pr, "scope", e->prune_global ? "global" : "layer");
    }
    if (e->distill) {
        cJSON *di = ok ? cJSON_CreateObject() : NULL;
        ok = ok && put(t, "distill", di) && put_string(di, "teacher", e->distill_teacher) &&
             put_float(di, "temperature", e->distill_temperature) &&
             put_float(di, "alpha", e->distill_alpha);
    }
    if (!ok) cJSON_Delete(t);
    return ok ? t : NULL;
}

lathe_status lathe_experiment_write(const lathe_experiment *e, char **out, lathe_error *err) {
    cJSON *root, *prepare;
    size_t i;
    int ok;
    *out = NULL;
    lathe_json_hooks_install(); /* cJSON allocates through the core's hook */
    root = cJSON_CreateObject();
    ok = root != NULL && put_string(root, "format", "lathe-experiment") &&
         put_size(root, "version", 1);
    if (e->name[0]) ok = ok && put_string(root, "name", e->name);
    if (e->description[0]) ok = ok && put_string(root, "description", e->description);
    ok = ok && put(root, "seed", cJSON_CreateNumber((double)e->seed)) &&
         put(root, "data", data_json(e));
    prepare = ok ? cJSON_CreateArray() : NULL;
    ok = ok && put(root, "prepare", prepare);
    for (i = 0; ok && i < e->n_ops; i++)
        ok = put(prepare, NULL, op_json(&e->ops[i]));
    ok = ok && put(root, "model", model_json(e)) && put(root, "train", train_json(e));
    if (ok) *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory writing the experiment");
    return LATHE_OK;
}
