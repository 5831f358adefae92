/* The browser engine's exported C functions: one per call, pointers and sizes in, a status
 * out, no logic beyond composing the core's own calls. wasm_bindings/lathe.js is the only
 * code that calls these. The export list is exports.txt. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/augment.h"
#include "cJSON.h"
#include "lathe/experiment.h"
#include "lathe/idx.h"
#include "lathe/image.h"
#include "lathe/metrics.h"
#include "lathe/model.h"
#include "lathe/metrics_json.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/profile.h"
#include "lathe/sha256.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

/* An experiment's data read and prepared (lathe_prepare), nothing trained: what a session
 * trains on, and on its own what the Prepare step previews. */
typedef struct lathe_preview {
    lathe_experiment *exp;
    lathe_table *table;
    lathe_prepared *prep;
    char sha256[65]; /* of the data bytes; empty for a synthetic set */
} lathe_preview;

/* A training session: its prepared data and the trainer, owned together. */
typedef struct lathe_session {
    lathe_preview data;
    lathe_trainer *trainer;
    uint8_t owner[32]; /* lathe_checkpoint_owner of the experiment text and the data */
} lathe_session;

lathe_error *lathe_engine_error_create(void) { return calloc(1, sizeof(lathe_error)); }
void lathe_engine_error_destroy(lathe_error *err) { free(err); }
const char *lathe_engine_error_message(const lathe_error *err) { return err->message; }

/* Frees what preview_load made (any part may be NULL). */
static void preview_clear(lathe_preview *p) {
    lathe_prepared_destroy(p->prep);
    lathe_table_destroy(p->table);
    lathe_experiment_destroy(p->exp);
    memset(p, 0, sizeof *p);
}

/* Parses the experiment, reads the data (CSV bytes; ignored for synthetic sets; data.sha256,
 * when given, must match the bytes) and prepares it. On an error p is cleared. */
static lathe_status preview_load(const char *json, size_t json_n, const char *data,
                                 size_t data_n, lathe_preview *p, lathe_error *err) {
    lathe_status st = lathe_experiment_parse(json, json_n, &p->exp, err);
    if (st == LATHE_OK && p->exp->data_kind == LATHE_DATA_SYNTHETIC) {
        st = lathe_synthetic_table(p->exp->data_name, p->exp->synthetic_samples,
                                   p->exp->synthetic_noise, p->exp->synthetic_classes,
                                   p->exp->seed, &p->table, err);
    } else if (st == LATHE_OK) {
        lathe_sha256_hex(data, data_n, p->sha256);
        if (p->exp->data_sha256[0] && strcmp(p->exp->data_sha256, p->sha256) != 0)
            st = lathe_error_set(err, LATHE_ERR_MISMATCH,
                                 "data.sha256: the data does not match the experiment's "
                                 "fingerprint (%.12s… expected, %.12s… given)",
                                 p->exp->data_sha256, p->sha256);
        else
            st = lathe_csv_read(data, data_n, NULL, &p->table, err);
    }
    if (st == LATHE_OK) st = lathe_prepare(p->exp, p->table, &p->prep, err);
    if (st != LATHE_OK) preview_clear(p);
    return st;
}

void lathe_engine_session_destroy(lathe_session *s) {
    if (!s) return;
    lathe_trainer_destroy(s->trainer);
    preview_clear(&s->data);
    lathe_free(s);
}

/* Reads and prepares the experiment's data (preview_load) and creates the trainer. */
int lathe_engine_session_create(const char *json, size_t json_n, const char *data,
                                size_t data_n, lathe_session **out, lathe_error *err) {
    lathe_session *s = lathe_calloc(1, sizeof *s);
    lathe_status st;
    *out = NULL;
    if (!s) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory");
    st = preview_load(json, json_n, data, data_n, &s->data, err);
    if (st == LATHE_OK) st = lathe_trainer_create(s->data.exp, s->data.prep, &s->trainer, err);
    if (st != LATHE_OK) {
        lathe_engine_session_destroy(s);
        return st;
    }
    {
        char prepared_hex[65];
        lathe_prepared_sha256(s->data.prep, prepared_hex);
        lathe_checkpoint_owner(json, json_n, s->data.sha256, prepared_hex, s->owner);
    }
    *out = s;
    return LATHE_OK;
}

