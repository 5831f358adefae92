/* The browser engine's exported C functions: one per call, pointers and sizes in, a status
 * out, no logic beyond composing the core's own calls. wasm_bindings/lathe.js is the only
 * code that calls these. The export list is exports.txt. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lathe/alloc.h"
#include "cJSON.h"
#include "lathe/experiment.h"
#include "lathe/metrics.h"
#include "lathe/metrics_json.h"
#include "lathe/prepare.h"
#include "lathe/sha256.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

/* A training session: the experiment, its data and the trainer, owned together. */
typedef struct lathe_session {
    lathe_experiment *exp;
    lathe_table *table;
    lathe_prepared *prep;
    lathe_trainer *trainer;
    char data_sha256[65];
} lathe_session;

lathe_error *lathe_engine_error_create(void) { return calloc(1, sizeof(lathe_error)); }
void lathe_engine_error_destroy(lathe_error *err) { free(err); }
const char *lathe_engine_error_message(const lathe_error *err) { return err->message; }

void lathe_engine_session_destroy(lathe_session *s) {
    if (!s) return;
    lathe_trainer_destroy(s->trainer);
    lathe_prepared_destroy(s->prep);
    lathe_table_destroy(s->table);
    lathe_experiment_destroy(s->exp);
    lathe_free(s);
}

/* Parses the experiment, reads the data (CSV bytes; ignored for synthetic sets), prepares
 * it and creates the trainer. data.sha256, when given, must match the bytes. */
int lathe_engine_session_create(const char *json, size_t json_n, const char *data,
                                size_t data_n, lathe_session **out, lathe_error *err) {
    lathe_session *s = lathe_calloc(1, sizeof *s);
    lathe_status st;
    *out = NULL;
    if (!s) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory");
    st = lathe_experiment_parse(json, json_n, &s->exp, err);
    if (st == LATHE_OK && s->exp->data_kind == LATHE_DATA_SYNTHETIC) {
        st = lathe_synthetic_table(s->exp->data_name, s->exp->synthetic_samples,
                                   s->exp->synthetic_noise, s->exp->synthetic_classes,
                                   s->exp->seed, &s->table, err);
    } else if (st == LATHE_OK) {
        lathe_sha256_hex(data, data_n, s->data_sha256);
        if (s->exp->data_sha256[0] && strcmp(s->exp->data_sha256, s->data_sha256) != 0)
            st = lathe_error_set(err, LATHE_ERR_MISMATCH,
                                 "data.sha256: the data does not match the experiment's "
                                 "fingerprint (%.12s… expected, %.12s… given)",
                                 s->exp->data_sha256, s->data_sha256);
        else
            st = lathe_csv_read(data, data_n, NULL, &s->table, err);
    }
    if (st == LATHE_OK) st = lathe_prepare(s->exp, s->table, &s->prep, err);
    if (st == LATHE_OK) st = lathe_trainer_create(s->exp, s->prep, &s->trainer, err);
    if (st != LATHE_OK) {
        lathe_engine_session_destroy(s);
        return st;
    }
    *out = s;
    return LATHE_OK;
}

int lathe_engine_session_step(lathe_session *s, size_t batches, lathe_error *err) {
    return lathe_trainer_step(s->trainer, batches, err);
}

/* out[0..7] = epoch, epochs, batch, batches_per_epoch, steps, last_epoch_loss, done,
 * train rows. */
void lathe_engine_session_progress(const lathe_session *s, double *out) {
    lathe_progress p = lathe_trainer_progress(s->trainer);
    out[0] = (double)p.epoch, out[1] = (double)p.epochs, out[2] = (double)p.batch;
    out[3] = (double)p.batches_per_epoch, out[4] = (double)p.steps;
    out[5] = (double)p.last_epoch_loss, out[6] = (double)p.done;
    out[7] = (double)s->prep->train.rows;
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
    memcpy(hex, s->data_sha256, 65);
}
void lathe_engine_session_prepared_sha256(const lathe_session *s, char *hex) {
    lathe_prepared_sha256(s->prep, hex);
}
/* out[0..3] = features, classes (0 regression), parameters, test rows. */
void lathe_engine_session_shape(const lathe_session *s, double *out) {
    size_t n_params;
    (void)lathe_trainer_params(s->trainer, &n_params);
    out[0] = (double)s->prep->n_features, out[1] = (double)s->prep->n_classes;
    out[2] = (double)n_params, out[3] = (double)s->prep->test.rows;
}

/* Frees a string the engine returned (the report below). */
void lathe_engine_string_free(char *s) { lathe_free(s); }

/* The evaluation of one split (0 train, 1 validation, 2 test) as JSON text in *out (free
 * with lathe_engine_string_free): rows, loss and accuracy or regression errors; for
 * classification the class names, the class report (lathe/metrics_json.h) and, per row, the
 * true and predicted class and the data row it came from (for "show me these examples");
 * for regression up to 2000 (true, predicted) pairs. */
int lathe_engine_session_report_json(lathe_session *s, int split, char **out, lathe_error *err) {
    const lathe_split_data *d = split == 0 ? &s->prep->train : split == 1 ? &s->prep->validation
                                                                           : &s->prep->test;
    lathe_metrics m = lathe_trainer_evaluate(s->trainer, (lathe_split)split);
    size_t C = lathe_trainer_n_outputs(s->trainer), i, c;
    float *pred = lathe_malloc((d->rows ? d->rows : 1) * C * sizeof *pred);
    lathe_class_report *report = NULL;
    cJSON *o = cJSON_CreateObject(), *arr;
    int ok = pred && o;
    *out = NULL;
    if (ok) lathe_trainer_predict(s->trainer, d->rows, d->x, pred);
    ok = ok && cJSON_AddNumberToObject(o, "rows", (double)d->rows);
    ok = ok && cJSON_AddStringToObject(o, "task", s->prep->task == LATHE_TASK_CLASSIFICATION ? "classification" : "regression");
    if (ok && d->rows && m.loss == m.loss) ok = cJSON_AddNumberToObject(o, "loss", (double)m.loss) != NULL;
    if (ok && s->prep->task == LATHE_TASK_CLASSIFICATION) {
        ok = cJSON_AddItemToObject(o, "classes", cJSON_CreateStringArray((const char *const *)s->prep->class_names, (int)s->prep->n_classes));
        if (ok && d->rows) {
            ok = lathe_class_report_create(d->rows, C, d->label, pred, &report, err) == LATHE_OK;
            ok = ok && cJSON_AddNumberToObject(o, "accuracy", report->accuracy);
            ok = ok && lathe_class_report_add_json(o, report, s->prep->class_names);
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
