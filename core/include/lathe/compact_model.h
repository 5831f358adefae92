/* A model for inference only, read from a compact binary description rather than a model file:
 * what the web export's runtime (lathe_infer.wasm) builds, after its JavaScript module has
 * parsed and checked the model file and encoded the raw rows (docs/deploy.md, "Web export").
 * The network is the core's own (lathe_trainer_create on an experiment filled from the
 * description, then lathe_trainer_set_weights), the fitted scaling steps are the core's
 * (lathe_prepared_apply_steps), so predictions are those of a loaded model file, bit for bit.
 *
 * The description is a sequence of little-endian 32-bit words (floats as float32):
 *   [0] LATHE_COMPACT_MAGIC  [1] task (0 classification, 1 regression)  [2] binary head (0/1)
 *   [3] n_features F  [4] n_classes  [5..7] image C, H, W (0s: none)  [8] batch_size
 *   [9] n_steps (scaling steps)  [10] n_layers L  [11] n_params P  [12] n_stats S
 *   [13..20] the 32 bytes of SHA-256 the parameters must hash to (as little-endian float32)
 *   then L layers of LATHE_COMPACT_LAYER_WORDS words: kind, activation, units, filters,
 *   kernel, stride, pad, size, rate (float32), and the shape the file declares, checked
 *   against the network: in_c, in_h, in_w (dense: in, 1, 1) and channels (batch norm);
 *   then per step shift:(F) and scale:(F); the parameters:(P) (lathe_trainer_params' order);
 *   the batch-norm statistics:(S) (lathe_trainer_stats' order).
 * Every count is checked against the description's length before anything is allocated. */
#ifndef LATHE_COMPACT_MODEL_H
#define LATHE_COMPACT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"

#define LATHE_COMPACT_MAGIC 0x314d434cu /* "LCM1" */
#define LATHE_COMPACT_HEADER_WORDS 21u
#define LATHE_COMPACT_LAYER_WORDS 13u

typedef struct lathe_compact_model lathe_compact_model;

/* Builds the model described by bytes:(n) (format above): errors name the field or the layer,
 * "weights_sha256" when the parameters do not hash to the description's digest. The caller
 * owns *out (lathe_compact_model_destroy). */
lathe_status lathe_compact_model_load(const uint8_t *bytes, size_t n, lathe_compact_model **out,
                                      lathe_error *err);
void lathe_compact_model_destroy(lathe_compact_model *m); /* NULL is a no-op */

/* Columns of the output: the classes (2 for a binary head), or 1 for regression. */
size_t lathe_compact_model_outputs(const lathe_compact_model *m);
/* Features per row (the encoded width that lathe_compact_model_predict takes). */
size_t lathe_compact_model_features(const lathe_compact_model *m);

/* Predicts encoded rows x:(rows, features): runs the fitted scaling steps on x in place, then
 * the network; out:(rows, outputs) gets class probabilities or predicted values. No
 * allocation. */
void lathe_compact_model_predict(lathe_compact_model *m, float *x, size_t rows, float *out);

#endif
