
#include "lathe/alloc.h"
#include "eval/metrics_json.h"

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

/* {"a": xs[0..k), "b": ys[0..k)} added to parent under key, or null when k is 0. */
static int add_curve(cJSON *parent, const char *key, const char *a, const char *b,
                     const double *xs, const double *ys, size_t k) {
    cJSON *curve, *va, *vb;
    if (k == 0) return cJSON_AddNullToObject(parent, key) != NULL;
    curve = cJSON_AddObjectToObject(parent, key);
    if (!curve) return 0;
    va = cJSON_CreateDoubleArray(xs, (int)k);
    if (!va || !cJSON_AddItemToObject(curve, a, va)) {
        cJSON_Delete(va);
        return 0;
    }
    vb = cJSON_CreateDoubleArray(ys, (int)k);
    if (!vb || !cJSON_AddItemToObject(curve, b, vb)) {
        cJSON_Delete(vb);
        return 0;
    }
    return 1;
}

int lathe_class_curves_add_json(cJSON *o, size_t n, size_t C, const uint32_t *labels,
                                const float *probs, size_t bins) {
    size_t m = n ? n : 1, i, c, b;
    float *column = lathe_malloc(m * sizeof *column);
    uint8_t *positive = lathe_malloc(m);
    uint32_t *order = lathe_malloc(m * sizeof *order);
    double *xs = lathe_malloc((m + 1) * sizeof *xs), *ys = lathe_malloc((m + 1) * sizeof *ys);
    size_t *count = lathe_malloc((bins ? bins : 1) * sizeof *count);
    double *mean = lathe_malloc((bins ? bins : 1) * sizeof *mean);
    double *frac = lathe_malloc((bins ? bins : 1) * sizeof *frac);
    cJSON *curves, *calibration, *list;
    int ok = column && positive && order && xs && ys && count && mean && frac;
    curves = ok ? cJSON_AddArrayToObject(o, "curves") : NULL;
    ok = curves != NULL;
    for (c = 0; ok && c < C; c++) {
        cJSON *item = cJSON_CreateObject();
        ok = item && cJSON_AddItemToArray(curves, item);
        if (!ok) {
            cJSON_Delete(item);
            break;
        }
        for (i = 0; i < n; i++) {
            column[i] = probs[i * C + c];
            positive[i] = labels[i] == c;
        }
        ok = add_curve(item, "roc", "fpr", "tpr", xs, ys,
                       lathe_metrics_roc_curve(n, column, positive, order, xs, ys));
        ok = ok && add_curve(item, "pr", "recall", "precision", xs, ys,
                             lathe_metrics_pr_curve(n, column, positive, order, xs, ys));
    }
    for (i = 0; ok && i < n; i++) {
        const float *p = probs + i * C;
        size_t best = 0;
        if (C == 2) {
            column[i] = p[1];
            positive[i] = labels[i] == 1;
            continue;
        }
        for (c = 1; c < C; c++)
            if (p[c] > p[best]) best = c;
        column[i] = p[best];
        positive[i] = labels[i] == best;
    }
    calibration = ok ? cJSON_AddObjectToObject(o, "calibration") : NULL;
    ok = calibration && cJSON_AddStringToObject(calibration, "of", C == 2 ? "positive" : "top");
    list = ok ? cJSON_AddArrayToObject(calibration, "bins") : NULL;
    ok = list != NULL;
    if (ok) lathe_metrics_calibration_bins(n, column, positive, bins, count, mean, frac);
    for (b = 0; ok && b < bins; b++) {
        cJSON *bin = cJSON_CreateObject();
        ok = bin && cJSON_AddItemToArray(list, bin);
        if (!ok) {
            cJSON_Delete(bin);
            break;
        }
        ok = cJSON_AddNumberToObject(bin, "count", (double)count[b]) != NULL;
        ok = ok && add_number_or_null(bin, "mean_predicted", mean[b]);
        ok = ok && add_number_or_null(bin, "fraction_positive", frac[b]);
    }
    lathe_free(column);
    lathe_free(positive);
    lathe_free(order);
    lathe_free(xs);
    lathe_free(ys);
    lathe_free(count);
    lathe_free(mean);
    lathe_free(frac);
    return ok;
}
