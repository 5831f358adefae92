/* The session's reports (lathe/session.h): the prepared data, the layers, one split's
 * evaluation and the metrics of every split, as the JSON the page and `lathe … --json`
 * print. Built from the session's public accessors only. */
#include <string.h>

#include "cJSON.h"
#include "eval/metrics_json.h"
#include "lathe/alloc.h"
#include "lathe/metrics.h"
#include "lathe/session.h"

/* cJSON's printed text of o (NULL when o or the printing failed), then o freed. */
static lathe_status print_json(cJSON *o, int ok, char **out, lathe_error *err, const char *what) {
    *out = ok && o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory %s", what);
    return LATHE_OK;
}

/* Adds item under key; frees item when that fails (cJSON keeps it only on success). */
static int add_item(cJSON *o, const char *key, cJSON *item) {
    if (item && cJSON_AddItemToObject(o, key, item)) return 1;
    cJSON_Delete(item);
    return 0;
}

static const char *task_name(lathe_task task) {
    return task == LATHE_TASK_CLASSIFICATION ? "classification" : "regression";
}

lathe_status lathe_session_prepared_json(const lathe_session *s, char **out, lathe_error *err) {
    const lathe_prepared *prep = lathe_session_prepared(s);
    cJSON *o = cJSON_CreateObject(), *inputs;
    double table[2], rows[3];
    size_t i;
    int ok = o != NULL;
    table[0] = (double)lathe_session_table(s)->rows,
    table[1] = (double)lathe_session_table(s)->cols;
    rows[0] = (double)prep->train.rows, rows[1] = (double)prep->validation.rows;
    rows[2] = (double)prep->test.rows;
    ok = ok && cJSON_AddStringToObject(o, "task", task_name(prep->task));
    ok = ok && cJSON_AddStringToObject(o, "target", prep->target);
    ok = ok && add_item(o, "table", cJSON_CreateDoubleArray(table, 2));
    ok = ok && add_item(o, "rows", cJSON_CreateDoubleArray(rows, 3));
    ok = ok && add_item(o, "features",
                        cJSON_CreateStringArray((const char *const *)prep->feature_names,
                                                (int)prep->n_features));
    inputs = ok ? cJSON_AddArrayToObject(o, "inputs") : NULL;
    ok = inputs != NULL;
    for (i = 0; ok && i < prep->n_inputs; i++) {
        cJSON *in = cJSON_CreateObject();
        ok = in && cJSON_AddItemToArray(inputs, in);
        ok = ok && cJSON_AddStringToObject(in, "column", prep->inputs[i].name);
        ok = ok && cJSON_AddNumberToObject(in, "first", (double)prep->inputs[i].first);
        ok = ok && cJSON_AddNumberToObject(in, "width", (double)prep->inputs[i].width);
    }
    if (ok && prep->n_classes)
        ok = add_item(
            o, "classes",
            cJSON_CreateStringArray((const char *const *)prep->class_names, (int)prep->n_classes));
    return print_json(o, ok, out, err, "describing the prepared data");
}

lathe_status lathe_session_layers_json(const lathe_session *s, char **out, lathe_error *err) {
    size_t i, n = lathe_trainer_layer_count(lathe_session_trainer(s));
    cJSON *arr = cJSON_CreateArray();
    int ok = arr != NULL;
    for (i = 0; ok && i < n; i++) {
        lathe_layer_info info;
        cJSON *o = cJSON_CreateObject();
        double in[3], outs[3];
        ok = o && cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        lathe_trainer_layer(lathe_session_trainer(s), i, &info);
        in[0] = (double)info.in_c, in[1] = (double)info.in_h, in[2] = (double)info.in_w;
        outs[0] = (double)info.out_c, outs[1] = (double)info.out_h, outs[2] = (double)info.out_w;
        /* the experiment's own names: an activation layer is kind "activation" with its name */
        ok = cJSON_AddStringToObject(o, "kind",
                                     info.kind == LATHE_LAYER_ACTIVATION
                                         ? "activation"
                                         : lathe_layer_type_name(info.kind, 0)) != NULL;
        if (ok && info.kind == LATHE_LAYER_ACTIVATION)
            ok = cJSON_AddStringToObject(o, "activation",
                                         lathe_layer_type_name(info.kind, info.activation)) != NULL;
        ok = ok && add_item(o, "in", cJSON_CreateDoubleArray(in, info.in_image ? 3 : 1));
        ok = ok && add_item(o, "out", cJSON_CreateDoubleArray(outs, info.out_image ? 3 : 1));
        ok = ok && cJSON_AddNumberToObject(o, "weights", (double)info.n_weights);
        ok = ok && cJSON_AddNumberToObject(o, "bias", (double)info.n_bias);
        ok = ok && cJSON_AddNumberToObject(o, "kernel", (double)info.kernel);
        ok = ok && cJSON_AddNumberToObject(o, "stride", (double)info.stride);
        ok = ok && cJSON_AddNumberToObject(o, "pad", (double)info.pad);
        ok = ok && cJSON_AddNumberToObject(o, "flops", lathe_layer_flops(&info));
    }
    return print_json(arr, ok, out, err, "describing the model");
}

/* The index of the largest of row:(C), the first on ties. */
static size_t argmax(const float *row, size_t C) {
    size_t best = 0, c;
    for (c = 1; c < C; c++)
        if (row[c] > row[best]) best = c;
    return best;
}

/* Regression reports list at most this many (true, predicted) pairs: enough for a chart. */
#define LATHE_REPORT_MAX_POINTS 2000

