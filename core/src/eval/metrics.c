#include "lathe/metrics.h"

#include <stdlib.h>

#include "lathe/alloc.h"
#include "lathe/mathf.h"

static double nan_value(void) { return (double)__builtin_nanf(""); }

void lathe_class_report_destroy(lathe_class_report *r) {
    if (!r) return;
    lathe_free(r->confusion);
    lathe_free(r->support);
    lathe_free(r->precision);
    lathe_free(r->recall);
    lathe_free(r->f1);
    lathe_free(r->roc_auc);
    lathe_free(r->average_precision);
    lathe_free(r);
}

/* Sorting rows by decreasing score: ties keep index order, so results never depend on the
 * qsort implementation. */
static const float *sort_scores;
static int by_score_desc(const void *a, const void *b) {
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    if (sort_scores[i] > sort_scores[j]) return -1;
    if (sort_scores[i] < sort_scores[j]) return 1;
    return i < j ? -1 : i > j;
}

static void sort_by_score(size_t n, const float *scores, uint32_t *order) {
    size_t i;
    for (i = 0; i < n; i++) order[i] = (uint32_t)i;
    sort_scores = scores;
    qsort(order, n, sizeof *order, by_score_desc);
}

/* The two curves' areas, given a scratch order:(n). */
static double roc_auc_with(size_t n, const float *scores, const uint8_t *positive,
                           uint32_t *order) {
    size_t i, pos = 0, neg = 0;
    double tp = 0, fp = 0, prev_tp = 0, prev_fp = 0, area = 0;
    for (i = 0; i < n; i++) positive[i] ? pos++ : neg++;
    if (pos == 0 || neg == 0) return nan_value();
    sort_by_score(n, scores, order);
    for (i = 0; i < n; i++) {
        if (positive[order[i]]) tp++;
        else fp++;
        /* a threshold lies between distinct scores: close the trapezoid there */
        if (i + 1 == n || scores[order[i + 1]] != scores[order[i]]) {
            area += (fp - prev_fp) * (tp + prev_tp) / 2.0;
            prev_tp = tp, prev_fp = fp;
        }
    }
    return area / ((double)pos * (double)neg);
}

static double average_precision_with(size_t n, const float *scores, const uint8_t *positive,
                                     uint32_t *order) {
    size_t i, pos = 0;
    double tp = 0, seen = 0, prev_recall = 0, ap = 0;
    for (i = 0; i < n; i++) pos += positive[i] != 0;
    if (pos == 0) return nan_value();
    sort_by_score(n, scores, order);
    for (i = 0; i < n; i++) {
        tp += positive[order[i]] != 0;
        seen++;
        if (i + 1 == n || scores[order[i + 1]] != scores[order[i]]) {
            double recall = tp / (double)pos, precision = tp / seen;
            ap += (recall - prev_recall) * precision;
            prev_recall = recall;
        }
    }
    return ap;
}

size_t lathe_metrics_roc_curve(size_t n, const float *scores, const uint8_t *positive, uint32_t *order,
                       double *fpr, double *tpr) {
    size_t i, pos = 0, neg = 0, points = 1;
    double tp = 0, fp = 0;
    for (i = 0; i < n; i++) positive[i] ? pos++ : neg++;
    if (pos == 0 || neg == 0) return 0;
    sort_by_score(n, scores, order);
    fpr[0] = 0.0, tpr[0] = 0.0;
    for (i = 0; i < n; i++) {
        if (positive[order[i]]) tp++;
        else fp++;
        if (i + 1 == n || scores[order[i + 1]] != scores[order[i]]) {
            fpr[points] = fp / (double)neg, tpr[points] = tp / (double)pos;
            points++;
        }
    }
    return points;
}

size_t lathe_metrics_pr_curve(size_t n, const float *scores, const uint8_t *positive, uint32_t *order,
                      double *recall, double *precision) {
    size_t i, pos = 0, points = 1;
    double tp = 0, seen = 0;
    for (i = 0; i < n; i++) pos += positive[i] != 0;
    if (pos == 0) return 0;
    sort_by_score(n, scores, order);
    recall[0] = 0.0, precision[0] = 1.0;
    for (i = 0; i < n; i++) {
        tp += positive[order[i]] != 0;
        seen++;
        if (i + 1 == n || scores[order[i + 1]] != scores[order[i]]) {
            recall[points] = tp / (double)pos, precision[points] = tp / seen;
            points++;
            if (tp == (double)pos) break; /* full recall: later points add no area */
        }
    }
    return points;
}

void lathe_metrics_calibration_bins(size_t n, const float *p, const uint8_t *positive, size_t bins,
                            size_t *count, double *mean_predicted, double *fraction_positive) {
    size_t i, b;
    for (b = 0; b < bins; b++) count[b] = 0, mean_predicted[b] = 0.0, fraction_positive[b] = 0.0;
    for (i = 0; i < n; i++) {
        double v = (double)p[i];
        if (!(v >= 0.0)) v = 0.0; /* NaN and negatives fall in the first bin */
        b = (size_t)(v * (double)bins);
        if (b >= bins) b = bins - 1;
        count[b]++;
        mean_predicted[b] += v;
        fraction_positive[b] += positive[i] != 0;
    }
    for (b = 0; b < bins; b++) {
        if (count[b]) {
            mean_predicted[b] /= (double)count[b];
            fraction_positive[b] /= (double)count[b];
        } else {
            mean_predicted[b] = nan_value(), fraction_positive[b] = nan_value();
        }
    }
}

