/* The reference-check runner and the table of file kinds: see reference_check.h and cases.h.
 *
 * Expected values are parsed with strtod (by cJSON) and cast to float, which gives back the
 * float32 bits the files hold. Tolerances (the vectors' README): rtol 1e-5, atol 1e-6 for
 * single ops and optimiser steps; rtol 1e-4, atol 1e-5 for conv2d, batch norm and training. */
#define _POSIX_C_SOURCE 200809L

#include "reference_check.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "cli.h"

/* Tried in this order; the first match checks the file. */
const ref_file_kind ref_file_kinds[] = {
    {"linear", "linear", NULL, ref_check_linear},
    {"activations", "activations", NULL, ref_check_activations},
    {"softmax_cross_entropy", "softmax_cross_entropy", NULL, ref_check_softmax_ce},
    {"mse_loss", "mse", NULL, ref_check_mse},
    {"conv2d", "conv2d", NULL, ref_check_conv2d},
    {"max_pool2d / avg_pool2d", "max_pool2d", NULL, ref_check_pool2d},
    {"avg_pool2d", "avg_pool2d", NULL, ref_check_pool2d},
    {"batchnorm1d / batchnorm2d", "batchnorm", NULL, ref_check_batchnorm},
    {"losses2 (BCE with logits, L1, Huber, leaky ReLU, softplus)", "losses2", NULL,
     ref_check_losses2},
    {"optimizer steps", "optimizer", NULL, ref_check_optimizers},
    {"MLP mini-batch training through the trainer (trainer_run)", "MLP", "batch_sizes",
     ref_check_trainer_run},
    {"MLP full-batch training steps (mlp_train_steps)", "MLP", NULL, ref_check_mlp_steps},
    {"torch.optim.lr_scheduler", "torch.optim.lr_scheduler", NULL, ref_check_schedules},
    {"nn.GRU", "nn.GRU", NULL, ref_check_gru},
    {"nn.LSTM", "nn.LSTM", NULL, ref_check_lstm},
    {NULL, NULL, NULL, NULL},
};

/* ---- lines ------------------------------------------------------------------------------ */

static void json_line(ref_run *c, const char *name, const char *status, const char *detail) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "file", c->file);
    cJSON_AddStringToObject(r, "case", name);
    cJSON_AddStringToObject(r, "status", status);
    if (detail && detail[0]) cJSON_AddStringToObject(r, "detail", detail);
    if (c->in_case && c->case_json) {
        cJSON_AddNumberToObject(r, "max_abs_err", c->case_max_err);
        cJSON_AddItemToObject(r, "outputs", c->case_json);
        c->case_json = NULL;
    }
    cJSON_AddItemToArray(c->results, r);
}

/* A failure of the whole file ("FAIL file: why"). */
static void file_fail(ref_run *c, const char *why) {
    c->failed++;
    c->file_lines++;
    if (c->json)
        json_line(c, "", "fail", why);
    else
        printf("FAIL %s: %s\n", c->file, why);
}

void ref_report_malformed(ref_run *c, const char *path, const char *msg) {
    char why[800];
    fprintf(stderr, "lathe reference-check: %s: %s%s%s\n", c->file, path, path[0] ? ": " : "", msg);
    snprintf(why, sizeof why, "%s%s%s", path, path[0] ? ": " : "", msg);
    if (c->json) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "file", c->file);
        cJSON_AddStringToObject(e, "path", path);
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddItemToArray(c->errors, e);
    }
    c->in_case = 0; /* the open case is void */
    cJSON_Delete(c->case_json);
    c->case_json = NULL;
    file_fail(c, why);
}

/* ---- cases ------------------------------------------------------------------------------ */

void ref_case_begin(ref_run *c, const char *name) {
    if (c->in_case) ref_case_end(c);
    c->in_case = 1, c->case_failed = 0;
    ref_copy_str(c->case_name, sizeof c->case_name, name);
    c->case_outputs = 0, c->case_max_err = 0.0;
    c->case_max_what[0] = '\0', c->case_why[0] = '\0';
    c->case_json = c->json ? cJSON_CreateArray() : NULL;
}

/* Adds "why" to the open case's reasons and fails it. */
static void case_reason(ref_run *c, const char *why) {
    size_t used = strlen(c->case_why);
    if (used) ref_append(c->case_why, sizeof c->case_why, &used, "; ");
    ref_append(c->case_why, sizeof c->case_why, &used, why);
    c->case_failed = 1;
}

/* One compared output: max_err the largest |got − want|, worst the largest error over the
 * tolerance (> 1 fails; < 0 unknown), detail the reason when it failed. */
