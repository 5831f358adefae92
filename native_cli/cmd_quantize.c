/* lathe quantize MODEL --out FILE [--calib N] [--percentile P] [--max-drop POINTS] [--data
 * FILE] [--json] [--quiet]: post-training int8 quantisation (lathe/quantize.h), measured on the
 * model's own test split and gated by --max-drop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/quantize.h"

static const char quantize_usage[] =
    "usage: lathe quantize MODEL --out FILE [--calib N] [--percentile P] [--max-drop POINTS]\n"
    "                      [--data FILE] [--json] [--quiet]\n"
    "\n"
    "Makes an int8 model: weights per output channel (symmetric, in [-127, 127]), each dense\n"
    "and conv2d layer's input per tensor (asymmetric) from calibration rows of the training\n"
    "split, int32 sums. The float and int8 models are both measured on the test split.\n"
    "\n"
    "options:\n"
    "  --out FILE          the int8 model file to write\n"
    "  --calib N           calibration rows, chosen from the experiment's seed (default 256,\n"
    "                      or the whole training split when smaller; at most 4096)\n"
    "  --percentile P      each input's range from the P-th percentile at both ends (50 to\n"
    "                      100; default 100: the minimum and maximum)\n"
    "  --max-drop POINTS   exit 1 and write nothing when the test accuracy (or R^2 x 100) drops\n"
    "                      by more than POINTS\n"
    "  --data FILE         the data the model was trained on, when the experiment's path does\n"
    "                      not reach it from the model file's folder (an IDX set: --data\n"
    "                      IMAGES --data LABELS)\n"
    "  --json              print the report as JSON on stdout\n"
    "  --quiet             no summary on stderr\n"
    "  -h, --help          show this help\n"
    "\n"
    "example:\n"
    "  lathe quantize digits.lathe.json --out digits.int8.lathe.json --max-drop 1\n";

/* A number of argv[i] (whole when whole != 0) into *out, else a usage error printed. */
static int parse_number(const char *flag, const char *text, int whole, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || v != v || (whole && (v < 0 || v != floor(v)))) {
        fprintf(stderr, "lathe quantize: %s '%s': expected %s\n", flag, text,
                whole ? "a whole number" : "a number");
        return CLI_USAGE;
    }
    *out = v;
    return CLI_OK;
}

static double get(const cJSON *o, const char *a, const char *b) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

/* The report's summary on stderr. */
static void print_summary(const char *report) {
    cJSON *r = cJSON_Parse(report);
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(r, "metric");
    int acc = cJSON_IsString(metric) && strcmp(metric->valuestring, "accuracy") == 0;
    double f, q;
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(r, "float"),
                *in = cJSON_GetObjectItemCaseSensitive(r, "int8");
    if (!r) return;
    f = get(fl, "test", NULL), q = get(in, "test", NULL);
    fprintf(stderr, "lathe: calibrated on %.0f training rows (%s)\n",
            get(r, "calibration_rows", NULL),
            get(r, "percentile", NULL) >= 100.0 ? "minimum and maximum" : "percentile");
    fprintf(stderr, "        test %-9s weights        model file\n", acc ? "accuracy" : "R^2");
    fprintf(stderr, "  float %13.2f%s %10.1f KB %10.1f KB\n", acc ? 100 * f : f, acc ? "%" : " ",
            get(r, "weight_bytes", "float") / 1024, get(r, "model_bytes", "float") / 1024);
    fprintf(stderr, "  int8  %13.2f%s %10.1f KB %10.1f KB   (%+.2f points; weights %.2fx)\n",
            acc ? 100 * q : q, acc ? "%" : " ", get(r, "weight_bytes", "int8") / 1024,
            get(r, "model_bytes", "int8") / 1024, 0.0 - get(r, "drop_points", NULL),
            get(r, "weight_bytes", "int8") / get(r, "weight_bytes", "float"));
    cJSON_Delete(r);
}

