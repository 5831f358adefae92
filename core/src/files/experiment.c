/* Experiment file parsing and validation. Every error names its JSON path. */
#include "lathe/experiment.h"

#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/json_hooks.h"
#include "lathe/losses.h"

const char *const lathe_synthetic_names[] = {"spiral", "moons", "circles", "xor",
                                             "blobs",  "curve", NULL};

static lathe_status bad(lathe_error *err, const char *path, const char *what) {
    return lathe_error_set(err, LATHE_ERR_INVALID, "%s: %s", path, what);
}

/* Rejects keys not in allowed (NULL-terminated): a typo should not be silently ignored. */
static lathe_status check_keys(const cJSON *obj, const char *path, const char *const *allowed,
                               lathe_error *err) {
    const cJSON *item;
    cJSON_ArrayForEach(item, obj) {
        const char *const *a;
        int known = 0;
        for (a = allowed; *a; a++)
            if (item->string && strcmp(item->string, *a) == 0) known = 1;
        if (!known) {
            char list[400] = "";
            size_t used = 0;
            for (a = allowed; *a && used + strlen(*a) + 3 < sizeof list; a++) {
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                         a == allowed ? "" : ", ", *a);
            }
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "%s.%s: unknown key (expected one of %s)", path,
                                   item->string ? item->string : "?", list);
        }
    }
    return LATHE_OK;
}

static lathe_status get_string(const cJSON *obj, const char *key, const char *path, char *dst,
                               size_t cap, int required, lathe_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    char where[256], what[64];
    snprintf(where, sizeof where, path[0] ? "%s.%s" : "%s%s", path, key);
    if (!item) return required ? bad(err, where, "missing (a string is required)") : LATHE_OK;
    if (!cJSON_IsString(item)) return bad(err, where, "must be a string");
    snprintf(what, sizeof what, "is too long (at most %zu bytes)", cap - 1);
    if (strlen(item->valuestring) >= cap) return bad(err, where, what);
    strcpy(dst, item->valuestring);
    return LATHE_OK;
}

/* A number in [lo, hi]; absent keeps *dst. */
static lathe_status get_number(const cJSON *obj, const char *key, const char *path, double lo,
                               double hi, double *dst, lathe_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item) return LATHE_OK;
    if (!cJSON_IsNumber(item) || item->valuedouble < lo || item->valuedouble > hi) {
        char where[256], what[128];
        snprintf(where, sizeof where, "%s.%s", path, key);
        snprintf(what, sizeof what, "must be a number in [%g, %g]", lo, hi);
        return bad(err, where, what);
    }
    *dst = item->valuedouble;
    return LATHE_OK;
}

static lathe_status get_float(const cJSON *obj, const char *key, const char *path, double lo,
                              double hi, float *dst, lathe_error *err) {
    double v = (double)*dst;
    lathe_status st = get_number(obj, key, path, lo, hi, &v, err);
    if (st == LATHE_OK) *dst = (float)v;
    return st;
}

static lathe_status get_size(const cJSON *obj, const char *key, const char *path, double lo,
                             double hi, size_t *dst, lathe_error *err) {
    double v = (double)*dst;
    /* the range check comes first: casting a double beyond long long's range is undefined */
    lathe_status st = get_number(obj, key, path, lo, hi, &v, err);
    if (st != LATHE_OK) return st;
    if (v != (double)(long long)v) {
        char where[256];
        snprintf(where, sizeof where, "%s.%s", path, key);
        return bad(err, where, "must be a whole number");
    }
    *dst = (size_t)v;
    return LATHE_OK;
}

static lathe_status get_bool(const cJSON *obj, const char *key, const char *path, int *dst,
                             lathe_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item) return LATHE_OK;
    if (!cJSON_IsBool(item)) {
        char where[256];
        snprintf(where, sizeof where, "%s.%s", path, key);
        return bad(err, where, "must be true or false");
    }
    *dst = cJSON_IsTrue(item);
    return LATHE_OK;
}

/* Index of value in names (NULL-terminated), or an error listing the choices. */
static lathe_status choose(const char *value, const char *const *names, const char *path,
                           int *index, lathe_error *err) {
    char list[300] = "";
    size_t used = 0;
    int i;
    for (i = 0; names[i]; i++) {
        if (strcmp(value, names[i]) == 0) {
            *index = i;
            return LATHE_OK;
        }
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        if (used >= sizeof list) used = sizeof list - 1;
    }
    return lathe_error_set(err, LATHE_ERR_INVALID, "%s: '%s' is not one of %s", path, value, list);
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        lathe_status try_status_ = (expr);                                                         \
        if (try_status_ != LATHE_OK) return try_status_;                                           \
    } while (0)

/* data.image: [C, H, W], the image shape of each row's features (row-major, NCHW). */
static lathe_status parse_image(const cJSON *image, lathe_experiment *exp, lathe_error *err) {
    const cJSON *d;
    size_t i = 0;
    if (!image) return LATHE_OK;
    if (!cJSON_IsArray(image) || cJSON_GetArraySize(image) != 3)
        return bad(err, "data.image", "must be [channels, height, width], e.g. [1, 8, 8]");
    cJSON_ArrayForEach(d, image) {
        if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 65536 ||
            d->valuedouble != (double)(long)d->valuedouble)
            return bad(err, "data.image", "sizes must be whole numbers in [1, 65536]");
        exp->image[i++] = (size_t)d->valuedouble;
    }
    if ((double)exp->image[0] * (double)exp->image[1] * (double)exp->image[2] > 16777216.0)
        return bad(err, "data.image", "more than 2^24 values per image");
    return LATHE_OK;
}

/* data.limit: {"train": N, "validation": N, "test": N}, rows kept of each split. */
static lathe_status parse_limit(const cJSON *limit, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {"train", "validation", "test", NULL};
    size_t i;
    if (!limit) return LATHE_OK;
    if (!cJSON_IsObject(limit))
        return bad(err, "data.limit",
                   "must be an object such as {\"train\": 6000, \"test\": 1000}");
    TRY(check_keys(limit, "data.limit", keys, err));
    for (i = 0; i < 3; i++)
        TRY(get_size(limit, keys[i], "data.limit", 1, 1e9, &exp->limit[i], err));
    return LATHE_OK;
}