static void output_done(ref_run *c, const char *what, int pass, double max_err, double worst,
                        size_t count, size_t bad, const char *detail) {
    if (!c->in_case) ref_case_begin(c, "?");
    c->case_outputs++;
    if (max_err > c->case_max_err || c->case_max_what[0] == '\0') {
        if (max_err > c->case_max_err) c->case_max_err = max_err;
        ref_copy_str(c->case_max_what, sizeof c->case_max_what, what);
    }
    if (!pass) {
        char why[600];
        snprintf(why, sizeof why, "%s%s", what, detail);
        case_reason(c, why);
    }
    if (c->case_json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "output", what);
        cJSON_AddBoolToObject(o, "pass", pass);
        cJSON_AddNumberToObject(o, "elements", (double)count);
        cJSON_AddNumberToObject(o, "mismatches", (double)bad);
        cJSON_AddNumberToObject(o, "max_abs_err", max_err);
        if (worst >= 0.0) cJSON_AddNumberToObject(o, "worst_ratio", worst);
        if (!pass) cJSON_AddStringToObject(o, "detail", detail);
        cJSON_AddItemToArray(c->case_json, o);
    }
}

/* |got − want| / (atol + rtol·|want|): <= 1 passes. NaN never passes (returns NaN), equal
 * values (infinities too) give 0. */
static double error_ratio(double got, double want, ref_tol t) {
    double diff;
    if (got != got || want != want) return got - want; /* NaN */
    if (got == want) return 0.0;
    diff = got > want ? got - want : want - got;
    return diff / (t.atol + t.rtol * (want < 0 ? -want : want));
}

static double abs_err(double got, double want) {
    if (got == want) return 0.0;
    return got > want ? got - want : want - got; /* NaN stays NaN */
}

static int same_shape(size_t ndim, const size_t *dims, const ref_tensor *want) {
    size_t i;
    if (ndim != want->ndim) return 0;
    for (i = 0; i < ndim; i++)
        if (dims[i] != want->shape[i]) return 0;
    return 1;
}

static int shape_mismatch(ref_run *c, const char *what, size_t ndim, const size_t *dims,
                          const ref_tensor *want) {
    char detail[300], a[96], b[96];
    if (same_shape(ndim, dims, want)) return 0;
    ref_shape_str(a, sizeof a, want->ndim, want->shape);
    ref_shape_str(b, sizeof b, ndim, dims);
    snprintf(detail, sizeof detail, " has shape %s but the core gives %s", a, b);
    output_done(c, what, 0, 0.0, -1.0, want->count, want->count, detail);
    return 1;
}

void ref_compare(ref_run *c, const char *what, const float *got, size_t ndim, const size_t *dims,
                 const ref_tensor *want, ref_tol t) {
    char detail[400];
    size_t i, bad = 0, first = 0;
    double worst = 0.0, max_err = 0.0;
    if (c->bad || !want) return;
    if (shape_mismatch(c, what, ndim, dims, want)) return;
    for (i = 0; i < want->count; i++) {
        double r = error_ratio((double)got[i], (double)want->f[i], t);
        double e = abs_err((double)got[i], (double)want->f[i]);
        if (r > worst) worst = r;
        if (e > max_err) max_err = e;
        if (!(r <= 1.0)) {
            if (bad == 0) first = i;
            bad++;
        }
    }
    detail[0] = '\0';
    if (bad)
        snprintf(detail, sizeof detail,
                 "[%zu] got %.9g want %.9g (%zu of %zu outside rtol %g atol %g)", first,
                 (double)got[first], (double)want->f[first], bad, want->count, t.rtol, t.atol);
    output_done(c, what, bad == 0, max_err, worst, want->count, bad, detail);
}

void ref_compare_scalar(ref_run *c, const char *what, double got, double want, ref_tol t) {
    char detail[200];
    double r = error_ratio(got, want, t);
    if (c->bad) return;
    detail[0] = '\0';
    if (!(r <= 1.0))
        snprintf(detail, sizeof detail, " got %.9g want %.9g (rtol %g atol %g)", got, want, t.rtol,
                 t.atol);
    output_done(c, what, r <= 1.0, abs_err(got, want), r == r ? r : -1.0, 1, r <= 1.0 ? 0 : 1,
                detail);
}

void ref_compare_index(ref_run *c, const char *what, const uint32_t *got, size_t ndim,
                       const size_t *dims, const ref_tensor *want) {
    char detail[300];
    size_t i, bad = 0, first = 0;
    if (c->bad || !want) return;
    if (shape_mismatch(c, what, ndim, dims, want)) return;
    for (i = 0; i < want->count; i++)
        if ((int64_t)got[i] != want->i[i]) {
            if (bad == 0) first = i;
            bad++;
        }
    detail[0] = '\0';
    if (bad)
        snprintf(detail, sizeof detail, "[%zu] got %lu want %lld (%zu of %zu differ)", first,
                 (unsigned long)got[first], (long long)want->i[first], bad, want->count);
    output_done(c, what, bad == 0, bad ? 1.0 : 0.0, bad ? -1.0 : 0.0, want->count, bad, detail);
}

void ref_case_fail(ref_run *c, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    if (!c->in_case) ref_case_begin(c, "?");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    case_reason(c, msg);
}

