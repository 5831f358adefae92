#include "lathe/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Not thread-safe by design: the core runs single-threaded per worker. */
static unsigned long fail_at;     /* 0: never fail */
static unsigned long alloc_count; /* attempts since lathe_alloc_fail_at */
static long live;                 /* outstanding blocks */
static unsigned long failures;    /* allocations refused, ever */

static int should_fail(void) {
    alloc_count++;
    if (fail_at != 0 && alloc_count == fail_at) {
        failures++;
        return 1;
    }
    return 0;
}

void *lathe_malloc(size_t size) {
    void *p;
    if (should_fail()) return NULL;
    p = malloc(size ? size : 1);
    if (p) live++;
    else failures++;
    return p;
}

void *lathe_calloc(size_t count, size_t size) {
    void *p;
    if (size != 0 && count > SIZE_MAX / size) {
        failures++;
        return NULL;
    }
    if (should_fail()) return NULL;
    p = calloc(count ? count : 1, size ? size : 1);
    if (p) live++;
    else failures++;
    return p;
}

void *lathe_realloc(void *ptr, size_t size) {
    void *p;
    if (!ptr) return lathe_malloc(size);
    if (should_fail()) return NULL;
    p = realloc(ptr, size ? size : 1);
    if (!p) failures++;
    return p;
}

void lathe_free(void *ptr) {
    if (!ptr) return;
    live--;
    free(ptr);
}

void lathe_alloc_fail_at(unsigned long n) {
    fail_at = n;
    alloc_count = 0;
}

unsigned long lathe_alloc_count(void) { return alloc_count; }

long lathe_alloc_live(void) { return live; }

unsigned long lathe_alloc_failures(void) { return failures; }

char *lathe_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = lathe_malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}
