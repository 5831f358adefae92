/* ONNX import: an ONNX file (read with protobuf-c from ONNX's own onnx.proto) as a Lathe
 * network, and from it a Lathe model file that predicts, evaluates and fine-tunes.
 *
 * The graph must be one chain from its one input to its one output, each node taking the
 * previous node's value, in the operators Lathe's layers hold: Gemm (transA 0; alpha and
 * beta folded into the weights), MatMul (+ Add of a bias), Conv (2-D, one group, no
 * dilation, a square kernel, equal strides, equal pads or auto_pad SAME/VALID where they are
 * equal), MaxPool and AveragePool (2-D, square, no pads, floor mode), GlobalAveragePool on a
 * square input, BatchNormalization (inference; an epsilon other than Lathe's 1e-5 is folded
 * into the running variance), Relu, LeakyRelu (alpha 0.01), Sigmoid, Tanh, Flatten (axis 1)
 * and Reshape to (N, values), Dropout and Identity as the identity, and a final Softmax over
 * axis 1. Weights come from initialisers or Constant nodes (a Transpose of a constant is
 * folded). Before the first layer, Lathe's own preparation is recognised: IsNaN + Where (the
 * fill of missing cells), Sub and Mul by constants (a scaling step), and a Reshape of the
 * features to (N, C, H, W); so is Lathe's binary head (Sigmoid, 1 − p, Concat) and its
 * metadata (lathe.task, lathe.target, lathe.classes, lathe.inputs, lathe.features,
 * lathe.experiment).
 *
 * Anything else is refused with the node's name, its op type and the reason, e.g.
 * "node 'conv1' (Conv): dilations [2, 2]; Lathe's conv2d has none". The reader treats the
 * file as hostile: protobuf-c unpacks it through the core's allocation hook, and every
 * tensor's size is checked against its dims and Lathe's limits before it is decoded. */
#ifndef LATHE_IMPORT_ONNX_H
#define LATHE_IMPORT_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"

typedef struct lathe_onnx_network lathe_onnx_network;

/* Reads bytes:(n) as an ONNX model and builds its chain as a Lathe network. The caller owns
 * *out (lathe_onnx_network_destroy). */
lathe_status lathe_onnx_network_read(const uint8_t *bytes, size_t n, lathe_onnx_network **out,
                                     lathe_error *err);
void lathe_onnx_network_destroy(lathe_onnx_network *net); /* NULL is a no-op */

/* Values per row the graph takes (its input without the batch dimension) and gives. */
size_t lathe_onnx_network_inputs(const lathe_onnx_network *net);
size_t lathe_onnx_network_outputs(const lathe_onnx_network *net);

/* Runs the graph as ONNX defines it on x:(rows, inputs) into out:(rows, outputs): the
 * recognised preparation, the layers, and the final Softmax or binary head when the graph has
 * one. No allocation. */
void lathe_onnx_network_run(lathe_onnx_network *net, size_t rows, const float *x, float *out);

/* What `lathe import` may say about a file the graph alone does not: each NULL to take it
 * from the file's Lathe metadata, else a default. */
typedef struct lathe_onnx_import_options {
    const char *task;    /* "classification" or "regression"; default: from the graph's head */
    const char *classes; /* the class names, comma-separated, in output order ("0", "1", …) */
    const char *inputs;  /* the feature columns, comma-separated ("x1", … or "px0", … for an
                          * image input) */
    const char *target;  /* the target column ("label", or "y" for regression) */
    const char *name;    /* the experiment's name ("Imported from ONNX") */
} lathe_onnx_import_options;

/* Imports bytes:(n) as a model file (*model_json, NUL-terminated, lathe_free it) that
 * lathe_model_load accepts. *notes (may be NULL; lathe_free it) gets one line per choice the
 * import made that changes what the file computed, e.g. logits read as softmax probabilities,
 * or "" when there is none. */
lathe_status lathe_import_onnx(const uint8_t *bytes, size_t n,
                               const lathe_onnx_import_options *options, char **model_json,
                               char **notes, lathe_error *err);

#endif