/* The data of an experiment prepared by its steps, no network built (the Prepare step's
 * preview: it works while the design is invalid). */
int lathe_engine_preview_create(const char *json, size_t json_n, const char *data,
                                size_t data_n, lathe_preview **out, lathe_error *err) {
    lathe_preview *p = lathe_calloc(1, sizeof *p);
    lathe_status st;
    *out = NULL;
    if (!p) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory");
    st = preview_load(json, json_n, data, data_n, p, err);
    if (st != LATHE_OK) {
        lathe_free(p);
        return st;
    }
    *out = p;
    return LATHE_OK;
}

void lathe_engine_preview_destroy(lathe_preview *p) {
    if (!p) return;
    preview_clear(p);
    lathe_free(p);
}

int lathe_engine_session_step(lathe_session *s, size_t batches, lathe_error *err) {
    return lathe_trainer_step(s->trainer, batches, err);
}

/* out[0..9] = epoch, epochs, batch, batches_per_epoch, steps, last_epoch_loss, done,
 * train rows, stopped_early, best_epoch. */
void lathe_engine_session_progress(const lathe_session *s, double *out) {
    lathe_progress p = lathe_trainer_progress(s->trainer);
    out[0] = (double)p.epoch, out[1] = (double)p.epochs, out[2] = (double)p.batch;
    out[3] = (double)p.batches_per_epoch, out[4] = (double)p.steps;
    out[5] = (double)p.last_epoch_loss, out[6] = (double)p.done;
    out[7] = (double)s->data.prep->train.rows;
    out[8] = (double)p.stopped_early, out[9] = (double)p.best_epoch;
}

/* out[0..5] = rows, loss, accuracy, mse, mae, r2 for split 0 train, 1 validation, 2 test. */
void lathe_engine_session_evaluate(lathe_session *s, int split, double *out) {
    lathe_metrics m = lathe_trainer_evaluate(s->trainer, (lathe_split)split);
    out[0] = (double)m.rows, out[1] = (double)m.loss, out[2] = (double)m.accuracy;
    out[3] = (double)m.mse, out[4] = (double)m.mae, out[5] = (double)m.r2;
}

/* hex must hold 65 bytes. */
void lathe_engine_session_weights_sha256(const lathe_session *s, char *hex) {
    lathe_trainer_weights_sha256(s->trainer, hex);
}
void lathe_engine_session_data_sha256(const lathe_session *s, char *hex) {
    memcpy(hex, s->data.sha256, 65);
}
void lathe_engine_session_prepared_sha256(const lathe_session *s, char *hex) {
    lathe_prepared_sha256(s->data.prep, hex);
}
/* out[0..4] = features, classes (0 regression), parameters, test rows, outputs per row. */
void lathe_engine_session_shape(const lathe_session *s, double *out) {
    size_t n_params;
    (void)lathe_trainer_params(s->trainer, &n_params);
    out[0] = (double)s->data.prep->n_features, out[1] = (double)s->data.prep->n_classes;
    out[2] = (double)n_params, out[3] = (double)s->data.prep->test.rows;
    out[4] = (double)lathe_trainer_n_outputs(s->trainer);
}

/* Frees a string the engine returned (the report below). */
void lathe_engine_string_free(char *s) { lathe_free(s); }

/* The evaluation of one split (0 train, 1 validation, 2 test) as JSON text in *out (free
 * with lathe_engine_string_free): rows, loss and accuracy or regression errors; for
 * classification the class names, the class report, the ROC and PR curves and calibration
 * bins (lathe/metrics_json.h) and, per row, the
 * true and predicted class and the data row it came from (for "show me these examples");
 * for regression up to 2000 (true, predicted) pairs. */
