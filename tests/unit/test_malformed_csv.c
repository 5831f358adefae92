/* The malformed-CSV corpus (tests/data/malformed, MANIFEST.tsv written by make_corpus.py):
 * every file gets its expected status and a message holding the expected fragment (the line
 * and the column). Files whose bytes read fine but whose target column cannot be prepared go
 * through lathe_prepare. Each CSV case is also read with the Nth allocation failing, for
 * every N it reaches: the status is then out-of-memory or the expected one, and nothing
 * leaks. Huge fields are made in memory (no large file in the repository). Run from the
 * project root (ctest does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/table.h"

#define CORPUS "tests/data/malformed/"

/* Parses "default", "noheader" or "delim=X" (X one of , ; tab). Returns 0 when unknown. */
static int parse_options(const char *text, lathe_csv_options *opts) {
    opts->delimiter = 0;
    opts->has_header = 1;
    if (strcmp(text, "default") == 0) return 1;
    if (strcmp(text, "noheader") == 0) return opts->has_header = 0, 1;
    if (strcmp(text, "delim=,") == 0) return opts->delimiter = ',', 1;
    if (strcmp(text, "delim=;") == 0) return opts->delimiter = ';', 1;
    if (strcmp(text, "delim=tab") == 0) return opts->delimiter = '\t', 1;
    return 0;
}

/* Checks one CSV-stage case; with the allocation sweep. */
static void check_csv(const char *name, const char *bytes, size_t n,
                      const lathe_csv_options *opts, lathe_status want, const char *fragment) {
    lathe_table *t = NULL;
    lathe_error err;
    long live = lathe_alloc_live();
    unsigned long fail_at;
    lathe_status st = lathe_csv_read(bytes, n, opts, &t, &err);
    CHECK(st == want, "%s: status %s, expected %s (%s)", name, lathe_status_name(st),
          lathe_status_name(want), st == LATHE_OK ? "no message" : err.message);
    if (st != LATHE_OK) {
        CHECK(t == NULL, "%s: a failed read returned a table", name);
        if (want != LATHE_OK)
            CHECK(strstr(err.message, fragment) != NULL, "%s: message '%s' lacks '%s'", name,
                  err.message, fragment);
    }
    lathe_table_destroy(t);
    CHECK(lathe_alloc_live() == live, "%s: leaked %ld blocks", name, lathe_alloc_live() - live);

    for (fail_at = 1;; fail_at++) {
        unsigned long reached;
        lathe_alloc_fail_at(fail_at);
        t = NULL;
        st = lathe_csv_read(bytes, n, opts, &t, &err);
        reached = lathe_alloc_count();
        lathe_alloc_fail_at(0);
        lathe_table_destroy(t);
        CHECK(lathe_alloc_live() == live, "%s, allocation %lu failing: leaked %ld blocks", name,
              fail_at, lathe_alloc_live() - live);
        if (reached < fail_at) { /* the failure was never reached: the sweep is complete */
            CHECK(st == want, "%s: status %s after the sweep", name, lathe_status_name(st));
            break;
        }
        CHECK(st == LATHE_ERR_NOMEM || st == want, "%s, allocation %lu failing: status %s (%s)",
              name, fail_at, lathe_status_name(st), st == LATHE_OK ? "" : err.message);
        if (st == LATHE_ERR_NOMEM)
            CHECK(t == NULL && strstr(err.message, "out of memory") != NULL,
                  "%s, allocation %lu failing: message '%s'", name, fail_at, err.message);
    }
}

/* Checks a case whose CSV reads but whose target (stage "classification:COL" or
 * "regression:COL") must fail lathe_prepare. */
static void check_prepare(const char *name, const char *bytes, size_t n,
                          const lathe_csv_options *opts, const char *stage, lathe_status want,
                          const char *fragment) {
    char json[512];
    const char *colon = strchr(stage, ':');
    lathe_table *t = NULL;
    lathe_experiment *exp = NULL;
    lathe_prepared *prep = NULL;
    lathe_error err;
    lathe_status st;
    long live = lathe_alloc_live();
    if (!colon || (strncmp(stage, "classification", (size_t)(colon - stage)) != 0 &&
                   strncmp(stage, "regression", (size_t)(colon - stage)) != 0)) {
        CHECK(0, "%s: unknown stage '%s'", name, stage);
        return;
    }
    snprintf(json, sizeof json,
             "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 1,"
             " \"data\": {\"file\": \"%s\", \"target\": \"%s\", \"task\": \"%.*s\"},"
             " \"prepare\": [{\"op\": \"split\", \"test\": 0.25, \"stratify\": false}],"
             " \"model\": {\"template\": \"linear\"}, \"train\": {}}",
             name, colon + 1, (int)(colon - stage), stage);
    st = lathe_experiment_parse(json, strlen(json), &exp, &err);
    CHECK(st == LATHE_OK, "%s: the stage's experiment does not parse: %s", name, err.message);
    st = lathe_csv_read(bytes, n, opts, &t, &err);
    CHECK(st == LATHE_OK, "%s: the CSV should read before preparing: %s", name, err.message);
    if (exp && t) {
        st = lathe_prepare(exp, t, &prep, &err);
        CHECK(st == want, "%s: prepare status %s, expected %s (%s)", name, lathe_status_name(st),
              lathe_status_name(want), st == LATHE_OK ? "no message" : err.message);
        if (st != LATHE_OK && want != LATHE_OK)
            CHECK(strstr(err.message, fragment) != NULL, "%s: message '%s' lacks '%s'", name,
                  err.message, fragment);
    }
    lathe_prepared_destroy(prep);
    lathe_table_destroy(t);
    lathe_experiment_destroy(exp);
    CHECK(lathe_alloc_live() == live, "%s: leaked %ld blocks", name, lathe_alloc_live() - live);
}

