/* lathe compress-report MODEL [VARIANT...] [--max-drop POINTS] [--data FILE] [--json]: a float
 * model and its smaller variants (int8, pruned, distilled) side by side, each measured on the
 * test split of the data they were trained on, as one table. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/export_c.h"

static const char report_usage[] =
    "usage: lathe compress-report MODEL [VARIANT...] [--max-drop POINTS] [--data FILE] [--json]\n"
    "\n"
    "Measures a model and its smaller variants (lathe quantize's int8 files, pruned or\n"
    "distilled models of the same data) on the test split, one row each: the test accuracy\n"
    "(or R^2), the change from MODEL in points, the model file's bytes, the C export's\n"
    "constant data (flash, without the code) and static buffers (RAM), and the milliseconds of\n"
    "a prediction of 1 row and of 256 rows in this build (the node build: wasm).\n"
    "\n"
    "options:\n"
    "  --max-drop POINTS   exit 1 when a variant's test accuracy (or R^2 x 100) is more than\n"
    "                      POINTS below MODEL's\n"
    "  --data FILE         the data they were trained on, when the experiment's path does not\n"
    "                      reach it from the model file's folder\n"
    "  --json              the rows as JSON on stdout\n"
    "  -h, --help          show this help\n"
    "\n"
    "example:\n"
    "  lathe compress-report cnn.lathe.json cnn.int8.lathe.json cnn_pruned.lathe.json --max-drop 1\n";

#define REPORT_MAX_MODELS 32

typedef struct row {
    const char *path;
    int classifier, int8;
    double value;       /* test accuracy or R² */
    size_t test_rows, file_bytes, flash, ram;
    double ms1, ms256;  /* per prediction of 1 and of (up to) 256 rows */
    size_t rows256;
    char data_sha256[65];
} row;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile float report_sink;

/* Milliseconds per call of predicting rows x:(n, F): the median of 5 timings of at least 0.1 s. */
static double time_predict(lathe_trainer *t, size_t n, const float *x, float *out) {
    double ms[5], tmp;
    size_t r, i, j;
    for (r = 0; r < 5; r++) {
        size_t calls = 0;
        double t0 = now(), dt;
        do {
            lathe_trainer_predict(t, n, x, out);
            report_sink = out[0];
            calls++;
            dt = now() - t0;
        } while (dt < 0.1);
        ms[r] = 1e3 * dt / (double)calls;
    }
    for (i = 1; i < 5; i++) /* sort the five */
        for (j = i; j > 0 && ms[j - 1] > ms[j]; j--) tmp = ms[j], ms[j] = ms[j - 1], ms[j - 1] = tmp;
    return ms[2];
}

