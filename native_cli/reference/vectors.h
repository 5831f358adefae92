/* Reading PyTorch reference-vector files (the format of ../shared/reference/vectors/README.md):
 * tensors {"shape": [...], "data": [...]} in row-major order, numbers, sizes and strings, each
 * read at a JSON path that a message names. Everything allocated for a file is owned by the
 * run (ref_run) and freed together when the file is done, so a malformed file can stop
 * anywhere without leaking.
 *
 * The reference check lives in native_cli/reference/ rather than in the core or in tests/:
 * it reads files (which the core never does) and it is a user-facing command (`lathe
 * reference-check DIR`, also run by ctest natively and under node), so it belongs to the CLI;
 * but it is a harness, not argument parsing, so it has its own folder: this reader, the cases
 * (cases_*.c, one check function per file kind, listed in cases.h) and the runner
 * (reference_check.c). cmd_reference_check.c only parses the command line. */
#ifndef LATHE_REFERENCE_VECTORS_H
#define LATHE_REFERENCE_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"

#define REF_MAX_DIMS 8
#define REF_PATH_CAP 256
#define REF_LABEL_CAP 160
#define REF_MAX_LAYERS 16

/* |got − want| <= atol + rtol·|want| (NaN never passes). */
typedef struct ref_tol {
    double rtol, atol;
} ref_tol;

/* Single ops and optimiser steps; summation-heavy ops and multi-step training (the README). */
extern const ref_tol REF_TOL_OP, REF_TOL_SUM;

/* A tensor read from a file. */
typedef struct ref_tensor {
    char path[REF_PATH_CAP]; /* JSON path, for messages */
    size_t ndim, shape[REF_MAX_DIMS], count;
    float *f;   /* float tensors */
    int64_t *i; /* integer tensors (class targets, argmax indices) */
} ref_tensor;

/* The state of one run: the current file and case, counters, and the file's allocations. */
typedef struct ref_run {
    const char *file;
    int json;
    long passed, failed, not_implemented;
    long file_lines; /* case lines (of any kind) printed for the current file */
    int bad;         /* the current file is malformed (already reported) */
    int any_bad;     /* some file was unreadable or malformed: exit status 2 */
    void **allocs;
    size_t n_allocs, cap_allocs;
    cJSON *results, *errors; /* --json */
    /* the open case (reference_check.h) */
    int in_case, case_failed;
    char case_name[REF_LABEL_CAP];
    size_t case_outputs;
    double case_max_err; /* largest |got − want| over the case's outputs */
    char case_max_what[REF_PATH_CAP];
    char case_why[1024]; /* the failures, "; "-separated */
    cJSON *case_json;    /* --json: the case's outputs */
} ref_run;

/* Bounded string building (truncates, always terminates). */
void ref_append(char *out, size_t cap, size_t *used, const char *s);
void ref_copy_str(char *out, size_t cap, const char *s);
/* out:(REF_PATH_CAP) = "base.key" (or "key" when base is empty); out must not be base. */
void ref_join(char *out, const char *base, const char *key);
/* out:(REF_PATH_CAP) = "base.key[i]". */
void ref_join_index(char *out, const char *base, const char *key, size_t i);
/* "[2,3]" into out:(cap). */
void ref_shape_str(char *out, size_t cap, size_t ndim, const size_t *dims);

/* Reports the first problem of a malformed file ("FILE: path: message" on stderr and as a
 * FAIL line) and marks it bad; later calls for the same file do nothing. */
void ref_malformed(ref_run *c, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Zeroed memory for count elements of size bytes, owned by the current file; NULL (and the
 * file marked bad) on failure or when the file is already bad. */
void *ref_alloc(ref_run *c, size_t count, size_t size);
float *ref_floats(ref_run *c, size_t n);
/* Frees every allocation of the current file. */
void ref_free_all(ref_run *c);

/* obj[key] or NULL, without a message. */
const cJSON *ref_field_opt(const cJSON *obj, const char *key);
/* obj[key] found at path base; missing or of the wrong type: NULL and a malformed report. */
const cJSON *ref_field(ref_run *c, const cJSON *obj, const char *base, const char *key);
const cJSON *ref_object_field(ref_run *c, const cJSON *obj, const char *base, const char *key);
const cJSON *ref_array_field(ref_run *c, const cJSON *obj, const char *base, const char *key);
const char *ref_string_field(ref_run *c, const cJSON *obj, const char *base, const char *key);
/* 1 and *out on success, 0 after a malformed report. */
int ref_number_field(ref_run *c, const cJSON *obj, const char *base, const char *key, double *out);
/* A non-negative integer (at most 2^31 − 1): the item it at path, or obj[key]. */
int ref_size_of(ref_run *c, const cJSON *it, const char *path, size_t *out);
int ref_size_field(ref_run *c, const cJSON *obj, const char *base, const char *key, size_t *out);

/* The tensor node t at path (integer: every value must be a whole number). */
ref_tensor *ref_tensor_at(ref_run *c, const cJSON *t, const char *path, int integer);
ref_tensor *ref_tensor_field(ref_run *c, const cJSON *obj, const char *base, const char *key);
ref_tensor *ref_int_tensor_field(ref_run *c, const cJSON *obj, const char *base, const char *key);
/* obj[key] as a tensor when present, else NULL without a message. */
ref_tensor *ref_tensor_field_opt(ref_run *c, const cJSON *obj, const char *base, const char *key);

/* A JSON array of numbers obj[key] as a 1-D float tensor (values cast to float). */
ref_tensor *ref_numbers_field(ref_run *c, const cJSON *obj, const char *base, const char *key);

/* 1 when t has ndim dimensions equal to dims (REF_ANY matches any size); else a malformed
 * report. t NULL gives 0 (already reported). */
int ref_expect_shape(ref_run *c, const ref_tensor *t, size_t ndim, const size_t *dims);
#define REF_DIMS(...) ((const size_t[]){__VA_ARGS__})
#define REF_ANY SIZE_MAX

/* The integer tensor t as class targets in [0, classes), or NULL after a report. */
uint32_t *ref_targets_of(ref_run *c, const ref_tensor *t, size_t classes);

#endif