void ref_case_end(ref_run *c) {
    if (!c->in_case) return;
    if (c->bad) { /* reported as a malformed file */
        c->in_case = 0;
        return;
    }
    if (!c->case_failed && c->case_outputs == 0) case_reason(c, "nothing was compared");
    c->file_lines++;
    if (c->case_failed) {
        c->failed++;
        if (c->json)
            json_line(c, c->case_name, "fail", c->case_why);
        else
            printf("FAIL %s:%s: %s\n", c->file, c->case_name, c->case_why);
    } else {
        c->passed++;
        if (c->json)
            json_line(c, c->case_name, "pass", NULL);
        else
            printf("PASS %s:%s (max err %.3g%s%s; %zu output%s)\n", c->file, c->case_name,
                   c->case_max_err, c->case_max_err > 0.0 ? " in " : "",
                   c->case_max_err > 0.0 ? c->case_max_what : "", c->case_outputs,
                   c->case_outputs == 1 ? "" : "s");
    }
    c->in_case = 0;
    cJSON_Delete(c->case_json);
    c->case_json = NULL;
}

void ref_not_implemented(ref_run *c, const char *name, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    if (c->in_case) ref_case_end(c);
    if (c->bad) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->not_implemented++;
    c->file_lines++;
    if (c->json)
        json_line(c, name, "not_implemented", msg);
    else
        printf("NOT IMPLEMENTED %s:%s (%s)\n", c->file, name, msg);
}

/* ---- files ------------------------------------------------------------------------------ */

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_file(ref_run *c, const char *dir, const char *name) {
    char path[4096];
    char *text;
    size_t size, k;
    cJSON *root;
    const char *op;
    c->file = name;
    c->bad = 0;
    c->file_lines = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    text = cli_read_file(path, &size); /* prints why it failed */
    if (!text) {
        c->any_bad = 1;
        file_fail(c, "unreadable");
        return;
    }
    root = cJSON_ParseWithLength(text, size);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t offset = at && at >= text && at <= text + size ? (size_t)(at - text) : size;
        ref_malformed(c, "", "not valid JSON (near byte %zu)", offset);
        free(text);
        return;
    }
    free(text);
    op = ref_string_field(c, root, "", "op");
    if (op) {
        for (k = 0; ref_file_kinds[k].name; k++)
            if (starts_with(op, ref_file_kinds[k].op_prefix) &&
                (!ref_file_kinds[k].root_key || ref_field_opt(root, ref_file_kinds[k].root_key)))
                break;
        if (ref_file_kinds[k].name) {
            ref_file_kinds[k].check(c, root);
            ref_case_end(c);
            if (!c->bad && c->file_lines == 0)
                file_fail(c, "no case was checked (the file holds no case this kind knows)");
        } else {
            char why[400];
            snprintf(why, sizeof why,
                     "unknown file kind: op '%.200s' is none of those `lathe reference-check "
                     "--help` lists",
                     op);
            file_fail(c, why);
        }
    }
    cJSON_Delete(root);
    ref_free_all(c);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ref_check_dir(const char *dir, int json) {
    DIR *d;
    struct dirent *ent;
    char **names = NULL;
    size_t n_names = 0, cap = 0, i;
    int status;
    ref_run c;
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "lathe reference-check: reference vectors not found at %s (%s)\n", dir,
                strerror(errno));
        return CLI_USAGE;
    }
    while ((ent = readdir(d)) != NULL) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len < 6 || strcmp(ent->d_name + len - 5, ".json") != 0)
            continue;
        if (n_names == cap) {
            size_t new_cap = cap ? 2 * cap : 16;
            char **grown = realloc(names, new_cap * sizeof *grown);
            if (!grown) break;
            names = grown, cap = new_cap;
        }
        names[n_names] = malloc(len + 1);
        if (!names[n_names]) break;
        memcpy(names[n_names++], ent->d_name, len + 1);
    }
    closedir(d);
    if (n_names == 0) {
        fprintf(stderr, "lathe reference-check: reference vectors not found at %s (no *.json "
                        "files)\n",
                dir);
        free(names);
        return CLI_USAGE;
    }
    qsort(names, n_names, sizeof *names, by_name);

    memset(&c, 0, sizeof c);
    c.json = json;
    if (json) c.results = cJSON_CreateArray(), c.errors = cJSON_CreateArray();
    for (i = 0; i < n_names; i++)
        check_file(&c, dir, names[i]);
    status = c.any_bad ? CLI_USAGE : c.failed ? CLI_FAILED : CLI_OK;
    if (json) {
        cJSON *report = cJSON_CreateObject();
        char *printed;
        cJSON_AddStringToObject(report, "dir", dir);
        cJSON_AddNumberToObject(report, "passed", (double)c.passed);
        cJSON_AddNumberToObject(report, "failed", (double)c.failed);
        cJSON_AddNumberToObject(report, "not_implemented", (double)c.not_implemented);
        cJSON_AddNumberToObject(report, "exit_status", status);
        cJSON_AddItemToObject(report, "errors", c.errors);
        cJSON_AddItemToObject(report, "results", c.results);
        printed = cJSON_Print(report);
        if (printed) puts(printed);
        free(printed);
        cJSON_Delete(report);
    } else {
        printf("%ld passed, %ld failed, %ld not implemented\n", c.passed, c.failed,
               c.not_implemented);
    }
    for (i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(c.allocs);
    return status;
}
