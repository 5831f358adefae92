/* A minimal test harness: checks count failures, print what failed and where, and
 * check_finish() returns the process exit status (non-zero when anything failed). */
#ifndef LATHE_TEST_CHECK_H
#define LATHE_TEST_CHECK_H

#include <stddef.h>
#include <stdint.h>

extern int check_failures;
extern int check_count;

void check_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* CHECK(cond, "format", args...): records a failure with the message when cond is false. */
#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        check_count++;                                                                         \
        if (!(cond)) check_fail(__FILE__, __LINE__, __VA_ARGS__);                              \
    } while (0)

/* |a - b| <= atol + rtol*|b|, with NaN always failing. Returns 1 when close. */
int check_close(double a, double b, double atol, double rtol);
/* Compares n floats; reports the first few mismatches under `what`. Returns mismatches. */
size_t check_close_arrays(const char *file, int line, const char *what, const float *got,
                          const float *want, size_t n, double atol, double rtol);
#define CHECK_CLOSE_ARRAYS(what, got, want, n, atol, rtol)                                     \
    check_close_arrays(__FILE__, __LINE__, what, got, want, n, atol, rtol)
/* Bitwise equality of n floats; reports the first few mismatches. Returns mismatches. */
size_t check_same_bits(const char *file, int line, const char *what, const float *got,
                       const float *want, size_t n);
#define CHECK_SAME_BITS(what, got, want, n) check_same_bits(__FILE__, __LINE__, what, got, want, n)

/* A float from its bits, and the bits of a float. */
float f32(uint32_t u);
uint32_t bits32(float f);

/* A 64-bit LCG (Knuth's MMIX constants) for test data: the same values on every target. */
typedef struct {
    uint64_t s;
} check_lcg;
/* The next output: the high 32 bits of the state. */
uint32_t check_lcg_next(check_lcg *g);

/* Reads a whole file into a malloc'd, NUL-terminated buffer (free it); *n gets its size.
 * NULL when it cannot be read. Tests run from the source folder (CMake's working directory). */
char *check_read_file(const char *path, size_t *n);

/* 1 when the environment has CI=true (set-up data and features must then be present). */
int check_under_ci(void);
/* Records that part of a test could not run here (e.g. the AVX2 twins on a CPU that has AVX2
 * but a build without them), printing what and why. */
void check_skip_part(const char *what, const char *why);
/* 1 when this is a native x86 build running on a CPU with AVX2; 0 elsewhere (wasm too). */
int check_cpu_has_avx2(void);

/* Prints "<name>: N checks, N failed, N parts skipped" and returns the exit status: 1 when
 * anything failed; else 77 (ctest's skip) when a part was skipped, 1 for that under CI=true;
 * else 0. */
int check_finish(const char *name);

/* A copy of text (free it) with the first from replaced by to, or NULL when from is not there:
 * how the model-file tests damage a file. */
char *check_replaced(const char *text, const char *from, const char *to);
/* Checks that the model file text (NULL: the damage was not made, a failure) is refused with
 * an error containing message; what names the case. */
void check_model_refused(const char *what, const char *text, const char *message);

#endif