/* Huge fields, made in memory: an unclosed quoted field of 4 MB, a 1 MB category, a number
 * of a million digits. */
static void check_huge_fields(void) {
    const size_t big = (size_t)4 << 20, mid = (size_t)1 << 20;
    char *text = malloc(big + 64);
    lathe_table *t = NULL;
    lathe_error err;
    lathe_status st;
    size_t n;
    if (!text) {
        CHECK(0, "no memory for the huge-field cases");
        return;
    }
    n = (size_t)sprintf(text, "a,b\n1,\"");
    memset(text + n, 'x', big);
    n += big;
    check_csv("huge unclosed quoted field", text, n, NULL, LATHE_ERR_INVALID,
              "line 2, column 2 ('b'): a quoted field opens here and is never closed");

    n = (size_t)sprintf(text, "a,b\n1,");
    memset(text + n, 'y', mid);
    n += mid;
    n += (size_t)sprintf(text + n, "\n2,z\n");
    st = lathe_csv_read(text, n, NULL, &t, &err);
    CHECK(st == LATHE_OK, "a 1 MB category: %s", st == LATHE_OK ? "" : err.message);
    if (st == LATHE_OK)
        CHECK(t->columns[1].n_categories == 2 && strlen(t->columns[1].categories[0]) == mid,
              "a 1 MB category was not kept whole");
    lathe_table_destroy(t);

    n = (size_t)sprintf(text, "a\n");
    memset(text + n, '7', mid);
    n += mid;
    check_csv("a number of a million digits", text, n, NULL, LATHE_ERR_INVALID,
              "line 2, column 'a': 7777777");
    free(text);
}

int main(void) {
    char line[1024];
    size_t cases = 0, csv_cases = 0;
    long live = lathe_alloc_live();
    FILE *manifest = fopen(CORPUS "MANIFEST.tsv", "r");
    if (!manifest) {
        fprintf(stderr, "test_malformed_csv: cannot open %sMANIFEST.tsv (run from the project "
                        "root)\n", CORPUS);
        return 1;
    }
    while (fgets(line, sizeof line, manifest)) {
        char *fields[5], *p = line, path[512], *bytes;
        size_t k, n = 0;
        lathe_csv_options opts;
        lathe_status want;
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\r\n")] = '\0';
        for (k = 0; k < 5; k++) {
            fields[k] = p;
            p = strchr(p, '\t');
            if (!p) break;
            *p++ = '\0';
        }
        if (k != 4) {
            CHECK(0, "manifest line '%s': expected 5 tab-separated fields", line);
            continue;
        }
        if (!parse_options(fields[1], &opts)) {
            CHECK(0, "%s: unknown options '%s'", fields[0], fields[1]);
            continue;
        }
        if (strcmp(fields[3], "ok") == 0) want = LATHE_OK;
        else if (strcmp(fields[3], "invalid") == 0) want = LATHE_ERR_INVALID;
        else {
            CHECK(0, "%s: unknown status '%s'", fields[0], fields[3]);
            continue;
        }
        snprintf(path, sizeof path, "%s%s", CORPUS, fields[0]);
        bytes = check_read_file(path, &n);
        CHECK(bytes != NULL, "cannot read %s", path);
        if (!bytes) continue;
        cases++;
        if (strcmp(fields[2], "csv") == 0) {
            csv_cases++;
            check_csv(fields[0], bytes, n, &opts, want, fields[4]);
        } else {
            check_prepare(fields[0], bytes, n, &opts, fields[2], want, fields[4]);
        }
        free(bytes);
    }
    fclose(manifest);
    CHECK(cases >= 30, "the corpus has %zu cases, fewer than 30", cases);
    check_huge_fields();
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    printf("test_malformed_csv: %zu corpus files (%zu read by the CSV reader alone)\n", cases,
           csv_cases);
    return check_finish("test_malformed_csv");
}
