/* Shared checks for the libFuzzer targets in tests/fuzz. A broken contract aborts, which
 * libFuzzer reports as a crash and saves the input to the artifact folder; ASan and UBSan
 * report memory errors and undefined behaviour the same way. */
#ifndef LATHE_FUZZ_COMMON_H
#define LATHE_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/status.h"

/* Aborts with what and where when cond is false. */
#define FUZZ_ASSERT(cond, what)                                                                \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz contract broken: %s (%s:%d)\n", what, __FILE__, __LINE__);   \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* The error contract of every public call: a failure carries its own status and a
 * non-empty, NUL-terminated message; success leaves nothing to check. Returns st. */
static inline lathe_status fuzz_check_status(lathe_status st, const lathe_error *err) {
    if (st == LATHE_OK) return st;
    FUZZ_ASSERT(err->status == st, "the error record's status differs from the returned one");
    FUZZ_ASSERT(memchr(err->message, '\0', sizeof err->message) != NULL,
                "the error message is not NUL-terminated");
    FUZZ_ASSERT(err->message[0] != '\0', "a failure without a message");
    return st;
}

/* Leak check through the core's own allocation counter: every input must give back every
 * block it took (ASan's leak check only runs at exit, this one runs per input). */
static inline void fuzz_check_no_leak(long live_before) {
    FUZZ_ASSERT(lathe_alloc_live() == live_before, "core allocations leaked for this input");
}

#endif
