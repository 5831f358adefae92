/* The model file (*.lathe.json, format "lathe-model"): the experiment, the fitted
 * preparation (with "image": [C, H, W] for image data; its fitted steps as version 1's
 * fill/shift/scale when it has at most one scaling step, else as version 2's ordered
 * "steps", docs/model-format.md), the layers with their weights
 * (little-endian float32, base64), the metrics and the SHA-256 of the weights. Layers:
 *   dense       in, units, weights (units, in), bias (units)
 *   conv2d      in [C, H, W], filters, kernel, stride, padding, weights (filters, C, k, k), bias
 *   max_pool, avg_pool   in [C, H, W], size, stride
 *   flatten     in [C, H, W]
 *   batch_norm  channels, eps, momentum, gamma, beta, running_mean, running_var (channels each)
 *   dropout     rate
 *   relu, leaky_relu, sigmoid, tanh   (no fields) */
#ifndef LATHE_MODEL_FILE_H
#define LATHE_MODEL_FILE_H

/* A preparation of at least this many features is written as version 5: "inputs": "features"
 * when every feature is a numeric column of its own name, and the fitted values in base64. */
#define LATHE_MODEL_COMPACT_FEATURES 256u

#include <stddef.h>

#include "lathe/prepare.h"
#include "lathe/status.h"
#include "lathe/trainer.h"

/* Serialises a trained model. experiment_json (n bytes) is embedded as parsed JSON.
 * metrics_json (NUL-terminated JSON object text, or NULL) is embedded as "metrics".
 * On success *out is a NUL-terminated string the caller frees with lathe_free. */
lathe_status lathe_model_file_write(const char *experiment_json, size_t n,
                                    const lathe_prepared *prep, const lathe_trainer *trainer,
                                    const char *metrics_json, char **out, lathe_error *err);


#endif
