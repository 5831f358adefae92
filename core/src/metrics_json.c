#include "lathe/metrics_json.h"

static int add_number_or_null(cJSON *o, const char *key, double v) {
    return (v == v ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key)) != NULL;
}

int lathe_class_report_add_json(cJSON *o, const lathe_class_report *r,
                                char *const *class_names) {
    cJSON *per_class, *confusion;
    size_t c, k;
    int ok = 1;
    ok = ok && add_number_or_null(o, "log_loss", r->log_loss);
    ok = ok && add_number_or_null(o, "precision_macro", r->macro_precision);
    ok = ok && add_number_or_null(o, "recall_macro", r->macro_recall);
    ok = ok && add_number_or_null(o, "f1_macro", r->macro_f1);
    ok = ok && add_number_or_null(o, "precision_weighted", r->weighted_precision);
    ok = ok && add_number_or_null(o, "recall_weighted", r->weighted_recall);
    ok = ok && add_number_or_null(o, "f1_weighted", r->weighted_f1);
    ok = ok && add_number_or_null(o, "roc_auc_macro", r->macro_roc_auc);
    per_class = ok ? cJSON_AddArrayToObject(o, "per_class") : NULL;
    for (c = 0; per_class && c < r->n_classes; c++) {
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(per_class, item)) {
            cJSON_Delete(item);
            return 0;
        }
        ok = ok && cJSON_AddStringToObject(item, "class", class_names[c]) != NULL;
        ok = ok && add_number_or_null(item, "precision", r->precision[c]);
        ok = ok && add_number_or_null(item, "recall", r->recall[c]);
        ok = ok && add_number_or_null(item, "f1", r->f1[c]);
        ok = ok && cJSON_AddNumberToObject(item, "support", (double)r->support[c]) != NULL;
        ok = ok && add_number_or_null(item, "roc_auc", r->roc_auc[c]);
        ok = ok && add_number_or_null(item, "average_precision", r->average_precision[c]);
    }
    confusion = ok && per_class ? cJSON_AddArrayToObject(o, "confusion") : NULL;
    for (c = 0; confusion && c < r->n_classes; c++) {
        cJSON *row = cJSON_CreateArray();
        if (!row || !cJSON_AddItemToArray(confusion, row)) {
            cJSON_Delete(row);
            return 0;
        }
        for (k = 0; k < r->n_classes; k++) {
            cJSON *v = cJSON_CreateNumber((double)r->confusion[c * r->n_classes + k]);
            if (!v || !cJSON_AddItemToArray(row, v)) {
                cJSON_Delete(v);
                return 0;
            }
        }
    }
    return ok && confusion != NULL;
}