/* data.files: an IDX set's images and labels files, then optionally its test split's. */
static lathe_status parse_files(const cJSON *files, lathe_experiment *exp, lathe_error *err) {
    const char *const what = "must be a list of 2 file names (the images and the labels, e.g. "
                             "[\"train-images-idx3-ubyte.gz\", \"train-labels-idx1-ubyte.gz\"]), "
                             "or 4 (then the test images and labels)";
    const cJSON *item;
    int n = cJSON_GetArraySize(files);
    if (!cJSON_IsArray(files) || (n != 2 && n != 4)) return bad(err, "data.files", what);
    exp->data_kind = LATHE_DATA_IDX_FILES;
    exp->n_data_files = 0;
    cJSON_ArrayForEach(item, files) {
        char where[32];
        snprintf(where, sizeof where, "data.files[%zu]", exp->n_data_files);
        if (!cJSON_IsString(item) || !item->valuestring[0])
            return bad(err, where, "must be a file name");
        if (strlen(item->valuestring) >= LATHE_PATH_MAX) return bad(err, where, "is too long");
        strcpy(exp->data_files[exp->n_data_files++], item->valuestring);
    }
    return LATHE_OK;
}

static lathe_status parse_data(const cJSON *data, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {"builtin", "file",   "files",   "synthetic", "target",
                                       "task",    "sha256", "samples", "noise",     "classes",
                                       "image",   "limit",  NULL};
    static const char *const tasks[] = {"classification", "regression", NULL};
    char task[32] = "";
    int sources = 0, index;
    if (!cJSON_IsObject(data)) return bad(err, "data", "missing or not an object");
    TRY(check_keys(data, "data", keys, err));
    sources += cJSON_HasObjectItem(data, "builtin");
    sources += cJSON_HasObjectItem(data, "file");
    sources += cJSON_HasObjectItem(data, "files");
    sources += cJSON_HasObjectItem(data, "synthetic");
    if (sources != 1)
        return bad(err, "data", "needs exactly one of builtin, file, files or synthetic");
    if (cJSON_HasObjectItem(data, "builtin")) {
        exp->data_kind = LATHE_DATA_BUILTIN;
        TRY(get_string(data, "builtin", "data", exp->data_name, sizeof exp->data_name, 1, err));
    } else if (cJSON_HasObjectItem(data, "file")) {
        exp->data_kind = LATHE_DATA_FILE;
        TRY(get_string(data, "file", "data", exp->data_file, sizeof exp->data_file, 1, err));
    } else if (cJSON_HasObjectItem(data, "files")) {
        TRY(parse_files(cJSON_GetObjectItemCaseSensitive(data, "files"), exp, err));
    } else {
        exp->data_kind = LATHE_DATA_SYNTHETIC;
        TRY(get_string(data, "synthetic", "data", exp->data_name, sizeof exp->data_name, 1, err));
        TRY(choose(exp->data_name, lathe_synthetic_names, "data.synthetic", &index, err));
        exp->synthetic_samples = 300;
        exp->synthetic_noise = 0.1f;
        exp->synthetic_classes = strcmp(exp->data_name, "spiral") == 0 ? 3 : 2;
        TRY(get_size(data, "samples", "data", 4, 1e7, &exp->synthetic_samples, err));
        TRY(get_float(data, "noise", "data", 0, 10, &exp->synthetic_noise, err));
        TRY(get_size(data, "classes", "data", 2, 10, &exp->synthetic_classes, err));
    }
    TRY(get_string(data, "target", "data", exp->target, sizeof exp->target, 0, err));
    TRY(parse_image(cJSON_GetObjectItemCaseSensitive(data, "image"), exp, err));
    TRY(parse_limit(cJSON_GetObjectItemCaseSensitive(data, "limit"), exp, err));
    if (exp->data_kind == LATHE_DATA_SYNTHETIC && !exp->target[0])
        strcpy(exp->target, strcmp(exp->data_name, "curve") == 0 ? "y" : "label");
    TRY(get_string(data, "task", "data", task, sizeof task, 0, err));
    exp->task = strcmp(exp->data_name, "curve") == 0 && exp->data_kind == LATHE_DATA_SYNTHETIC
                    ? LATHE_TASK_REGRESSION
                    : LATHE_TASK_CLASSIFICATION;
    if (task[0]) {
        TRY(choose(task, tasks, "data.task", &index, err));
        exp->task = (lathe_task)index;
    }
    TRY(get_string(data, "sha256", "data", exp->data_sha256, sizeof exp->data_sha256, 0, err));
    if (exp->data_sha256[0]) {
        size_t i, len = strlen(exp->data_sha256);
        int hex = len == 64;
        for (i = 0; i < len && hex; i++)
            hex = (exp->data_sha256[i] >= '0' && exp->data_sha256[i] <= '9') ||
                  (exp->data_sha256[i] >= 'a' && exp->data_sha256[i] <= 'f');
        if (!hex) return bad(err, "data.sha256", "must be 64 lowercase hex digits");
    }
    return LATHE_OK;
}

