/* The session (lathe/session.h): the data.sha256 check, where its rows come from, fold
 * selection, the reports, one build only, and an out-of-memory sweep of the whole path (every
 * allocation of open → build → step → reports fails once: the status is out of memory, no
 * session is returned and nothing leaks). Reads data/builtin/iris.csv (skipped, exit 77, when
 * the set-up has not fetched it). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "check.h"
#include "lathe/alloc.h"
#include "lathe/session.h"
#include "lathe/sha256.h"

static const char iris_experiment[] =
    "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 7,"
    " \"data\": {\"file\": \"iris.csv\", \"target\": \"species\", \"task\": \"classification\"%s},"
    " \"prepare\": [{\"op\": \"split\", \"test\": 0.2%s, \"stratify\": true},"
    " {\"op\": \"standardize\"}],"
    " \"model\": {\"template\": \"mlp\", \"hidden\": [4], \"activation\": \"relu\"},"
    " \"train\": {\"optimizer\": \"adam\", \"learning_rate\": 0.05, \"batch_size\": 16,"
    " \"epochs\": 2}}";

static const char spiral_experiment[] =
    "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 3,"
    " \"data\": {\"synthetic\": \"spiral\", \"samples\": 60, \"classes\": 2},"
    " \"prepare\": [{\"op\": \"split\", \"test\": 0.25}],"
    " \"model\": {\"template\": \"logistic\"}, \"train\": {\"epochs\": 1}}";

/* The iris experiment with a data.sha256 field (or "") and k folds (0: none). */
static char *experiment(const char *sha256_field, int folds, size_t *n) {
    static char text[1024];
    char split[64] = "";
    if (folds) snprintf(split, sizeof split, ", \"folds\": %d, \"fold\": 0", folds);
    snprintf(text, sizeof text, iris_experiment, sha256_field, split);
    *n = strlen(text);
    return text;
}

static lathe_session_data csv_data(const char *csv, size_t n) {
    lathe_session_data d;
    memset(&d, 0, sizeof d);
    d.csv = csv, d.csv_n = n;
    return d;
}

/* The JSON text's object has every one of the keys (NULL-terminated list). */
static int has_keys(const char *text, const char *const *keys) {
    cJSON *o = cJSON_Parse(text);
    int ok = cJSON_IsObject(o) || cJSON_IsArray(o);
    for (; ok && *keys; keys++) ok = cJSON_GetObjectItemCaseSensitive(o, *keys) != NULL;
    cJSON_Delete(o);
    return ok;
}

static void check_fingerprint(const char *csv, size_t csv_n) {
    char hex[65], field[128], *text;
    size_t n;
    lathe_session *s = (lathe_session *)&s;
    lathe_session_data d = csv_data(csv, csv_n);
    lathe_error err;
    lathe_status st;
    long live = lathe_alloc_live();
    lathe_sha256_hex(csv, csv_n, hex);

    snprintf(field, sizeof field, ", \"sha256\": \"%s\"", hex);
    text = experiment(field, 0, &n);
    st = lathe_session_open(text, n, &d, &s, &err);
    CHECK(st == LATHE_OK, "the right fingerprint is refused: %s", err.message);
    CHECK(st != LATHE_OK || strcmp(lathe_session_data_sha256(s), hex) == 0,
          "the session's data_sha256 is not the bytes' SHA-256");
    lathe_session_destroy(s);

    hex[0] = hex[0] == '0' ? '1' : '0';
    snprintf(field, sizeof field, ", \"sha256\": \"%s\"", hex);
    text = experiment(field, 0, &n);
    s = (lathe_session *)&s;
    st = lathe_session_open(text, n, &d, &s, &err);
    CHECK(st == LATHE_ERR_MISMATCH, "another fingerprint: status %s", lathe_status_name(st));
    CHECK(s == NULL, "a refused session is returned");
    CHECK(strstr(err.message, "data.sha256") && strstr(err.message, "expected"),
          "the mismatch message does not name the field: %s", err.message);
    d.skip_fingerprint = 1;
    st = lathe_session_open(text, n, &d, &s, &err);
    CHECK(st == LATHE_OK, "skip_fingerprint still checks: %s", err.message);
    lathe_session_destroy(s);
    CHECK(lathe_alloc_live() == live, "fingerprint checks leak %ld blocks", lathe_alloc_live() - live);
}