int cmd_quantize(int argc, char **argv) {
    const char *path = NULL, *out = NULL;
    cli_data_files data = {{NULL}, 0};
    double calib = -1, percentile = 100.0, max_drop = -1;
    int json = 0, quiet = 0, status, i;
    lathe_model *m = NULL;
    lathe_session *s = NULL;
    lathe_error err;
    char *report = NULL, *metrics = NULL, *file = NULL;
    const char *exp_text;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(quantize_usage, stdout);
            return CLI_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--out") == 0 && has_value) {
            out = argv[++i];
        } else if (strcmp(a, "--calib") == 0 && has_value) {
            if (parse_number(a, argv[++i], 1, &calib) != CLI_OK) return CLI_USAGE;
        } else if (strcmp(a, "--percentile") == 0 && has_value) {
            if (parse_number(a, argv[++i], 0, &percentile) != CLI_OK) return CLI_USAGE;
        } else if (strcmp(a, "--max-drop") == 0 && has_value) {
            if (parse_number(a, argv[++i], 0, &max_drop) != CLI_OK) return CLI_USAGE;
            if (max_drop < 0) {
                fprintf(stderr, "lathe quantize: --max-drop %s: must be 0 or more points\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (strcmp(a, "--data") == 0 && has_value) {
            if (cli_data_files_add(&data, argv[++i], "quantize") != CLI_OK) return CLI_USAGE;
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "lathe quantize: unexpected argument '%s'\n\n%s", a, quantize_usage);
            return CLI_USAGE;
        } else {
            path = a;
        }
    }
    if (!path || !out) {
        fprintf(stderr, "lathe quantize: %s\n\n%s", path ? "--out FILE is missing" : "MODEL is missing",
                quantize_usage);
        return CLI_USAGE;
    }
    if (percentile < 50.0 || percentile > 100.0) {
        fprintf(stderr, "lathe quantize: --percentile %g: must be in [50, 100]\n", percentile);
        return CLI_USAGE;
    }
    if (calib == 0 || calib > LATHE_CALIBRATION_MAX_ROWS) {
        fprintf(stderr, "lathe quantize: --calib %.0f: must be 1 to %u rows\n", calib,
                LATHE_CALIBRATION_MAX_ROWS);
        return CLI_USAGE;
    }
    if ((status = cli_load_model(path, &m)) != CLI_OK) return status;
    exp_text = lathe_model_experiment_json(m);
    status = cli_open_session(path, exp_text, strlen(exp_text), &data, &s);
    if (status != CLI_OK) goto done;
    if (lathe_session_build(s, m, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
        goto done;
    }
    if (calib < 0) { /* the default: 256 rows, or the whole training split when smaller */
        size_t rows = lathe_session_split(s, LATHE_SPLIT_TRAIN)->rows;
        calib = rows < LATHE_CALIBRATION_ROWS ? (double)rows : LATHE_CALIBRATION_ROWS;
    }
    if (lathe_session_quantize(s, (size_t)calib, percentile, &report, &metrics, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
        goto done;
    }
    if (json) printf("%s\n", report);
    if (!quiet) print_summary(report);
    {
        cJSON *r = cJSON_Parse(report);
        double drop = get(r, "drop_points", NULL);
        cJSON_Delete(r);
        if (max_drop >= 0 && !(drop <= max_drop)) {
            fprintf(stderr,
                    "lathe quantize: the int8 model loses %.2f points on the test split, more "
                    "than --max-drop %g: %s not written\n",
                    drop, max_drop, out);
            status = CLI_FAILED;
            goto done;
        }
    }
    if (lathe_session_model_file(s, metrics, &file, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_FAILED;
        goto done;
    }
    status = cli_write_file(out, file, strlen(file));
    if (status == CLI_OK && !quiet) fprintf(stderr, "lathe: wrote %s (%zu bytes)\n", out, strlen(file));
done:
    lathe_free(report);
    lathe_free(metrics);
    lathe_free(file);
    lathe_session_destroy(s);
    lathe_model_destroy(m);
    return status;
}