int lathe_engine_session_report_json(lathe_session *s, int split, char **out, lathe_error *err) {
    const lathe_split_data *d = split == 0 ? &s->data.prep->train : split == 1 ? &s->data.prep->validation
                                                                           : &s->data.prep->test;
    lathe_metrics m = lathe_trainer_evaluate(s->trainer, (lathe_split)split);
    size_t C = lathe_trainer_n_outputs(s->trainer), i, c;
    float *pred = lathe_malloc((d->rows ? d->rows : 1) * C * sizeof *pred);
    lathe_class_report *report = NULL;
    cJSON *o = cJSON_CreateObject(), *arr;
    int ok = pred && o;
    *out = NULL;
    if (ok) lathe_trainer_predict(s->trainer, d->rows, d->x, pred);
    ok = ok && cJSON_AddNumberToObject(o, "rows", (double)d->rows);
    ok = ok && cJSON_AddStringToObject(o, "task", s->data.prep->task == LATHE_TASK_CLASSIFICATION ? "classification" : "regression");
    if (ok && d->rows && m.loss == m.loss) ok = cJSON_AddNumberToObject(o, "loss", (double)m.loss) != NULL;
    if (ok && s->data.prep->task == LATHE_TASK_CLASSIFICATION) {
        ok = cJSON_AddItemToObject(o, "classes", cJSON_CreateStringArray((const char *const *)s->data.prep->class_names, (int)s->data.prep->n_classes));
        if (ok && d->rows) {
            ok = lathe_class_report_create(d->rows, C, d->label, pred, &report, err) == LATHE_OK;
            ok = ok && cJSON_AddNumberToObject(o, "accuracy", report->accuracy);
            ok = ok && lathe_class_report_add_json(o, report, s->data.prep->class_names);
            ok = ok && lathe_class_curves_add_json(o, d->rows, C, d->label, pred, 10);
            arr = ok ? cJSON_AddArrayToObject(o, "examples") : NULL;
            for (i = 0; arr && i < d->rows; i++) {
                size_t best = 0;
                cJSON *row = cJSON_CreateArray();
                for (c = 1; c < C; c++)
                    if (pred[i * C + c] > pred[i * C + best]) best = c;
                ok = row && cJSON_AddItemToArray(arr, row);
                ok = ok && cJSON_AddItemToArray(row, cJSON_CreateNumber((double)d->label[i]));
                ok = ok && cJSON_AddItemToArray(row, cJSON_CreateNumber((double)best));
                ok = ok && cJSON_AddItemToArray(row, cJSON_CreateNumber((double)d->source_row[i]));
                if (!ok) break;
            }
        }
    } else if (ok && d->rows) {
        lathe_regression_report r = lathe_regression_report_compute(d->rows, d->value, pred);
        ok = cJSON_AddNumberToObject(o, "mse", r.mse) && cJSON_AddNumberToObject(o, "mae", r.mae) &&
             cJSON_AddNumberToObject(o, "rmse", r.rmse);
        if (ok && r.r2 == r.r2) ok = cJSON_AddNumberToObject(o, "r2", r.r2) != NULL;
        arr = ok ? cJSON_AddArrayToObject(o, "points") : NULL;
        for (i = 0; arr && i < d->rows && i < 2000; i++) {
            cJSON *pt = cJSON_CreateArray();
            ok = pt && cJSON_AddItemToArray(arr, pt);
            ok = ok && cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)d->value[i]));
            ok = ok && cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)pred[i]));
            if (!ok) break;
        }
    }
    if (ok) *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    lathe_class_report_destroy(report);
    lathe_free(pred);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory evaluating the model");
    return LATHE_OK;
}

static const lathe_split_data *split_of(const lathe_session *s, int split) {
    return split == 0 ? &s->data.prep->train : split == 1 ? &s->data.prep->validation : &s->data.prep->test;
}

/* Rows of a prepared split (0 train, 1 validation, 2 test). */
double lathe_engine_session_split_rows(const lathe_session *s, int split) {
    return (double)split_of(s, split)->rows;
}

/* Copies a prepared split: x:(rows, features) and y:(rows) the class index or the target
 * value. */
