/* Preparation: from a table (or a synthetic generator) to the train / validation / test
 * matrices, following the experiment's prepare steps. Fitted steps (impute, scale) learn
 * their parameters from the training rows only; the fitted values are kept in lathe_prepared
 * so that raw rows can be prepared the same way later. */
#ifndef LATHE_PREPARE_H
#define LATHE_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/experiment.h"
#include "lathe/status.h"
#include "lathe/table.h"

typedef struct lathe_split_data {
    size_t rows;
    float *x;        /* (rows, n_features) row-major */
    uint32_t *label; /* (rows) classification, else NULL */
    float *value;    /* (rows) regression, else NULL */
    uint32_t *source_row; /* (rows) row index in the table */
} lathe_split_data;

typedef struct lathe_prepared {
    lathe_task task;
    size_t n_features;
    char **feature_names;   /* (n_features) */
    size_t n_classes;       /* classification: target categories; regression: 0 */
    char **class_names;     /* (n_classes) */
    lathe_split_data train, validation, test;
    /* fitted: per feature, x' = (x − shift) · scale after imputing missing with fill */
    float *fill, *shift, *scale; /* (n_features) each */
} lathe_prepared;

/* Generates a synthetic data set as a table with columns x1, x2 (and label or y). Seeded:
 * identical on every target. name is one of lathe_synthetic_names. */
lathe_status lathe_synthetic_table(const char *name, size_t samples, float noise,
                                   size_t classes, uint64_t seed, lathe_table **out,
                                   lathe_error *err);

/* Applies exp's prepare steps to table. The caller owns *out (lathe_prepared_destroy). */
lathe_status lathe_prepare(const lathe_experiment *exp, const lathe_table *table,
                           lathe_prepared **out, lathe_error *err);
void lathe_prepared_destroy(lathe_prepared *prep);

/* SHA-256 over the prepared splits (x, then labels or values, for train, validation, test
 * in that order, little-endian): lets tests compare preparation across targets. */
void lathe_prepared_sha256(const lathe_prepared *prep, char hex[65]);

#endif
