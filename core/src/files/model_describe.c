/* What a loaded model takes and gives, and predicting a CSV with it: for the page's tryer. */
#include "lathe/model.h"

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/json_hooks.h"
#include "eval/metrics_json.h"

/* What a model takes and gives, as JSON text in *out (free with lathe_free):
 * {"task", "target", "inputs": [{"column", "type", "categories": [...] (categorical: the
 * training categories, from the one-hot feature names)}], "classes", "image": [C, H, W] or
 * null, "outputs", "weights_sha256", "producer"}. */
lathe_status lathe_model_info_json(lathe_model *m, char **out, lathe_error *err) {
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
                ok = cJSON_AddItemToArray(cats, cJSON_CreateString(lathe_prepared_category(p, i, k)));
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
 * (rows, outputs) floats (free with lathe_free), info[0..2] = rows, outputs,
 * cells of unseen categories. */
lathe_status lathe_model_predict_csv(lathe_model *m, const char *csv, size_t n, float **out,
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

lathe_status lathe_model_evaluation_json(const lathe_model *m, const lathe_model_evaluation *ev,
                                         char **out, lathe_error *err) {
    const lathe_prepared *p = lathe_model_preparation(m);
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL;
    *out = NULL;
    ok = ok && cJSON_AddNumberToObject(o, "rows", (double)ev->rows);
    ok = ok && cJSON_AddNumberToObject(o, "unseen_categories", (double)ev->unseen);
    if (ok && ev->report) {
        ok = cJSON_AddNumberToObject(o, "accuracy", ev->report->accuracy) != NULL;
        ok = ok && lathe_class_report_add_json(o, ev->report, p->class_names);
    } else if (ok) {
        ok = cJSON_AddNumberToObject(o, "mse", ev->regression.mse) &&
             cJSON_AddNumberToObject(o, "mae", ev->regression.mae) &&
             cJSON_AddNumberToObject(o, "rmse", ev->regression.rmse);
        if (ok && ev->regression.r2 == ev->regression.r2)
            ok = cJSON_AddNumberToObject(o, "r2", ev->regression.r2) != NULL;
    }
    ok = ok && cJSON_AddStringToObject(o, "weights_sha256", lathe_model_weights_sha256(m));
    if (ok) *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!*out) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reporting the evaluation");
    return LATHE_OK;
}
