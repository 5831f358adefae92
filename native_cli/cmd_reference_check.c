/* lathe reference-check DIR [--json]: runs the PyTorch reference vectors in DIR (the format of
 * ../shared/reference/vectors/README.md) through the core and compares every output.
 *
 * Every size comes from the files' shapes, so any directory in this format works (other seeds,
 * values or sizes). A file is dispatched on its "op" field. A missing or malformed field stops
 * that file where it is met (most are read before a case is computed), with
 * "FILE: json.path: what is wrong" on stderr, and makes the exit status 2. Each checked
 * output prints one line, "PASS label: output" or "FAIL label: output[i] got G want W (…)",
 * and the last line is "N passed, M failed".
 *
 * Tolerances (the vectors' README): |got − want| <= atol + rtol·|want|, NaN never passes;
 * rtol 1e-5, atol 1e-6 for single ops, including optimiser steps (elementwise, on given
 * gradients); rtol 1e-4, atol 1e-5 for conv2d, batch norm and multi-step MLP training. Expected
 * values are parsed with strtod (by cJSON) and cast to float, which gives back the float32 bits the
 * files hold.
 *
 * The core has no softmax / log-softmax backward yet, so the two vector-Jacobian products are
 * the core's lathe_softmax_backward / lathe_log_softmax_backward, on its forward outputs. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/batchnorm.h"
#include "lathe/conv.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/mathf.h"
#include "lathe/optim.h"

#define MAX_DIMS 8
#define PATH_CAP 256
#define LABEL_CAP 160
#define MAX_LAYERS 16

typedef struct tol {
    double rtol, atol;
} tol;

static const tol TOL_OP = {1e-5, 1e-6};
static const tol TOL_SUM = {1e-4, 1e-5};

/* A tensor read from a file: {"shape": [...], "data": [...]} in row-major order. */
typedef struct tensor {
    char path[PATH_CAP]; /* JSON path, for messages */
    size_t ndim, shape[MAX_DIMS], count;
    float *f;   /* float tensors */
    int64_t *i; /* integer tensors (class targets, argmax indices) */
} tensor;

/* The state of one run: counters, the current file, and every allocation made for it (freed
 * together when the file is done, so a malformed file can stop anywhere without leaking). */
typedef struct rc {
    const char *file;
    int json;
    long passed, failed;
    int bad;     /* the current file is malformed (already reported) */
    int any_bad; /* some file was unreadable or malformed: exit status 2 */
    void **allocs;
    size_t n_allocs, cap_allocs;
    cJSON *results, *errors; /* --json */
} rc;

/* ---- messages and allocation ---------------------------------------------------------- */

/* Bounded string building for JSON paths and labels (truncates, always terminates). */
static void append(char *out, size_t cap, size_t *used, const char *s) {
    while (*s && *used + 1 < cap)
        out[(*used)++] = *s++;
    out[*used] = '\0';
}

static void copy_str(char *out, size_t cap, const char *s) {
    size_t used = 0;
    append(out, cap, &used, s);
}

/* out = "base.key" (or "key" when base is empty). out must not be base. */
static void join(char *out, const char *base, const char *key) {
    size_t used = 0;
    out[0] = '\0';
    append(out, PATH_CAP, &used, base);
    if (base[0]) append(out, PATH_CAP, &used, ".");
    append(out, PATH_CAP, &used, key);
}

/* out = "base.key[i]" (or "key[i]"). */
static void join_index(char *out, const char *base, const char *key, size_t i) {
    char num[32];
    size_t used;
    join(out, base, key);
    used = strlen(out);
    snprintf(num, sizeof num, "[%zu]", i);
    append(out, PATH_CAP, &used, num);
}

/* Reports the first problem of a malformed file, "FILE: path: message", and marks it bad. */
static void malformed(rc *c, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void malformed(rc *c, const char *path, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    if (c->bad) return;
    c->bad = 1;
    c->any_bad = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "lathe reference-check: %s: %s%s%s\n", c->file, path, path[0] ? ": " : "", msg);
    if (c->json) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "file", c->file);
        cJSON_AddStringToObject(e, "path", path);
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddItemToArray(c->errors, e);
    }
}

/* Zeroed memory for count elements of size bytes, owned by the current file; NULL (and the
 * file marked bad) on failure. */
static void *rc_alloc(rc *c, size_t count, size_t size) {
    void *p;
    if (c->bad) return NULL;
    if (count == 0) count = 1;
    if (size != 0 && count > SIZE_MAX / size) {
        malformed(c, "", "a tensor is too large");
        return NULL;
    }
    if (c->n_allocs == c->cap_allocs) {
        size_t cap = c->cap_allocs ? 2 * c->cap_allocs : 64;
        void **grown = realloc(c->allocs, cap * sizeof *grown);
        if (!grown) {
            malformed(c, "", "out of memory");
            return NULL;
        }
        c->allocs = grown, c->cap_allocs = cap;
    }
    p = calloc(count, size);
    if (!p) {
        malformed(c, "", "out of memory");
        return NULL;
    }
    c->allocs[c->n_allocs++] = p;
    return p;
}

static float *floats(rc *c, size_t n) {
    return rc_alloc(c, n, sizeof(float));
}

static void rc_free_all(rc *c) {
    size_t i;
    for (i = 0; i < c->n_allocs; i++)
        free(c->allocs[i]);
    c->n_allocs = 0;
}

static void shape_str(char *out, size_t cap, size_t ndim, const size_t *dims) {
    size_t i, used = 0;
    out[0] = '\0';
    for (i = 0; i <= ndim && used < cap; i++) {
        int n;
        if (i == ndim)
            n = snprintf(out + used, cap - used, "]");
        else
            n = snprintf(out + used, cap - used, "%s%zu", i ? "," : "[", dims[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
    if (ndim == 0) copy_str(out, cap, "[]");
}

/* ---- results -------------------------------------------------------------------------- */

/* One result. worst: the largest |got − want| / (atol + rtol·|want|) over the finite elements
 * (> 1 fails; shown in --json as "worst_ratio" to tell how much room a check has), or < 0. */
static void record(rc *c, const char *label, const char *what, int pass, const char *detail,
                   size_t bad, size_t count, double worst) {
    if (pass)
        c->passed++;
    else
        c->failed++;
    if (c->json) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "file", c->file);
        cJSON_AddStringToObject(r, "case", label);
        cJSON_AddStringToObject(r, "output", what);
        cJSON_AddBoolToObject(r, "pass", pass);
        cJSON_AddNumberToObject(r, "elements", (double)count);
        cJSON_AddNumberToObject(r, "mismatches", (double)bad);
        if (worst >= 0.0) cJSON_AddNumberToObject(r, "worst_ratio", worst);
        if (detail && detail[0]) cJSON_AddStringToObject(r, "detail", detail);
        cJSON_AddItemToArray(c->results, r);
    } else if (pass) {
        printf("PASS %s: %s\n", label, what);
    } else {
        printf("FAIL %s: %s%s\n", label, what, detail ? detail : "");
    }
}

/* A failure that is not a numeric mismatch: an unknown op, an unsupported option. */
static void fail_msg(rc *c, const char *label, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void fail_msg(rc *c, const char *label, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->failed++;
    if (c->json) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "file", c->file);
        cJSON_AddStringToObject(r, "case", label);
        cJSON_AddBoolToObject(r, "pass", 0);
        cJSON_AddStringToObject(r, "detail", msg);
        cJSON_AddItemToArray(c->results, r);
    } else {
        printf("FAIL %s: %s\n", label, msg);
    }
}

/* |got − want| / (atol + rtol·|want|): <= 1 passes. NaN never passes (returns NaN), equal
 * values (infinities too) give 0. */
static double error_ratio(double got, double want, tol t) {
    double diff;
    if (got != got || want != want) return got - want; /* NaN */
    if (got == want) return 0.0;
    diff = got > want ? got - want : want - got;
    return diff / (t.atol + t.rtol * (want < 0 ? -want : want));
}

static int same_shape(size_t ndim, const size_t *dims, const tensor *want) {
    size_t i;
    if (ndim != want->ndim) return 0;
    for (i = 0; i < ndim; i++)
        if (dims[i] != want->shape[i]) return 0;
    return 1;
}

/* One PASS/FAIL line for got (the core's output, of shape (ndim, dims)) against want. */
static void compare(rc *c, const char *label, const char *what, const float *got, size_t ndim,
                    const size_t *dims, const tensor *want, tol t) {
    char detail[400], a[96], b[96];
    size_t i, bad = 0, first = 0;
    double worst = 0.0;
    if (!same_shape(ndim, dims, want)) {
        shape_str(a, sizeof a, want->ndim, want->shape);
        shape_str(b, sizeof b, ndim, dims);
        snprintf(detail, sizeof detail, " has shape %s but the core gives %s", a, b);
        record(c, label, what, 0, detail, want->count, want->count, -1.0);
        return;
    }
    for (i = 0; i < want->count; i++) {
        double r = error_ratio((double)got[i], (double)want->f[i], t);
        if (r > worst) worst = r;
        if (!(r <= 1.0)) {
            if (bad == 0) first = i;
            bad++;
        }
    }
    if (bad == 0) {
        record(c, label, what, 1, NULL, 0, want->count, worst);
        return;
    }
    snprintf(detail, sizeof detail, "[%zu] got %.9g want %.9g (%zu of %zu outside rtol %g atol %g)",
             first, (double)got[first], (double)want->f[first], bad, want->count, t.rtol, t.atol);
    record(c, label, what, 0, detail, bad, want->count, worst);
}

