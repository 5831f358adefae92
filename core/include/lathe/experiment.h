/* The experiment file (*.experiment.json, format "lathe-experiment", version 1): the data
 * source, the preparation steps, the model, the training settings and the seed. Parsing
 * validates every field and reports the JSON path of the first problem, e.g.
 * "train.batch_size: must be an integer >= 1". docs/experiment-format.md documents it. */
#ifndef LATHE_EXPERIMENT_H
#define LATHE_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/layers.h"
#include "lathe/optim.h"
#include "lathe/schedule.h"
#include "lathe/status.h"

#define LATHE_NAME_MAX 128
#define LATHE_PATH_MAX 1024
#define LATHE_MAX_OPS 32
#define LATHE_MAX_LAYERS 64
#define LATHE_MAX_DROP 64

typedef enum lathe_task { LATHE_TASK_CLASSIFICATION = 0, LATHE_TASK_REGRESSION = 1 } lathe_task;

typedef enum lathe_data_kind {
    LATHE_DATA_BUILTIN = 0,   /* data.builtin names a set in the built-in data folder */
    LATHE_DATA_FILE = 1,      /* data.file is a path (the CLI reads it; the page uploads it) */
    LATHE_DATA_SYNTHETIC = 2, /* data.synthetic names a generator of the core */
    LATHE_DATA_IDX_FILES = 3  /* data.files names an IDX set's files: images and labels, then
                               * optionally the test images and labels */
} lathe_data_kind;

typedef enum lathe_prep_kind {
    LATHE_PREP_DROP_COLUMNS = 0, /* row-independent: allowed anywhere */
    LATHE_PREP_DROP_MISSING,     /* drops rows with a missing feature or target; before split */
    LATHE_PREP_SPLIT,            /* train / validation / test, seeded, optionally stratified */
    LATHE_PREP_IMPUTE,           /* fitted on train: mean, median, most_frequent or constant */
    LATHE_PREP_STANDARDIZE,      /* fitted on train: z-score per feature */
    LATHE_PREP_MINMAX,           /* fitted on train: to [0, 1] per feature */
    LATHE_PREP_DROP_DUPLICATES,  /* drops rows equal (features and target) to an earlier row;
                                  * before split */
    LATHE_PREP_BALANCE_CLASSES,  /* seeded oversampling of the training rows; after split,
                                  * classification only */
    LATHE_PREP_AUGMENT           /* seeded augmented copies of the training images; after split */
} lathe_prep_kind;

typedef enum lathe_impute_strategy {
    LATHE_IMPUTE_MEAN = 0,
    LATHE_IMPUTE_MEDIAN,
    LATHE_IMPUTE_MOST_FREQUENT,
    LATHE_IMPUTE_CONSTANT
} lathe_impute_strategy;

typedef struct lathe_prep_op {
    lathe_prep_kind kind;
    /* split */
    float test, validation;
    int stratify;
    int test_given;     /* 1 when the file sets "test" (data with its own test split refuses it) */
    size_t folds, fold; /* k-fold: folds k >= 2 and the fold i in [0, k) that is validation;
                         * folds 0: no k-fold ("validation" is a fraction) */
    /* standardize, minmax: 1 for "per": "all" (one statistic over every feature, for pixels) */
    int per_all;
    /* impute */
    lathe_impute_strategy strategy;
    float constant;
    /* augment: copies per training image, shifts up to ±shift pixels, horizontal flips with
     * probability 1/2 when flip, rotations up to ±rotate degrees, Gaussian noise of std noise */
    size_t copies, shift;
    int flip;
    float rotate, noise;
    /* drop_columns */
    size_t n_columns;
    char columns[LATHE_MAX_DROP][LATHE_NAME_MAX];
} lathe_prep_op;