static void check_sources(const char *csv, size_t csv_n) {
    size_t n;
    char *text = experiment("", 0, &n);
    lathe_session *s = NULL;
    lathe_session_data d;
    lathe_table *table = NULL;
    lathe_error err;
    lathe_status st;
    long live = lathe_alloc_live();

    /* A file experiment without its data. */
    st = lathe_session_open(text, n, NULL, &s, &err);
    CHECK(st == LATHE_ERR_INVALID && s == NULL && strstr(err.message, "data:"),
          "no data for a file experiment: %s (%s)", lathe_status_name(st), err.message);
    /* A synthetic set needs none, and its fingerprint is empty. */
    st = lathe_session_open(spiral_experiment, strlen(spiral_experiment), NULL, &s, &err);
    CHECK(st == LATHE_OK, "a synthetic session: %s", err.message);
    CHECK(st != LATHE_OK || (lathe_session_data_sha256(s)[0] == '\0' &&
                             lathe_session_table(s)->rows == 60),
          "a synthetic session's rows or fingerprint");
    lathe_session_destroy(s);
    /* CSV errors begin with the data's name. */
    d = csv_data("a,species\n1,\"x\n", 15);
    d.csv_name = "rows.csv";
    st = lathe_session_open(text, n, &d, &s, &err);
    CHECK(st == LATHE_ERR_INVALID && strncmp(err.message, "rows.csv: line ", 15) == 0,
          "a CSV error is not named by the file: %s", err.message);
    /* A ready table is the session's, even when the experiment is broken. */
    d = csv_data(csv, csv_n);
    CHECK(lathe_session_read_table(text, n, &d, &table, &err) == LATHE_OK, "%s", err.message);
    memset(&d, 0, sizeof d);
    d.table = table, d.table_sha256 = "ab";
    st = lathe_session_open("{\"format\": 1}", 13, &d, &s, &err);
    CHECK(st == LATHE_ERR_INVALID && s == NULL, "a broken experiment opens: %s", lathe_status_name(st));
    CHECK(lathe_alloc_live() == live, "the sources leak %ld blocks (a table not taken over?)",
          lathe_alloc_live() - live);
}

static void check_folds(const char *csv, size_t csv_n) {
    size_t n, f, k, rows = 0;
    char *text = experiment("", 5, &n);
    lathe_session *s = NULL;
    lathe_session_data d = csv_data(csv, csv_n);
    lathe_error err;
    unsigned char seen[150];
    int twice = 0;
    memset(seen, 0, sizeof seen);
    if (lathe_session_open(text, n, &d, &s, &err) != LATHE_OK) {
        CHECK(0, "open with folds: %s", err.message);
        return;
    }
    CHECK(lathe_session_folds(s) == 5, "folds: %zu", lathe_session_folds(s));
    /* The five validation splits partition the 120 rows that are not test rows. */
    for (f = 0; f < 5; f++) {
        const lathe_split_data *v;
        CHECK(lathe_session_select_fold(s, f, &err) == LATHE_OK, "fold %zu: %s", f, err.message);
        CHECK(lathe_session_build(s, NULL, &err) == LATHE_OK, "build after fold %zu: %s", f, err.message);
        v = lathe_session_split(s, LATHE_SPLIT_VALIDATION);
        for (k = 0; k < v->rows; k++) {
            if (seen[v->source_row[k]]) twice = 1;
            seen[v->source_row[k]] = 1;
        }
        rows += v->rows;
    }
    CHECK(!twice && rows == 120, "the folds' validation rows: %zu rows, a row twice: %d", rows, twice);
    CHECK(lathe_session_select_fold(s, 5, &err) == LATHE_ERR_INVALID, "fold 5 of 5 is accepted");
    lathe_session_destroy(s);
}

/* open → build → one epoch → every report, with allocation fail_at failing (0: none, and
 * the reports' keys are checked; ULONG_MAX: none, unchecked, to count the walk's allocations
 * into *reached). Returns the status of the first step that failed. */
static lathe_status walk(const char *text, size_t n, const lathe_session_data *d,
                         unsigned long fail_at, unsigned long *reached, lathe_error *err) {
    lathe_session *s = NULL;
    char *json = NULL;
    lathe_status st;
    lathe_alloc_fail_at(fail_at);
    st = lathe_session_open(text, n, d, &s, err);
    if (st == LATHE_OK) st = lathe_session_build(s, NULL, err);
    if (st == LATHE_OK) st = lathe_trainer_step(lathe_session_trainer(s), 8, err);
    if (st == LATHE_OK && (st = lathe_session_metrics_json(s, &json, err)) == LATHE_OK) {
        static const char *const keys[] = {"train", "test", NULL};
        if (fail_at == 0) CHECK(has_keys(json, keys), "metrics_json lacks train or test: %s", json);
        lathe_free(json);
    }
    if (st == LATHE_OK && (st = lathe_session_report_json(s, LATHE_SPLIT_TEST, &json, err)) == LATHE_OK) {
        static const char *const keys[] = {"rows", "accuracy", "confusion", "examples", NULL};
        if (fail_at == 0) CHECK(has_keys(json, keys), "report_json lacks a key: %.200s", json);
        lathe_free(json);
    }
    if (st == LATHE_OK && (st = lathe_session_layers_json(s, &json, err)) == LATHE_OK) lathe_free(json);
    if (st == LATHE_OK && (st = lathe_session_prepared_json(s, &json, err)) == LATHE_OK) {
        static const char *const keys[] = {"features", "rows", "classes", NULL};
        if (fail_at == 0) CHECK(has_keys(json, keys), "prepared_json lacks a key: %.200s", json);
        lathe_free(json);
    }
    if (st == LATHE_OK && (st = lathe_session_model_file(s, NULL, &json, err)) == LATHE_OK) lathe_free(json);
    if (st == LATHE_OK && lathe_session_build(s, NULL, err) != LATHE_ERR_INVALID) {
        CHECK(0, "a second build is accepted");
    }
    *reached = lathe_alloc_count();
    lathe_alloc_fail_at(0);
    lathe_session_destroy(s);
    return st;
}