static void compare_scalar(rc *c, const char *label, const char *what, float got, double want_d,
                           tol t) {
    char detail[200];
    float want = (float)want_d;
    double r = error_ratio((double)got, (double)want, t);
    if (r <= 1.0) {
        record(c, label, what, 1, NULL, 0, 1, r);
        return;
    }
    snprintf(detail, sizeof detail, " got %.9g want %.9g (rtol %g atol %g)", (double)got,
             (double)want, t.rtol, t.atol);
    record(c, label, what, 0, detail, 1, 1, r == r ? r : -1.0);
}

static void compare_index(rc *c, const char *label, const char *what, const uint32_t *got,
                          size_t ndim, const size_t *dims, const tensor *want) {
    char detail[300], a[96], b[96];
    size_t i, bad = 0, first = 0;
    if (!same_shape(ndim, dims, want)) {
        shape_str(a, sizeof a, want->ndim, want->shape);
        shape_str(b, sizeof b, ndim, dims);
        snprintf(detail, sizeof detail, " has shape %s but the core gives %s", a, b);
        record(c, label, what, 0, detail, want->count, want->count, -1.0);
        return;
    }
    for (i = 0; i < want->count; i++)
        if ((int64_t)got[i] != want->i[i]) {
            if (bad == 0) first = i;
            bad++;
        }
    if (bad == 0) {
        record(c, label, what, 1, NULL, 0, want->count, 0.0);
        return;
    }
    snprintf(detail, sizeof detail, "[%zu] got %lu want %lld (%zu of %zu differ)", first,
             (unsigned long)got[first], (long long)want->i[first], bad, want->count);
    record(c, label, what, 0, detail, bad, want->count, -1.0);
}

/* ---- reading fields ------------------------------------------------------------------- */