lathe_status lathe_session_report_json(const lathe_session *s, lathe_split split, char **out,
                                       lathe_error *err) {
    const lathe_prepared *prep = lathe_session_prepared(s);
    const lathe_split_data *d = lathe_session_split(s, split);
    lathe_metrics m = lathe_trainer_evaluate(lathe_session_trainer(s), split);
    size_t C = lathe_trainer_n_outputs(lathe_session_trainer(s)), i;
    float *pred = lathe_malloc((d->rows ? d->rows : 1) * C * sizeof *pred);
    lathe_class_report *report = NULL;
    cJSON *o = cJSON_CreateObject(), *arr;
    lathe_status st;
    int ok = pred && o;
    if (ok) lathe_trainer_predict_split(lathe_session_trainer(s), split, pred);
    ok = ok && cJSON_AddNumberToObject(o, "rows", (double)d->rows);
    ok = ok && cJSON_AddStringToObject(o, "task", task_name(prep->task));
    if (ok && d->rows && m.loss == m.loss)
        ok = cJSON_AddNumberToObject(o, "loss", (double)m.loss) != NULL;
    if (ok && prep->task == LATHE_TASK_CLASSIFICATION) {
        ok = add_item(
            o, "classes",
            cJSON_CreateStringArray((const char *const *)prep->class_names, (int)prep->n_classes));
        if (ok && d->rows) {
            ok = lathe_class_report_create(d->rows, C, d->label, pred, &report, err) == LATHE_OK;
            ok = ok && cJSON_AddNumberToObject(o, "accuracy", report->accuracy);
            ok = ok && lathe_class_report_add_json(o, report, prep->class_names);
            ok = ok && lathe_class_curves_add_json(o, d->rows, C, d->label, pred, 10);
            arr = ok ? cJSON_AddArrayToObject(o, "examples") : NULL;
            ok = arr != NULL;
            for (i = 0; ok && i < d->rows; i++) {
                double row[3];
                row[0] = (double)d->label[i], row[1] = (double)argmax(pred + i * C, C);
                row[2] = (double)d->source_row[i];
                ok = cJSON_AddItemToArray(arr, cJSON_CreateDoubleArray(row, 3));
            }
        }
    } else if (ok && d->rows) {
        lathe_regression_report r = lathe_regression_report_compute(d->rows, d->value, pred);
        ok = cJSON_AddNumberToObject(o, "mse", r.mse) && cJSON_AddNumberToObject(o, "mae", r.mae) &&
             cJSON_AddNumberToObject(o, "rmse", r.rmse);
        if (ok && r.r2 == r.r2) ok = cJSON_AddNumberToObject(o, "r2", r.r2) != NULL;
        arr = ok ? cJSON_AddArrayToObject(o, "points") : NULL;
        ok = arr != NULL;
        for (i = 0; ok && i < d->rows && i < LATHE_REPORT_MAX_POINTS; i++) {
            double pt[2];
            pt[0] = (double)d->value[i], pt[1] = (double)pred[i];
            ok = cJSON_AddItemToArray(arr, cJSON_CreateDoubleArray(pt, 2));
        }
    }
    st = print_json(o, ok, out, err, "evaluating the model");
    lathe_class_report_destroy(report);
    lathe_free(pred);
    return st;
}

/* {rows, loss, accuracy | mse, mae, r2} of one split, plus its class report when with_report
 * (classification, rows > 0). Returns NULL when an allocation failed. */
static cJSON *split_metrics(const lathe_session *s, lathe_split split, int with_report,
                            lathe_error *err) {
    const lathe_prepared *prep = lathe_session_prepared(s);
    const lathe_split_data *d = lathe_session_split(s, split);
    lathe_metrics m = lathe_trainer_evaluate(lathe_session_trainer(s), split);
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddNumberToObject(o, "rows", (double)m.rows);
    if (ok && m.rows == 0) return o;
    ok = ok && cJSON_AddNumberToObject(o, "loss", (double)m.loss) != NULL;
    if (prep->task == LATHE_TASK_CLASSIFICATION) {
        ok = ok && cJSON_AddNumberToObject(o, "accuracy", (double)m.accuracy);
    } else {
        ok = ok && cJSON_AddNumberToObject(o, "mse", (double)m.mse) &&
             cJSON_AddNumberToObject(o, "mae", (double)m.mae);
        if (ok && m.r2 == m.r2) ok = cJSON_AddNumberToObject(o, "r2", (double)m.r2) != NULL;
    }
    if (ok && with_report && prep->task == LATHE_TASK_CLASSIFICATION) {
        lathe_class_report *report = NULL;
        float *probs = lathe_malloc(d->rows * prep->n_classes * sizeof *probs);
        ok = probs != NULL;
        if (ok) lathe_trainer_predict_split(lathe_session_trainer(s), split, probs);
        ok = ok && lathe_class_report_create(d->rows, prep->n_classes, d->label, probs, &report,
                                             err) == LATHE_OK;
        ok = ok && lathe_class_report_add_json(o, report, prep->class_names);
        lathe_class_report_destroy(report);
        lathe_free(probs);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

lathe_status lathe_session_metrics_json(const lathe_session *s, char **out, lathe_error *err) {
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL;
    ok = ok && add_item(o, "train", split_metrics(s, LATHE_SPLIT_TRAIN, 0, err));
    if (ok && lathe_session_prepared(s)->validation.rows)
        ok = add_item(o, "validation", split_metrics(s, LATHE_SPLIT_VALIDATION, 1, err));
    ok = ok && add_item(o, "test", split_metrics(s, LATHE_SPLIT_TEST, 1, err));
    return print_json(o, ok, out, err, "reporting the metrics");
}