void lathe_engine_session_split_copy(const lathe_session *s, int split, float *x, float *y) {
    const lathe_split_data *d = split_of(s, split);
    size_t i;
    memcpy(x, d->x, d->rows * s->data.prep->n_features * sizeof *x);
    for (i = 0; i < d->rows; i++) y[i] = d->label ? (float)d->label[i] : d->value[i];
}

/* Predicts with the current weights on prepared rows x:(n, features): out:(n, outputs) gets
 * class probabilities or values (lathe_trainer_predict; allocates nothing, changes no
 * training state). */
void lathe_engine_session_predict(lathe_session *s, size_t n, const float *x, float *out) {
    lathe_trainer_predict(s->trainer, n, x, out);
}

static const char *const layer_kind_names[] = {"dense", "activation", "conv2d", "max_pool",
                                               "avg_pool", "flatten", "batch_norm", "dropout"};
static const char *const activation_names[] = {"identity", "relu", "leaky_relu", "sigmoid",
                                               "tanh"};

/* The network as JSON text in *out (free with lathe_engine_string_free): [{"kind",
 * "activation" (activation layers), "in": [C, H, W] or [F], "out": likewise, "weights",
 * "bias" (parameter counts), "kernel", "stride", "pad"}] per layer, in order. */
int lathe_engine_session_layers_json(const lathe_session *s, char **out, lathe_error *err) {
    size_t i, n = lathe_trainer_layer_count(s->trainer);
    cJSON *arr = cJSON_CreateArray();
    int ok = arr != NULL;
    *out = NULL;
    for (i = 0; ok && i < n; i++) {
        lathe_layer_info info;
        cJSON *o = cJSON_CreateObject();
        double in[3], outs[3];
        ok = o && cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        lathe_trainer_layer(s->trainer, i, &info);
        in[0] = (double)info.in_c, in[1] = (double)info.in_h, in[2] = (double)info.in_w;
        outs[0] = (double)info.out_c, outs[1] = (double)info.out_h, outs[2] = (double)info.out_w;
        ok = cJSON_AddStringToObject(o, "kind", layer_kind_names[info.kind]) != NULL;
        if (ok && info.kind == LATHE_LAYER_ACTIVATION)
            ok = cJSON_AddStringToObject(o, "activation", activation_names[info.activation]) != NULL;
        ok = ok && cJSON_AddItemToObject(o, "in", info.in_image ? cJSON_CreateDoubleArray(in, 3)
                                                               : cJSON_CreateDoubleArray(in, 1));
        ok = ok && cJSON_AddItemToObject(o, "out", info.out_image ? cJSON_CreateDoubleArray(outs, 3)
                                                                  : cJSON_CreateDoubleArray(outs, 1));
        ok = ok && cJSON_AddNumberToObject(o, "weights", (double)info.n_weights);
        ok = ok && cJSON_AddNumberToObject(o, "bias", (double)info.n_bias);
        ok = ok && cJSON_AddNumberToObject(o, "kernel", (double)info.kernel);
        ok = ok && cJSON_AddNumberToObject(o, "stride", (double)info.stride);
        ok = ok && cJSON_AddNumberToObject(o, "pad", (double)info.pad);
    }
    if (ok) *out = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory describing the model");
    return LATHE_OK;
}

/* The model file (lathe/model_file.h) of the current weights in *out (free with
 * lathe_engine_string_free): experiment_json (n bytes) is the experiment as written;
 * metrics_json (NUL-terminated object text, or NULL) is embedded as "metrics". */
int lathe_engine_session_model_file(const lathe_session *s, const char *experiment_json,
                                    size_t n, const char *metrics_json, char **out,
                                    lathe_error *err) {
    *out = NULL;
    return lathe_model_file_write(experiment_json, n, s->data.prep, s->trainer, metrics_json, out, err);
}

/* Reads the data of an experiment (JSON text; only its seed and data are used, but the whole
 * file must be valid) into a table: CSV bytes data:(data_n), or the synthetic generator. The
 * caller owns *out (lathe_engine_table_destroy). */
