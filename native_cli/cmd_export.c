/* lathe export MODEL --format c|onnx --out DIR|FILE [--name NAME]: the model as dependency-free
 * C source (lathe/export_c.h), DIR/NAME.h and DIR/NAME.c, or as an ONNX file
 * (lathe/export_onnx.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/export_c.h"
#include "lathe/export_onnx.h"

static const char export_usage[] =
    "usage: lathe export MODEL --format c --out DIR [--name NAME] [--quiet]\n"
    "       lathe export MODEL --format onnx --out FILE.onnx [--quiet]\n"
    "\n"
    "Writes the trained model as a deployable artefact.\n"
    "\n"
    "formats:\n"
    "  c                   DIR/NAME.h and DIR/NAME.c: C99 with the weights and the fitted\n"
    "                      preparation as constants, no malloc, stdio or libm, one static\n"
    "                      arena; NAME_predict(raw, out) takes raw features and gives what\n"
    "                      `lathe predict` gives, bit for bit, built with -ffp-contract=off\n"
    "  onnx                FILE.onnx (IR 8, opset 17): input (N, features) of raw features,\n"
    "                      the fitted preparation as operators, output probabilities or\n"
    "                      value; metadata lathe.classes, lathe.inputs, lathe.weights_sha256\n"
    "\n"
    "options:\n"
    "  --format FORMAT     the artefact (c or onnx)\n"
    "  --out PATH          c: the folder to write into (made when missing); onnx: the file\n"
    "  --name NAME         the C prefix and file name (default: the model file's name up\n"
    "                      to its first '.', with other characters as '_')\n"
    "  --quiet             no summary on stderr\n"
    "  -h, --help          show this help\n"
    "\n"
    "example:\n"
    "  lathe export iris.lathe.json --format c --out iris_c\n"
    "  lathe export iris.lathe.json --format onnx --out iris.onnx\n"
    "  cc -std=c99 -O2 -ffp-contract=off -c iris_c/iris.c\n";

/* The default name: the model file's base name up to its first '.', as a C identifier. */
static void default_name(const char *path, char *name, size_t cap) {
    const char *base = strrchr(path, '/');
    size_t n = 0;
    base = base ? base + 1 : path;
    if (*base >= '0' && *base <= '9' && n + 1 < cap) name[n++] = 'm';
    for (; *base && *base != '.' && n + 1 < cap && n < 63; base++) {
        char c = *base;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        name[n++] = ok ? c : '_';
    }
    name[n] = '\0';
    if (n == 0) snprintf(name, cap, "model");
}

/* --format onnx: the model's ONNX bytes to the file out. */
static int export_onnx(const char *model_path, const char *out, int quiet) {
    lathe_model *m = NULL;
    lathe_error err;
    uint8_t *bytes = NULL;
    size_t n = 0;
    int status = cli_load_model(model_path, &m);
    if (status != CLI_OK) return status;
    if (lathe_export_onnx(m, &bytes, &n, &err) != LATHE_OK) {
        cli_error(model_path, err.message);
        lathe_model_destroy(m);
        return CLI_FAILED;
    }
    lathe_model_destroy(m);
    status = cli_write_file(out, bytes, n);
    if (status == CLI_OK && !quiet) fprintf(stderr, "lathe: wrote %s (%zu bytes)\n", out, n);
    lathe_free(bytes);
    return status;
}

int cmd_export(int argc, char **argv) {
    const char *model_path = NULL, *format = NULL, *out = NULL, *name_arg = NULL;
    char name[64], path[4096], *header = NULL, *source = NULL;
    int quiet = 0, i, status;
    lathe_model *m = NULL;
    lathe_error err;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(export_usage, stdout);
            return CLI_OK;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--format") == 0 || strcmp(a, "--out") == 0 ||
                   strcmp(a, "--name") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "lathe export: %s needs a value\n%s", a, export_usage);
                return CLI_USAGE;
            }
            if (a[2] == 'f') format = argv[++i];
            else if (a[2] == 'o') out = argv[++i];
            else name_arg = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "lathe export: unknown option '%s'\n%s", a, export_usage);
            return CLI_USAGE;
        } else if (!model_path) {
            model_path = a;
        } else {
            fprintf(stderr, "lathe export: one model at a time ('%s' is extra)\n%s", a,
                    export_usage);
            return CLI_USAGE;
        }
    }
    if (!model_path || !format || !out) {
        fprintf(stderr, "lathe export: %s\n%s",
                !model_path ? "which model? (MODEL is missing)"
                : !format   ? "--format is missing (c or onnx)"
                            : "--out is missing (where to write)",
                export_usage);
        return CLI_USAGE;
    }
    if (strcmp(format, "c") != 0 && strcmp(format, "onnx") != 0) {
        fprintf(stderr, "lathe export: unknown format '%s' (known: c, onnx)\n", format);
        return CLI_USAGE;
    }
    if (strcmp(format, "onnx") == 0) return export_onnx(model_path, out, quiet);
    if (name_arg) {
        if (!lathe_export_c_name_ok(name_arg)) {
            fprintf(stderr,
                    "lathe export: --name '%s' is not a C name (letters, digits and '_', not "
                    "starting with a digit, at most 63 characters)\n",
                    name_arg);
            return CLI_USAGE;
        }
        snprintf(name, sizeof name, "%s", name_arg);
    } else {
        default_name(model_path, name, sizeof name);
    }
    if ((status = cli_load_model(model_path, &m)) != CLI_OK) return status;
    if (lathe_export_c(m, name, &header, &source, &err) != LATHE_OK) {
        cli_error(model_path, err.message);
        lathe_model_destroy(m);
        return CLI_FAILED;
    }
    lathe_model_destroy(m);
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        cli_error(out, strerror(errno));
        status = CLI_USAGE;
    }
    if (status == CLI_OK) {
        snprintf(path, sizeof path, "%s/%s.h", out, name);
        status = cli_write_file(path, header, strlen(header));
    }
    if (status == CLI_OK) {
        snprintf(path, sizeof path, "%s/%s.c", out, name);
        status = cli_write_file(path, source, strlen(source));
    }
    if (status == CLI_OK && !quiet)
        fprintf(stderr, "lathe: wrote %s/%s.h (%zu bytes) and %s/%s.c (%zu bytes)\n", out, name,
                strlen(header), out, name, strlen(source));
    lathe_free(header);
    lathe_free(source);
    return status;
}