static void check_oom(const char *csv, size_t csv_n) {
    size_t n;
    char *text = experiment("", 0, &n);
    lathe_session_data d = csv_data(csv, csv_n);
    lathe_error err;
    unsigned long fail_at, points = 0, total, reached;
    long live = lathe_alloc_live();
    if (walk(text, n, &d, 0, &total, &err) != LATHE_OK) {
        CHECK(0, "the walk fails: %s", err.message);
        return;
    }
    (void)walk(text, n, &d, ULONG_MAX, &total, &err);
    for (fail_at = 1;; fail_at++) {
        lathe_status st = walk(text, n, &d, fail_at, &reached, &err);
        if (lathe_alloc_live() != live) {
            CHECK(0, "allocation %lu failing leaks %ld blocks", fail_at, lathe_alloc_live() - live);
            break;
        }
        if (st == LATHE_OK) break; /* every allocation point was failed once */
        points++;
        if (st != LATHE_ERR_NOMEM) {
            CHECK(0, "allocation %lu failing: status %s (%s)", fail_at, lathe_status_name(st),
                  err.message);
            break;
        }
    }
    CHECK(points == total, "the sweep failed %lu of the walk's %lu allocations (one was ignored?)",
          points, total);
    printf("test_session: out-of-memory sweep over all %lu allocations of the walk\n", total);
}

/* The layer description counts FLOPs the textbook way, from each layer's own shapes: a conv2d
 * is 2·C_out·H_out·W_out·C_in·k·k, a dense layer 2·in·out, a max pool one per window element,
 * and flatten none (iris's four features read as a 1×2×2 image). */
static void check_layers(const char *csv, size_t csv_n) {
    static const char text[] =
        "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 1,"
        " \"data\": {\"file\": \"iris.csv\", \"target\": \"species\", \"image\": [1, 2, 2]},"
        " \"prepare\": [{\"op\": \"split\", \"test\": 0.2}],"
        " \"model\": {\"layers\": [{\"type\": \"conv2d\", \"filters\": 3, \"kernel\": 1},"
        " {\"type\": \"max_pool\", \"size\": 2}, {\"type\": \"flatten\"}, {\"type\": \"dense\"}]},"
        " \"train\": {\"epochs\": 1}}";
    static const double expected[4] = {2.0 * 3 * 2 * 2 * 1 * 1 * 1, 3.0 * 1 * 1 * 2 * 2, 0.0, 2.0 * 3 * 3};
    lathe_session_data d = csv_data(csv, csv_n);
    lathe_session *s = NULL;
    lathe_error err;
    char *json = NULL;
    cJSON *arr = NULL;
    int i;
    d.csv_name = "iris.csv";
    if (lathe_session_open(text, strlen(text), &d, &s, &err) != LATHE_OK ||
        lathe_session_build(s, NULL, &err) != LATHE_OK ||
        lathe_session_layers_json(s, &json, &err) != LATHE_OK) {
        CHECK(0, "describing a CNN: %s", err.message);
        lathe_session_destroy(s);
        return;
    }
    arr = cJSON_Parse(json);
    CHECK(cJSON_GetArraySize(arr) == 4, "%d layers described: %s", cJSON_GetArraySize(arr), json);
    for (i = 0; i < 4 && i < cJSON_GetArraySize(arr); i++) {
        const cJSON *f = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i), "flops");
        CHECK(cJSON_IsNumber(f) && f->valuedouble == expected[i], "layer %d: %g FLOPs, not %g", i,
              cJSON_IsNumber(f) ? f->valuedouble : -1.0, expected[i]);
    }
    cJSON_Delete(arr);
    lathe_free(json);
    lathe_session_destroy(s);
}

int main(void) {
    size_t csv_n;
    char *csv = check_read_file("data/builtin/iris.csv", &csv_n);
    if (!csv) {
        printf("test_session: data/builtin/iris.csv not fetched; skipped\n");
        return 77;
    }
    check_fingerprint(csv, csv_n);
    check_sources(csv, csv_n);
    check_folds(csv, csv_n);
    check_layers(csv, csv_n);
    check_oom(csv, csv_n);
    free(csv);
    return check_finish("test_session");
}