int lathe_engine_table_create(const char *json, size_t json_n, const char *data, size_t data_n,
                              lathe_table **out, lathe_error *err) {
    lathe_experiment *exp = NULL;
    lathe_status st = lathe_experiment_parse(json, json_n, &exp, err);
    *out = NULL;
    if (st == LATHE_OK && exp->data_kind == LATHE_DATA_SYNTHETIC)
        st = lathe_synthetic_table(exp->data_name, exp->synthetic_samples, exp->synthetic_noise,
                                   exp->synthetic_classes, exp->seed, out, err);
    else if (st == LATHE_OK)
        st = lathe_csv_read(data, data_n, NULL, out, err);
    lathe_experiment_destroy(exp);
    return st;
}

void lathe_engine_table_destroy(lathe_table *t) { lathe_table_destroy(t); }

/* Copies column j's values:(rows) (numbers, category or boolean indices, NaN when missing). */
void lathe_engine_table_column(const lathe_table *t, size_t j, float *out) {
    memcpy(out, t->columns[j].values, t->rows * sizeof *out);
}

static int add_number_or_null(cJSON *o, const char *key, double v) {
    return (v == v ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key)) != NULL;
}

/* The table's columns and their profiles (lathe/profile.h) as JSON text in *out (free with
 * lathe_engine_string_free): {"rows", "columns": [{"name", "type" ("numeric", "categorical",
 * "boolean"), "categories": […], "count", "missing", "distinct", "min", "max", "mean", "std",
 * "q25", "q50", "q75", "top": [[index, count], …]}]}. */
int lathe_engine_table_info_json(const lathe_table *t, char **out, lathe_error *err) {
    static const char *const types[] = {"numeric", "categorical", "boolean"};
    lathe_column_profile *prof = lathe_calloc(t->cols ? t->cols : 1, sizeof *prof);
    cJSON *o = cJSON_CreateObject(), *cols;
    size_t j, k;
    lathe_status st = LATHE_OK;
    int ok = prof && o;
    *out = NULL;
    if (ok) st = lathe_profile_table(t, prof, err);
    if (st != LATHE_OK) goto done;
    ok = ok && cJSON_AddNumberToObject(o, "rows", (double)t->rows);
    cols = ok ? cJSON_AddArrayToObject(o, "columns") : NULL;
    ok = cols != NULL;
    for (j = 0; ok && j < t->cols; j++) {
        const lathe_column *c = &t->columns[j];
        const lathe_column_profile *p = &prof[j];
        cJSON *col = cJSON_CreateObject(), *top;
        ok = col && cJSON_AddItemToArray(cols, col);
        if (!ok) {
            cJSON_Delete(col);
            break;
        }
        ok = cJSON_AddStringToObject(col, "name", c->name) != NULL;
        ok = ok && cJSON_AddStringToObject(col, "type", types[c->type]);
        ok = ok && cJSON_AddItemToObject(col, "categories", c->n_categories
            ? cJSON_CreateStringArray((const char *const *)c->categories, (int)c->n_categories)
            : cJSON_CreateArray());
        ok = ok && cJSON_AddNumberToObject(col, "count", (double)p->count);
        ok = ok && cJSON_AddNumberToObject(col, "missing", (double)p->missing);
        ok = ok && cJSON_AddNumberToObject(col, "distinct", (double)p->distinct);
        ok = ok && add_number_or_null(col, "min", p->min) && add_number_or_null(col, "max", p->max);
        ok = ok && add_number_or_null(col, "mean", p->mean) && add_number_or_null(col, "std", p->std);
        ok = ok && add_number_or_null(col, "q25", p->q25) && add_number_or_null(col, "q50", p->q50);
        ok = ok && add_number_or_null(col, "q75", p->q75);
        top = ok ? cJSON_AddArrayToObject(col, "top") : NULL;
        ok = top != NULL;
        for (k = 0; ok && k < p->n_top; k++) {
            double pair[2];
            pair[0] = (double)p->top_index[k], pair[1] = (double)p->top_count[k];
            ok = cJSON_AddItemToArray(top, cJSON_CreateDoubleArray(pair, 2));
        }
    }
    if (ok) *out = cJSON_PrintUnformatted(o);
    if (!*out) st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory profiling the data");
done:
    cJSON_Delete(o);
    lathe_free(prof);
    return st;
}

