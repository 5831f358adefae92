/* Statuses and error messages: every public core function returns a lathe_status and, on
 * failure, fills a caller-owned lathe_error with what went wrong, where and why. */
#ifndef LATHE_STATUS_H
#define LATHE_STATUS_H

#include <stddef.h>

typedef enum lathe_status {
    LATHE_OK = 0,
    LATHE_ERR_INVALID = 1,   /* bad input: a malformed file, a bad field, a wrong shape */
    LATHE_ERR_NOMEM = 2,     /* an allocation failed; nothing leaked, objects stay usable */
    LATHE_ERR_DIVERGED = 3,  /* training produced a NaN or an infinity */
    LATHE_ERR_MISMATCH = 4,  /* data does not match its fingerprint or the model's schema */
    LATHE_ERR_STATE = 5,     /* the call does not fit the object's state (e.g. step after end) */
    LATHE_ERR_LIMIT = 6      /* larger than Lathe's documented limits (lathe/limits.h) */
} lathe_status;

#define LATHE_ERROR_MESSAGE_MAX 512

/* A caller-owned error record. Any function taking one may be passed NULL. */
typedef struct lathe_error {
    lathe_status status;
    char message[LATHE_ERROR_MESSAGE_MAX];
} lathe_error;

/* Fills err (if not NULL) with status and a printf-style message; returns status. */
lathe_status lathe_error_set(lathe_error *err, lathe_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends "prefix: " to err's message (for nesting context such as a JSON path). */
void lathe_error_prefix(lathe_error *err, const char *prefix);

/* Clears err to LATHE_OK with an empty message. err may be NULL. */
void lathe_error_clear(lathe_error *err);

/* A short constant name for a status ("invalid input", "out of memory", ...). */
const char *lathe_status_name(lathe_status status);

#endif