typedef enum lathe_layer_kind {
    LATHE_LAYER_DENSE = 0,  /* units: output features (0: as many as the task needs) */
    LATHE_LAYER_ACTIVATION, /* activation: relu, leaky_relu, sigmoid, tanh */
    LATHE_LAYER_CONV2D,     /* filters, kernel (square), stride, pad */
    LATHE_LAYER_MAX_POOL,   /* size (square window), stride */
    LATHE_LAYER_AVG_POOL,   /* size, stride */
    LATHE_LAYER_FLATTEN,    /* (C,H,W) -> C·H·W features; no change to memory */
    LATHE_LAYER_BATCH_NORM, /* per channel (after conv) or per feature (after dense) */
    LATHE_LAYER_DROPOUT     /* rate: probability of zeroing an element in training */
} lathe_layer_kind;

/* The layer's type as the experiment and model files spell it: "dense", "conv2d", "max_pool",
 * "avg_pool", "flatten", "batch_norm", "dropout", or the activation ("relu", …). */
const char *lathe_layer_type_name(lathe_layer_kind kind, lathe_activation activation);

typedef struct lathe_layer_spec {
    lathe_layer_kind kind;
    size_t units; /* dense */
    lathe_activation activation;
    size_t filters, kernel; /* conv2d */
    size_t stride;          /* conv2d (default 1), pools (default size) */
    size_t pad;             /* conv2d zero padding per side ("same": (kernel − 1)/2) */
    size_t size;            /* pools: window size */
    float rate;             /* dropout */
} lathe_layer_spec;

typedef enum lathe_init_kind {
    LATHE_INIT_DEFAULT = 0,    /* PyTorch's nn.Linear default: U(±1/sqrt(fan_in)) for W and b */
    LATHE_INIT_XAVIER_UNIFORM, /* W ~ U(±sqrt(6/(fan_in+fan_out))), b = 0 */
    LATHE_INIT_HE_UNIFORM,     /* W ~ U(±sqrt(6/fan_in)), b = 0 (kaiming_uniform_, ReLU gain) */
    LATHE_INIT_XAVIER_NORMAL,  /* W ~ N(0, 2/(fan_in+fan_out)), b = 0 */
    LATHE_INIT_HE_NORMAL,      /* W ~ N(0, 2/fan_in), b = 0 (kaiming_normal_, ReLU gain) */
    LATHE_INIT_ZEROS           /* W = 0, b = 0 (for linear and logistic models) */
} lathe_init_kind;

typedef enum lathe_loss_kind {
    LATHE_LOSS_AUTO = 0, /* softmax cross-entropy for classification, MSE for regression */
    LATHE_LOSS_SOFTMAX_CROSS_ENTROPY, /* classification */
    LATHE_LOSS_MSE,                   /* regression */
    LATHE_LOSS_MAE,                   /* regression */
    LATHE_LOSS_HUBER,                 /* regression, with huber_delta */
    LATHE_LOSS_BINARY_CROSS_ENTROPY   /* two classes, one logit: BCEWithLogitsLoss */
} lathe_loss_kind;