static lathe_status parse_op(const cJSON *item, const char *path, lathe_prep_op *op, int split_seen,
                             lathe_error *err) {
    static const char *const kinds[] = {
        "drop_columns", "drop_missing",    "split",           "impute",  "standardize",
        "minmax",       "drop_duplicates", "balance_classes", "augment", NULL};
    static const char *const strategies[] = {"mean", "median", "most_frequent", "constant", NULL};
    char kind[32] = "", strategy[32] = "mean", where[64];
    int index;
    if (!cJSON_IsObject(item)) return bad(err, path, "must be an object with an \"op\"");
    TRY(get_string(item, "op", path, kind, sizeof kind, 1, err));
    snprintf(where, sizeof where, "%s.op", path);
    TRY(choose(kind, kinds, where, &index, err));
    op->kind = (lathe_prep_kind)index;
    switch (op->kind) {
    case LATHE_PREP_SPLIT: {
        static const char *const keys[] = {"op",    "test", "validation", "stratify",
                                           "folds", "fold", NULL};
        TRY(check_keys(item, path, keys, err));
        op->test = 0.2f, op->validation = 0.0f, op->stratify = 1;
        TRY(get_float(item, "test", path, 0.0, 0.9, &op->test, err));
        op->test_given = cJSON_HasObjectItem(item, "test");
        TRY(get_float(item, "validation", path, 0.0, 0.9, &op->validation, err));
        TRY(get_bool(item, "stratify", path, &op->stratify, err));
        if (op->test + op->validation > 0.95f)
            return bad(err, path, "test + validation must leave at least 5% of rows to train on");
        TRY(get_size(item, "folds", path, 2, 100, &op->folds, err));
        if (cJSON_HasObjectItem(item, "fold") && !op->folds) {
            snprintf(where, sizeof where, "%s.fold", path);
            return bad(err, where, "needs \"folds\" (the number of folds k)");
        }
        if (op->folds) {
            TRY(get_size(item, "fold", path, 0, 99, &op->fold, err));
            if (op->fold >= op->folds) {
                char what[96];
                snprintf(where, sizeof where, "%s.fold", path);
                snprintf(what, sizeof what, "must be in [0, %zu] (folds are numbered from 0)",
                         op->folds - 1);
                return bad(err, where, what);
            }
            if (cJSON_HasObjectItem(item, "validation")) {
                snprintf(where, sizeof where, "%s.validation", path);
                return bad(err, where,
                           "a k-fold split validates on its fold (1/folds of the rows); remove "
                           "\"validation\"");
            }
        }
        break;
    }
    case LATHE_PREP_IMPUTE: {
        static const char *const keys[] = {"op", "strategy", "value", NULL};
        TRY(check_keys(item, path, keys, err));
        TRY(get_string(item, "strategy", path, strategy, sizeof strategy, 0, err));
        snprintf(where, sizeof where, "%s.strategy", path);
        TRY(choose(strategy, strategies, where, &index, err));
        op->strategy = (lathe_impute_strategy)index;
        if (op->strategy == LATHE_IMPUTE_CONSTANT && !cJSON_HasObjectItem(item, "value"))
            return bad(err, path, "strategy constant needs a \"value\"");
        TRY(get_float(item, "value", path, -3.4e38, 3.4e38, &op->constant, err));
        break;
    }
    case LATHE_PREP_DROP_COLUMNS: {
        static const char *const keys[] = {"op", "columns", NULL};
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(item, "columns"), *c;
        TRY(check_keys(item, path, keys, err));
        snprintf(where, sizeof where, "%s.columns", path);
        if (!cJSON_IsArray(cols)) return bad(err, where, "must be an array of column names");
        cJSON_ArrayForEach(c, cols) {
            if (!cJSON_IsString(c) || strlen(c->valuestring) >= LATHE_NAME_MAX)
                return bad(err, where, "must hold column names (strings)");
            if (op->n_columns == LATHE_MAX_DROP) return bad(err, where, "too many columns");
            strcpy(op->columns[op->n_columns++], c->valuestring);
        }
        break;
    }
    case LATHE_PREP_AUGMENT: {
        static const char *const keys[] = {"op",     "copies", "shift", "flip",
                                           "rotate", "noise",  NULL};
        TRY(check_keys(item, path, keys, err));
        op->copies = 1;
        TRY(get_size(item, "copies", path, 1, 100, &op->copies, err));
        TRY(get_size(item, "shift", path, 0, 64, &op->shift, err));
        TRY(get_bool(item, "flip", path, &op->flip, err));
        TRY(get_float(item, "rotate", path, 0.0, 45.0, &op->rotate, err));
        TRY(get_float(item, "noise", path, 0.0, 1e6, &op->noise, err));
        break;
    }
    case LATHE_PREP_STANDARDIZE:
    case LATHE_PREP_MINMAX: {
        static const char *const keys[] = {"op", "per", NULL};
        static const char *const pers[] = {"feature", "all", NULL};
        char per[16] = "feature";
        TRY(check_keys(item, path, keys, err));
        TRY(get_string(item, "per", path, per, sizeof per, 0, err));
        snprintf(where, sizeof where, "%s.per", path);
        TRY(choose(per, pers, where, &index, err));
        op->per_all = index == 1;
        break;
    }
    default: {
        static const char *const keys[] = {"op", NULL};
        TRY(check_keys(item, path, keys, err));
        break;
    }
    }
    if ((op->kind == LATHE_PREP_DROP_MISSING || op->kind == LATHE_PREP_DROP_DUPLICATES) &&
        split_seen)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%s: %s removes rows, so it must come before split", path, kind);
    if ((op->kind == LATHE_PREP_BALANCE_CLASSES || op->kind == LATHE_PREP_AUGMENT) && !split_seen)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%s: %s adds training rows only, so it must come after split", path,
                               kind);
    if ((op->kind == LATHE_PREP_IMPUTE || op->kind == LATHE_PREP_STANDARDIZE ||
         op->kind == LATHE_PREP_MINMAX) &&
        !split_seen)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%s: %s is fitted on the training rows, so it must come after "
                               "split",
                               path, kind);
    return LATHE_OK;
}