/* Rows and columns of a table: out[0] = rows, out[1] = columns. */
void lathe_engine_table_size(const lathe_table *t, double *out) {
    out[0] = (double)t->rows, out[1] = (double)t->cols;
}

/* Live allocations of the core's hook (lathe_alloc_live): a leak check for the page. */
double lathe_engine_alloc_live(void) { return (double)lathe_alloc_live(); }

/* The bytes the session's trainer allocated (lathe_trainer_memory_bytes). */
double lathe_engine_session_memory(const lathe_session *s) {
    return (double)lathe_trainer_memory_bytes(s->trainer);
}

/* Checkpoints (lathe/trainer.h) tagged with the session's owner: the same tag the CLI makes
 * for this experiment text and data, so either resumes the other's. out holds
 * lathe_engine_session_checkpoint_size bytes. */
double lathe_engine_session_checkpoint_size(const lathe_session *s) {
    return (double)lathe_trainer_checkpoint_size(s->trainer);
}
void lathe_engine_session_checkpoint_save(const lathe_session *s, void *out) {
    lathe_trainer_checkpoint_save(s->trainer, s->owner, out);
}
int lathe_engine_session_checkpoint_restore(lathe_session *s, const void *data, size_t n,
                                            lathe_error *err) {
    return lathe_trainer_checkpoint_restore(s->trainer, s->owner, data, n, err);
}

/* Loads a model file (lathe_model_load; errors name the field). The caller owns *out. */
int lathe_engine_model_load(const char *text, size_t n, lathe_model **out, lathe_error *err) {
    *out = NULL;
    return lathe_model_load(text, n, out, err);
}
void lathe_engine_model_destroy(lathe_model *m) { lathe_model_destroy(m); }

/* What a model takes and gives, as JSON text in *out (free with lathe_engine_string_free):
 * {"task", "target", "inputs": [{"column", "type", "categories": [...] (categorical: the
 * training categories, from the one-hot feature names)}], "classes", "image": [C, H, W] or
 * null, "outputs", "weights_sha256", "producer"}. */
int lathe_engine_model_info_json(lathe_model *m, char **out, lathe_error *err) {
    static const char *const types[] = {"numeric", "categorical", "boolean"};
    const lathe_prepared *p = lathe_model_preparation(m);
    cJSON *o = cJSON_CreateObject(), *inputs;
    size_t i, k;
    int ok = o != NULL;
    *out = NULL;
    ok = ok && cJSON_AddStringToObject(o, "task", p->task == LATHE_TASK_CLASSIFICATION
                                                      ? "classification"
                                                      : "regression");
    ok = ok && cJSON_AddStringToObject(o, "target", p->target ? p->target : "");
    inputs = ok ? cJSON_AddArrayToObject(o, "inputs") : NULL;
    ok = inputs != NULL;
    for (i = 0; ok && i < p->n_inputs; i++) {
        const lathe_prepared_input *in = &p->inputs[i];
        cJSON *col = cJSON_CreateObject(), *cats;
        size_t prefix = strlen(in->name) + 1;
        ok = col && cJSON_AddItemToArray(inputs, col);
        if (!ok) {
            cJSON_Delete(col);
            break;
        }
        ok = cJSON_AddStringToObject(col, "column", in->name) != NULL;
        ok = ok && cJSON_AddStringToObject(col, "type", types[in->type]);
        if (ok && in->type == LATHE_COLUMN_CATEGORICAL) {
            cats = cJSON_AddArrayToObject(col, "categories");
            ok = cats != NULL;
            for (k = 0; ok && k < in->width; k++) {
                const char *f = p->feature_names[in->first + k];
                const char *category = strlen(f) >= prefix ? f + prefix : f;
                ok = cJSON_AddItemToArray(cats, cJSON_CreateString(category));
            }
        }
    }
    ok = ok && cJSON_AddItemToObject(o, "classes", p->n_classes
        ? cJSON_CreateStringArray((const char *const *)p->class_names, (int)p->n_classes)
        : cJSON_CreateArray());
    if (ok && p->image[0]) {
        double shape[3];
        shape[0] = (double)p->image[0], shape[1] = (double)p->image[1];
        shape[2] = (double)p->image[2];
        ok = cJSON_AddItemToObject(o, "image", cJSON_CreateDoubleArray(shape, 3));
    } else if (ok) {
        ok = cJSON_AddNullToObject(o, "image") != NULL;
    }
    ok = ok && cJSON_AddNumberToObject(o, "outputs",
                                       (double)lathe_trainer_n_outputs(lathe_model_network(m)));
    ok = ok && cJSON_AddStringToObject(o, "weights_sha256", lathe_model_weights_sha256(m));
    ok = ok && cJSON_AddStringToObject(o, "producer", lathe_model_producer(m));
    if (ok) *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory describing the model");
    return LATHE_OK;
}

