/* The reference-vector reader: see vectors.h. */
#include "vectors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference_check.h"

const ref_tol REF_TOL_OP = {1e-5, 1e-6};
const ref_tol REF_TOL_SUM = {1e-4, 1e-5};

/* Bounded string building for JSON paths and labels (truncates, always terminates). */
void ref_append(char *out, size_t cap, size_t *used, const char *s) {
    while (*s && *used + 1 < cap)
        out[(*used)++] = *s++;
    out[*used] = '\0';
}

void ref_copy_str(char *out, size_t cap, const char *s) {
    size_t used = 0;
    ref_append(out, cap, &used, s);
}

/* out = "base.key" (or "key" when base is empty). out must not be base. */
void ref_join(char *out, const char *base, const char *key) {
    size_t used = 0;
    out[0] = '\0';
    ref_append(out, REF_PATH_CAP, &used, base);
    if (base[0]) ref_append(out, REF_PATH_CAP, &used, ".");
    ref_append(out, REF_PATH_CAP, &used, key);
}

/* out = "base.key[i]" (or "key[i]"). */
void ref_join_index(char *out, const char *base, const char *key, size_t i) {
    char num[32];
    size_t used;
    ref_join(out, base, key);
    used = strlen(out);
    snprintf(num, sizeof num, "[%zu]", i);
    ref_append(out, REF_PATH_CAP, &used, num);
}

void ref_malformed(ref_run *c, const char *path, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    if (c->bad) return;
    c->bad = 1;
    c->any_bad = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ref_report_malformed(c, path, msg);
}

/* Zeroed memory for count elements of size bytes, owned by the current file; NULL (and the
 * file marked bad) on failure. */
void *ref_alloc(ref_run *c, size_t count, size_t size) {
    void *p;
    if (c->bad) return NULL;
    if (count == 0) count = 1;
    if (size != 0 && count > SIZE_MAX / size) {
        ref_malformed(c, "", "a tensor is too large");
        return NULL;
    }
    if (c->n_allocs == c->cap_allocs) {
        size_t cap = c->cap_allocs ? 2 * c->cap_allocs : 64;
        void **grown = realloc(c->allocs, cap * sizeof *grown);
        if (!grown) {
            ref_malformed(c, "", "out of memory");
            return NULL;
        }
        c->allocs = grown, c->cap_allocs = cap;
    }
    p = calloc(count, size);
    if (!p) {
        ref_malformed(c, "", "out of memory");
        return NULL;
    }
    c->allocs[c->n_allocs++] = p;
    return p;
}

float *ref_floats(ref_run *c, size_t n) {
    return ref_alloc(c, n, sizeof(float));
}

void ref_free_all(ref_run *c) {
    size_t i;
    for (i = 0; i < c->n_allocs; i++)
        free(c->allocs[i]);
    c->n_allocs = 0;
}

void ref_shape_str(char *out, size_t cap, size_t ndim, const size_t *dims) {
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
    if (ndim == 0) ref_copy_str(out, cap, "[]");
}