lathe_status lathe_experiment_check_chain(const lathe_experiment *exp, lathe_error *err) {
    size_t i, impute = SIZE_MAX, scaler = SIZE_MAX;
    for (i = 0; i < exp->n_ops; i++) {
        const lathe_prep_op *op = &exp->ops[i];
        if (op->kind == LATHE_PREP_STANDARDIZE || op->kind == LATHE_PREP_MINMAX) {
            if (scaler == SIZE_MAX) scaler = i;
            continue;
        }
        if (op->kind != LATHE_PREP_IMPUTE) continue;
        if (impute != SIZE_MAX)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "prepare[%zu]: a second impute has nothing left to fill "
                                   "(prepare[%zu] fills every missing cell); remove one",
                                   i, impute);
        if (scaler != SIZE_MAX)
            return lathe_error_set(
                err, LATHE_ERR_INVALID,
                "prepare[%zu]: impute must come before the scaling steps "
                "(prepare[%zu] is %s): a scaler is fitted on complete "
                "columns, so missing cells are filled first",
                i, scaler, exp->ops[scaler].kind == LATHE_PREP_MINMAX ? "minmax" : "standardize");
        impute = i;
    }
    return LATHE_OK;
}

static lathe_status parse_prepare(const cJSON *prepare, lathe_experiment *exp, int check_chain,
                                  lathe_error *err) {
    const cJSON *item;
    int split_seen = 0, seen[LATHE_PREP_AUGMENT + 1] = {0};
    if (!prepare) return bad(err, "prepare", "missing (a list of steps; it needs a split)");
    if (!cJSON_IsArray(prepare)) return bad(err, "prepare", "must be a list of steps");
    cJSON_ArrayForEach(item, prepare) {
        char path[32];
        lathe_prep_op *op;
        if (exp->n_ops == LATHE_MAX_OPS) return bad(err, "prepare", "too many steps");
        snprintf(path, sizeof path, "prepare[%zu]", exp->n_ops);
        op = &exp->ops[exp->n_ops];
        TRY(parse_op(item, path, op, split_seen, err));
        if (op->kind == LATHE_PREP_SPLIT) {
            if (split_seen) return bad(err, path, "only one split is allowed");
            split_seen = 1;
        }
        if ((op->kind == LATHE_PREP_BALANCE_CLASSES || op->kind == LATHE_PREP_AUGMENT ||
             op->kind == LATHE_PREP_DROP_DUPLICATES) &&
            seen[op->kind]) {
            char what[80];
            snprintf(what, sizeof what, "only one %s step is allowed",
                     op->kind == LATHE_PREP_AUGMENT           ? "augment"
                     : op->kind == LATHE_PREP_BALANCE_CLASSES ? "balance_classes"
                                                              : "drop_duplicates");
            return bad(err, path, what);
        }
        if (op->kind == LATHE_PREP_BALANCE_CLASSES && seen[LATHE_PREP_AUGMENT])
            return bad(err, path,
                       "balance_classes must come before augment (augment copies the balanced "
                       "training rows)");
        if (op->kind == LATHE_PREP_BALANCE_CLASSES && exp->task != LATHE_TASK_CLASSIFICATION)
            return bad(err, path, "balance_classes needs a classification task");
        seen[op->kind] = 1;
        exp->n_ops++;
    }
    if (!split_seen) return bad(err, "prepare", "needs a split step ({\"op\": \"split\"})");
    return check_chain ? lathe_experiment_check_chain(exp, err) : LATHE_OK;
}