/* Predicts every row of CSV bytes (raw columns; lathe_model_predict_table): *out gets
 * (rows, outputs) floats (free with lathe_engine_string_free), info[0..2] = rows, outputs,
 * cells of unseen categories. */
int lathe_engine_model_predict_csv(lathe_model *m, const char *csv, size_t n, float **out,
                                   double *info, lathe_error *err) {
    lathe_table *table = NULL;
    size_t rows = 0, unseen = 0;
    lathe_status st = lathe_csv_read(csv, n, NULL, &table, err);
    *out = NULL;
    if (st == LATHE_OK) st = lathe_model_predict_table(m, table, out, &rows, &unseen, err);
    lathe_table_destroy(table);
    info[0] = (double)rows, info[1] = (double)lathe_trainer_n_outputs(lathe_model_network(m));
    info[2] = (double)unseen;
    return st;
}

/* Converts 8-bit pixels (h rows of w, `channels` each) to out:(c, oh, ow) floats in 0…255
 * (lathe_image_convert: BT.601 luma, area-weighted resampling). */
int lathe_engine_image_convert(const uint8_t *src, size_t w, size_t h, size_t channels,
                               size_t c, size_t oh, size_t ow, float *out, lathe_error *err) {
    return lathe_image_convert(src, w, h, channels, c, oh, ow, out, err);
}

/* Reads an IDX file (gzip already undone). The caller owns *out (lathe_engine_idx_destroy). */
int lathe_engine_idx_read(const uint8_t *bytes, size_t n, lathe_idx **out, lathe_error *err) {
    *out = NULL;
    return lathe_idx_read(bytes, n, out, err);
}
void lathe_engine_idx_destroy(lathe_idx *idx) { lathe_idx_destroy(idx); }
/* Dimensions of an IDX file: 1 for labels, 3 or 4 for images. */
double lathe_engine_idx_ndims(const lathe_idx *idx) { return (double)idx->ndims; }

/* A table of IDX images and their labels (lathe_image_table, one part, numeric labels):
 * columns px0 … and "label"; image[0..2] = C, H, W. The caller owns *out. */
int lathe_engine_idx_table(const lathe_idx *images, const lathe_idx *labels, lathe_table **out,
                           double *image, lathe_error *err) {
    size_t shape[3] = {0, 0, 0};
    lathe_status st;
    *out = NULL;
    st = lathe_image_table(&images, &labels, 1, NULL, 0, out, shape, NULL, err);
    image[0] = (double)shape[0], image[1] = (double)shape[1], image[2] = (double)shape[2];
    return st;
}

/* The augment step's transforms on sample images, for the page's preview: dst:(copies, n, C·H·W)
 * gets `copies` augmented copies of each src:(n, C·H·W) image, copy by copy then image by image,
 * drawn from stream 0xA06 of seed as the preparation pipeline draws them (its copies are of the
 * training rows, so these show the kind of change, not the same copies). tmp:(C·H·W) scratch.
 * No allocation. */