const cJSON *ref_field_opt(const cJSON *obj, const char *key) {
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

const cJSON *ref_field(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it;
    char path[REF_PATH_CAP];
    if (c->bad) return NULL;
    it = ref_field_opt(obj, key);
    if (!it) {
        ref_join(path, base, key);
        ref_malformed(c, path, "missing");
    }
    return it;
}

const cJSON *ref_object_field(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it = ref_field(c, obj, base, key);
    char path[REF_PATH_CAP];
    if (it && !cJSON_IsObject(it)) {
        ref_join(path, base, key);
        ref_malformed(c, path, "not an object");
        return NULL;
    }
    return it;
}

const cJSON *ref_array_field(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it = ref_field(c, obj, base, key);
    char path[REF_PATH_CAP];
    if (it && !cJSON_IsArray(it)) {
        ref_join(path, base, key);
        ref_malformed(c, path, "not an array");
        return NULL;
    }
    return it;
}

int ref_number_field(ref_run *c, const cJSON *obj, const char *base, const char *key, double *out) {
    const cJSON *it = ref_field(c, obj, base, key);
    char path[REF_PATH_CAP];
    if (!it) return 0;
    if (!cJSON_IsNumber(it)) {
        ref_join(path, base, key);
        ref_malformed(c, path, "not a number");
        return 0;
    }
    *out = it->valuedouble;
    return 1;
}

/* A non-negative integer (at most 2^31 − 1, enough for any size or stride here). */
int ref_size_of(ref_run *c, const cJSON *it, const char *path, size_t *out) {
    double v;
    if (!cJSON_IsNumber(it)) {
        ref_malformed(c, path, "not a number");
        return 0;
    }
    v = it->valuedouble;
    if (!(v >= 0.0 && v <= 2147483647.0) || (double)(long)v != v) {
        ref_malformed(c, path, "%.17g is not a non-negative integer", v);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

int ref_size_field(ref_run *c, const cJSON *obj, const char *base, const char *key, size_t *out) {
    const cJSON *it = ref_field(c, obj, base, key);
    char path[REF_PATH_CAP];
    if (!it) return 0;
    ref_join(path, base, key);
    return ref_size_of(c, it, path, out);
}

const char *ref_string_field(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *it = ref_field(c, obj, base, key);
    char path[REF_PATH_CAP];
    if (!it) return NULL;
    if (!cJSON_IsString(it)) {
        ref_join(path, base, key);
        ref_malformed(c, path, "not a string");
        return NULL;
    }
    return it->valuestring;
}

/* Parses the tensor node t found at path; integer tensors must hold integers. */
ref_tensor *ref_tensor_at(ref_run *c, const cJSON *t, const char *path, int integer) {
    const cJSON *shape, *data, *v;
    ref_tensor *out;
    char sub[REF_PATH_CAP];
    size_t k, count = 1;
    if (c->bad) return NULL;
    if (!cJSON_IsObject(t)) {
        ref_malformed(c, path, "not a tensor ({\"shape\": [...], \"data\": [...]})");
        return NULL;
    }
    shape = ref_array_field(c, t, path, "shape");
    data = ref_array_field(c, t, path, "data");
    out = ref_alloc(c, 1, sizeof *out);
    if (c->bad) return NULL;
    ref_copy_str(out->path, sizeof out->path, path);
    out->ndim = (size_t)cJSON_GetArraySize(shape);
    ref_join(sub, path, "shape");
    if (out->ndim > REF_MAX_DIMS) {
        ref_malformed(c, sub, "%zu dimensions (at most %d)", out->ndim, REF_MAX_DIMS);
        return NULL;
    }
    k = 0;
    cJSON_ArrayForEach(v, shape) {
        char at[REF_PATH_CAP];
        ref_join_index(at, path, "shape", k);
        if (!ref_size_of(c, v, at, &out->shape[k])) return NULL;
        if (out->shape[k] != 0 && count > SIZE_MAX / out->shape[k]) {
            ref_malformed(c, sub, "too many elements");
            return NULL;
        }
        count *= out->shape[k++];
    }
    out->count = count;
    ref_join(sub, path, "data");
    if ((size_t)cJSON_GetArraySize(data) != count) {
        char s[96];
        ref_shape_str(s, sizeof s, out->ndim, out->shape);
        ref_malformed(c, sub, "has %d numbers, the shape %s needs %zu", cJSON_GetArraySize(data), s,
                  count);
        return NULL;
    }
    if (integer)
        out->i = ref_alloc(c, count, sizeof *out->i);
    else
        out->f = ref_floats(c, count);
    if (c->bad) return NULL;
    k = 0;
    cJSON_ArrayForEach(v, data) {
        if (!cJSON_IsNumber(v)) {
            char at[REF_PATH_CAP];
            ref_join_index(at, path, "data", k);
            ref_malformed(c, at, "not a number");
            return NULL;
        }
        if (integer) {
            double d = v->valuedouble;
            if (!(d > -9.2e18 && d < 9.2e18) || (double)(int64_t)d != d) {
                char at[REF_PATH_CAP];
                ref_join_index(at, path, "data", k);
                ref_malformed(c, at, "%.17g is not an integer", d);
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

static ref_tensor *tensor_field_ex(ref_run *c, const cJSON *obj, const char *base, const char *key,
                               int integer) {
    const cJSON *t = ref_field(c, obj, base, key);
    char path[REF_PATH_CAP];
    if (!t) return NULL;
    ref_join(path, base, key);
    return ref_tensor_at(c, t, path, integer);
}

ref_tensor *ref_tensor_field(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    return tensor_field_ex(c, obj, base, key, 0);
}

ref_tensor *ref_int_tensor_field(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    return tensor_field_ex(c, obj, base, key, 1);
}

/* The tensor obj[key] when present, else NULL (without an error). */
ref_tensor *ref_tensor_field_opt(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    return ref_field_opt(obj, key) ? ref_tensor_field(c, obj, base, key) : NULL;
}

/* Checks t's shape against dims (SIZE_MAX matches any size). */
int ref_expect_shape(ref_run *c, const ref_tensor *t, size_t ndim, const size_t *dims) {
    size_t i;
    int ok = t && t->ndim == ndim;
    if (!t) return 0;
    for (i = 0; ok && i < ndim; i++)
        ok = dims[i] == SIZE_MAX || dims[i] == t->shape[i];
    if (!ok) {
        char a[96], b[96];
        ref_shape_str(a, sizeof a, t->ndim, t->shape);
        ref_shape_str(b, sizeof b, ndim, dims);
        /* Show wildcards as "*" would need a second format; sizes known so far are enough. */
        ref_malformed(c, t->path, "shape %s does not fit the other inputs (expected %s)", a, b);
    }
    return ok;
}

/* Class targets in [0, classes) as uint32_t. */
uint32_t *ref_targets_of(ref_run *c, const ref_tensor *t, size_t classes) {
    size_t i;
    uint32_t *out = ref_alloc(c, t->count, sizeof *out);
    if (!out) return NULL;
    for (i = 0; i < t->count; i++) {
        if (t->i[i] < 0 || (uint64_t)t->i[i] >= classes) {
            char at[REF_PATH_CAP];
            ref_join_index(at, t->path, "data", i);
            ref_malformed(c, at, "target %lld is not a class in [0, %zu)", (long long)t->i[i], classes);
            return NULL;
        }
        out[i] = (uint32_t)t->i[i];
    }
    return out;
}

ref_tensor *ref_numbers_field(ref_run *c, const cJSON *obj, const char *base, const char *key) {
    const cJSON *arr = ref_array_field(c, obj, base, key), *v;
    ref_tensor *out;
    size_t k = 0;
    if (!arr) return NULL;
    out = ref_alloc(c, 1, sizeof *out);
    if (!out) return NULL;
    ref_join(out->path, base, key);
    out->ndim = 1;
    out->count = out->shape[0] = (size_t)cJSON_GetArraySize(arr);
    out->f = ref_floats(c, out->count);
    if (!out->f) return NULL;
    cJSON_ArrayForEach(v, arr) {
        if (!cJSON_IsNumber(v)) {
            char at[REF_PATH_CAP];
            ref_join_index(at, base, key, k);
            ref_malformed(c, at, "not a number");
            return NULL;
        }
        out->f[k++] = (float)v->valuedouble;
    }
    return out;
}
