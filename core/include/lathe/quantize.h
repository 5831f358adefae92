/* Post-training int8 quantisation of a network (`lathe quantize`, the page's "Make it
 * smaller"): calibration on training rows, then per-channel weights and per-tensor
 * activations (quant.h). */
#ifndef LATHE_QUANTIZE_H
#define LATHE_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/session.h"
#include "lathe/status.h"
#include "lathe/trainer.h"

/* The default number of calibration rows, and the largest a calibration takes. */
#define LATHE_CALIBRATION_ROWS 256u
#define LATHE_CALIBRATION_MAX_ROWS 4096u

/* count distinct row indices of [0, rows) into out:(count), in increasing order, chosen from
 * seed (stream LATHE_STREAM_CALIBRATE). An error when count > rows or
 * count > LATHE_CALIBRATION_MAX_ROWS. No allocation. */
lathe_status lathe_calibration_rows(size_t rows, size_t count, uint64_t seed, uint32_t *out,
                                    lathe_error *err);

/* Makes the network int8: runs it in float on the calibration rows x:(n, n_features), takes
 * each dense and conv2d layer's input range (percentile 100: the minimum and maximum; else,
 * e.g. 99.99, the values at that percentile from each end), quantises its weights per
 * channel, and sets the int8 form (lathe_trainer_set_int8). Errors: n 0, a percentile outside
 * [50, 100], a NaN among the activations, a fan-in above LATHE_INT8_MAX_FAN_IN, memory. */
lathe_status lathe_quantize_network(lathe_trainer *net, size_t n, const float *x,
                                    double percentile, lathe_error *err);

/* Quantises the session's trainer (built, float) for `lathe quantize` and the page: rows
 * calibration rows of the training split (lathe_calibration_rows from the experiment's seed),
 * the percentile as for lathe_quantize_network. Then lathe_session_model_file writes the
 * int8 model. *report (free with lathe_free) is JSON: {"calibration_rows", "percentile",
 * "metric" ("accuracy" or "r2"), "float" and "int8": {"test", "validation"} values of that
 * metric on those splits (null without rows), "drop_points" (float − int8 on the test split,
 * × 100), "float_weights_sha256", "weights_sha256", "weight_bytes": {"float", "int8"} (the
 * parameters as binary: 4 bytes a float; an int8 layer's weights 1 byte each with 4 per
 * scale), "model_bytes": {"float", "int8"} (the model files), "layers": [{"index", "type",
 * "input_scale", "input_zero_point", "weights"}]}. *metrics (free with lathe_free) is what the
 * int8 model file embeds: the session's metrics (lathe_session_metrics_json) with "int8":
 * {"calibration_rows", "percentile", "float_weights_sha256", "float_test"}. */
lathe_status lathe_session_quantize(lathe_session *s, size_t rows, double percentile,
                                    char **report, char **metrics, lathe_error *err);

#endif