void lathe_engine_augment_images(const float *src, float *dst, float *tmp, size_t n, size_t copies,
                                 size_t c, size_t h, size_t w, size_t shift, int flip,
                                 double rotate, double noise, double seed) {
    size_t size = c * h * w, k, i;
    lathe_augment_config cfg;
    lathe_rng rng;
    cfg.shift = shift, cfg.flip = flip, cfg.rotate = (float)rotate, cfg.noise = (float)noise;
    lathe_rng_seed(&rng, (uint64_t)seed, 0xA06);
    for (k = 0; k < copies; k++)
        for (i = 0; i < n; i++)
            lathe_augment_image(src + i * size, dst + (k * n + i) * size, tmp, c, h, w, &cfg, &rng);
}

/* ---- The Prepare step's preview: the data prepared, without a network ----------------- */

/* What the preparation produced as JSON text in *out (free with lathe_engine_string_free):
 * {"task", "target", "table": [rows, columns], "rows": [train, validation, test],
 * "features": [names], "inputs": [{"column", "first", "width"}], "classes": [names]}. */
int lathe_engine_preview_info_json(const lathe_preview *p, char **out, lathe_error *err) {
    const lathe_prepared *prep = p->prep;
    cJSON *o = cJSON_CreateObject(), *inputs;
    double table[2] = {(double)p->table->rows, (double)p->table->cols};
    double rows[3] = {(double)prep->train.rows, (double)prep->validation.rows,
                      (double)prep->test.rows};
    size_t i;
    int ok = o != NULL;
    *out = NULL;
    ok = ok && cJSON_AddStringToObject(o, "task", prep->task == LATHE_TASK_CLASSIFICATION ? "classification" : "regression");
    ok = ok && cJSON_AddStringToObject(o, "target", prep->target);
    ok = ok && cJSON_AddItemToObject(o, "table", cJSON_CreateDoubleArray(table, 2));
    ok = ok && cJSON_AddItemToObject(o, "rows", cJSON_CreateDoubleArray(rows, 3));
    ok = ok && cJSON_AddItemToObject(o, "features", cJSON_CreateStringArray((const char *const *)prep->feature_names, (int)prep->n_features));
    inputs = ok ? cJSON_AddArrayToObject(o, "inputs") : NULL;
    for (i = 0; inputs && i < prep->n_inputs; i++) {
        cJSON *in = cJSON_CreateObject();
        ok = in && cJSON_AddItemToArray(inputs, in);
        ok = ok && cJSON_AddStringToObject(in, "column", prep->inputs[i].name);
        ok = ok && cJSON_AddNumberToObject(in, "first", (double)prep->inputs[i].first);
        ok = ok && cJSON_AddNumberToObject(in, "width", (double)prep->inputs[i].width);
        if (!ok) break;
    }
    ok = ok && inputs;
    if (ok && prep->n_classes)
        ok = cJSON_AddItemToObject(o, "classes", cJSON_CreateStringArray((const char *const *)prep->class_names, (int)prep->n_classes));
    if (ok) *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory describing the prepared data");
    return LATHE_OK;
}

/* Copies rows [first, first + count) of a prepared split (0 train, 1 validation, 2 test;
 * the caller keeps first + count within its rows): x:(count, features), y:(count) the class
 * index or target value, source:(count) each row's row in the table. */
void lathe_engine_preview_rows(const lathe_preview *p, int split, size_t first, size_t count,
                               float *x, float *y, double *source) {
    const lathe_split_data *d = split == 0 ? &p->prep->train : split == 1 ? &p->prep->validation
                                                                           : &p->prep->test;
    size_t f = p->prep->n_features, i;
    memcpy(x, d->x + first * f, count * f * sizeof *x);
    for (i = 0; i < count; i++) {
        y[i] = d->label ? (float)d->label[first + i] : d->value[first + i];
        source[i] = (double)d->source_row[first + i];
    }
}
