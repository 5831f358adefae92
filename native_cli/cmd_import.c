/* lathe import FILE.onnx --out MODEL.lathe.json [--classes A,B,…] [--inputs X,Y,…]
 * [--target NAME] [--task classification|regression] [--name TEXT]: an ONNX network as a
 * Lathe model file (lathe/import_onnx.h) that predicts, evaluates and fine-tunes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/import_onnx.h"

static const char import_usage[] =
    "usage: lathe import FILE.onnx --out MODEL.lathe.json [options]\n"
    "\n"
    "Reads an ONNX network (a PyTorch or Keras export, or Lathe's own) as a Lathe model file\n"
    "that `lathe predict`, `lathe eval` and `lathe train --init` (fine-tuning) take.\n"
    "\n"
    "The graph must be one chain of: Gemm, MatMul (+ Add), Conv (2-D, one group, square\n"
    "kernel, no dilation, equal pads), MaxPool, AveragePool, GlobalAveragePool,\n"
    "BatchNormalization (inference), Relu, LeakyRelu (alpha 0.01), Sigmoid, Tanh, Flatten,\n"
    "Reshape to (N, values), Dropout, Identity, and a final Softmax. Anything else is refused\n"
    "with the node's name and the reason. The network must end with a dense layer (Gemm or\n"
    "MatMul): its outputs are the class logits, one value (regression) or one logit\n"
    "(a binary classifier, also when a Sigmoid follows).\n"
    "\n"
    "options:\n"
    "  --out FILE          the model file to write\n"
    "  --classes A,B,...   the class names in output order (default: the file's Lathe\n"
    "                      metadata, else 0, 1, ...)\n"
    "  --inputs X,Y,...    the input columns in feature order (default: the metadata, else\n"
    "                      x1, x2, ... or px0, px1, ... for an image input)\n"
    "  --target NAME       the target column (default: label, or y for regression)\n"
    "  --task TASK         classification or regression (default: from the graph's head)\n"
    "  --name TEXT         the embedded experiment's name\n"
    "  --quiet             no summary on stderr\n"
    "  -h, --help          show this help\n"
    "\n"
    "To fine-tune, write an experiment with the same model.layers (the model file's\n"
    "experiment has them) and your data, then:\n"
    "  lathe import net.onnx --out net.lathe.json --classes cat,dog\n"
    "  lathe train my.experiment.json --init net.lathe.json --out tuned.lathe.json\n";

int cmd_import(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    lathe_onnx_import_options o;
    lathe_error err;
    char *bytes, *model = NULL, *notes = NULL;
    size_t n = 0;
    int i, quiet = 0, status;
    memset(&o, 0, sizeof o);
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(import_usage, stdout);
            return CLI_OK;
        } else if (strcmp(arg, "--quiet") == 0) {
            quiet = 1;
        } else if (has_value && strcmp(arg, "--out") == 0) {
            out = argv[++i];
        } else if (has_value && strcmp(arg, "--classes") == 0) {
            o.classes = argv[++i];
        } else if (has_value && strcmp(arg, "--inputs") == 0) {
            o.inputs = argv[++i];
        } else if (has_value && strcmp(arg, "--target") == 0) {
            o.target = argv[++i];
        } else if (has_value && strcmp(arg, "--task") == 0) {
            o.task = argv[++i];
        } else if (has_value && strcmp(arg, "--name") == 0) {
            o.name = argv[++i];
        } else if (arg[0] == '-' || in) {
            fprintf(stderr, "lathe import: unexpected argument '%s'\n\n%s", arg, import_usage);
            return CLI_USAGE;
        } else {
            in = arg;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "lathe import: give FILE.onnx and --out MODEL.lathe.json\n\n%s", import_usage);
        return CLI_USAGE;
    }
    if (!(bytes = cli_read_file(in, &n))) return CLI_USAGE;
    if (lathe_import_onnx((const uint8_t *)bytes, n, &o, &model, &notes, &err) != LATHE_OK) {
        cli_error(in, err.message);
        free(bytes);
        return err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
    }
    free(bytes);
    status = cli_write_file(out, model, strlen(model));
    if (status == CLI_OK && !quiet) {
        const char *line = notes;
        while (line && *line) {
            const char *end = strchr(line, '\n');
            int len = end ? (int)(end - line) : (int)strlen(line);
            fprintf(stderr, "lathe: note: %.*s\n", len, line);
            line = end ? end + 1 : line + len;
        }
        fprintf(stderr, "lathe: wrote %s (%zu bytes)\n", out, strlen(model));
    }
    lathe_free(model);
    lathe_free(notes);
    return status;
}