static lathe_status parse_activation(const char *name, const char *path, lathe_activation *act,
                                     lathe_error *err) {
    static const char *const names[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh", NULL};
    int index;
    TRY(choose(name, names, path, &index, err));
    *act = (lathe_activation)index;
    return LATHE_OK;
}

static lathe_status add_layer(lathe_experiment *exp, const lathe_layer_spec *spec,
                              lathe_error *err) {
    if (exp->n_layers == LATHE_MAX_LAYERS) return bad(err, "model", "too many layers");
    exp->layers[exp->n_layers++] = *spec;
    return LATHE_OK;
}

static lathe_status add_simple(lathe_experiment *exp, lathe_layer_kind kind, size_t units,
                               lathe_activation act, lathe_error *err) {
    lathe_layer_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.kind = kind, spec.units = units, spec.activation = act;
    return add_layer(exp, &spec, err);
}

/* The cnn template (LeNet-style): conv 5×5×8 same, act, max-pool 2, conv 5×5×16 same, act,
 * max-pool 2, flatten, dense (one output per class). */
static lathe_status add_cnn_template(lathe_experiment *exp, lathe_activation act,
                                     lathe_error *err) {
    static const size_t filters[2] = {8, 16};
    lathe_layer_spec spec;
    size_t i;
    for (i = 0; i < 2; i++) {
        memset(&spec, 0, sizeof spec);
        spec.kind = LATHE_LAYER_CONV2D, spec.filters = filters[i], spec.kernel = 5;
        spec.stride = 1, spec.pad = 2;
        TRY(add_layer(exp, &spec, err));
        TRY(add_simple(exp, LATHE_LAYER_ACTIVATION, 0, act, err));
        memset(&spec, 0, sizeof spec);
        spec.kind = LATHE_LAYER_MAX_POOL, spec.size = 2, spec.stride = 2;
        TRY(add_layer(exp, &spec, err));
    }
    TRY(add_simple(exp, LATHE_LAYER_FLATTEN, 0, LATHE_ACT_IDENTITY, err));
    return add_simple(exp, LATHE_LAYER_DENSE, 0, LATHE_ACT_IDENTITY, err);
}

/* One entry of model.layers at path. */
static lathe_status parse_layer(const cJSON *layer, const char *path, lathe_experiment *exp,
                                lathe_error *err) {
    static const char *const kinds[] = {"dense",   "relu",       "leaky_relu", "sigmoid",
                                        "tanh",    "conv2d",     "max_pool",   "avg_pool",
                                        "flatten", "batch_norm", "dropout",    NULL};
    static const char *const dense_keys[] = {"type", "units", NULL};
    static const char *const conv_keys[] = {"type", "filters", "kernel", "stride", "padding", NULL};
    static const char *const pool_keys[] = {"type", "size", "stride", NULL};
    static const char *const dropout_keys[] = {"type", "rate", NULL};
    static const char *const plain_keys[] = {"type", NULL};
    char where[96], type[32] = "";
    lathe_layer_spec spec;
    int index;
    memset(&spec, 0, sizeof spec);
    if (!cJSON_IsObject(layer)) return bad(err, path, "must be an object with a type");
    TRY(get_string(layer, "type", path, type, sizeof type, 1, err));
    snprintf(where, sizeof where, "%s.type", path);
    TRY(choose(type, kinds, where, &index, err));
    switch (index) {
    case 0:
        TRY(check_keys(layer, path, dense_keys, err));
        spec.kind = LATHE_LAYER_DENSE;
        TRY(get_size(layer, "units", path, 1, 65536, &spec.units, err));
        break;
    case 1:
    case 2:
    case 3:
    case 4:
        if (cJSON_HasObjectItem(layer, "units"))
            return bad(err, path, "an activation layer has no units");
        TRY(check_keys(layer, path, plain_keys, err));
        spec.kind = LATHE_LAYER_ACTIVATION;
        spec.activation = (lathe_activation)index;
        break;
    case 5: {
        const cJSON *padding = cJSON_GetObjectItemCaseSensitive(layer, "padding");
        TRY(check_keys(layer, path, conv_keys, err));
        spec.kind = LATHE_LAYER_CONV2D;
        spec.stride = 1;
        if (!cJSON_HasObjectItem(layer, "filters"))
            return bad(err, path, "conv2d needs \"filters\" (output channels)");
        if (!cJSON_HasObjectItem(layer, "kernel"))
            return bad(err, path, "conv2d needs \"kernel\" (the square kernel's size)");
        TRY(get_size(layer, "filters", path, 1, 4096, &spec.filters, err));
        TRY(get_size(layer, "kernel", path, 1, 64, &spec.kernel, err));
        TRY(get_size(layer, "stride", path, 1, 64, &spec.stride, err));
        snprintf(where, sizeof where, "%s.padding", path);
        if (cJSON_IsString(padding)) {
            if (strcmp(padding->valuestring, "same") != 0)
                return bad(err, where, "must be \"same\" or a whole number of zeros per side");
            if (spec.kernel % 2 == 0 || spec.stride != 1)
                return bad(err, where, "\"same\" needs an odd kernel and stride 1");
            spec.pad = (spec.kernel - 1) / 2;
        } else if (padding) {
            if (!cJSON_IsNumber(padding))
                return bad(err, where, "must be \"same\" or a whole number of zeros per side");
            TRY(get_size(layer, "padding", path, 0, 64, &spec.pad, err));
        }
        break;
    }
    case 6:
    case 7:
        TRY(check_keys(layer, path, pool_keys, err));
        spec.kind = index == 6 ? LATHE_LAYER_MAX_POOL : LATHE_LAYER_AVG_POOL;
        spec.size = 2;
        TRY(get_size(layer, "size", path, 1, 64, &spec.size, err));
        spec.stride = spec.size;
        TRY(get_size(layer, "stride", path, 1, 64, &spec.stride, err));
        break;
    case 8:
    case 9:
        TRY(check_keys(layer, path, plain_keys, err));
        spec.kind = index == 8 ? LATHE_LAYER_FLATTEN : LATHE_LAYER_BATCH_NORM;
        break;
    default:
        TRY(check_keys(layer, path, dropout_keys, err));
        spec.kind = LATHE_LAYER_DROPOUT;
        if (!cJSON_HasObjectItem(layer, "rate"))
            return bad(err, path, "dropout needs a \"rate\" in [0, 1)");
        TRY(get_float(layer, "rate", path, 0.0, 0.99, &spec.rate, err));
        break;
    }
    return add_layer(exp, &spec, err);
}

static lathe_status parse_model(const cJSON *model, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {"template", "hidden", "activation", "layers", "init", NULL};
    static const char *const templates[] = {"linear", "logistic", "mlp", "cnn", NULL};
    static const char *const inits[] = {
        "default", "xavier_uniform", "he_uniform", "xavier_normal", "he_normal", "zeros", NULL};
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(model, "layers");
    char template_name[32] = "", act_name[32] = "relu", init[32] = "default";
    lathe_activation act;
    int index;
    if (!cJSON_IsObject(model)) return bad(err, "model", "missing or not an object");
    TRY(check_keys(model, "model", keys, err));
    TRY(get_string(model, "template", "model", template_name, sizeof template_name, 0, err));
    TRY(get_string(model, "activation", "model", act_name, sizeof act_name, 0, err));
    TRY(parse_activation(act_name, "model.activation", &act, err));
    TRY(get_string(model, "init", "model", init, sizeof init, 0, err));
    TRY(choose(init, inits, "model.init", &index, err));
    exp->init = (lathe_init_kind)index;
    if ((template_name[0] != 0) == (layers != NULL))
        return bad(err, "model", "needs exactly one of template or layers");
    if (template_name[0]) {
        TRY(choose(template_name, templates, "model.template", &index, err));
        strcpy(exp->model_template, templates[index]);
        if (index == 2) {
            const cJSON *hidden = cJSON_GetObjectItemCaseSensitive(model, "hidden"), *h;
            size_t i = 0;
            if (!cJSON_IsArray(hidden) || cJSON_GetArraySize(hidden) == 0)
                return bad(err, "model.hidden", "an mlp needs a list of hidden layer sizes");
            cJSON_ArrayForEach(h, hidden) {
                char where[48];
                snprintf(where, sizeof where, "model.hidden[%zu]", i++);
                if (!cJSON_IsNumber(h) || h->valuedouble < 1 || h->valuedouble > 65536 ||
                    h->valuedouble != (double)(long)h->valuedouble)
                    return bad(err, where, "must be a whole number in [1, 65536]");
                TRY(add_simple(exp, LATHE_LAYER_DENSE, (size_t)h->valuedouble, LATHE_ACT_IDENTITY,
                               err));
                TRY(add_simple(exp, LATHE_LAYER_ACTIVATION, 0, act, err));
            }
        } else if (cJSON_HasObjectItem(model, "hidden")) {
            return bad(err, "model.hidden", "only an mlp has hidden layers");
        }
        if (index == 3) return add_cnn_template(exp, act, err);
        return add_simple(exp, LATHE_LAYER_DENSE, 0, LATHE_ACT_IDENTITY, err);
    }
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) == 0)
        return bad(err, "model.layers", "must be a non-empty list of layers");
    {
        const cJSON *layer;
        size_t i = 0;
        cJSON_ArrayForEach(layer, layers) {
            char path[48];
            snprintf(path, sizeof path, "model.layers[%zu]", i++);
            TRY(parse_layer(layer, path, exp, err));
        }
    }
    if (exp->layers[exp->n_layers - 1].kind != LATHE_LAYER_DENSE)
        return bad(err, "model.layers", "the last layer must be dense (it gives the outputs)");
    return LATHE_OK;
}

