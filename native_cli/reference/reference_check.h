/* The reference-check runner: every *.json file of a directory in the format of
 * ../shared/reference/vectors/README.md, dispatched through the table of file kinds
 * (cases.h) and checked case by case against the core. One line per case:
 *
 *   PASS <file>:<case> (max err E in OUTPUT; N outputs)
 *   FAIL <file>:<case>: why            (a mismatch, or a setting the core refuses)
 *   NOT IMPLEMENTED <file>:<case> (why) (the core has no such op yet: not a pass, not a failure)
 *   FAIL <file>: why                   (a malformed or unreadable file, an unknown file kind,
 *                                        or a file that yields no case line at all)
 *
 * and last "P passed, F failed, N not implemented". A case passes when every output it
 * compares is within |got − want| <= atol + rtol·|want| (NaN never passes). */
#ifndef LATHE_REFERENCE_CHECK_H
#define LATHE_REFERENCE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "vectors.h"

/* Checks every *.json file of dir (name order); json: one JSON report on stdout instead of
 * the lines. Returns 0 when no case failed (NOT IMPLEMENTED cases allowed), 1 when one did,
 * 2 when dir is missing or holds no *.json file, or a file is unreadable or malformed (the
 * message names the file and the JSON path). */
int ref_check_dir(const char *dir, int json);

/* ---- for the cases ---- */

/* Opens a case of the current file (closing an open one first). */
void ref_case_begin(ref_run *c, const char *name);
/* Compares the core's got (shape ndim, dims) with want; a mismatch fails the case. */
void ref_compare(ref_run *c, const char *what, const float *got, size_t ndim, const size_t *dims,
                 const ref_tensor *want, ref_tol t);
void ref_compare_scalar(ref_run *c, const char *what, double got, double want, ref_tol t);
/* Integer outputs must be equal. */
void ref_compare_index(ref_run *c, const char *what, const uint32_t *got, size_t ndim,
                       const size_t *dims, const ref_tensor *want);
/* Fails the open case for a reason that is not a numeric mismatch. */
void ref_case_fail(ref_run *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints the open case's PASS or FAIL line (nothing when the file turned out malformed; FAIL
 * when the case compared nothing). */
void ref_case_end(ref_run *c);
/* One NOT IMPLEMENTED line for a case the core cannot run, with the reason. */
void ref_not_implemented(ref_run *c, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Used by ref_malformed (vectors.c): the FAIL line and the stderr message. */
void ref_report_malformed(ref_run *c, const char *path, const char *msg);

#endif