static const cJSON *field_opt(const cJSON *obj, const char *key) {
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static const cJSON *field(rc *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it;
    char path[PATH_CAP];
    if (c->bad) return NULL;
    it = field_opt(obj, key);
    if (!it) {
        join(path, base, key);
        malformed(c, path, "missing");
    }
    return it;
}

static const cJSON *object_field(rc *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it = field(c, obj, base, key);
    char path[PATH_CAP];
    if (it && !cJSON_IsObject(it)) {
        join(path, base, key);
        malformed(c, path, "not an object");
        return NULL;
    }
    return it;
}

static const cJSON *array_field(rc *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it = field(c, obj, base, key);
    char path[PATH_CAP];
    if (it && !cJSON_IsArray(it)) {
        join(path, base, key);
        malformed(c, path, "not an array");
        return NULL;
    }
    return it;
}

static int number_field(rc *c, const cJSON *obj, const char *base, const char *key, double *out) {
    const cJSON *it = field(c, obj, base, key);
    char path[PATH_CAP];
    if (!it) return 0;
    if (!cJSON_IsNumber(it)) {
        join(path, base, key);
        malformed(c, path, "not a number");
        return 0;
    }
    *out = it->valuedouble;
    return 1;
}

/* A non-negative integer (at most 2^31 − 1, enough for any size or stride here). */
static int size_of(rc *c, const cJSON *it, const char *path, size_t *out) {
    double v;
    if (!cJSON_IsNumber(it)) {
        malformed(c, path, "not a number");
        return 0;
    }
    v = it->valuedouble;
    if (!(v >= 0.0 && v <= 2147483647.0) || (double)(long)v != v) {
        malformed(c, path, "%.17g is not a non-negative integer", v);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

static int size_field(rc *c, const cJSON *obj, const char *base, const char *key, size_t *out) {
    const cJSON *it = field(c, obj, base, key);
    char path[PATH_CAP];
    if (!it) return 0;
    join(path, base, key);
    return size_of(c, it, path, out);
}

static const char *string_field(rc *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it = field(c, obj, base, key);
    char path[PATH_CAP];
    if (!it) return NULL;
    if (!cJSON_IsString(it)) {
        join(path, base, key);
        malformed(c, path, "not a string");
        return NULL;
    }
    return it->valuestring;
}

/* Parses the tensor node t found at path; integer tensors must hold integers. */
static tensor *tensor_at(rc *c, const cJSON *t, const char *path, int integer) {
    const cJSON *shape, *data, *v;
    tensor *out;
    char sub[PATH_CAP];
    size_t k, count = 1;
    if (c->bad) return NULL;
    if (!cJSON_IsObject(t)) {
        malformed(c, path, "not a tensor ({\"shape\": [...], \"data\": [...]})");
        return NULL;
    }
    shape = array_field(c, t, path, "shape");
    data = array_field(c, t, path, "data");
    out = rc_alloc(c, 1, sizeof *out);
    if (c->bad) return NULL;
    copy_str(out->path, sizeof out->path, path);
    out->ndim = (size_t)cJSON_GetArraySize(shape);
    join(sub, path, "shape");
    if (out->ndim > MAX_DIMS) {
        malformed(c, sub, "%zu dimensions (at most %d)", out->ndim, MAX_DIMS);
        return NULL;
    }
    k = 0;
    cJSON_ArrayForEach(v, shape) {
        char at[PATH_CAP];
        join_index(at, path, "shape", k);
        if (!size_of(c, v, at, &out->shape[k])) return NULL;
        if (out->shape[k] != 0 && count > SIZE_MAX / out->shape[k]) {
            malformed(c, sub, "too many elements");
            return NULL;
        }
        count *= out->shape[k++];
    }
    out->count = count;
    join(sub, path, "data");
    if ((size_t)cJSON_GetArraySize(data) != count) {
        char s[96];
        shape_str(s, sizeof s, out->ndim, out->shape);
        malformed(c, sub, "has %d numbers, the shape %s needs %zu", cJSON_GetArraySize(data), s,
                  count);
        return NULL;
    }
    if (integer)
        out->i = rc_alloc(c, count, sizeof *out->i);
    else
        out->f = floats(c, count);
    if (c->bad) return NULL;
    k = 0;
    cJSON_ArrayForEach(v, data) {
        if (!cJSON_IsNumber(v)) {
            char at[PATH_CAP];
            join_index(at, path, "data", k);
            malformed(c, at, "not a number");
            return NULL;
        }
        if (integer) {
            double d = v->valuedouble;
            if (!(d > -9.2e18 && d < 9.2e18) || (double)(int64_t)d != d) {
                char at[PATH_CAP];
                join_index(at, path, "data", k);
                malformed(c, at, "%.17g is not an integer", d);
                return NULL;
            }
            out->i[k] = (int64_t)d;
        } else {
            out->f[k] = (float)v->valuedouble;
        }
        k++;
    }
    return out;
}

static tensor *tensor_field_ex(rc *c, const cJSON *obj, const char *base, const char *key,
                               int integer) {
    const cJSON *t = field(c, obj, base, key);
    char path[PATH_CAP];
    if (!t) return NULL;
    join(path, base, key);
    return tensor_at(c, t, path, integer);
}

static tensor *tensor_field(rc *c, const cJSON *obj, const char *base, const char *key) {
    return tensor_field_ex(c, obj, base, key, 0);
}

static tensor *int_tensor_field(rc *c, const cJSON *obj, const char *base, const char *key) {
    return tensor_field_ex(c, obj, base, key, 1);
}

/* The tensor obj[key] when present, else NULL (without an error). */
static tensor *tensor_field_opt(rc *c, const cJSON *obj, const char *base, const char *key) {
    return field_opt(obj, key) ? tensor_field(c, obj, base, key) : NULL;
}

/* Checks t's shape against dims (SIZE_MAX matches any size). */
static int expect_shape(rc *c, const tensor *t, size_t ndim, const size_t *dims) {
    size_t i;
    int ok = t && t->ndim == ndim;
    if (!t) return 0;
    for (i = 0; ok && i < ndim; i++)
        ok = dims[i] == SIZE_MAX || dims[i] == t->shape[i];
    if (!ok) {
        char a[96], b[96];
        shape_str(a, sizeof a, t->ndim, t->shape);
        shape_str(b, sizeof b, ndim, dims);
        /* Show wildcards as "*" would need a second format; sizes known so far are enough. */
        malformed(c, t->path, "shape %s does not fit the other inputs (expected %s)", a, b);
    }
    return ok;
}

#define DIMS(...) ((const size_t[]){__VA_ARGS__})
#define ANY SIZE_MAX

/* Class targets in [0, classes) as uint32_t. */
static uint32_t *targets_of(rc *c, const tensor *t, size_t classes) {
    size_t i;
    uint32_t *out = rc_alloc(c, t->count, sizeof *out);
    if (!out) return NULL;
    for (i = 0; i < t->count; i++) {
        if (t->i[i] < 0 || (uint64_t)t->i[i] >= classes) {
            char at[PATH_CAP];
            join_index(at, t->path, "data", i);
            malformed(c, at, "target %lld is not a class in [0, %zu)", (long long)t->i[i], classes);
            return NULL;
        }
        out[i] = (uint32_t)t->i[i];
    }
    return out;
}

/* ---- softmax backward (the core has only the forwards) --------------------------------- */

/* ---- ops ------------------------------------------------------------------------------ */

static void check_linear(rc *c, const cJSON *root) {
    const cJSON *in = object_field(c, root, "", "inputs"),
                *out = object_field(c, root, "", "outputs");
    tensor *x = tensor_field(c, in, "inputs", "x"), *w = tensor_field(c, in, "inputs", "W");
    tensor *b = tensor_field_opt(c, in, "inputs", "b");
    tensor *dy = tensor_field(c, in, "inputs", "grad_output");
    tensor *y_want = tensor_field(c, out, "outputs", "y");
    tensor *dx_want = tensor_field(c, out, "outputs", "grad_x");
    tensor *dw_want = tensor_field(c, out, "outputs", "grad_W");
    tensor *db_want = b ? tensor_field(c, out, "outputs", "grad_b") : NULL;
    const lathe_kernel_table *k = lathe_kernels();
    size_t n, fin, fout;
    float *y, *dx, *dw, *db;
    if (c->bad || !expect_shape(c, x, 2, DIMS(ANY, ANY))) return;
    n = x->shape[0], fin = x->shape[1];
    if (!expect_shape(c, w, 2, DIMS(ANY, fin))) return;
    fout = w->shape[0];
    if ((b && !expect_shape(c, b, 1, DIMS(fout))) || !expect_shape(c, dy, 2, DIMS(n, fout))) return;
    y = floats(c, n * fout), dx = floats(c, n * fin), dw = floats(c, fout * fin);
    db = floats(c, fout);
    if (c->bad) return;
    lathe_dense_forward(k, n, fin, fout, x->f, w->f, b ? b->f : NULL, y);
    lathe_dense_backward(k, n, fin, fout, x->f, w->f, dy->f, dx, dw, db);
    compare(c, "linear", "y", y, 2, DIMS(n, fout), y_want, TOL_OP);
    compare(c, "linear", "grad_x", dx, 2, DIMS(n, fin), dx_want, TOL_OP);
    compare(c, "linear", "grad_W", dw, 2, DIMS(fout, fin), dw_want, TOL_OP);
    if (db_want) compare(c, "linear", "grad_b", db, 1, DIMS(fout), db_want, TOL_OP);
}

static void check_activations(rc *c, const cJSON *root) {
    const cJSON *in = object_field(c, root, "", "inputs"),
                *out = object_field(c, root, "", "outputs");
    const cJSON *act;
    tensor *x = tensor_field(c, in, "inputs", "x");
    tensor *dy = tensor_field(c, in, "inputs", "grad_output");
    float *y, *dx;
    if (c->bad || !expect_shape(c, dy, x->ndim, x->shape)) return;
    if (cJSON_GetArraySize(out) == 0) {
        malformed(c, "outputs", "no activations listed");
        return;
    }
    y = floats(c, x->count), dx = floats(c, x->count);
    cJSON_ArrayForEach(act, out) {
        const char *name = act->string;
        char base[PATH_CAP], label[LABEL_CAP];
        tensor *y_want, *dx_want;
        join(base, "outputs", name);
        y_want = tensor_field(c, act, base, "y");
        dx_want = tensor_field(c, act, base, "grad_x");
        if (c->bad) return;
        snprintf(label, sizeof label, "activations[%s]", name);
        if (strcmp(name, "relu") == 0 || strcmp(name, "sigmoid") == 0 ||
            strcmp(name, "tanh") == 0 || strcmp(name, "leaky_relu") == 0 ||
            strcmp(name, "identity") == 0) {
            lathe_activation a = name[0] == 'r'   ? LATHE_ACT_RELU
                                 : name[0] == 's' ? LATHE_ACT_SIGMOID
                                 : name[0] == 't' ? LATHE_ACT_TANH
                                 : name[0] == 'l' ? LATHE_ACT_LEAKY_RELU
                                                  : LATHE_ACT_IDENTITY;
            lathe_activation_forward(a, x->count, x->f, y);
            lathe_activation_backward(a, x->count, x->f, y, dy->f, dx);
        } else if (strcmp(name, "softmax") == 0 || strcmp(name, "softmax_dim1") == 0 ||
                   strcmp(name, "log_softmax") == 0 || strcmp(name, "log_softmax_dim1") == 0) {
            size_t rows, cols;
            if (x->ndim != 2) {
                fail_msg(c, label, "softmax over dim 1 is checked for 2-D x only (x is %zu-D)",
                         x->ndim);
                continue;
            }
            rows = x->shape[0], cols = x->shape[1];
            if (name[0] == 's') {
                lathe_softmax_forward(rows, cols, x->f, y);
                lathe_softmax_backward(rows, cols, y, dy->f, dx);
            } else {
                lathe_log_softmax_forward(rows, cols, x->f, y);
                lathe_log_softmax_backward(rows, cols, y, dy->f, dx);
            }
        } else {
            fail_msg(c, label, "unknown activation '%s'", name);
            continue;
        }
        compare(c, label, "y", y, x->ndim, x->shape, y_want, TOL_OP);
        compare(c, label, "grad_x", dx, x->ndim, x->shape, dx_want, TOL_OP);
    }
}

static void check_softmax_ce(rc *c, const cJSON *root) {
    const cJSON *cases = array_field(c, root, "", "cases"), *cs;
    size_t ci = 0;
    if (c->bad) return;
    cJSON_ArrayForEach(cs, cases) {
        char base[PATH_CAP], label[LABEL_CAP];
        const cJSON *name_item = field_opt(cs, "name");
        tensor *z, *t, *per_want, *sm_want, *gm_want, *gs_want;
        double loss_mean_want, loss_sum_want;
        size_t n, k, i;
        uint32_t *targets;
        float *grad, *grad_sum, *sm, *per, loss_mean, loss_sum = 0.0f;
        join_index(base, "", "cases", ci);
        z = tensor_field(c, cs, base, "logits");
        t = int_tensor_field(c, cs, base, "targets");
        per_want = tensor_field(c, cs, base, "loss_per_sample");
        sm_want = tensor_field(c, cs, base, "softmax");
        gm_want = tensor_field(c, cs, base, "grad_logits_mean");
        gs_want = tensor_field(c, cs, base, "grad_logits_sum");
        number_field(c, cs, base, "loss_mean", &loss_mean_want);
        number_field(c, cs, base, "loss_sum", &loss_sum_want);
        if (c->bad || !expect_shape(c, z, 2, DIMS(ANY, ANY))) return;
        n = z->shape[0], k = z->shape[1];
        if (!expect_shape(c, t, 1, DIMS(n))) return;
        if (n == 0 || k == 0) {
            malformed(c, z->path, "empty logits");
            return;
        }
        targets = targets_of(c, t, k);
        grad = floats(c, n * k), grad_sum = floats(c, n * k), sm = floats(c, n * k);
        per = floats(c, n);
        if (c->bad) return;
        if (cJSON_IsString(name_item))
            snprintf(label, sizeof label, "softmax_cross_entropy[%s]", name_item->valuestring);
        else
            snprintf(label, sizeof label, "softmax_cross_entropy[%zu]", ci);
        loss_mean = lathe_softmax_cross_entropy(n, k, z->f, targets, grad);
        for (i = 0; i < n; i++) {
            per[i] = lathe_softmax_cross_entropy(1, k, z->f + i * k, targets + i, NULL);
            loss_sum += per[i];
        }
        /* The sum reduction's gradient is the mean one times N. */
        for (i = 0; i < n * k; i++)
            grad_sum[i] = grad[i] * (float)n;
        lathe_softmax_forward(n, k, z->f, sm);
        compare_scalar(c, label, "loss_mean", loss_mean, loss_mean_want, TOL_OP);
        compare(c, label, "loss_per_sample", per, 1, DIMS(n), per_want, TOL_OP);
        compare_scalar(c, label, "loss_sum", loss_sum, loss_sum_want, TOL_OP);
        compare(c, label, "softmax", sm, 2, DIMS(n, k), sm_want, TOL_OP);
        compare(c, label, "grad_logits_mean", grad, 2, DIMS(n, k), gm_want, TOL_OP);
        compare(c, label, "grad_logits_sum", grad_sum, 2, DIMS(n, k), gs_want, TOL_OP);
        ci++;
    }
    if (ci == 0) malformed(c, "cases", "no cases");
}

static void check_mse(rc *c, const cJSON *root) {
    const cJSON *in = object_field(c, root, "", "inputs"),
                *out = object_field(c, root, "", "outputs");
    tensor *p = tensor_field(c, in, "inputs", "pred"), *t = tensor_field(c, in, "inputs", "target");
    tensor *gp_want = tensor_field(c, out, "outputs", "grad_pred_mean");
    tensor *gt_want = tensor_field(c, out, "outputs", "grad_target_mean");
    tensor *gps_want = tensor_field(c, out, "outputs", "grad_pred_sum");
    tensor *gts_want = tensor_field_opt(c, out, "outputs", "grad_target_sum");
    double mean_want, sum_want;
    size_t n, d, i;
    float *g, *gt, *gs, *gts, loss;
    number_field(c, out, "outputs", "loss_mean", &mean_want);
    number_field(c, out, "outputs", "loss_sum", &sum_want);
    if (c->bad || !expect_shape(c, t, p->ndim, p->shape)) return;
    if (p->count == 0) {
        malformed(c, p->path, "empty");
        return;
    }
    n = p->ndim ? p->shape[0] : 1;
    d = p->count / n;
    g = floats(c, p->count), gt = floats(c, p->count), gs = floats(c, p->count);
    gts = floats(c, p->count);
    if (c->bad) return;
    loss = lathe_mse(n, d, p->f, t->f, g);
    /* d/dtarget = −d/dpred; the sum reduction is the mean one times N·D. */
    for (i = 0; i < p->count; i++) {
        gt[i] = -g[i];
        gs[i] = g[i] * (float)p->count;
        gts[i] = -gs[i];
    }
    compare_scalar(c, "mse_loss", "loss_mean", loss, mean_want, TOL_OP);
    compare(c, "mse_loss", "grad_pred_mean", g, p->ndim, p->shape, gp_want, TOL_OP);
    compare(c, "mse_loss", "grad_target_mean", gt, p->ndim, p->shape, gt_want, TOL_OP);
    compare_scalar(c, "mse_loss", "loss_sum", loss * (float)p->count, sum_want, TOL_OP);
    compare(c, "mse_loss", "grad_pred_sum", gs, p->ndim, p->shape, gps_want, TOL_OP);
    if (gts_want)
        compare(c, "mse_loss", "grad_target_sum", gts, p->ndim, p->shape, gts_want, TOL_OP);
}

/* Checks the file's y_shape (when given) against the core's output shape. */
static int y_shape_ok(rc *c, const cJSON *cs, const char *base, const char *label, size_t ndim,
                      const size_t *dims) {
    const cJSON *ys = field_opt(cs, "y_shape"), *v;
    size_t k = 0, got[MAX_DIMS];
    char a[96], b[96], path[PATH_CAP];
    if (!ys) return 1;
    join(path, base, "y_shape");
    if (!cJSON_IsArray(ys) || (size_t)cJSON_GetArraySize(ys) > MAX_DIMS) {
        malformed(c, path, "not an array of sizes");
        return 0;
    }
    cJSON_ArrayForEach(v, ys) {
        char at[PATH_CAP];
        join_index(at, base, "y_shape", k);
        if (!size_of(c, v, at, &got[k])) return 0;
        k++;
    }
    if (k == ndim && memcmp(got, dims, ndim * sizeof *dims) == 0) return 1;
    shape_str(a, sizeof a, k, got);
    shape_str(b, sizeof b, ndim, dims);
    fail_msg(c, label, "y_shape %s but the core gives %s", a, b);
    return 0;
}

static void check_conv2d(rc *c, const cJSON *root) {
    const cJSON *in = object_field(c, root, "", "inputs"),
                *cases = array_field(c, root, "", "cases");
    const cJSON *cs;
    tensor *x = tensor_field(c, in, "inputs", "x"), *w = tensor_field(c, in, "inputs", "W");
    tensor *b = tensor_field_opt(c, in, "inputs", "b");
    const lathe_kernel_table *k = lathe_kernels();
    size_t ci = 0;
    if (c->bad || !expect_shape(c, x, 4, DIMS(ANY, ANY, ANY, ANY)) ||
        !expect_shape(c, w, 4, DIMS(ANY, x->shape[1], ANY, ANY)) ||
        (b && !expect_shape(c, b, 1, DIMS(w->shape[0]))))
        return;
    cJSON_ArrayForEach(cs, cases) {
        char base[PATH_CAP], label[LABEL_CAP];
        lathe_conv2d_shape s;
        lathe_error err;
        tensor *dy, *y_want, *dx_want, *dw_want, *db_want = NULL;
        size_t ho, wo, ydims[4];
        float *y, *dx, *dw, *db, *work;
        join_index(base, "", "cases", ci);
        s.n = x->shape[0], s.in_ch = x->shape[1], s.h = x->shape[2], s.w = x->shape[3];
        s.out_ch = w->shape[0], s.kh = w->shape[2], s.kw = w->shape[3];
        size_field(c, cs, base, "stride", &s.stride);
        size_field(c, cs, base, "padding", &s.pad);
        dy = tensor_field(c, cs, base, "grad_output");
        y_want = tensor_field(c, cs, base, "y");
        dx_want = tensor_field(c, cs, base, "grad_x");
        dw_want = tensor_field(c, cs, base, "grad_W");
        if (b) db_want = tensor_field(c, cs, base, "grad_b");
        if (c->bad) return;
        if (lathe_conv2d_output_size(&s, &ho, &wo, &err) != LATHE_OK) {
            malformed(c, base, "%s", err.message);
            return;
        }
        snprintf(label, sizeof label, "conv2d[stride=%zu,padding=%zu]", s.stride, s.pad);
        ci++;
        ydims[0] = s.n, ydims[1] = s.out_ch, ydims[2] = ho, ydims[3] = wo;
        if (!y_shape_ok(c, cs, base, label, 4, ydims)) continue;
        if (!expect_shape(c, dy, 4, ydims)) return;
        y = floats(c, dy->count), dx = floats(c, x->count), dw = floats(c, w->count);
        db = floats(c, s.out_ch), work = floats(c, lathe_conv2d_workspace_size(&s));
        if (c->bad) return;
        lathe_conv2d_forward(k, &s, x->f, w->f, b ? b->f : NULL, y, work);
        lathe_conv2d_backward_data(k, &s, w->f, dy->f, dx, work);
        lathe_conv2d_backward_weights(k, &s, x->f, dy->f, dw, db, work);
        compare(c, label, "y", y, 4, ydims, y_want, TOL_SUM);
        compare(c, label, "grad_x", dx, 4, x->shape, dx_want, TOL_SUM);
        compare(c, label, "grad_W", dw, 4, w->shape, dw_want, TOL_SUM);
        if (db_want) compare(c, label, "grad_b", db, 1, DIMS(s.out_ch), db_want, TOL_SUM);
    }
    if (ci == 0 && !c->bad) malformed(c, "cases", "no cases");
}

/* One list of pooling cases ("max" or "avg"); returns the number of cases. */
static size_t check_pool_list(rc *c, const cJSON *in, const cJSON *list, const char *key,
                              int is_max) {
    const cJSON *cs;
    size_t ci = 0;
    cJSON_ArrayForEach(cs, list) {
        char base[PATH_CAP], label[LABEL_CAP];
        const char *input;
        lathe_pool2d_shape s;
        lathe_error err;
        tensor *x, *dy, *y_want, *dx_want, *am_want = NULL;
        size_t ho, wo, pad = 0, ydims[4];
        float *y, *dx;
        uint32_t *am;
        join_index(base, "", key, ci);
        input = string_field(c, cs, base, "input");
        size_field(c, cs, base, "kernel", &s.k);
        size_field(c, cs, base, "stride", &s.stride);
        if (field_opt(cs, "padding")) size_field(c, cs, base, "padding", &pad);
        dy = tensor_field(c, cs, base, "grad_output");
        y_want = tensor_field(c, cs, base, "y");
        dx_want = tensor_field(c, cs, base, "grad_x");
        if (is_max) am_want = int_tensor_field(c, cs, base, "argmax_flat_hw");
        if (c->bad) return ci;
        x = tensor_field(c, in, "inputs", input);
        if (c->bad || !expect_shape(c, x, 4, DIMS(ANY, ANY, ANY, ANY))) return ci;
        s.n = x->shape[0], s.c = x->shape[1], s.h = x->shape[2], s.w = x->shape[3];
        snprintf(label, sizeof label, "%s[%s,k=%zu,s=%zu]", is_max ? "max_pool2d" : "avg_pool2d",
                 input, s.k, s.stride);
        ci++;
        if (pad != 0) {
            fail_msg(c, label, "padding %zu is not supported (pooling has no padding)", pad);
            continue;
        }
        if (lathe_pool2d_output_size(&s, &ho, &wo, &err) != LATHE_OK) {
            malformed(c, base, "%s", err.message);
            return ci;
        }
        ydims[0] = s.n, ydims[1] = s.c, ydims[2] = ho, ydims[3] = wo;
        if (!y_shape_ok(c, cs, base, label, 4, ydims)) continue;
        if (!expect_shape(c, dy, 4, ydims)) return ci;
        y = floats(c, dy->count), dx = floats(c, x->count);
        am = rc_alloc(c, dy->count, sizeof *am);
        if (c->bad) return ci;
        if (is_max) {
            lathe_max_pool2d_forward(&s, x->f, y, am);
            lathe_max_pool2d_backward(&s, am, dy->f, dx);
        } else {
            lathe_avg_pool2d_forward(&s, x->f, y);
            lathe_avg_pool2d_backward(&s, dy->f, dx);
        }
        compare(c, label, "y", y, 4, ydims, y_want, TOL_OP);
        compare(c, label, "grad_x", dx, 4, x->shape, dx_want, TOL_OP);
        if (am_want) compare_index(c, label, "argmax_flat_hw", am, 4, ydims, am_want);
    }
    return ci;
}

static void check_pool2d(rc *c, const cJSON *root) {
    const cJSON *in = object_field(c, root, "", "inputs");
    const cJSON *max = field_opt(root, "max"), *avg = field_opt(root, "avg");
    size_t cases = 0;
    if (c->bad) return;
    if (!max && !avg) {
        malformed(c, "max", "missing (and no avg either)");
        return;
    }
    if (max && !cJSON_IsArray(max)) malformed(c, "max", "not an array");
    if (avg && !cJSON_IsArray(avg)) malformed(c, "avg", "not an array");
    if (max) cases += check_pool_list(c, in, max, "max", 1);
    if (avg && !c->bad) cases += check_pool_list(c, in, avg, "avg", 0);
    if (cases == 0 && !c->bad) malformed(c, "max", "no cases");
}

static void check_batchnorm(rc *c, const cJSON *root, const char *op) {
    const cJSON *in = object_field(c, root, "", "inputs"),
                *out = object_field(c, root, "", "outputs");
    tensor *x = tensor_field(c, in, "inputs", "x");
    tensor *gamma = tensor_field_opt(c, in, "inputs", "gamma");
    tensor *beta = tensor_field_opt(c, in, "inputs", "beta");
    tensor *dy = tensor_field(c, in, "inputs", "grad_output");
    tensor *x_eval = tensor_field(c, in, "inputs", "x_eval");
    tensor *rm0 = tensor_field_opt(c, in, "inputs", "running_mean");
    tensor *rv0 = tensor_field_opt(c, in, "inputs", "running_var");
    tensor *y_want = tensor_field(c, out, "outputs", "y_train");
    tensor *mean_want = tensor_field(c, out, "outputs", "batch_mean");
    tensor *varb_want = tensor_field(c, out, "outputs", "batch_var_biased");
    tensor *varu_want = tensor_field(c, out, "outputs", "batch_var_unbiased");
    tensor *rm_want = tensor_field(c, out, "outputs", "running_mean_after");
    tensor *rv_want = tensor_field(c, out, "outputs", "running_var_after");
    tensor *dx_want = tensor_field(c, out, "outputs", "grad_x");
    tensor *dg_want = gamma ? tensor_field(c, out, "outputs", "grad_gamma") : NULL;
    tensor *db_want = beta ? tensor_field(c, out, "outputs", "grad_beta") : NULL;
    tensor *ye_want = tensor_field(c, out, "outputs", "y_eval_after_one_train_step");
    double eps = 1e-5, momentum = 0.1;
    size_t n, ch, hw, i, m, cdim[1];
    float *y, *mean, *var, *varu, *save_mean, *save_invstd, *rm, *rv, *dx, *dg, *db, *ye;
    lathe_error err;
    char label[LABEL_CAP];
    if (field_opt(in, "eps")) number_field(c, in, "inputs", "eps", &eps);
    if (field_opt(in, "momentum")) number_field(c, in, "inputs", "momentum", &momentum);
    if (c->bad) return;
    if (x->ndim < 2) {
        malformed(c, x->path, "needs at least 2 dimensions (N, C, ...)");
        return;
    }
    n = x->shape[0], ch = x->shape[1];
    hw = n ? x->count / n / (ch ? ch : 1) : 0;
    cdim[0] = ch;
    if ((gamma && !expect_shape(c, gamma, 1, cdim)) || (beta && !expect_shape(c, beta, 1, cdim)) ||
        (rm0 && !expect_shape(c, rm0, 1, cdim)) || (rv0 && !expect_shape(c, rv0, 1, cdim)) ||
        !expect_shape(c, dy, x->ndim, x->shape))
        return;
    if (x_eval->ndim != x->ndim || x_eval->shape[1] != ch ||
        (x->ndim > 2 && memcmp(x_eval->shape + 2, x->shape + 2, (x->ndim - 2) * sizeof(size_t)))) {
        malformed(c, x_eval->path, "shape does not fit x (same channels and positions)");
        return;
    }
    m = n * hw;
    y = floats(c, x->count), dx = floats(c, x->count), ye = floats(c, x_eval->count);
    mean = floats(c, ch), var = floats(c, ch), varu = floats(c, ch);
    save_mean = floats(c, ch), save_invstd = floats(c, ch), rm = floats(c, ch);
    rv = floats(c, ch), dg = floats(c, ch), db = floats(c, ch);
    if (c->bad) return;
    snprintf(label, sizeof label, "%s", op);
    lathe_batchnorm_init_running(ch, rm, rv); /* unless the file gives the starting stats */
    if (rm0) memcpy(rm, rm0->f, ch * sizeof *rm);
    if (rv0) memcpy(rv, rv0->f, ch * sizeof *rv);
    if (lathe_batchnorm_forward_train(n, ch, hw, (float)eps, (float)momentum, x->f,
                                      gamma ? gamma->f : NULL, beta ? beta->f : NULL, y, save_mean,
                                      save_invstd, rm, rv, &err) != LATHE_OK) {
        malformed(c, x->path, "%s", err.message);
        return;
    }
    lathe_batchnorm_stats(n, ch, hw, x->f, mean, var);
    /* The unbiased variance is not a core output: it is derived here as var·m/(m − 1). */
    for (i = 0; i < ch; i++)
        varu[i] = (float)((double)var[i] * (double)m / (double)(m - 1));
    lathe_batchnorm_backward(n, ch, hw, x->f, gamma ? gamma->f : NULL, save_mean, save_invstd,
                             dy->f, dx, dg, db);
    lathe_batchnorm_forward_eval(x_eval->shape[0], ch, hw, (float)eps, x_eval->f,
                                 gamma ? gamma->f : NULL, beta ? beta->f : NULL, rm, rv, ye);
    compare(c, label, "y_train", y, x->ndim, x->shape, y_want, TOL_SUM);
    compare(c, label, "batch_mean", mean, 1, cdim, mean_want, TOL_SUM);
    compare(c, label, "batch_var_biased", var, 1, cdim, varb_want, TOL_SUM);
    compare(c, label, "batch_var_unbiased", varu, 1, cdim, varu_want, TOL_SUM);
    compare(c, label, "running_mean_after", rm, 1, cdim, rm_want, TOL_SUM);
    compare(c, label, "running_var_after", rv, 1, cdim, rv_want, TOL_SUM);
    compare(c, label, "grad_x", dx, x->ndim, x->shape, dx_want, TOL_SUM);
    if (dg_want) compare(c, label, "grad_gamma", dg, 1, cdim, dg_want, TOL_SUM);
    if (db_want) compare(c, label, "grad_beta", db, 1, cdim, db_want, TOL_SUM);
    compare(c, label, "y_eval_after_one_train_step", ye, x_eval->ndim, x_eval->shape, ye_want,
            TOL_SUM);
}

/* ---- optimisers ----------------------------------------------------------------------- */

static int same_word(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

/* The optimiser named by name up to its first '_' ("Adam", "adamw_lr0.01", "SGD"). */
static int optimizer_kind(const char *name, lathe_optimizer_kind *kind) {
    char word[16];
    size_t i;
    for (i = 0; name[i] && name[i] != '_' && i + 1 < sizeof word; i++)
        word[i] = name[i];
    word[i] = '\0';
    name = word;
    if (same_word(name, "sgd"))
        *kind = LATHE_OPT_SGD;
    else if (same_word(name, "adam"))
        *kind = LATHE_OPT_ADAM;
    else if (same_word(name, "adamw"))
        *kind = LATHE_OPT_ADAMW;
    else
        return 0;
    return 1;
}

static int truthy(const cJSON *v) {
    return cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0.0);
}

/* cfg from a PyTorch optimiser name ("Adam", "AdamW", "SGD") and its hyperparameters {lr,
 * betas, eps, weight_decay, momentum, dampening, nesterov}. 0 after a FAIL line or a
 * malformed report. */
static int optimizer_from_hyper(rc *c, const char *label, const char *name, const cJSON *hyper,
                                const char *hpath, lathe_optimizer_config *cfg) {
    lathe_optimizer_kind kind;
    const cJSON *betas = field_opt(hyper, "betas");
    double v;
    if (!optimizer_kind(name, &kind)) {
        fail_msg(c, label, "unknown optimizer '%s'", name);
        return 0;
    }
    *cfg = lathe_optimizer_defaults(kind);
    if (number_field(c, hyper, hpath, "lr", &v)) cfg->lr = (float)v;
    if (field_opt(hyper, "eps") && number_field(c, hyper, hpath, "eps", &v)) cfg->eps = (float)v;
    if (field_opt(hyper, "weight_decay") && number_field(c, hyper, hpath, "weight_decay", &v))
        cfg->weight_decay = (float)v;
    if (field_opt(hyper, "momentum") && number_field(c, hyper, hpath, "momentum", &v))
        cfg->momentum = (float)v;
    if (field_opt(hyper, "dampening") && number_field(c, hyper, hpath, "dampening", &v))
        cfg->dampening = (float)v;
    cfg->nesterov = truthy(field_opt(hyper, "nesterov"));
    if (betas) {
        char path[PATH_CAP];
        join(path, hpath, "betas");
        if (!cJSON_IsArray(betas) || cJSON_GetArraySize(betas) != 2 ||
            !cJSON_IsNumber(cJSON_GetArrayItem(betas, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(betas, 1))) {
            malformed(c, path, "not a pair of numbers");
            return 0;
        }
        cfg->beta1 = (float)cJSON_GetArrayItem(betas, 0)->valuedouble;
        cfg->beta2 = (float)cJSON_GetArrayItem(betas, 1)->valuedouble;
    }
    if (c->bad) return 0;
    if (truthy(field_opt(hyper, "amsgrad")) || truthy(field_opt(hyper, "maximize"))) {
        fail_msg(c, label, "amsgrad and maximize are not supported");
        return 0;
    }
    return 1;
}

/* cfg from a case name such as "adam_lr0.01" or "sgd_lr0.1_momentum0.9": the optimiser, then
 * lr, momentum, dampening, wd or weightdecay, eps, beta1, beta2 followed by a number, or
 * nesterov. 0 after a FAIL line. */
static int optimizer_from_name(rc *c, const char *label, const char *desc,
                               lathe_optimizer_config *cfg) {
    static const char *const keys[] = {"lr",  "momentum", "dampening", "weightdecay", "wd",
                                       "eps", "beta1",    "beta2",     NULL};
    char buf[128], *tok, *next;
    lathe_optimizer_kind kind;
    copy_str(buf, sizeof buf, desc);
    next = strchr(buf, '_');
    if (next) *next++ = '\0';
    if (!optimizer_kind(buf, &kind)) {
        fail_msg(c, label, "unknown optimizer in '%s'", desc);
        return 0;
    }
    *cfg = lathe_optimizer_defaults(kind);
    for (tok = next; tok; tok = next) {
        size_t k;
        char *end;
        double v;
        next = strchr(tok, '_');
        if (next) *next++ = '\0';
        if (same_word(tok, "nesterov")) {
            cfg->nesterov = 1;
            continue;
        }
        for (k = 0; keys[k]; k++)
            if (strncmp(tok, keys[k], strlen(keys[k])) == 0) break;
        if (!keys[k]) {
            fail_msg(c, label, "unknown optimizer setting '%s' in '%s'", tok, desc);
            return 0;
        }
        v = strtod(tok + strlen(keys[k]), &end);
        if (end == tok + strlen(keys[k]) || *end != '\0') {
            fail_msg(c, label, "'%s' in '%s' has no number", tok, desc);
            return 0;
        }
        switch (k) {
        case 0:
            cfg->lr = (float)v;
            break;
        case 1:
            cfg->momentum = (float)v;
            break;
        case 2:
            cfg->dampening = (float)v;
            break;
        case 3:
        case 4:
            cfg->weight_decay = (float)v;
            break;
        case 5:
            cfg->eps = (float)v;
            break;
        case 6:
            cfg->beta1 = (float)v;
            break;
        default:
            cfg->beta2 = (float)v;
            break;
        }
    }
    return 1;
}

/* Finds the key "<prefix><K>_steps" in obj; returns K (>= 1) and its item, or 0. */
static size_t steps_key(const cJSON *obj, const char *prefix, const cJSON **item) {
    const cJSON *it;
    size_t plen = strlen(prefix);
    cJSON_ArrayForEach(it, obj) {
        const char *s = it->string;
        char *end;
        unsigned long k;
        if (!s || strncmp(s, prefix, plen) != 0 || s[plen] < '0' || s[plen] > '9') continue;
        k = strtoul(s + plen, &end, 10);
        if (k >= 1 && k < 1000000 && strcmp(end, "_steps") == 0) {
            *item = it;
            return (size_t)k;
        }
    }
    return 0;
}

/* The history/after_step entry for step t: an element whose "step" is t (or, lacking "step",
 * the (t−1)-th element). */
static const cJSON *entry_for_step(const cJSON *list, size_t t, size_t *index) {
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, list) {
        const cJSON *s = field_opt(e, "step");
        if ((cJSON_IsNumber(s) && s->valuedouble == (double)t) || (!s && i + 1 == t)) {
            *index = i;
            return e;
        }
        i++;
    }
    return NULL;
}

/* Checks that every entry of base.key (list) has a step in [1, steps]. */
static int steps_in_range(rc *c, const cJSON *list, const char *base, const char *key,
                          size_t steps) {
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, list) {
        char path[PATH_CAP], at[PATH_CAP];
        size_t t = i + 1;
        join_index(path, base, key, i);
        if (field_opt(e, "step") && !size_field(c, e, path, "step", &t)) return 0;
        if (t < 1 || t > steps) {
            join(at, path, "step");
            malformed(c, at, "step %zu is outside 1..%zu", t, steps);
            return 0;
        }
        i++;
    }
    return 1;
}

/* What one after_step entry expects: the parameter and the optimiser state. */
#define OPT_KEYS 4
static const char *const opt_keys[OPT_KEYS] = {"param", "exp_avg", "exp_avg_sq", "momentum_buffer"};
typedef struct opt_expect {
    tensor *t[OPT_KEYS]; /* "param" required, the state tensors when present */
} opt_expect;

static void check_optimizers(rc *c, const cJSON *root) {
    const cJSON *in = object_field(c, root, "", "inputs"),
                *cases = array_field(c, root, "", "cases");
    const cJSON *grads_json = array_field(c, in, "inputs", "grads"), *cs, *g;
    tensor *p0 = tensor_field(c, in, "inputs", "param0"), **grads;
    size_t steps, i, ci = 0;
    if (c->bad) return;
    steps = (size_t)cJSON_GetArraySize(grads_json);
    if (steps == 0) {
        malformed(c, "inputs.grads", "no gradients");
        return;
    }
    grads = rc_alloc(c, steps, sizeof *grads);
    if (!grads) return;
    i = 0;
    cJSON_ArrayForEach(g, grads_json) {
        char path[PATH_CAP];
        join_index(path, "inputs", "grads", i);
        grads[i] = tensor_at(c, g, path, 0);
        if (!expect_shape(c, grads[i], p0->ndim, p0->shape)) return;
        i++;
    }
    cJSON_ArrayForEach(cs, cases) {
        char base[PATH_CAP], hpath[PATH_CAP], label[LABEL_CAP], what[PATH_CAP];
        const char *name = NULL, *opt;
        const cJSON *hyper, *after, *final_item = NULL, *e;
        lathe_optimizer_config cfg;
        size_t t, k, k_final, n = p0->count, per, n_after;
        float *p, *state;
        tensor *final_want;
        opt_expect *expect;
        join_index(base, "", "cases", ci);
        if (field_opt(cs, "name")) name = string_field(c, cs, base, "name");
        opt = string_field(c, cs, base, "optimizer");
        hyper = object_field(c, cs, base, "hyper");
        after = array_field(c, cs, base, "after_step");
        if (c->bad) return;
        snprintf(label, sizeof label, "optimizer[%s]", name ? name : opt);
        join(hpath, base, "hyper");
        ci++;
        k_final = steps_key(cs, "param_after_", &final_item);
        if (k_final == 0) {
            char path[PATH_CAP];
            snprintf(what, sizeof what, "param_after_%zu_steps", steps);
            join(path, base, what);
            malformed(c, path, "missing");
            return;
        }
        join(what, base, final_item->string);
        if (k_final > steps) {
            malformed(c, what, "%zu steps but inputs.grads has %zu gradients", k_final, steps);
            return;
        }
        final_want = tensor_at(c, final_item, what, 0);
        if (!expect_shape(c, final_want, p0->ndim, p0->shape) ||
            !steps_in_range(c, after, base, "after_step", steps))
            return;
        /* Every expected tensor is read before anything is computed. */
        n_after = (size_t)cJSON_GetArraySize(after);
        expect = rc_alloc(c, n_after, sizeof *expect);
        if (!expect) return;
        i = 0;
        cJSON_ArrayForEach(e, after) {
            char path[PATH_CAP];
            join_index(path, base, "after_step", i);
            for (k = 0; k < OPT_KEYS; k++) {
                tensor *tw = k == 0 ? tensor_field(c, e, path, opt_keys[k])
                                    : tensor_field_opt(c, e, path, opt_keys[k]);
                if (tw && !expect_shape(c, tw, p0->ndim, p0->shape)) return;
                expect[i].t[k] = tw;
            }
            i++;
        }
        if (c->bad) return;
        if (!optimizer_from_hyper(c, label, opt, hyper, hpath, &cfg)) {
            if (c->bad) return;
            continue;
        }
        per = lathe_optimizer_state_per_param(&cfg);
        p = floats(c, n), state = floats(c, n * (per ? per : 1));
        if (c->bad) return;
        memcpy(p, p0->f, n * sizeof *p);
        for (t = 1; t <= steps; t++) {
            size_t idx;
            lathe_optimizer_step(&cfg, cfg.lr, (unsigned long)t, n, p, grads[t - 1]->f, state);
            if (entry_for_step(after, t, &idx))
                for (k = 0; k < OPT_KEYS; k++) {
                    const float *got;
                    tensor *tw = expect[idx].t[k];
                    if (!tw) continue;
                    snprintf(what, sizeof what, "after_step[%zu].%s", idx, opt_keys[k]);
                    /* State layout (core/src/optim.c): Adam m then v; SGD the momentum buffer. */
                    if (k == 0)
                        got = p;
                    else if (k == 1 && per == 2)
                        got = state;
                    else if (k == 2 && per == 2)
                        got = state + n;
                    else if (k == 3 && per == 1)
                        got = state;
                    else {
                        fail_msg(c, label, "%s: the core keeps no such state for this setting",
                                 what);
                        continue;
                    }
                    compare(c, label, what, got, p0->ndim, p0->shape, tw, TOL_OP);
                }
            if (t == k_final)
                compare(c, label, final_item->string, p, p0->ndim, p0->shape, final_want, TOL_OP);
        }
    }
    if (ci == 0 && !c->bad) malformed(c, "cases", "no cases");
}

/* ---- MLP training --------------------------------------------------------------------- */

typedef struct mlp {
    size_t layers, n, dims[MAX_LAYERS + 1]; /* dims[0] inputs, dims[l+1] units of layer l */
    tensor *w0[MAX_LAYERS], *b0[MAX_LAYERS];
    float *w[MAX_LAYERS], *b[MAX_LAYERS], *dw[MAX_LAYERS], *db[MAX_LAYERS];
    float *sw[MAX_LAYERS], *sb[MAX_LAYERS]; /* optimiser state */
    float *z[MAX_LAYERS], *a[MAX_LAYERS];   /* pre-activation, ReLU output (not the last) */
    float *dz, *da;                         /* (n, widest) scratch */
} mlp;

/* Forward on x and the loss; the logits are m->z[layers − 1]. grads: also the backward. */
static float mlp_pass(mlp *m, const float *x, const uint32_t *targets, int grads) {
    const lathe_kernel_table *k = lathe_kernels();
    size_t l, L = m->layers;
    float loss;
    for (l = 0; l < L; l++) {
        const float *in = l ? m->a[l - 1] : x;
        lathe_dense_forward(k, m->n, m->dims[l], m->dims[l + 1], in, m->w[l], m->b[l], m->z[l]);
        if (l + 1 < L)
            lathe_activation_forward(LATHE_ACT_RELU, m->n * m->dims[l + 1], m->z[l], m->a[l]);
    }
    loss =
        lathe_softmax_cross_entropy(m->n, m->dims[L], m->z[L - 1], targets, grads ? m->dz : NULL);
    if (!grads) return loss;
    for (l = L; l-- > 0;) {
        const float *in = l ? m->a[l - 1] : x;
        lathe_dense_backward(k, m->n, m->dims[l], m->dims[l + 1], in, m->w[l], m->dz,
                             l ? m->da : NULL, m->dw[l], m->db[l]);
        if (l)
            lathe_activation_backward(LATHE_ACT_RELU, m->n * m->dims[l], m->z[l - 1], m->a[l - 1],
                                      m->da, m->dz);
    }
    return loss;
}

static void check_mlp(rc *c, const cJSON *root) {
    const cJSON *in = object_field(c, root, "", "inputs"),
                *cases = array_field(c, root, "", "cases");
    const cJSON *cs;
    tensor *x = tensor_field(c, in, "inputs", "x"),
           *t = int_tensor_field(c, in, "inputs", "targets");
    mlp m;
    size_t l, ci = 0, widest;
    uint32_t *targets;
    if (c->bad || !expect_shape(c, x, 2, DIMS(ANY, ANY)) ||
        !expect_shape(c, t, 1, DIMS(x->shape[0])))
        return;
    memset(&m, 0, sizeof m);
    m.n = x->shape[0], m.dims[0] = x->shape[1], widest = m.dims[0];
    for (l = 0; l < MAX_LAYERS; l++) {
        char wkey[16], bkey[16];
        snprintf(wkey, sizeof wkey, "W%zu", l + 1);
        snprintf(bkey, sizeof bkey, "b%zu", l + 1);
        if (!field_opt(in, wkey)) break;
        m.w0[l] = tensor_field(c, in, "inputs", wkey);
        m.b0[l] = tensor_field_opt(c, in, "inputs", bkey);
        if (!expect_shape(c, m.w0[l], 2, DIMS(ANY, m.dims[l]))) return;
        m.dims[l + 1] = m.w0[l]->shape[0];
        if (m.b0[l] && !expect_shape(c, m.b0[l], 1, DIMS(m.dims[l + 1]))) return;
        if (m.dims[l + 1] > widest) widest = m.dims[l + 1];
    }
    m.layers = l;
    if (m.layers == 0) {
        malformed(c, "inputs.W1", "missing");
        return;
    }
    if (m.n == 0 || m.dims[m.layers] == 0) {
        malformed(c, x->path, "empty batch or no classes");
        return;
    }
    targets = targets_of(c, t, m.dims[m.layers]);
    for (l = 0; l < m.layers; l++) {
        size_t nw = m.dims[l] * m.dims[l + 1], nb = m.dims[l + 1];
        m.w[l] = floats(c, nw), m.dw[l] = floats(c, nw), m.sw[l] = floats(c, 2 * nw);
        m.b[l] = m.b0[l] ? floats(c, nb) : NULL, m.db[l] = floats(c, nb);
        m.sb[l] = floats(c, 2 * nb);
        m.z[l] = floats(c, m.n * nb), m.a[l] = floats(c, m.n * nb);
    }
    m.dz = floats(c, m.n * widest), m.da = floats(c, m.n * widest);
    if (c->bad) return;
    cJSON_ArrayForEach(cs, cases) {
        char base[PATH_CAP], label[LABEL_CAP], what[PATH_CAP];
        const char *opt;
        const cJSON *history, *loss_item = NULL, *params_item = NULL, *e;
        lathe_optimizer_config cfg;
        size_t steps, k_params, step, L = m.layers;
        double loss_final_want;
        int ok;
        join_index(base, "", "cases", ci);
        opt = string_field(c, cs, base, "optimizer");
        history = array_field(c, cs, base, "history");
        if (c->bad) return;
        snprintf(label, sizeof label, "mlp[%s]", opt);
        ci++;
        steps = steps_key(cs, "loss_after_", &loss_item);
        k_params = steps_key(cs, "params_after_", &params_item);
        if (steps == 0 || k_params != steps) {
            char path[PATH_CAP];
            snprintf(what, sizeof what, "%s_after_%zu_steps", steps ? "params" : "loss",
                     steps ? steps : (size_t)cJSON_GetArraySize(history));
            join(path, base, what);
            malformed(c, path, "missing");
            return;
        }
        join(what, base, loss_item->string);
        if (!cJSON_IsNumber(loss_item)) {
            malformed(c, what, "not a number");
            return;
        }
        loss_final_want = loss_item->valuedouble;
        join(what, base, params_item->string);
        for (l = 0; l < L; l++) {
            char key[16];
            snprintf(key, sizeof key, "W%zu", l + 1);
            if (!expect_shape(c, tensor_field(c, params_item, what, key), 2,
                              DIMS(m.dims[l + 1], m.dims[l])))
                return;
            snprintf(key, sizeof key, "b%zu", l + 1);
            if (m.b0[l] &&
                !expect_shape(c, tensor_field(c, params_item, what, key), 1, DIMS(m.dims[l + 1])))
                return;
        }
        if (!steps_in_range(c, history, base, "history", steps)) return;
        join(what, base, "hyper");
        ok = field_opt(cs, "hyper")
                 ? optimizer_from_hyper(c, label, opt, field_opt(cs, "hyper"), what, &cfg)
                 : optimizer_from_name(c, label, opt, &cfg);
        if (c->bad) return;
        if (!ok) continue;
        for (l = 0; l < L; l++) {
            size_t nw = m.dims[l] * m.dims[l + 1], nb = m.dims[l + 1];
            memcpy(m.w[l], m.w0[l]->f, nw * sizeof(float));
            memset(m.sw[l], 0, 2 * nw * sizeof(float));
            memset(m.sb[l], 0, 2 * nb * sizeof(float));
            if (m.b0[l]) memcpy(m.b[l], m.b0[l]->f, nb * sizeof(float));
        }
        for (step = 1; step <= steps + 1; step++) {
            size_t idx;
            float loss = mlp_pass(&m, x->f, targets, step <= steps);
            const float *logits = m.z[L - 1];
            if (step > steps) {
                compare_scalar(c, label, loss_item->string, loss, loss_final_want, TOL_SUM);
                break;
            }
            e = entry_for_step(history, step, &idx);
            if (e) {
                char hb[PATH_CAP], path[PATH_CAP];
                double want;
                const cJSON *gr = field_opt(e, "grads");
                tensor *lw;
                join_index(hb, "", "history", idx);
                join_index(path, base, "history", idx);
                if (field_opt(e, "loss_before_step") &&
                    number_field(c, e, path, "loss_before_step", &want)) {
                    join(what, hb, "loss_before_step");
                    compare_scalar(c, label, what, loss, want, TOL_SUM);
                }
                if ((lw = tensor_field_opt(c, e, path, "logits")) != NULL) {
                    join(what, hb, "logits");
                    compare(c, label, what, logits, 2, DIMS(m.n, m.dims[L]), lw, TOL_SUM);
                }
                if (gr) {
                    const cJSON *gi;
                    char gpath[PATH_CAP];
                    join(gpath, path, "grads");
                    cJSON_ArrayForEach(gi, gr) {
                        const char *key = gi->string;
                        size_t li;
                        char *end = NULL, tmp[PATH_CAP];
                        tensor *gw;
                        join(path, gpath, key);
                        li = (key[0] == 'W' || key[0] == 'b') ? strtoul(key + 1, &end, 10) : 0;
                        if (li < 1 || li > L || !end || *end != '\0' ||
                            (key[0] == 'b' && !m.b0[li - 1])) {
                            malformed(c, path, "not a parameter of the model");
                            return;
                        }
                        gw = tensor_at(c, gi, path, 0);
                        if (c->bad) return;
                        join(tmp, hb, "grads");
                        join(what, tmp, key);
                        if (key[0] == 'W')
                            compare(c, label, what, m.dw[li - 1], 2,
                                    DIMS(m.dims[li], m.dims[li - 1]), gw, TOL_SUM);
                        else
                            compare(c, label, what, m.db[li - 1], 1, DIMS(m.dims[li]), gw, TOL_SUM);
                    }
                }
                if (c->bad) return;
            }
            for (l = 0; l < L; l++) {
                size_t nw = m.dims[l] * m.dims[l + 1], nb = m.dims[l + 1];
                lathe_optimizer_step(&cfg, cfg.lr, (unsigned long)step, nw, m.w[l], m.dw[l],
                                     m.sw[l]);
                if (m.b[l])
                    lathe_optimizer_step(&cfg, cfg.lr, (unsigned long)step, nb, m.b[l], m.db[l],
                                         m.sb[l]);
            }
        }
        join(what, base, params_item->string);
        for (l = 0; l < L; l++) {
            char key[16], name[PATH_CAP];
            snprintf(key, sizeof key, "W%zu", l + 1);
            join(name, params_item->string, key);
            compare(c, label, name, m.w[l], 2, DIMS(m.dims[l + 1], m.dims[l]),
                    tensor_field(c, params_item, what, key), TOL_SUM);
            if (!m.b[l]) continue;
            snprintf(key, sizeof key, "b%zu", l + 1);
            join(name, params_item->string, key);
            compare(c, label, name, m.b[l], 1, DIMS(m.dims[l + 1]),
                    tensor_field(c, params_item, what, key), TOL_SUM);
        }
    }
    if (ci == 0 && !c->bad) malformed(c, "cases", "no cases");
}

/* ---- files and the command ------------------------------------------------------------ */

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_file(rc *c, const char *dir, const char *name) {
    char path[4096];
    char *text;
    size_t size;
    cJSON *root;
    const char *op;
    c->file = name;
    c->bad = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    text = cli_read_file(path, &size);
    if (!text) {
        c->any_bad = 1;
        return;
    }
    root = cJSON_ParseWithLength(text, size);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t offset = at && at >= text && at <= text + size ? (size_t)(at - text) : size;
        malformed(c, "", "not valid JSON (near byte %zu)", offset);
        free(text);
        return;
    }
    free(text);
    op = string_field(c, root, "", "op");
    if (!op) {
        /* reported */
    } else if (strcmp(op, "linear") == 0) {
        check_linear(c, root);
    } else if (strcmp(op, "activations") == 0) {
        check_activations(c, root);
    } else if (strcmp(op, "softmax_cross_entropy") == 0) {
        check_softmax_ce(c, root);
    } else if (strcmp(op, "mse_loss") == 0 || strcmp(op, "mse") == 0) {
        check_mse(c, root);
    } else if (strcmp(op, "conv2d") == 0) {
        check_conv2d(c, root);
    } else if (strstr(op, "pool2d")) {
        check_pool2d(c, root);
    } else if (starts_with(op, "batchnorm")) {
        check_batchnorm(c, root, op);
    } else if (starts_with(op, "optimizer")) {
        check_optimizers(c, root);
    } else if (starts_with(op, "MLP")) {
        check_mlp(c, root);
    } else {
        fail_msg(c, name, "unknown op '%s'", op);
    }
    cJSON_Delete(root);
    rc_free_all(c);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

#define SHORT_USAGE "usage: lathe reference-check DIR [--json]  (see --help)\n"

static void rc_usage(FILE *out) {
    fputs("usage: lathe reference-check DIR [--json]\n"
          "\n"
          "Checks the core against PyTorch reference vectors: reads every *.json file in DIR\n"
          "(in name order), dispatches on its \"op\" (linear, activations, softmax_cross_entropy,\n"
          "mse_loss, conv2d, max_pool2d / avg_pool2d, batchnorm1d, optimizer steps, MLP\n"
          "training), runs every case through the core and compares every output with\n"
          "|got - want| <= atol + rtol*|want|: rtol 1e-5, atol 1e-6 for single ops and\n"
          "optimiser steps; rtol 1e-4, atol 1e-5 for conv2d, batch norm and MLP training.\n"
          "\n"
          "Prints one line per output, \"PASS op[case]: output\" or\n"
          "\"FAIL op[case]: output[i] got G want W (...)\", then \"N passed, M failed\".\n"
          "\n"
          "options:\n"
          "  --json       print one JSON report (results, errors, counts) instead\n"
          "  -h, --help   show this help\n"
          "\n"
          "exit status: 0 all passed, 1 a check failed (an unknown op counts as a failure),\n"
          "2 bad usage, or an unreadable or malformed file (named on stderr with the JSON path\n"
          "of the problem)\n",
          out);
}

int cmd_reference_check(int argc, char **argv) {
    const char *dir = NULL;
    int a, json = 0, options_done = 0, status;
    DIR *d;
    struct dirent *ent;
    char **names = NULL;
    size_t n_names = 0, cap = 0, i;
    rc c;
    for (a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!options_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            rc_usage(stdout);
            return CLI_OK;
        } else if (!options_done && strcmp(arg, "--json") == 0) {
            json = 1;
        } else if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "lathe reference-check: unknown option '%s'\n%s", arg, SHORT_USAGE);
            return CLI_USAGE;
        } else if (dir) {
            fprintf(stderr, "lathe reference-check: one DIR only ('%s' and '%s')\n%s", dir, arg,
                    SHORT_USAGE);
            return CLI_USAGE;
        } else {
            dir = arg;
        }
    }
    if (!dir) {
        fprintf(stderr, "lathe reference-check: no DIR given\n%s", SHORT_USAGE);
        return CLI_USAGE;
    }
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "lathe reference-check: %s: %s\n", dir, strerror(errno));
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
        fprintf(stderr, "lathe reference-check: %s: no *.json files\n", dir);
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
        cJSON_AddNumberToObject(report, "exit_status", status);
        cJSON_AddItemToObject(report, "errors", c.errors);
        cJSON_AddItemToObject(report, "results", c.results);
        printed = cJSON_Print(report);
        if (printed) puts(printed);
        free(printed);
        cJSON_Delete(report);
    } else {
        printf("%ld passed, %ld failed\n", c.passed, c.failed);
    }
    for (i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(c.allocs);
    return status;
}
