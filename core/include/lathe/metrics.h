/* Evaluation metrics with scikit-learn's definitions: accuracy, per-class precision, recall
 * and F1 (0 where undefined, as sklearn's zero_division default gives), macro and weighted
 * averages, the confusion matrix, log loss, one-vs-rest ROC AUC and average precision; MSE,
 * MAE, RMSE and R² for regression. */
#ifndef LATHE_METRICS_H
#define LATHE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"

typedef struct lathe_class_report {
    size_t n_classes, rows;
    size_t *confusion;       /* (C, C): row = true class, column = predicted class */
    size_t *support;         /* (C) rows whose true class is c */
    double *precision, *recall, *f1; /* (C) */
    double *roc_auc;         /* (C) one-vs-rest; NaN when c has no positives or no negatives */
    double *average_precision; /* (C) one-vs-rest, sklearn's average_precision_score */
    double accuracy, log_loss;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
    double macro_roc_auc;    /* mean over classes with a defined AUC (binary: the positive class) */
} lathe_class_report;

/* Report for n rows of C classes: labels:(n) true classes < C, probs:(n, C) predicted
 * probabilities (the predicted class is the first maximum). The caller owns *out
 * (lathe_class_report_destroy). Log loss clips probabilities to [1e-15, 1 − 1e-15]. */
lathe_status lathe_class_report_create(size_t n, size_t C, const uint32_t *labels,
                                       const float *probs, lathe_class_report **out,
                                       lathe_error *err);
void lathe_class_report_destroy(lathe_class_report *report);

/* Area under the ROC curve of scores:(n) for binary truth positive:(n) (sklearn's
 * roc_auc_score: ties share their trapezoid). NaN when one class is absent. Allocates a
 * scratch index and returns NaN when that fails (the report below never does: it allocates
 * its scratch up front and fails with LATHE_ERR_NOMEM instead). */
double lathe_metrics_roc_auc(size_t n, const float *scores, const uint8_t *positive);
/* sklearn's average_precision_score: Σ (R_k − R_{k−1}) P_k over distinct thresholds. */
double lathe_metrics_average_precision(size_t n, const float *scores, const uint8_t *positive);

/* sklearn's roc_curve(drop_intermediate=False) of scores:(n) for truth positive:(n): one
 * point per distinct score, thresholds decreasing, after a first point (0, 0); the last is
 * (1, 1). order:(n) is scratch; fpr, tpr:(n + 1) receive the points. Returns the number of
 * points, 0 when the positives or the negatives are absent (the curve is undefined). */
size_t lathe_metrics_roc_curve(size_t n, const float *scores, const uint8_t *positive, uint32_t *order,
                       double *fpr, double *tpr);
/* The precision-recall curve of scores:(n) for positive:(n), recall increasing: a first point
 * (recall 0, precision 1), then (R_k, P_k) at each distinct score, thresholds decreasing,
 * up to the first of full recall (the points whose steps sum to lathe_metrics_average_precision, as
 * sklearn's precision_recall_curve up to 1.0). order:(n) is scratch; recall,
 * precision:(n + 1) receive the points. Returns the number of points, 0 without positives. */
size_t lathe_metrics_pr_curve(size_t n, const float *scores, const uint8_t *positive, uint32_t *order,
                      double *recall, double *precision);

/* Reliability bins of probabilities p:(n) in [0, 1] against outcomes positive:(n), as
 * sklearn's calibration_curve(strategy='uniform') before it drops empty bins: bin b holds
 * the p in [b/bins, (b+1)/bins) (p = 1 in the last). count, mean_predicted and
 * fraction_positive:(bins) receive each bin's size, mean p and share of positives (NaN for
 * an empty bin). No allocation. */
void lathe_metrics_calibration_bins(size_t n, const float *p, const uint8_t *positive, size_t bins,
                            size_t *count, double *mean_predicted, double *fraction_positive);

typedef struct lathe_regression_report {
    double mse, mae, rmse, r2; /* r2 NaN when the truth is constant */
} lathe_regression_report;

lathe_regression_report lathe_regression_report_compute(size_t n, const float *truth,
                                                        const float *pred);

#endif
