/* ONNX export: a trained model as an ONNX file (IR version 8, opset 17) that takes raw
 * features and holds the fitted preparation as operators, written with protobuf-c from
 * ONNX's own onnx.proto. The bytes are the same on every target.
 *
 * The graph's input "input" is (N, n_features) float: each numeric or boolean column's value,
 * each categorical column as its one-hot features (metadata "lathe.inputs" lists them), NaN
 * where a cell is missing. It imputes (IsNaN, Where) when the model was fitted to, scales
 * ((x − shift)·scale per step, Sub and Mul), reshapes to (N, C, H, W) for an image model, and
 * runs the network: dense as Gemm, conv2d as Conv, the pools, BatchNormalization (Lathe's
 * epsilon), the activations, Flatten; dropout is left out. Its output is "probabilities"
 * (N, classes) after Softmax (axis 1) or, for one logit, (1 − σ(z), σ(z)); or "value" (N, 1).
 * Metadata: lathe.weights_sha256, lathe.task, lathe.target, lathe.classes, lathe.inputs,
 * lathe.features, lathe.experiment (the experiment it was trained from, compact JSON). */
#ifndef LATHE_EXPORT_ONNX_H
#define LATHE_EXPORT_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/model.h"
#include "lathe/status.h"

/* Writes model as ONNX bytes into *out (*n bytes; the caller frees it with lathe_free). */
lathe_status lathe_export_onnx(lathe_model *model, uint8_t **out, size_t *n, lathe_error *err);

#endif
