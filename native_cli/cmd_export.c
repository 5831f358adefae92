/* lathe export MODEL --format c|onnx|web --out DIR|FILE [--name NAME]: the model as
 * dependency-free C source (lathe/export_c.h), DIR/NAME.h and DIR/NAME.c, as an ONNX file
 * (lathe/export_onnx.h), or as a web page's inference module (the web runtime that the wasm
 * build writes into web_runtime/, with the model file). */
#define _POSIX_C_SOURCE 200809L /* readlink */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/export_c.h"
#include "lathe/export_onnx.h"

static const char export_usage[] =
    "usage: lathe export MODEL --format c --out DIR [--name NAME] [--quiet]\n"
    "       lathe export MODEL --format onnx --out FILE.onnx [--quiet]\n"
    "       lathe export MODEL --format web --out DIR [--quiet]\n"
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
    "                      value; metadata lathe.classes, lathe.inputs, lathe.weights_sha256;\n"
    "                      an int8 model (lathe quantize) as QuantizeLinear/DequantizeLinear\n"
    "                      pairs (QDQ) with int8 weights, metadata lathe.int8\n"
    "  web                 DIR/lathe_web.js (an ES module: m = await load(url);\n"
    "                      m.predict(rows) on raw rows), lathe_infer.js and .wasm (the core\n"
    "                      without the trainer), model.lathe.json and an example index.html;\n"
    "                      `lathe predict`'s bits in the browser. The runtime is the wasm\n"
    "                      build's web_runtime/ folder ($LATHE_WEB_RUNTIME overrides); float\n"
    "                      models only (not an int8 one)\n"
    "\n"
    "options:\n"
    "  --format FORMAT     the artefact (c, onnx or web)\n"
    "  --out PATH          c, web: the folder to write into (made when missing); onnx: the file\n"
    "  --name NAME         the C prefix and file name (default: the model file's name up\n"
    "                      to its first '.', with other characters as '_')\n"
    "  --quiet             no summary on stderr\n"
    "  -h, --help          show this help\n"
    "\n"
    "example:\n"
    "  lathe export iris.lathe.json --format c --out iris_c\n"
    "  lathe export iris.lathe.json --format onnx --out iris.onnx\n"
    "  lathe export iris.lathe.json --format web --out iris_web\n"
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

/* The files of the web export that come from the runtime folder, written as they are. */
static const char *const web_runtime_files[] = {"lathe_web.js", "lathe_infer.js",
                                                "lathe_infer.wasm", "index.html"};

/* The folder of the running program into dir (cap bytes): /proc/self/exe's natively, the
 * script's (__dirname) for the node twin; "" when unknown. */
#ifdef __EMSCRIPTEN__
EM_JS(void, program_dir, (char *dir, int cap), {
    stringToUTF8(typeof __dirname === "string" ? __dirname : "", dir, cap);
});
#else
static void program_dir(char *dir, int cap) {
    ssize_t n = readlink("/proc/self/exe", dir, (size_t)cap - 1);
    char *slash;
    dir[n > 0 ? n : 0] = '\0';
    slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else dir[0] = '\0';
}
#endif

/* The web runtime's folder into dir: $LATHE_WEB_RUNTIME, else web_runtime/ beside the
 * program (the node twin build/wasm/lathe.js, or an installed `lathe` with its runtime), else
 * ../wasm/web_runtime from it (the native build/native/lathe beside the wasm build). 0 when
 * found (lathe_infer.wasm is there), else the places tried are printed with what to build. */
static int web_runtime_dir(char *dir, size_t cap) {
    const char *env = getenv("LATHE_WEB_RUNTIME");
    char here[4096], tried[2][4200], probe[8448]; /* here + "/../wasm/web_runtime" fits */
    size_t n = 0, i;
    struct stat st;
    if (env && *env) snprintf(tried[n++], sizeof tried[0], "%s", env);
    else {
        program_dir(here, (int)sizeof here);
        if (here[0]) {
            snprintf(tried[n++], sizeof tried[0], "%s/web_runtime", here);
            snprintf(tried[n++], sizeof tried[0], "%s/../wasm/web_runtime", here);
        }
    }
    for (i = 0; i < n; i++) {
        snprintf(probe, sizeof probe, "%s/lathe_infer.wasm", tried[i]);
        if (stat(probe, &st) == 0) {
            memcpy(dir, tried[i], strlen(tried[i]) + 1 < cap ? strlen(tried[i]) + 1 : cap);
            dir[cap - 1] = '\0';
            return 0;
        }
    }
    fprintf(stderr,
            "lathe export: the web runtime is not built (no lathe_infer.wasm in %s%s%s): build "
            "it with `cmake --build --preset wasm --target lathe_infer` (./scripts/build.sh "
            "builds it), or set LATHE_WEB_RUNTIME to the folder that holds it\n",
            n ? tried[0] : "the program's folder", n > 1 ? " or " : "", n > 1 ? tried[1] : "");
    return -1;
}

/* --format web: the runtime's files and the model file (checked by loading it) into out. */
static int export_web(const char *model_path, const char *out, int quiet) {
    lathe_model *m = NULL;
    char runtime[4200], path[4400]; /* runtime + "/" + a runtime file's name fits */
    char *bytes;
    size_t n, i, total = 0;
    int status = cli_load_model(model_path, &m), int8 = 0;
    if (status != CLI_OK) return status;
    for (i = 0; i < lathe_trainer_layer_count(lathe_model_network(m)); i++)
        if (lathe_trainer_int8(lathe_model_network(m), i)) int8 = 1;
    lathe_model_destroy(m);
    if (int8) {
        cli_error(model_path, "an int8 model (lathe quantize); the web export holds float models: "
                              "export the float model, or use --format c or onnx");
        return CLI_FAILED;
    }
    if (web_runtime_dir(runtime, sizeof runtime) != 0) return CLI_FAILED;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        cli_error(out, strerror(errno));
        return CLI_USAGE;
    }
    for (i = 0; status == CLI_OK && i <= sizeof web_runtime_files / sizeof *web_runtime_files;
         i++) {
        const int model_file = i == sizeof web_runtime_files / sizeof *web_runtime_files;
        if (!model_file) snprintf(path, sizeof path, "%s/%s", runtime, web_runtime_files[i]);
        if (!(bytes = cli_read_file(model_file ? model_path : path, &n))) return CLI_FAILED;
        snprintf(path, sizeof path, "%s/%s", out,
                 model_file ? "model.lathe.json" : web_runtime_files[i]);
        status = cli_write_file(path, bytes, n);
        total += n;
        free(bytes);
    }
    if (status == CLI_OK && !quiet)
        fprintf(stderr,
                "lathe: wrote %s/ (lathe_web.js, lathe_infer.js, lathe_infer.wasm, "
                "model.lathe.json, index.html; %zu bytes)\n",
                out, total);
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
                : !format   ? "--format is missing (c, onnx or web)"
                            : "--out is missing (where to write)",
                export_usage);
        return CLI_USAGE;
    }
    if (strcmp(format, "c") != 0 && strcmp(format, "onnx") != 0 && strcmp(format, "web") != 0) {
        fprintf(stderr, "lathe export: unknown format '%s' (known: c, onnx, web)\n", format);
        return CLI_USAGE;
    }
    if (strcmp(format, "onnx") == 0) return export_onnx(model_path, out, quiet);
    if (strcmp(format, "web") == 0) return export_web(model_path, out, quiet);
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