/* train.schedule: {"kind": "constant" | "step" | "exponential" | "cosine", ...}; the epoch
 * count must be known (parse it first). */
static lathe_status parse_schedule(const cJSON *o, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {"kind", "step_size", "gamma", "t_max", "eta_min", NULL};
    static const char *const kinds[] = {"constant", "step", "exponential", "cosine", NULL};
    char kind[32] = "";
    int index;
    lathe_schedule *s = &exp->schedule;
    s->kind = LATHE_SCHEDULE_CONSTANT;
    if (!o) return LATHE_OK;
    if (!cJSON_IsObject(o))
        return bad(err, "train.schedule", "must be an object such as {\"kind\": \"cosine\"}");
    TRY(check_keys(o, "train.schedule", keys, err));
    TRY(get_string(o, "kind", "train.schedule", kind, sizeof kind, 1, err));
    TRY(choose(kind, kinds, "train.schedule.kind", &index, err));
    s->kind = (lathe_schedule_kind)index;
    s->step_size = 10, s->gamma = s->kind == LATHE_SCHEDULE_STEP ? 0.1f : 0.95f;
    s->t_max = exp->epochs, s->eta_min = 0.0f;
    TRY(get_size(o, "step_size", "train.schedule", 1, 1e9, &s->step_size, err));
    TRY(get_float(o, "gamma", "train.schedule", 0, 1, &s->gamma, err));
    TRY(get_size(o, "t_max", "train.schedule", 1, 1e9, &s->t_max, err));
    TRY(get_float(o, "eta_min", "train.schedule", 0, 100, &s->eta_min, err));
    {
        static const char *const fields[][4] = {
            {"step_size", "gamma", "", ""}, {"gamma", "", "", ""}, {"t_max", "eta_min", "", ""}};
        const cJSON *item;
        cJSON_ArrayForEach(item, o) {
            int allowed = strcmp(item->string, "kind") == 0, f;
            if (s->kind != LATHE_SCHEDULE_CONSTANT)
                for (f = 0; f < 4; f++)
                    allowed |= fields[s->kind - 1][f][0] &&
                               strcmp(item->string, fields[s->kind - 1][f]) == 0;
            if (!allowed)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "train.schedule.%s: does not apply to a %s schedule",
                                       item->string, kind);
        }
    }
    return LATHE_OK;
}

/* train.early_stopping: {"patience": 10, "metric": "validation_loss", "min_delta": 0}. */
static lathe_status parse_early_stopping(const cJSON *o, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {"patience", "metric", "min_delta", NULL};
    static const char *const metrics[] = {"validation_loss", "validation_accuracy", NULL};
    char metric[32] = "validation_loss";
    int index;
    size_t i;
    float validation = 0.0f;
    if (!o) return LATHE_OK;
    if (!cJSON_IsObject(o))
        return bad(err, "train.early_stopping", "must be an object such as {\"patience\": 10}");
    TRY(check_keys(o, "train.early_stopping", keys, err));
    exp->early_stopping = 1;
    exp->early_stopping_patience = 10;
    TRY(get_size(o, "patience", "train.early_stopping", 1, 1e6, &exp->early_stopping_patience,
                 err));
    TRY(get_float(o, "min_delta", "train.early_stopping", 0, 1e6, &exp->early_stopping_min_delta,
                  err));
    TRY(get_string(o, "metric", "train.early_stopping", metric, sizeof metric, 0, err));
    TRY(choose(metric, metrics, "train.early_stopping.metric", &index, err));
    exp->early_stopping_accuracy = index == 1;
    if (index == 1 && exp->task != LATHE_TASK_CLASSIFICATION)
        return bad(err, "train.early_stopping.metric",
                   "validation_accuracy needs a classification task");
    for (i = 0; i < exp->n_ops; i++)
        if (exp->ops[i].kind == LATHE_PREP_SPLIT)
            validation =
                exp->ops[i].folds ? 1.0f / (float)exp->ops[i].folds : exp->ops[i].validation;
    if (validation <= 0.0f)
        return bad(err, "train.early_stopping",
                   "watches the validation split: give the split a \"validation\" fraction");
    return LATHE_OK;
}

/* train.prune: {"sparsity": 0.8, "begin_step": 0, "end_step": 0, "frequency": 100,
 * "scope": "layer"}. */