typedef struct lathe_experiment {
    char name[256]; /* "name" and "description", kept for writing back */
    char description[2048];
    uint64_t seed;
    /* data */
    lathe_data_kind data_kind;
    char data_name[LATHE_NAME_MAX]; /* built-in or synthetic name */
    char data_file[LATHE_PATH_MAX]; /* for LATHE_DATA_FILE */
    size_t n_data_files;            /* for LATHE_DATA_IDX_FILES: 2 or 4 */
    char data_files[4][LATHE_PATH_MAX];
    char data_sha256[65];        /* fingerprint of the data bytes, "" when not given */
    char target[LATHE_NAME_MAX]; /* target column ("" means "label") */
    lathe_task task;
    size_t synthetic_samples; /* synthetic sets */
    float synthetic_noise;
    size_t synthetic_classes;
    size_t image[3]; /* data.image (C, H, W) of the features; 0s when absent */
    size_t limit[3]; /* data.limit rows kept of train, validation, test (0: all) */
    /* preparation, in order */
    size_t n_ops;
    lathe_prep_op ops[LATHE_MAX_OPS];
    /* model */
    size_t n_layers;
    lathe_layer_spec layers[LATHE_MAX_LAYERS];
    char model_template[16]; /* "linear", "logistic", "mlp", "cnn", or "" for a list */
    lathe_init_kind init;
    /* Never read from a file: set by code that runs a bare layer chain (the ONNX importer's
     * runner). The network's outputs are then its last layer's values, of any shape, as they
     * are (no softmax); such a trainer predicts but does not train. */
    int raw_outputs;
    /* training */
    lathe_optimizer_config optimizer;
    lathe_loss_kind loss;
    float huber_delta; /* HuberLoss's delta (1) */
    size_t batch_size, epochs;
    int shuffle;             /* train.shuffle: 1 (default) each epoch visits the training
                              * rows in a fresh seeded order; 0 in table order */
    lathe_schedule schedule; /* train.schedule and train.warmup_steps */
    float clip_norm;         /* train.clip_norm: max global gradient norm (0: off) */
    /* train.early_stopping: stop when the validation metric has not improved by more than
     * min_delta for `patience` epochs, then restore the best epoch's weights */
    int early_stopping;
    int early_stopping_accuracy; /* 1: validation_accuracy (higher is better); 0: loss */
    size_t early_stopping_patience;
    float early_stopping_min_delta;
    /* train.prune: magnitude pruning of the dense and conv2d weights (not biases, not batch
     * norm) to prune_sparsity, reached on TF Model Optimization's polynomial schedule (power
     * 3, from 0) between optimiser steps prune_begin and prune_end, the masks updated every
     * prune_frequency steps and at prune_end; prune_end 0: the last epoch's first step (the
     * last epoch fine-tunes). Pruned weights stay exactly zero through every step after. */
    int prune;
    float prune_sparsity;
    size_t prune_begin, prune_end, prune_frequency;
    int prune_global; /* 1: one magnitude threshold over every pruned layer; 0: per layer */
    /* train.distill: knowledge distillation (Hinton et al. 2015) from a teacher model file:
     * the training loss is α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·CE,
     * lathe_loss_distill. distill_teacher is the path as written (a front end resolves it
     * from the experiment's folder, loads it and hands it over: lathe_session_set_teacher). */
    int distill;
    char distill_teacher[LATHE_PATH_MAX];
    float distill_temperature; /* T in [0.01, 100] (default 4) */
    float distill_alpha;       /* α in [0, 1] (default 0.5); 0 trains exactly as without */
} lathe_experiment;

/* Parses and validates an experiment file. The caller owns *out (lathe_experiment_destroy). */
lathe_status lathe_experiment_parse(const char *json, size_t n, lathe_experiment **out,
                                    lathe_error *err);
void lathe_experiment_destroy(lathe_experiment *exp); /* NULL is a no-op */

/* The order rules of the fitted feature steps, which otherwise run in list order: an impute
 * comes before every scaling step (a scaler is fitted on complete columns), and there is at
 * most one (after it nothing is left to fill). The error names the step ("prepare[3]: …").
 * lathe_experiment_parse applies it; lathe_prepare applies it again. */
lathe_status lathe_experiment_check_chain(const lathe_experiment *exp, lathe_error *err);

/* lathe_experiment_parse for the experiment inside a version 1 model file, whose fitted
 * preparation did not follow its list: it skips lathe_experiment_check_chain, so such a file
 * loads as it always did (lathe_prepare still refuses the experiment). */
lathe_status lathe_experiment_parse_v1_model(const char *json, size_t n, lathe_experiment **out,
                                             lathe_error *err);

/* Writes exp as an experiment file in the canonical form: every field that applies, in the
 * documented order, defaults spelled out, floats as the shortest decimal that reads back to
 * the same float. Parsing the result gives the same experiment, and writing that gives the
 * same bytes (load → save round-trips byte for byte). A template model is written as its
 * template. *out is NUL-terminated; free it with lathe_free. */
lathe_status lathe_experiment_write(const lathe_experiment *exp, char **out, lathe_error *err);

/* The synthetic generators' names, NULL-terminated: spiral, moons, circles, xor, blobs, curve. */
extern const char *const lathe_synthetic_names[];

#endif
