/* Preparation: from a table (or a synthetic generator) to the train / validation / test
 * matrices, following the experiment's prepare steps. Fitted steps (impute, standardize,
 * minmax) run as a chain in list order, each learning its parameters from the training rows
 * alone as the steps before it left them; the fitted values are kept in lathe_prepared so
 * that raw rows can be prepared the same way later. */
#ifndef LATHE_PREPARE_H
#define LATHE_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/experiment.h"
#include "lathe/idx.h"
#include "lathe/status.h"
#include "lathe/table.h"

/* One split's rows. Its features are either floats, prepared (x), or, for rows made only of
 * byte columns (an image set's pixels) when no step needs floats at preparation, the raw
 * bytes (x NULL): lathe_prepared_rows then prepares rows as they are read, to the same bits. */
typedef struct lathe_split_data {
    size_t rows;
    float *x;        /* (rows, n_features) row-major, prepared; or NULL (bytes) */
    uint8_t *bytes;  /* (rows, n_features) row-major, raw; NULL when x holds the rows */
    uint32_t *label; /* (rows) classification, else NULL */
    float *value;    /* (rows) regression, else NULL */
    uint32_t *source_row; /* (rows) row index in the table */
} lathe_split_data;

/* One raw column the features come from, as fitted: a numeric or boolean column gives one
 * feature, a categorical column one feature per category seen in the training rows (its
 * feature names are "column=category"; a category not seen there encodes as all zeros). */
typedef struct lathe_prepared_input {
    char *name;               /* the column's name */
    lathe_column_type type;   /* its type in the training data */
    size_t first, width;      /* its features: [first, first + width) */
} lathe_prepared_input;

/* One fitted feature step, in the experiment's list order. Imputation fills missing cells
 * while the rows are encoded (lathe_prepared.fill), so an impute step, when there is one, is
 * steps[0] and carries no arrays; each scaling step maps every feature as x' = (x − shift) ·
 * scale, fitted on the training rows as the steps before it left them. */
typedef struct lathe_prepared_step {
    lathe_prep_kind kind;  /* LATHE_PREP_IMPUTE, LATHE_PREP_STANDARDIZE or LATHE_PREP_MINMAX */
    float *shift, *scale;  /* scaling: (n_features) each; impute: NULL */
} lathe_prepared_step;

typedef struct lathe_prepared {
    lathe_task task;
    char *target;           /* the target column's name */
    size_t n_inputs;
    lathe_prepared_input *inputs; /* (n_inputs) in feature order */
    size_t n_features;
    char **feature_names;   /* (n_features) */
    size_t n_classes;       /* classification: target categories; regression: 0 */
    char **class_names;     /* (n_classes) */
    size_t image[3];        /* (C, H, W) when each row is an image (C·H·W = n_features), else 0s */
    lathe_split_data train, validation, test;
    /* fitted: a missing cell of feature f encodes as fill[f] (NaN: no imputation, an error;
     * a one-hot feature's 0 or 1), then the steps run in order */
    float *fill;                 /* (n_features) */
    size_t n_steps;
    lathe_prepared_step *steps;  /* (n_steps) */
} lathe_prepared;

/* Applies the scaling steps of prep to rows (rows, n_features) in place, step by step in
 * order, each as (x − shift) · scale in float. */
void lathe_prepared_apply_steps(const lathe_prepared *prep, float *x, size_t rows);

/* Writes rows [first, first + count) of split s (one of prep's, or rows prepared with it) to
 * out:(count, n_features), prepared: a copy of x, or the bytes through prep's fitted steps.
 * No allocation. */
void lathe_prepared_rows(const lathe_prepared *prep, const lathe_split_data *s, size_t first,
                         size_t count, float *out);

/* lathe_prepared_rows for the rows rows:(n) of s, in that order. No allocation. */
void lathe_prepared_gather(const lathe_prepared *prep, const lathe_split_data *s,
                           const uint32_t *rows, size_t n, float *out);

/* The number of scaling steps of prep (its steps but an impute). */
size_t lathe_prepared_scaling_steps(const lathe_prepared *prep);

/* Generates a synthetic data set as a table with columns x1, x2 (and label or y). Seeded:
 * identical on every target. name is one of lathe_synthetic_names. */
lathe_status lathe_synthetic_table(const char *name, size_t samples, float noise,
                                   size_t classes, uint64_t seed, lathe_table **out,
                                   lathe_error *err);

/* What the data source knows beyond the table: a predefined test split and an image shape. */
typedef struct lathe_data_layout {
    size_t test_from;  /* rows [test_from, rows) are the source's own test split; rows: none */
    size_t image[3];   /* (C, H, W) of the feature columns, or 0s (data.image overrides it) */
} lathe_data_layout;

/* Applies exp's prepare steps to table. The caller owns *out (lathe_prepared_destroy).
 * Same as lathe_prepare_layout with no layout. */
lathe_status lathe_prepare(const lathe_experiment *exp, const lathe_table *table,
                           lathe_prepared **out, lathe_error *err);

/* lathe_prepare for a source with a layout (NULL: none). With a predefined test split the
 * split step must not set "test": its rows are the test rows, and "validation" is carved
 * from the others (seeded, stratified as asked). data.limit then keeps a seeded random subset
 * of each split (in table order), before anything is fitted. The prepared image shape is
 * data.image, else layout->image; its C·H·W must equal the prepared feature count. */
lathe_status lathe_prepare_layout(const lathe_experiment *exp, const lathe_table *table,
                                  const lathe_data_layout *layout, lathe_prepared **out,
                                  lathe_error *err);

void lathe_prepared_destroy(lathe_prepared *prep);
/* The name of category k (< inputs[input].width) of a categorical input, as fitted: the
 * feature name "column=category" without its "column=". Borrowed. */
const char *lathe_prepared_category(const lathe_prepared *prep, size_t input, size_t k);

/* Prepares raw rows with a fitted preparation (from lathe_prepare or a model file): columns
 * are found by name (others are ignored), categories matched by name, missing cells take the
 * fitted fill (an error names the row and column when there is none), then the fitted
 * scaling. With want_target the target column must be present and complete: out->label
 * (classification: its categories matched to the fitted classes) or out->value is filled.
 * out->x is (rows, n_features); out->source_row[i] = i. *unseen (may be NULL) counts cells
 * whose category was not seen in training (encoded as all zeros). The caller frees out's
 * arrays with lathe_split_data_free. */
lathe_status lathe_prepare_rows(const lathe_prepared *fitted, const lathe_table *table,
                                int want_target, lathe_split_data *out, size_t *unseen,
                                lathe_error *err);
void lathe_split_data_free(lathe_split_data *s);

/* Fine-tuning: re-encodes prep's splits (prepared from table) with another fitted preparation
 * (a model's), so the network sees features exactly as it did in training, and adopts that
 * preparation's fitted values, inputs and feature names. For classification the data's
 * classes must be among the model's (matched by name; a data set may lack some): the labels
 * are renumbered into the model's class list, which prep then holds. The task and the image
 * shape must match. On an error prep is unchanged. */
lathe_status lathe_prepared_adopt(lathe_prepared *prep, const lathe_prepared *fitted,
                                  const lathe_table *table, lathe_error *err);

/* SHA-256 over the prepared splits (x, then labels or values, for train, validation, test
 * in that order, little-endian): lets tests compare preparation across targets. */
void lathe_prepared_sha256(const lathe_prepared *prep, char hex[65]);

#endif