static lathe_status parse_prune(const cJSON *o, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {"sparsity", "begin_step", "end_step", "frequency", "scope",
                                       NULL};
    static const char *const scopes[] = {"layer", "global", NULL};
    char scope[16] = "layer";
    int index;
    if (!o) return LATHE_OK;
    if (!cJSON_IsObject(o))
        return bad(err, "train.prune", "must be an object such as {\"sparsity\": 0.8}");
    TRY(check_keys(o, "train.prune", keys, err));
    if (!cJSON_HasObjectItem(o, "sparsity"))
        return bad(err, "train.prune.sparsity", "missing (the fraction of weights to prune, in [0, 0.99])");
    exp->prune = 1;
    exp->prune_frequency = 100;
    TRY(get_float(o, "sparsity", "train.prune", 0, 0.99, &exp->prune_sparsity, err));
    TRY(get_size(o, "begin_step", "train.prune", 0, 1e12, &exp->prune_begin, err));
    TRY(get_size(o, "end_step", "train.prune", 0, 1e12, &exp->prune_end, err));
    TRY(get_size(o, "frequency", "train.prune", 1, 1e12, &exp->prune_frequency, err));
    if (exp->prune_end && exp->prune_end <= exp->prune_begin)
        return bad(err, "train.prune.end_step", "must come after begin_step");
    TRY(get_string(o, "scope", "train.prune", scope, sizeof scope, 0, err));
    TRY(choose(scope, scopes, "train.prune.scope", &index, err));
    exp->prune_global = index == 1;
    return LATHE_OK;
}

/* train.distill: {"teacher": "teacher.lathe.json", "temperature": 4, "alpha": 0.5}. Runs
 * after train.loss is known: a distilled student is a softmax classifier. */
static lathe_status parse_distill(const cJSON *o, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {"teacher", "temperature", "alpha", NULL};
    const cJSON *teacher;
    if (!o) return LATHE_OK;
    if (!cJSON_IsObject(o))
        return bad(err, "train.distill",
                   "must be an object such as {\"teacher\": \"teacher.lathe.json\"}");
    TRY(check_keys(o, "train.distill", keys, err));
    teacher = cJSON_GetObjectItemCaseSensitive(o, "teacher");
    if (!teacher)
        return bad(err, "train.distill.teacher",
                   "missing (the teacher's model file, e.g. \"teacher.lathe.json\")");
    TRY(get_string(o, "teacher", "train.distill", exp->distill_teacher,
                   sizeof exp->distill_teacher, 1, err));
    if (!exp->distill_teacher[0])
        return bad(err, "train.distill.teacher", "must name the teacher's model file");
    exp->distill = 1;
    exp->distill_temperature = 4.0f;
    exp->distill_alpha = 0.5f;
    TRY(get_float(o, "temperature", "train.distill", 0.01, 100, &exp->distill_temperature, err));
    TRY(get_float(o, "alpha", "train.distill", 0, 1, &exp->distill_alpha, err));
    if (exp->task != LATHE_TASK_CLASSIFICATION)
        return bad(err, "train.distill",
                   "needs a classification task (a regression model has no class "
                   "probabilities to learn from a teacher)");
    if (exp->loss == LATHE_LOSS_BINARY_CROSS_ENTROPY)
        return bad(err, "train.distill",
                   "needs softmax_cross_entropy (one logit per class); a binary_cross_entropy "
                   "model has one logit");
    return LATHE_OK;
}

static lathe_status parse_train(const cJSON *train, lathe_experiment *exp, lathe_error *err) {
    static const char *const keys[] = {
        "optimizer",   "learning_rate", "momentum",     "nesterov",  "weight_decay",   "beta1",
        "beta2",       "eps",           "batch_size",   "shuffle",   "epochs",         "loss",
        "huber_delta", "schedule",      "warmup_steps", "clip_norm", "early_stopping", "prune",
        "distill",     NULL};
    static const char *const optimizers[] = {"sgd", "adam", "adamw", NULL};
    static const char *const losses[] = {"auto",  "softmax_cross_entropy", "mse", "mae",
                                         "huber", "binary_cross_entropy",  NULL};
    char name[32] = "adam", loss[32] = "auto";
    int index;
    if (!cJSON_IsObject(train)) return bad(err, "train", "missing or not an object");
    TRY(check_keys(train, "train", keys, err));
    TRY(get_string(train, "optimizer", "train", name, sizeof name, 0, err));
    TRY(choose(name, optimizers, "train.optimizer", &index, err));
    exp->optimizer = lathe_optimizer_defaults((lathe_optimizer_kind)index);
    TRY(get_float(train, "learning_rate", "train", 1e-12, 100, &exp->optimizer.lr, err));
    TRY(get_float(train, "momentum", "train", 0, 0.9999, &exp->optimizer.momentum, err));
    TRY(get_bool(train, "nesterov", "train", &exp->optimizer.nesterov, err));
    TRY(get_float(train, "weight_decay", "train", 0, 10, &exp->optimizer.weight_decay, err));
    TRY(get_float(train, "beta1", "train", 0, 0.9999999, &exp->optimizer.beta1, err));
    TRY(get_float(train, "beta2", "train", 0, 0.9999999, &exp->optimizer.beta2, err));
    TRY(get_float(train, "eps", "train", 0, 1, &exp->optimizer.eps, err));
    if (exp->optimizer.kind != LATHE_OPT_SGD &&
        (cJSON_HasObjectItem(train, "momentum") || cJSON_HasObjectItem(train, "nesterov")))
        return bad(err, "train", "momentum and nesterov apply to the sgd optimizer only");
    if (exp->optimizer.nesterov && exp->optimizer.momentum == 0.0f)
        return bad(err, "train.nesterov", "needs a momentum > 0");
    exp->batch_size = 32;
    exp->epochs = 10;
    TRY(get_size(train, "batch_size", "train", 1, 65536, &exp->batch_size, err));
    exp->shuffle = 1;
    TRY(get_bool(train, "shuffle", "train", &exp->shuffle, err));
    TRY(get_size(train, "epochs", "train", 1, 100000, &exp->epochs, err));
    TRY(get_string(train, "loss", "train", loss, sizeof loss, 0, err));
    TRY(choose(loss, losses, "train.loss", &index, err));
    exp->loss = (lathe_loss_kind)index;
    exp->huber_delta = 1.0f;
    TRY(get_float(train, "huber_delta", "train", 1e-6, 1e6, &exp->huber_delta, err));
    if (cJSON_HasObjectItem(train, "huber_delta") && exp->loss != LATHE_LOSS_HUBER)
        return bad(err, "train.huber_delta", "applies to the huber loss only");
    TRY(parse_schedule(cJSON_GetObjectItemCaseSensitive(train, "schedule"), exp, err));
    TRY(get_size(train, "warmup_steps", "train", 0, 1e9, &exp->schedule.warmup, err));
    TRY(get_float(train, "clip_norm", "train", 0, 1e9, &exp->clip_norm, err));
    TRY(parse_early_stopping(cJSON_GetObjectItemCaseSensitive(train, "early_stopping"), exp, err));
    TRY(parse_prune(cJSON_GetObjectItemCaseSensitive(train, "prune"), exp, err));
    TRY(parse_distill(cJSON_GetObjectItemCaseSensitive(train, "distill"), exp, err));
    return LATHE_OK;
}

