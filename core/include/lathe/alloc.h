/* The core's one allocation hook. Every allocation in core/ goes through these, so a test
 * can fail the Nth allocation and check that the status is LATHE_ERR_NOMEM and nothing leaks. */
#ifndef LATHE_ALLOC_H
#define LATHE_ALLOC_H

#include <stddef.h>

/* malloc-like; returns NULL on failure or when the test hook says to fail. size 0 -> 1 byte. */
void *lathe_malloc(size_t size);
/* calloc-like for count*size bytes, zeroed; NULL on overflow or failure. */
void *lathe_calloc(size_t count, size_t size);
/* realloc-like; on failure returns NULL and leaves ptr untouched. */
void *lathe_realloc(void *ptr, size_t size);
/* free-like; NULL is a no-op. */
void lathe_free(void *ptr);
/* A copy of the NUL-terminated string s (lathe_free it), or NULL when out of memory. */
char *lathe_strdup(const char *s);

/* Test hooks: make the Nth allocation from now (1-based) fail; 0 disables. */
void lathe_alloc_fail_at(unsigned long n);
/* Allocations refused so far (by the hook or by the system), ever: a parser that sees this
 * grow across a failed call knows it failed for memory, not for its input. */
unsigned long lathe_alloc_failures(void);
/* Number of allocations attempted since the last lathe_alloc_fail_at call. */
unsigned long lathe_alloc_count(void);
/* Live allocations (allocated and not yet freed) since start-up: a leak check. */
long lathe_alloc_live(void);

#endif
