/* A loaded model: a model file (*.lathe.json, see model_file.h) read back into its experiment,
 * its fitted preparation and a network holding its weights, ready to predict on raw rows.
 *
 * Loading treats the file as hostile. It checks, in order and before allocating the
 * network: the JSON itself (line and column of a syntax error), "format" and "version", the
 * embedded experiment (with the experiment parser's own messages), the preparation (task,
 * target, inputs, features, fill/shift/scale or steps, classes, image), every layer against the
 * network the experiment builds on that preparation (type, shapes, and each tensor's base64
 * length and alphabet), every weight's finiteness, and "weights_sha256" against the decoded
 * weights. Every error names the field, e.g. "layers[2].weights: 1276 floats, expected 1280". */
#ifndef LATHE_MODEL_H
#define LATHE_MODEL_H

#include <stddef.h>

#include "lathe/experiment.h"
#include "lathe/metrics.h"
#include "lathe/prepare.h"
#include "lathe/status.h"
#include "lathe/trainer.h"

/* Limits a model file must respect (checked before anything is sized from the file). */
#define LATHE_MODEL_MAX_FEATURES 16777216u /* prepared features per row */
#define LATHE_MODEL_MAX_CLASSES 65536u

typedef struct lathe_model lathe_model;

/* Parses and validates text (n bytes). The caller owns *out (lathe_model_destroy). */
lathe_status lathe_model_load(const char *text, size_t n, lathe_model **out, lathe_error *err);
void lathe_model_destroy(lathe_model *model);

/* What the model holds (borrowed; valid until lathe_model_destroy). The preparation's
 * splits are empty: it carries only the fitted values (lathe_prepare_rows applies them). */
const lathe_experiment *lathe_model_experiment(const lathe_model *model);
const char *lathe_model_experiment_json(const lathe_model *model); /* compact JSON text */
const lathe_prepared *lathe_model_preparation(const lathe_model *model);
lathe_trainer *lathe_model_network(lathe_model *model);
const char *lathe_model_metrics_json(const lathe_model *model);  /* NULL when absent */
const char *lathe_model_producer(const lathe_model *model);      /* "" when absent */
const char *lathe_model_weights_sha256(const lathe_model *model);

/* Predicts on raw rows: prepares them (lathe_prepare_rows, without the target) and runs the
 * network. *out is (rows, n_outputs): class probabilities or predicted values; the caller
 * frees it with lathe_free. *unseen (may be NULL) counts cells of unseen categories. */
lathe_status lathe_model_predict_table(lathe_model *model, const lathe_table *table,
                                       float **out, size_t *rows, size_t *unseen,
                                       lathe_error *err);

/* Evaluates the model on raw rows that include the target column: a classification report
 * (the caller owns *report, lathe_class_report_destroy) or a regression report. */
typedef struct lathe_model_evaluation {
    size_t rows, unseen;                /* rows evaluated; cells of unseen categories */
    lathe_class_report *report;         /* classification, else NULL */
    lathe_regression_report regression; /* regression */
} lathe_model_evaluation;
lathe_status lathe_model_evaluate_table(lathe_model *model, const lathe_table *table,
                                        lathe_model_evaluation *out, lathe_error *err);
/* An evaluation as JSON text in *out (free with lathe_free): {"rows", "unseen_categories",
 * "accuracy" and the class report (lathe_class_report's fields) | "mse", "mae", "rmse", "r2",
 * "weights_sha256"}: what `lathe eval --json` prints. */
lathe_status lathe_model_evaluation_json(const lathe_model *model,
                                         const lathe_model_evaluation *ev, char **out,
                                         lathe_error *err);

/* Writes the model back as a model file (same experiment, preparation, weights and metrics;
 * metrics_json, when not NULL, replaces them). *out is freed with lathe_free. */
lathe_status lathe_model_save(const lathe_model *model, const char *metrics_json, char **out,
                              lathe_error *err);

/* What a model takes and gives, as JSON text in *out (free with lathe_free):
 * {"task", "target", "inputs": [{"column", "type", "categories": [...] (categorical: the
 * training categories, from the one-hot feature names)}], "classes", "image": [C, H, W] or
 * null, "outputs", "weights_sha256", "producer"}. */
lathe_status lathe_model_info_json(lathe_model *m, char **out, lathe_error *err);
/* Predicts every row of CSV bytes (raw columns; lathe_model_predict_table): *out gets
 * (rows, outputs) floats (free with lathe_free), info[0..2] = rows, outputs,
 * cells of unseen categories. */
lathe_status lathe_model_predict_csv(lathe_model *m, const char *csv, size_t n, float **out,
                                     double *info, lathe_error *err);

#endif