static lathe_status parse_root(const cJSON *root, lathe_experiment *exp, int check_chain,
                               lathe_error *err) {
    static const char *const keys[] = {"format",  "version", "name",  "description", "seed", "data",
                                       "prepare", "model",   "train", "evaluate",    NULL};
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (!cJSON_IsObject(root)) return bad(err, "(root)", "an experiment file is a JSON object");
    if (!cJSON_IsString(format) || strcmp(format->valuestring, "lathe-experiment") != 0)
        return bad(err, "format", "must be \"lathe-experiment\" (is this an experiment file?)");
    if (!cJSON_IsNumber(version) || version->valuedouble != 1.0)
        return bad(err, "version", "must be 1 (this Lathe reads experiment format version 1)");
    TRY(check_keys(root, "(root)", keys, err));
    if (seed) {
        /* 15 digits at most: JSON writers (cJSON's included) print 15 significant digits */
        if (!cJSON_IsNumber(seed) || seed->valuedouble < 0 ||
            seed->valuedouble > 999999999999999.0 ||
            seed->valuedouble != (double)(long long)seed->valuedouble)
            return bad(err, "seed", "must be a whole number in [0, 999999999999999]");
        exp->seed = (uint64_t)seed->valuedouble;
    }
    TRY(get_string(root, "name", "", exp->name, sizeof exp->name, 0, err));
    TRY(get_string(root, "description", "", exp->description, sizeof exp->description, 0, err));
    TRY(parse_data(cJSON_GetObjectItemCaseSensitive(root, "data"), exp, err));
    TRY(parse_prepare(cJSON_GetObjectItemCaseSensitive(root, "prepare"), exp, check_chain, err));
    TRY(parse_model(cJSON_GetObjectItemCaseSensitive(root, "model"), exp, err));
    TRY(parse_train(cJSON_GetObjectItemCaseSensitive(root, "train"), exp, err));
    if (exp->task == LATHE_TASK_REGRESSION && (exp->loss == LATHE_LOSS_SOFTMAX_CROSS_ENTROPY ||
                                               exp->loss == LATHE_LOSS_BINARY_CROSS_ENTROPY))
        return bad(err, "train.loss",
                   "softmax_cross_entropy and binary_cross_entropy need a "
                   "classification task");
    if (exp->task == LATHE_TASK_CLASSIFICATION && exp->loss != LATHE_LOSS_AUTO &&
        exp->loss != LATHE_LOSS_SOFTMAX_CROSS_ENTROPY &&
        exp->loss != LATHE_LOSS_BINARY_CROSS_ENTROPY)
        return bad(err, "train.loss",
                   "mse, mae and huber are regression losses; a classification task trains "
                   "with softmax_cross_entropy (or set data.task to regression)");
    return LATHE_OK;
}

static lathe_status parse_text(const char *json, size_t n, int check_chain, lathe_experiment **out,
                               lathe_error *err) {
    cJSON *root;
    lathe_experiment *exp;
    lathe_status st;
    const char *error_at = NULL;
    unsigned long failures;
    *out = NULL;
    lathe_json_hooks_install(); /* cJSON allocates through the core's hook */
    failures = lathe_alloc_failures();
    root = cJSON_ParseWithLengthOpts(json, n, &error_at, 0);
    if (!root && lathe_alloc_failures() != failures)
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory parsing the experiment");
    if (!root) {
        size_t line = 1, column = 1;
        const char *p;
        if (!error_at || error_at < json || error_at > json + n)
            return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory parsing the experiment");
        for (p = json; p < error_at; p++) {
            if (*p == '\n')
                line++, column = 1;
            else
                column++;
        }
        return lathe_error_set(err, LATHE_ERR_INVALID, "not valid JSON: line %zu, column %zu", line,
                               column);
    }
    exp = lathe_calloc(1, sizeof *exp);
    if (!exp) {
        cJSON_Delete(root);
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory parsing the experiment");
    }
    st = parse_root(root, exp, check_chain, err);
    cJSON_Delete(root);
    if (st != LATHE_OK) {
        lathe_free(exp);
        return st;
    }
    *out = exp;
    return LATHE_OK;
}

lathe_status lathe_experiment_parse(const char *json, size_t n, lathe_experiment **out,
                                    lathe_error *err) {
    return parse_text(json, n, 1, out, err);
}

lathe_status lathe_experiment_parse_v1_model(const char *json, size_t n, lathe_experiment **out,
                                             lathe_error *err) {
    return parse_text(json, n, 0, out, err);
}

void lathe_experiment_destroy(lathe_experiment *exp) {
    lathe_free(exp);
}

const char *lathe_layer_type_name(lathe_layer_kind kind, lathe_activation activation) {
    static const char *const acts[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh"};
    switch (kind) {
    case LATHE_LAYER_DENSE:
        return "dense";
    case LATHE_LAYER_CONV2D:
        return "conv2d";
    case LATHE_LAYER_MAX_POOL:
        return "max_pool";
    case LATHE_LAYER_AVG_POOL:
        return "avg_pool";
    case LATHE_LAYER_FLATTEN:
        return "flatten";
    case LATHE_LAYER_BATCH_NORM:
        return "batch_norm";
    case LATHE_LAYER_DROPOUT:
        return "dropout";
    default:
        return acts[activation];
    }
}
