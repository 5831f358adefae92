/* Out-of-memory sweep of the experiment parser: for every examples/ *.experiment.json file and
 * every allocation N that parsing it reaches, the Nth allocation fails; each time the status
 * must be LATHE_ERR_NOMEM with an "out of memory" message and no experiment, the core's live
 * allocation count must return to where it was, and a parse right after must succeed and
 * give the same experiment as an undisturbed parse. Run from the project root (ctest does). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"

#define EXAMPLES "examples/"
#define MAX_FILES 256

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sweeps one file; returns the number of allocation points it reached. */
static unsigned long sweep(const char *name, const char *json, size_t n) {
    lathe_experiment *reference = NULL, *exp;
    lathe_error err;
    lathe_status st;
    long live = lathe_alloc_live();
    unsigned long fail_at;

    st = lathe_experiment_parse(json, n, &reference, &err);
    CHECK(st == LATHE_OK, "%s: does not parse: %s", name, err.message);
    if (st != LATHE_OK) return 0;
    for (fail_at = 1;; fail_at++) {
        unsigned long reached;
        exp = (lathe_experiment *)&exp; /* must be overwritten */
        lathe_alloc_fail_at(fail_at);
        st = lathe_experiment_parse(json, n, &exp, &err);
        reached = lathe_alloc_count();
        lathe_alloc_fail_at(0);
        if (reached < fail_at) { /* every allocation point has been failed once */
            CHECK(st == LATHE_OK, "%s: the parse after the sweep failed: %s", name, err.message);
            if (st == LATHE_OK) lathe_experiment_destroy(exp);
            break;
        }
        CHECK(st == LATHE_ERR_NOMEM, "%s, allocation %lu failing: status %s, not out of memory "
              "(%s)", name, fail_at, lathe_status_name(st), st == LATHE_OK ? "" : err.message);
        if (st == LATHE_OK) {
            lathe_experiment_destroy(exp);
            continue;
        }
        CHECK(exp == NULL, "%s, allocation %lu failing: a failed parse returned an experiment",
              name, fail_at);
        CHECK(strstr(err.message, "out of memory") != NULL,
              "%s, allocation %lu failing: message '%s'", name, fail_at, err.message);
        CHECK(lathe_alloc_live() == live + 1, "%s, allocation %lu failing: %ld blocks leaked",
              name, fail_at, lathe_alloc_live() - live - 1);
        /* the parser is not left in a bad state: the next parse succeeds and agrees */
        exp = NULL;
        st = lathe_experiment_parse(json, n, &exp, &err);
        CHECK(st == LATHE_OK, "%s: the parse after failing allocation %lu failed: %s", name,
              fail_at, err.message);
        if (st == LATHE_OK)
            CHECK(memcmp(exp, reference, sizeof *exp) == 0,
                  "%s: the parse after failing allocation %lu gives a different experiment",
                  name, fail_at);
        lathe_experiment_destroy(exp);
    }
    lathe_experiment_destroy(reference);
    CHECK(lathe_alloc_live() == live, "%s: %ld blocks leaked", name, lathe_alloc_live() - live);
    return fail_at - 1;
}

int main(void) {
    char *names[MAX_FILES];
    size_t count = 0, i;
    unsigned long points = 0;
    long live = lathe_alloc_live();
    struct dirent *entry;
    DIR *dir = opendir(EXAMPLES);
    if (!dir) {
        fprintf(stderr, "test_oom_experiment: cannot open %s (run from the project root)\n",
                EXAMPLES);
        return 1;
    }
    while ((entry = readdir(dir)) != NULL && count < MAX_FILES)
        if (ends_with(entry->d_name, ".experiment.json")) {
            names[count] = malloc(strlen(entry->d_name) + 1);
            if (names[count]) strcpy(names[count++], entry->d_name);
        }
    closedir(dir);
    qsort(names, count, sizeof *names, compare_names);
    CHECK(count >= 1, "no examples/*.experiment.json found");
    for (i = 0; i < count; i++) {
        char path[512];
        size_t n = 0;
        char *json;
        unsigned long reached;
        snprintf(path, sizeof path, "%s%s", EXAMPLES, names[i]);
        json = check_read_file(path, &n);
        CHECK(json != NULL, "cannot read %s", path);
        if (json) {
            reached = sweep(names[i], json, n);
            CHECK(reached >= 2, "%s: only %lu allocation points reached", names[i], reached);
            points += reached;
        }
        free(json);
        free(names[i]);
    }
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    printf("test_oom_experiment: %zu experiment files, %lu allocation points failed one by one\n",
           count, points);
    return check_finish("test_oom_experiment");
}
