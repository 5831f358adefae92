/* The JSON form of a classification report, shared inside the core by the session's reports
 * and the model evaluation, so every front end describes a model's quality with the same
 * fields. Private to the core: the public API speaks JSON text, not cJSON. */
#ifndef LATHE_METRICS_JSON_H
#define LATHE_METRICS_JSON_H

#include "cJSON.h"
#include "lathe/metrics.h"

/* Adds to object o: log_loss, precision/recall/f1 _macro and _weighted, roc_auc_macro,
 * per_class [{class, precision, recall, f1, support, roc_auc, average_precision}], and
 * confusion [[…]] (rows: true class). class_names:(n_classes). NaN becomes null. Returns 0
 * when an allocation failed (o may then hold part of the fields), 1 otherwise. */
int lathe_class_report_add_json(cJSON *o, const lathe_class_report *r,
                                char *const *class_names);

/* Adds to object o the curves of n rows of C classes (labels:(n), probs:(n, C) as for
 * lathe_class_report_create): "curves" [{"roc": {"fpr": […], "tpr": […]} or null,
 * "pr": {"recall": […], "precision": […]} or null}] one-vs-rest per class, and "calibration"
 * {"of": "positive" (C = 2: the probability of class 1) or "top" (the predicted class's
 * probability against being right), "bins": [{"count", "mean_predicted",
 * "fraction_positive"}] (bins of them, NaN as null)}. Allocates scratch. Returns 0 when an
 * allocation failed, 1 otherwise. */
int lathe_class_curves_add_json(cJSON *o, size_t n, size_t C, const uint32_t *labels,
                                const float *probs, size_t bins);

#endif