double lathe_metrics_roc_auc(size_t n, const float *scores, const uint8_t *positive) {
    uint32_t *order = lathe_malloc((n ? n : 1) * sizeof *order);
    double auc = order ? roc_auc_with(n, scores, positive, order) : nan_value();
    lathe_free(order);
    return auc;
}

double lathe_metrics_average_precision(size_t n, const float *scores, const uint8_t *positive) {
    uint32_t *order = lathe_malloc((n ? n : 1) * sizeof *order);
    double ap = order ? average_precision_with(n, scores, positive, order) : nan_value();
    lathe_free(order);
    return ap;
}

lathe_status lathe_class_report_create(size_t n, size_t C, const uint32_t *labels,
                                       const float *probs, lathe_class_report **out,
                                       lathe_error *err) {
    lathe_class_report *r = lathe_calloc(1, sizeof *r);
    float *column = NULL;
    uint8_t *positive = NULL;
    uint32_t *order = NULL;
    size_t i, c, k, correct = 0, auc_classes = 0;
    double loss = 0.0, auc_sum = 0.0;
    *out = NULL;
    if (!r) goto nomem;
    r->n_classes = C, r->rows = n;
    r->confusion = lathe_calloc(C * C, sizeof *r->confusion);
    r->support = lathe_calloc(C, sizeof *r->support);
    r->precision = lathe_calloc(C, sizeof *r->precision);
    r->recall = lathe_calloc(C, sizeof *r->recall);
    r->f1 = lathe_calloc(C, sizeof *r->f1);
    r->roc_auc = lathe_calloc(C, sizeof *r->roc_auc);
    r->average_precision = lathe_calloc(C, sizeof *r->average_precision);
    column = lathe_malloc((n ? n : 1) * sizeof *column);
    positive = lathe_malloc(n ? n : 1);
    order = lathe_malloc((n ? n : 1) * sizeof *order);
    if (!r->confusion || !r->support || !r->precision || !r->recall || !r->f1 || !r->roc_auc ||
        !r->average_precision || !column || !positive || !order)
        goto nomem;
    for (i = 0; i < n; i++) {
        const float *p = probs + i * C;
        size_t best = 0;
        double q;
        for (c = 1; c < C; c++)
            if (p[c] > p[best]) best = c;
        r->confusion[labels[i] * C + best]++;
        r->support[labels[i]]++;
        correct += best == labels[i];
        q = (double)p[labels[i]];
        if (q < 1e-15) q = 1e-15;
        if (q > 1.0 - 1e-15) q = 1.0 - 1e-15;
        loss -= lathe_log(q);
    }
    r->accuracy = n ? (double)correct / (double)n : nan_value();
    r->log_loss = n ? loss / (double)n : nan_value();
    for (c = 0; c < C; c++) {
        size_t predicted = 0, tp = r->confusion[c * C + c];
        for (k = 0; k < C; k++) predicted += r->confusion[k * C + c];
        r->precision[c] = predicted ? (double)tp / (double)predicted : 0.0;
        r->recall[c] = r->support[c] ? (double)tp / (double)r->support[c] : 0.0;
        r->f1[c] = r->precision[c] + r->recall[c] > 0.0
                       ? 2.0 * r->precision[c] * r->recall[c] / (r->precision[c] + r->recall[c])
                       : 0.0;
        r->macro_precision += r->precision[c] / (double)C;
        r->macro_recall += r->recall[c] / (double)C;
        r->macro_f1 += r->f1[c] / (double)C;
        if (n) {
            double w = (double)r->support[c] / (double)n;
            r->weighted_precision += w * r->precision[c];
            r->weighted_recall += w * r->recall[c];
            r->weighted_f1 += w * r->f1[c];
        }
        for (i = 0; i < n; i++) {
            column[i] = probs[i * C + c];
            positive[i] = labels[i] == c;
        }
        r->roc_auc[c] = roc_auc_with(n, column, positive, order);
        r->average_precision[c] = average_precision_with(n, column, positive, order);
        if (r->roc_auc[c] == r->roc_auc[c] && (C > 2 || c == 1)) {
            auc_sum += r->roc_auc[c];
            auc_classes++;
        }
    }
    r->macro_roc_auc = auc_classes ? auc_sum / (double)auc_classes : nan_value();
    lathe_free(column);
    lathe_free(positive);
    lathe_free(order);
    *out = r;
    return LATHE_OK;
nomem:
    lathe_free(column);
    lathe_free(positive);
    lathe_free(order);
    lathe_class_report_destroy(r);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory computing the metrics");
}

lathe_regression_report lathe_regression_report_compute(size_t n, const float *truth,
                                                        const float *pred) {
    lathe_regression_report r;
    double mean = 0.0, se = 0.0, ae = 0.0, var = 0.0;
    size_t i;
    for (i = 0; i < n; i++) mean += (double)truth[i];
    mean = n ? mean / (double)n : 0.0;
    for (i = 0; i < n; i++) {
        double d = (double)pred[i] - (double)truth[i], c = (double)truth[i] - mean;
        se += d * d, ae += d < 0 ? -d : d, var += c * c;
    }
    r.mse = n ? se / (double)n : nan_value();
    r.mae = n ? ae / (double)n : nan_value();
    r.rmse = __builtin_sqrt(r.mse);
    r.r2 = var > 0.0 ? 1.0 - se / var : nan_value();
    return r;
}
