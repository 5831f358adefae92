/* Version 3 model files: a network pruned with train.prune stores each layer that is at least
 * half zeros as "weights_sparse" (a bitmask and the other values), in a file smaller than the
 * dense one; it loads to the same weights and hash, saves to the same bytes, predicts what the
 * trainer predicts, and a damaged sparse tensor (a mask bit, a stored zero, a count, both forms,
 * a sparse layer in a version 2 file) is refused naming the field; an unpruned network is
 * still written as version 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/model.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static const char *text_pruned =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":3,"
    "\"data\":{\"synthetic\":\"spiral\",\"samples\":200,\"noise\":0.2,\"classes\":3},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"standardize\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[40,20]},"
    "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.01,\"batch_size\":16,\"epochs\":8%s}}";

/* Trains the experiment (with extra train fields) and writes its model file. */
static char *model_text(const char *extra, lathe_trainer **keep_t, lathe_prepared **keep_p,
                        lathe_experiment **keep_e, lathe_table *table) {
    char json[2048];
    lathe_experiment *exp = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *t = NULL;
    lathe_error err;
    char *out = NULL;
    snprintf(json, sizeof json, text_pruned, extra);
    CHECK(lathe_experiment_parse(json, strlen(json), &exp, &err) == LATHE_OK, "%s", err.message);
    CHECK(exp && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
    CHECK(prep && lathe_trainer_create(exp, prep, &t, &err) == LATHE_OK, "%s", err.message);
    CHECK(t && lathe_trainer_step(t, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
    CHECK(t && lathe_model_file_write(json, strlen(json), prep, t, NULL, &out, &err) == LATHE_OK, "%s", err.message);
    *keep_t = t, *keep_p = prep, *keep_e = exp;
    return out;
}

int main(void) {
    lathe_table *table = NULL;
    lathe_error err;
    lathe_trainer *t = NULL, *t2 = NULL;
    lathe_prepared *p = NULL, *p2 = NULL;
    lathe_experiment *e = NULL, *e2 = NULL;
    lathe_model *m = NULL;
    char *sparse, *dense, *saved = NULL, *bad;
    long live = lathe_alloc_live();
    CHECK(lathe_synthetic_table("spiral", 200, 0.2f, 3, 3, &table, &err) == LATHE_OK, "%s", err.message);
    if (!table) return check_finish("test_sparse_model");
    sparse = model_text(",\"prune\":{\"sparsity\":0.85,\"frequency\":5}", &t, &p, &e, table);
    dense = model_text("", &t2, &p2, &e2, table);
    if (!sparse || !dense) return check_finish("test_sparse_model");
    CHECK(strstr(sparse, "\"version\":\t3") && strstr(sparse, "\"weights_sparse\""), "the pruned model is not version 3 with sparse weights");
    CHECK(strstr(dense, "\"version\":\t1") && !strstr(dense, "weights_sparse"), "an unpruned model is not version 1");
    CHECK(strlen(sparse) * 2 < strlen(dense), "the pruned file (%zu bytes) is not under half the dense one (%zu)",
          strlen(sparse), strlen(dense));
    CHECK(lathe_model_load(sparse, strlen(sparse), &m, &err) == LATHE_OK, "%s", err.message);
    if (m) {
        char hex[65];
        const float *a, *b;
        size_t na, nb;
        float x[2] = {0.3f, -1.2f}, ya[3], yb[3];
        lathe_trainer_weights_sha256(t, hex);
        CHECK(strcmp(hex, lathe_model_weights_sha256(m)) == 0, "the loaded hash differs");
        a = lathe_trainer_params(t, &na), b = lathe_trainer_params(lathe_model_network(m), &nb);
        CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0, "the loaded weights differ");
        CHECK(lathe_model_save(m, NULL, &saved, &err) == LATHE_OK && saved && strcmp(saved, sparse) == 0,
              "load -> save does not give the same bytes");
        lathe_trainer_predict(t, 1, x, ya);
        lathe_trainer_predict(lathe_model_network(m), 1, x, yb);
        CHECK(memcmp(ya, yb, sizeof ya) == 0, "the loaded model predicts differently");
    }
    lathe_model_destroy(m);
    bad = check_replaced(sparse, "\"version\":\t3", "\"version\":\t2");
    check_model_refused("sparse in version 2", bad, "weights_sparse: needs a version 3 model file");
    free(bad);
    bad = check_replaced(sparse, "\"nonzeros\":\t", "\"nonzeros\":\t1");
    check_model_refused("a wrong count", bad, "weights_sparse");
    free(bad);
    bad = check_replaced(sparse, "\"weights_sparse\":", "\"weights\":\t\"AAAA\",\n\t\t\"weights_sparse\":");
    check_model_refused("both forms", bad, "give one of them");
    free(bad);
    { /* a mask byte changed: the count no longer matches, or the hash */
        const char *at = strstr(sparse, "\"mask\":\t\"");
        char *copy = malloc(strlen(sparse) + 1);
        strcpy(copy, sparse);
        if (at) {
            char *c = copy + (at - sparse) + 9;
            *c = *c == 'A' ? 'B' : 'A';
        }
        check_model_refused("a mask bit", copy, "layers[0].weights_sparse");
        free(copy);
    }
    bad = check_replaced(sparse, "\"mask\":\t\"", "\"mask\":\t\"!");
    check_model_refused("mask base64", bad, "weights_sparse.mask");
    free(bad);
    { /* a categorical input without an impute step: its one-hot fill is zeros in version 3 too */
        static const char *exp_text =
            "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":4,\"data\":{\"file\":\"x.csv\","
            "\"target\":\"y\"},\"prepare\":[{\"op\":\"split\",\"test\":0.2}],"
            "\"model\":{\"template\":\"mlp\",\"hidden\":[32]},\"train\":{\"epochs\":4,\"batch_size\":8,"
            "\"prune\":{\"sparsity\":0.8,\"frequency\":2}}}";
        char csv[8192];
        size_t at = (size_t)sprintf(csv, "a,colour,y\n"), r;
        lathe_table *tab = NULL;
        lathe_experiment *ex = NULL;
        lathe_prepared *pp = NULL;
        lathe_trainer *tt = NULL;
        lathe_model *mm = NULL;
        char *file = NULL;
        for (r = 0; r < 120; r++)
            at += (size_t)sprintf(csv + at, "%zu,%s,%s\n", r % 17, r % 3 == 0 ? "red" : r % 3 == 1 ? "green" : "blue",
                                  (r % 17) > 8 ? "hi" : "lo");
        CHECK(lathe_csv_read(csv, at, NULL, &tab, &err) == LATHE_OK, "%s", err.message);
        CHECK(lathe_experiment_parse(exp_text, strlen(exp_text), &ex, &err) == LATHE_OK, "%s", err.message);
        CHECK(tab && ex && lathe_prepare(ex, tab, &pp, &err) == LATHE_OK, "%s", err.message);
        CHECK(pp && lathe_trainer_create(ex, pp, &tt, &err) == LATHE_OK, "%s", err.message);
        CHECK(tt && lathe_trainer_step(tt, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
        CHECK(tt && lathe_model_file_write(exp_text, strlen(exp_text), pp, tt, NULL, &file, &err) == LATHE_OK, "%s",
              err.message);
        CHECK(file && strstr(file, "\"version\":\t3"), "the categorical model is not version 3");
        CHECK(file && lathe_model_load(file, strlen(file), &mm, &err) == LATHE_OK, "a version 3 categorical model: %s",
              err.message);
        lathe_model_destroy(mm);
        lathe_free(file);
        lathe_trainer_destroy(tt);
        lathe_prepared_destroy(pp);
        lathe_experiment_destroy(ex);
        lathe_table_destroy(tab);
    }
    lathe_free(saved);
    lathe_free(sparse);
    lathe_free(dense);
    lathe_trainer_destroy(t);
    lathe_trainer_destroy(t2);
    lathe_prepared_destroy(p);
    lathe_prepared_destroy(p2);
    lathe_experiment_destroy(e);
    lathe_experiment_destroy(e2);
    lathe_table_destroy(table);
    CHECK(lathe_alloc_live() == live, "%ld blocks leaked", lathe_alloc_live() - live);
    return check_finish("test_sparse_model");
}
