#include "check.h"
#include "lathe/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int check_failures = 0;
int check_count = 0;

void check_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    check_failures++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int check_close(double a, double b, double atol, double rtol) {
    if (isnan(a) || isnan(b)) return 0;
    if (a == b) return 1; /* also equal infinities */
    return fabs(a - b) <= atol + rtol * fabs(b);
}

size_t check_close_arrays(const char *file, int line, const char *what, const float *got,
                          const float *want, size_t n, double atol, double rtol) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        check_count++;
        if (!check_close((double)got[i], (double)want[i], atol, rtol)) {
            if (bad < 5)
                check_fail(file, line, "%s[%zu]: got %.9g, want %.9g", what, i, (double)got[i],
                           (double)want[i]);
            else
                check_failures++;
            bad++;
        }
    }
    return bad;
}

size_t check_same_bits(const char *file, int line, const char *what, const float *got,
                       const float *want, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t a, b;
        memcpy(&a, &got[i], 4);
        memcpy(&b, &want[i], 4);
        check_count++;
        if (a != b) {
            if (bad < 5)
                check_fail(file, line, "%s[%zu]: bits %08x (%.9g) != %08x (%.9g)", what, i, a,
                           (double)got[i], b, (double)want[i]);
            else
                check_failures++;
            bad++;
        }
    }
    return bad;
}

static int check_skipped_parts;

int check_under_ci(void) {
    const char *ci = getenv("CI");
    return ci != NULL && strcmp(ci, "true") == 0;
}

void check_skip_part(const char *what, const char *why) {
    check_skipped_parts++;
    printf("SKIPPED %s: %s%s\n", what, why,
           check_under_ci() ? " (a failure under CI=true: the set-up must provide it)" : "");
}

int check_cpu_has_avx2(void) {
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__EMSCRIPTEN__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}

int check_finish(const char *name) {
    printf("%s: %d checks, %d failed, %d parts skipped\n", name, check_count, check_failures,
           check_skipped_parts);
    if (check_failures != 0) return 1;
    if (check_skipped_parts == 0) return 0;
    return check_under_ci() ? 1 : 77;
}

char *check_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
        if (buf) buf[size] = '\0';
        *n = (size_t)size;
    }
    fclose(f);
    return buf;
}

float f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint32_t bits32(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

uint32_t check_lcg_next(check_lcg *g) {
    g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g->s >> 32);
}

char *check_replaced(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    size_t n = strlen(text), a, f = strlen(from), t = strlen(to);
    char *out;
    if (!at) return NULL;
    a = (size_t)(at - text);
    out = malloc(n - f + t + 1);
    if (!out) return NULL;
    memcpy(out, text, a);
    memcpy(out + a, to, t);
    memcpy(out + a + t, at + f, n - a - f + 1);
    return out;
}

void check_model_refused(const char *what, const char *text, const char *message) {
    lathe_model *m = NULL;
    lathe_error err;
    lathe_status st;
    if (!text) {
        check_count++;
        check_fail(__FILE__, __LINE__, "%s: the text to damage was not found", what);
        return;
    }
    st = lathe_model_load(text, strlen(text), &m, &err);
    CHECK(st != LATHE_OK && strstr(err.message, message), "%s: '%s'", what,
          st == LATHE_OK ? "loaded" : err.message);
    lathe_model_destroy(m);
}