/* Measures one model file into *r; on failure prints the error and returns the exit status. */
static int measure(const char *path, const cli_data_files *data, row *r) {
    lathe_model *m = NULL;
    lathe_session *s = NULL;
    lathe_trainer *t;
    lathe_error err;
    lathe_metrics mt;
    const char *text;
    float *x = NULL, *y = NULL, *out = NULL;
    size_t F, n, l, file_n = 0;
    char *file;
    int status;
    memset(r, 0, sizeof *r);
    r->path = path;
    if (!(file = cli_read_file(path, &file_n))) return CLI_USAGE;
    free(file);
    r->file_bytes = file_n;
    if ((status = cli_load_model(path, &m)) != CLI_OK) return status;
    text = lathe_model_experiment_json(m);
    if ((status = cli_open_session(path, text, strlen(text), data, &s)) != CLI_OK) goto done;
    if (lathe_session_build(s, m, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
        goto done;
    }
    t = lathe_session_trainer(s);
    r->classifier = lathe_session_prepared(s)->task == LATHE_TASK_CLASSIFICATION;
    for (l = 0; l < lathe_trainer_layer_count(t); l++) r->int8 |= lathe_trainer_int8(t, l) != NULL;
    mt = lathe_trainer_evaluate(t, LATHE_SPLIT_TEST);
    r->test_rows = mt.rows;
    r->value = mt.rows == 0 ? (double)NAN : r->classifier ? (double)mt.accuracy : (double)mt.r2;
    snprintf(r->data_sha256, sizeof r->data_sha256, "%s", lathe_session_data_sha256(s));
    if (lathe_export_c_footprint(m, &r->flash, &r->ram, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_FAILED;
        goto done;
    }
    /* the timings on the test rows (the training rows when there is no test split) */
    {
        lathe_split which = mt.rows ? LATHE_SPLIT_TEST : LATHE_SPLIT_TRAIN;
        size_t avail = lathe_session_split(s, which)->rows;
        F = lathe_session_prepared(s)->n_features;
        n = avail < 256 ? avail : 256;
        r->rows256 = n;
        x = lathe_malloc((n ? n : 1) * F * sizeof *x);
        y = lathe_malloc((n ? n : 1) * sizeof *y);
        out = lathe_malloc((n ? n : 1) * lathe_trainer_n_outputs(t) * sizeof *out);
        if (!x || !y || !out) {
            cli_error(path, "out of memory measuring the model");
            status = CLI_FAILED;
            goto done;
        }
        if (n) {
            lathe_session_rows(s, which, 0, n, x, y, NULL);
            r->ms1 = time_predict(t, 1, x, out);
            r->ms256 = time_predict(t, n, x, out);
        }
    }
    status = CLI_OK;
done:
    lathe_free(x);
    lathe_free(y);
    lathe_free(out);
    lathe_session_destroy(s);
    lathe_model_destroy(m);
    return status;
}

static void kb(char *buf, size_t cap, size_t bytes) {
    if (bytes < 1024) snprintf(buf, cap, "%zu B", bytes);
    else snprintf(buf, cap, "%.1f KB", (double)bytes / 1024.0);
}

int cmd_compress_report(int argc, char **argv) {
    const char *paths[REPORT_MAX_MODELS];
    size_t n = 0, i;
    cli_data_files data = {{NULL}, 0};
    double max_drop = -1;
    int json = 0, status = CLI_OK, a, failed_gate = 0;
    row rows[REPORT_MAX_MODELS];
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
            fputs(report_usage, stdout);
            return CLI_OK;
        } else if (strcmp(argv[a], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[a], "--max-drop") == 0 && a + 1 < argc) {
            char *end;
            max_drop = strtod(argv[++a], &end);
            if (end == argv[a] || *end || !(max_drop >= 0)) {
                fprintf(stderr, "lathe compress-report: --max-drop '%s': expected 0 or more points\n",
                        argv[a]);
                return CLI_USAGE;
            }
        } else if (strcmp(argv[a], "--data") == 0 && a + 1 < argc) {
            if (cli_data_files_add(&data, argv[++a], "compress-report") != CLI_OK) return CLI_USAGE;
        } else if (argv[a][0] == '-') {
            fprintf(stderr, "lathe compress-report: unexpected argument '%s'\n\n%s", argv[a], report_usage);
            return CLI_USAGE;
        } else if (n == REPORT_MAX_MODELS) {
            fprintf(stderr, "lathe compress-report: at most %d models\n", REPORT_MAX_MODELS);
            return CLI_USAGE;
        } else {
            paths[n++] = argv[a];
        }
    }
    if (n == 0) {
        fputs(report_usage, stderr);
        return CLI_USAGE;
    }
    for (i = 0; i < n; i++) {
        if ((status = measure(paths[i], &data, &rows[i])) != CLI_OK) return status;
        if (i > 0 && (strcmp(rows[i].data_sha256, rows[0].data_sha256) != 0 ||
                      rows[i].test_rows != rows[0].test_rows || rows[i].classifier != rows[0].classifier)) {
            fprintf(stderr,
                    "lathe compress-report: %s is not measured on %s's test split (other data, "
                    "another split or another task): compare variants of one model\n",
                    paths[i], paths[0]);
            return CLI_USAGE;
        }
    }
    if (json) printf("[");
    if (!json)
        printf("%-34s %10s %8s %11s %11s %10s %9s %9s\n", "variant",
               rows[0].classifier ? "test acc." : "test R^2", "points", "model file", "C flash",
               "C RAM", "ms @1", "ms @256");
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        double delta = i == 0 ? 0.0 : 100.0 * (r->value - rows[0].value);
        char file[24], flash[24], ram[24], value[24], points[24], name[64];
        int over = i > 0 && max_drop >= 0 && !(-delta <= max_drop);
        failed_gate |= over;
        if (json) {
            printf("%s{\"path\": \"%s\", \"int8\": %s, \"metric\": \"%s\", \"test\": %.9g, "
                   "\"delta_points\": %.6g, \"model_bytes\": %zu, \"c_flash_data_bytes\": %zu, "
                   "\"c_ram_bytes\": %zu, \"ms_1\": %.6g, \"ms_256\": %.6g, \"rows_256\": %zu%s}",
                   i ? ", " : "", r->path, r->int8 ? "true" : "false",
                   r->classifier ? "accuracy" : "r2", r->value, delta, r->file_bytes, r->flash,
                   r->ram, r->ms1, r->ms256, r->rows256, over ? ", \"over_max_drop\": true" : "");
            continue;
        }
        kb(file, sizeof file, r->file_bytes), kb(flash, sizeof flash, r->flash), kb(ram, sizeof ram, r->ram);
        if (r->classifier) snprintf(value, sizeof value, "%.2f%%", 100.0 * r->value);
        else snprintf(value, sizeof value, "%.4f", r->value);
        {
            const char *base = strrchr(r->path, '/');
            snprintf(name, sizeof name, "%s%s", base ? base + 1 : r->path, r->int8 ? " (int8)" : "");
        }
        if (i == 0) snprintf(points, sizeof points, "-");
        else snprintf(points, sizeof points, "%+.2f", delta);
        printf("%-34s %10s %8s %11s %11s %10s %9.3f %9.3f%s\n", name, value, points, file, flash,
               ram, r->ms1, r->ms256, over ? "  over --max-drop" : "");
    }
    if (json) printf("]\n");
    if (failed_gate) {
        fprintf(stderr, "lathe compress-report: a variant drops more than --max-drop %g points\n", max_drop);
        return CLI_FAILED;
    }
    return CLI_OK;
}
