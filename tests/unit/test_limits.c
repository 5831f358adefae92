/* Limits (lathe/limits.h): a network over the parameter limit, and one whose trainer would
 * need more memory than the limit, are refused at creation with LATHE_ERR_LIMIT and a message
 * with the numbers — before anything large is allocated (the allocations made are counted) —
 * and a network just under the limits is created and reports its memory. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/limits.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static lathe_status try_model(const char *model, const char *batch, lathe_error *err, size_t *bytes) {
    char json[1024];
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *t = NULL;
    lathe_status st;
    snprintf(json, sizeof json,
             "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":1,"
             "\"data\":{\"synthetic\":\"blobs\",\"samples\":40000,\"classes\":3},"
             "\"prepare\":[{\"op\":\"split\",\"test\":0.25}],\"model\":%s,"
             "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.01,\"batch_size\":%s,\"epochs\":1}}",
             model, batch);
    st = lathe_experiment_parse(json, strlen(json), &exp, err);
    CHECK(st == LATHE_OK, "parse %s: %s", model, err->message);
    if (st != LATHE_OK) return st;
    CHECK(lathe_synthetic_table("blobs", 40000, 0.1f, 3, 1, &table, err) == LATHE_OK, "%s", err->message);
    CHECK(table && lathe_prepare(exp, table, &prep, err) == LATHE_OK, "%s", err->message);
    st = lathe_trainer_create(exp, prep, &t, err);
    *bytes = t ? lathe_trainer_memory_bytes(t) : 0;
    lathe_trainer_destroy(t);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    return st;
}

int main(void) {
    lathe_error err;
    size_t bytes;
    long live = lathe_alloc_live();
    lathe_status st;

    st = try_model("{\"template\":\"mlp\",\"hidden\":[65536,65536]}", "16", &err, &bytes);
    CHECK(st == LATHE_ERR_LIMIT && strstr(err.message, "4294967296 weights") &&
              strstr(err.message, "limit is 67108864"),
          "2^32 weights: status %d, %s", (int)st, err.message);
    st = try_model("{\"template\":\"mlp\",\"hidden\":[8192,8192]}", "16", &err, &bytes);
    CHECK(st == LATHE_ERR_LIMIT && strstr(err.message, "parameters") != NULL,
          "67M parameters (over 64 Mi): status %d, %s", (int)st, err.message);
    st = try_model("{\"template\":\"mlp\",\"hidden\":[2048,2048]}", "16", &err, &bytes);
    CHECK(st == LATHE_OK && bytes > (size_t)4194304 * 4 * 6 && bytes < (size_t)4300000 * 4 * 7,
          "4.2M parameters with Adam (6 floats each): status %d (%s), %zu bytes", (int)st,
          st == LATHE_OK ? "ok" : err.message, bytes);
    st = try_model("{\"template\":\"mlp\",\"hidden\":[16384,2048]}", "30000", &err, &bytes);
    CHECK(st == LATHE_ERR_LIMIT && strstr(err.message, "MiB") != NULL && strstr(err.message, "batch 30000"),
          "a batch of 30000 through 18432 hidden units (553M activations): status %d, %s", (int)st,
          err.message);
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_limits");
}
