/* The canonical experiment file: for every example (and the full-size ones), writing the
 * parsed experiment and parsing that gives the same experiment (struct for struct), and
 * writing it again gives the same bytes. Floats are written shortest (0.05, not
 * 0.0500000007). A hand-made experiment with every kind of op, layer list, schedule and
 * early stopping round-trips too; out of memory while writing is an error without leaks. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"

/* Checks the round trip of one experiment text; returns the canonical text's length. */
static size_t round_trip(const char *what, const char *text, size_t n) {
    lathe_experiment *a = NULL, *b = NULL, *c = NULL;
    lathe_error err;
    char *first = NULL, *second = NULL;
    size_t len = 0;
    CHECK(lathe_experiment_parse(text, n, &a, &err) == LATHE_OK, "%s: %s", what, err.message);
    if (!a) return 0;
    CHECK(lathe_experiment_write(a, &first, &err) == LATHE_OK, "%s: %s", what, err.message);
    if (first) {
        CHECK(lathe_experiment_parse(first, strlen(first), &b, &err) == LATHE_OK,
              "%s: the canonical form does not parse: %s\n%s", what, err.message, first);
        if (b) {
            CHECK(memcmp(a, b, sizeof *a) == 0, "%s: the canonical form parses to another experiment", what);
            CHECK(lathe_experiment_write(b, &second, &err) == LATHE_OK, "%s: %s", what, err.message);
            CHECK(second && strcmp(first, second) == 0, "%s: writing twice gave different bytes", what);
            CHECK(lathe_experiment_parse(second, strlen(second), &c, &err) == LATHE_OK, "%s", err.message);
        }
        len = strlen(first);
    }
    lathe_free(first);
    lathe_free(second);
    lathe_experiment_destroy(a);
    lathe_experiment_destroy(b);
    lathe_experiment_destroy(c);
    return len;
}

static const char *everything =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"name\":\"all of it\",\"description\":\"\\\"quoted\\\"\","
    "\"seed\":999999999999999,"
    "\"data\":{\"file\":\"images.csv\",\"target\":\"digit\",\"image\":[1,8,8],\"limit\":{\"train\":100,\"test\":7},"
    "\"sha256\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"},"
    "\"prepare\":[{\"op\":\"drop_columns\",\"columns\":[\"id\",\"a,b\"]},{\"op\":\"drop_missing\"},"
    "{\"op\":\"drop_duplicates\"},{\"op\":\"split\",\"test\":0.15,\"folds\":4,\"fold\":3,\"stratify\":false},"
    "{\"op\":\"balance_classes\"},{\"op\":\"augment\",\"copies\":2,\"shift\":1,\"flip\":true,\"rotate\":7.5,"
    "\"noise\":0.3},{\"op\":\"impute\",\"strategy\":\"constant\",\"value\":-1.25},{\"op\":\"minmax\",\"per\":\"all\"}],"
    "\"model\":{\"layers\":[{\"type\":\"conv2d\",\"filters\":4,\"kernel\":3,\"padding\":\"same\"},"
    "{\"type\":\"batch_norm\"},{\"type\":\"leaky_relu\"},{\"type\":\"avg_pool\",\"size\":2},{\"type\":\"flatten\"},"
    "{\"type\":\"dropout\",\"rate\":0.1},{\"type\":\"dense\",\"units\":12},{\"type\":\"tanh\"},{\"type\":\"dense\"}],"
    "\"init\":\"he_normal\"},"
    "\"train\":{\"optimizer\":\"sgd\",\"learning_rate\":0.1,\"momentum\":0.9,\"nesterov\":true,\"weight_decay\":1e-4,"
    "\"batch_size\":8,\"shuffle\":false,\"epochs\":12,\"schedule\":{\"kind\":\"step\",\"step_size\":3,\"gamma\":0.5},"
    "\"warmup_steps\":5,\"clip_norm\":2.5,\"early_stopping\":{\"patience\":3,\"metric\":\"validation_accuracy\"}}}";

int main(void) {
    const char *dirs[2] = {"examples", "examples/full"};
    size_t d, files = 0, n;
    long live = lathe_alloc_live();
    for (d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        struct dirent *entry;
        if (!dir) continue;
        while ((entry = readdir(dir)) != NULL) {
            char path[512];
            char *text;
            size_t len = strlen(entry->d_name);
            if (len < 16 || strcmp(entry->d_name + len - 16, ".experiment.json") != 0) continue;
            snprintf(path, sizeof path, "%s/%s", dirs[d], entry->d_name);
            text = check_read_file(path, &n);
            CHECK(text != NULL, "%s: unreadable", path);
            if (text && round_trip(path, text, n)) files++;
            free(text);
        }
        closedir(dir);
    }
    CHECK(files >= 16, "only %zu example experiments round-tripped", files);
    CHECK(round_trip("every op", everything, strlen(everything)) > 0, "every op");
    { /* shortest floats */
        lathe_experiment *e = NULL;
        lathe_error err;
        char *text = NULL;
        CHECK(lathe_experiment_parse(everything, strlen(everything), &e, &err) == LATHE_OK, "%s", err.message);
        if (e && lathe_experiment_write(e, &text, &err) == LATHE_OK) {
            CHECK(strstr(text, "\"learning_rate\":\t0.1,") && strstr(text, "\"weight_decay\":\t0.0001,") &&
                      strstr(text, "\"padding\":\t1") && strstr(text, "\"seed\":\t999999999999999"),
                  "canonical text:\n%s", text);
        }
        lathe_free(text);
        /* out of memory at each allocation of writing */
        if (e) {
            unsigned long nth;
            int written = 0;
            for (nth = 1; nth < 10000 && !written; nth++) {
                long before = lathe_alloc_live();
                lathe_status st;
                text = NULL;
                lathe_alloc_fail_at(nth);
                st = lathe_experiment_write(e, &text, &err);
                lathe_alloc_fail_at(0);
                if (st == LATHE_OK) written = 1;
                else CHECK(st == LATHE_ERR_NOMEM && text == NULL, "allocation %lu: %s", nth, err.message);
                lathe_free(text);
                CHECK(lathe_alloc_live() == before, "allocation %lu failing leaked", nth);
            }
            CHECK(written, "writing never succeeded");
        }
        lathe_experiment_destroy(e);
    }
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    printf("test_experiment_write: %zu example files\n", files);
    return check_finish("test_experiment_write");
}
