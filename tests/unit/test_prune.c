/* Magnitude pruning (train.prune): the schedule is TF Model Optimization's PolynomialDecay
 * (power 3, from 0) computed independently here with pow(); with Adam and L2 weight decay,
 * AdamW, and SGD with momentum, every masked weight is exactly zero after every step
 * (momentum and decay would move it), each pruned layer ends within ±0.5% of the target (or
 * half a weight in a layer of fewer than 100; the global scope: the network), biases and batch norm are never pruned; a checkpoint taken in
 * the middle of pruning resumes to the uninterrupted run's weights and masks; bad settings are
 * refused naming the field. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/checkpoint.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/prune.h"
#include "lathe/trainer.h"
#include "train/trainer_internal.h"

static const char *head =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":5,"
    "\"data\":{\"synthetic\":\"spiral\",\"samples\":240,\"noise\":0.2,\"classes\":3},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"standardize\"}],"
    "\"model\":{\"layers\":[{\"type\":\"dense\",\"units\":32},{\"type\":\"batch_norm\"},"
    "{\"type\":\"relu\"},{\"type\":\"dense\",\"units\":24},{\"type\":\"tanh\"},{\"type\":\"dense\"}]},"
    "\"train\":{";

/* An experiment: head, then the train section's text. */
static lathe_experiment *experiment(const char *train, lathe_error *err, lathe_status *st) {
    char text[2048];
    lathe_experiment *exp = NULL;
    snprintf(text, sizeof text, "%s%s}}", head, train);
    *st = lathe_experiment_parse(text, strlen(text), &exp, err);
    return exp;
}

static void schedule(void) {
    size_t step;
    for (step = 0; step <= 130; step++) {
        double want = step < 10 ? 0.0 : step >= 110 ? 0.8 : 0.8 * (1.0 - pow(1.0 - (double)(step - 10) / 100.0, 3.0));
        CHECK(fabs(lathe_prune_sparsity_at(0.8, 10, 110, step) - want) < 1e-12, "step %zu: %g, want %g",
              step, lathe_prune_sparsity_at(0.8, 10, 110, step), want);
    }
    CHECK(lathe_prune_is_update(10, 110, 25, 10) && lathe_prune_is_update(10, 110, 25, 35) &&
              !lathe_prune_is_update(10, 110, 25, 36) && lathe_prune_is_update(10, 110, 25, 110) &&
              !lathe_prune_is_update(10, 110, 25, 9) && !lathe_prune_is_update(10, 110, 25, 135),
          "the update steps");
}

/* Trains one experiment batch by batch, checking the masks after every step; returns the
 * trainer (the caller destroys it) with *hash its weights. */
static lathe_trainer *train_checked(const char *name, const char *train, const lathe_prepared **prep_out,
                                    lathe_table *table, lathe_prepared **keep, lathe_experiment **exp_out) {
    lathe_error err;
    lathe_status st;
    lathe_experiment *exp = experiment(train, &err, &st);
    lathe_prepared *prep = NULL;
    lathe_trainer *t = NULL;
    size_t l, i, bad = 0;
    CHECK(st == LATHE_OK, "%s: %s", name, err.message);
    if (!exp) return NULL;
    CHECK(lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s: %s", name, err.message);
    CHECK(prep && lathe_trainer_create(exp, prep, &t, &err) == LATHE_OK, "%s: %s", name, err.message);
    if (!t) return NULL;
    while (!lathe_trainer_progress(t).done) {
        CHECK(lathe_trainer_step(t, 1, &err) == LATHE_OK, "%s: %s", name, err.message);
        for (i = 0; i < t->n_params; i++)
            if (!t->prune_mask[i] && t->params[i] != 0.0f) bad++;
    }
    CHECK(bad == 0, "%s: %zu masked weights were not zero after their step", name, bad);
    for (l = 0; l < t->n_layers; l++) {
        const layer *ly = &t->layers[l];
        for (i = 0; i < ly->n_b; i++) CHECK(t->prune_mask[ly->b_off + i], "%s: a bias of layer %zu is masked", name, l);
        if (ly->kind == LATHE_LAYER_BATCH_NORM)
            for (i = 0; i < ly->n_w; i++) CHECK(t->prune_mask[ly->w_off + i], "%s: batch norm is masked", name);
    }
    *prep_out = prep, *keep = prep, *exp_out = exp;
    return t;
}

static void sparsity(const char *name, const lathe_trainer *t, double target, int global) {
    size_t l, zeros, weights, all = 0, all_zeros = 0;
    for (l = 0; l < lathe_trainer_layer_count(t); l++) {
        lathe_trainer_layer_zeros(t, l, &zeros, &weights);
        if (!weights) continue;
        all += weights, all_zeros += zeros;
        if (!global) /* ±0.5%, or half a weight in a layer of fewer than 100 */
            CHECK(fabs((double)zeros / (double)weights - target) <= fmax(0.005, 0.5 / (double)weights),
                  "%s: layer %zu is %.4f sparse, target %.2f", name, l, (double)zeros / (double)weights, target);
    }
    CHECK(fabs((double)all_zeros / (double)all - target) <= 0.005, "%s: the network is %.4f sparse", name,
          (double)all_zeros / (double)all);
}

static void optimisers(lathe_table *table) {
    static const char *const cases[][2] = {
        {"adam + L2", "\"optimizer\":\"adam\",\"learning_rate\":0.01,\"weight_decay\":0.01,\"batch_size\":16,"
                      "\"epochs\":12,\"prune\":{\"sparsity\":0.7,\"begin_step\":12,\"frequency\":7}"},
        {"adamw", "\"optimizer\":\"adamw\",\"learning_rate\":0.01,\"weight_decay\":0.05,\"batch_size\":16,"
                  "\"epochs\":12,\"prune\":{\"sparsity\":0.5,\"frequency\":5}"},
        {"sgd momentum", "\"optimizer\":\"sgd\",\"learning_rate\":0.05,\"momentum\":0.9,\"weight_decay\":0.001,"
                         "\"batch_size\":16,\"epochs\":12,\"prune\":{\"sparsity\":0.9,\"end_step\":100,\"frequency\":10}"},
        {"global", "\"optimizer\":\"adam\",\"learning_rate\":0.01,\"batch_size\":16,\"epochs\":12,"
                   "\"prune\":{\"sparsity\":0.6,\"scope\":\"global\",\"frequency\":9}"},
    };
    static const double targets[] = {0.7, 0.5, 0.9, 0.6};
    size_t c;
    for (c = 0; c < 4; c++) {
        const lathe_prepared *prep;
        lathe_prepared *keep = NULL;
        lathe_experiment *exp = NULL;
        lathe_trainer *t = train_checked(cases[c][0], cases[c][1], &prep, table, &keep, &exp);
        if (t) sparsity(cases[c][0], t, targets[c], c == 3);
        lathe_trainer_destroy(t);
        lathe_prepared_destroy(keep);
        lathe_experiment_destroy(exp);
    }
}

/* Interrupted at each stop, checkpointed and resumed: the uninterrupted run's weights. */
static void resume(lathe_table *table) {
    static const char *train = "\"optimizer\":\"adam\",\"learning_rate\":0.01,\"weight_decay\":0.01,"
                               "\"batch_size\":16,\"epochs\":10,\"prune\":{\"sparsity\":0.75,\"frequency\":6}";
    static const size_t stops[] = {3, 17, 30, 61};
    lathe_error err;
    lathe_status st;
    lathe_experiment *exp = experiment(train, &err, &st);
    lathe_prepared *prep = NULL;
    lathe_trainer *whole = NULL;
    char want[65];
    uint8_t owner[32];
    size_t k;
    memset(owner, 7, sizeof owner);
    CHECK(st == LATHE_OK && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
    CHECK(prep && lathe_trainer_create(exp, prep, &whole, &err) == LATHE_OK, "%s", err.message);
    if (!whole) return;
    CHECK(lathe_trainer_step(whole, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
    lathe_trainer_weights_sha256(whole, want);
    for (k = 0; k < sizeof stops / sizeof *stops; k++) {
        lathe_trainer *a = NULL, *b = NULL;
        char got[65];
        size_t size;
        uint8_t *buf;
        CHECK(lathe_trainer_create(exp, prep, &a, &err) == LATHE_OK && lathe_trainer_create(exp, prep, &b, &err) == LATHE_OK,
              "%s", err.message);
        if (!a || !b) break;
        CHECK(lathe_trainer_step(a, stops[k], &err) == LATHE_OK, "%s", err.message);
        size = lathe_trainer_checkpoint_size(a);
        CHECK(size == lathe_trainer_checkpoint_size(whole), "checkpoint sizes differ");
        buf = malloc(size);
        lathe_trainer_checkpoint_save(a, owner, buf);
        CHECK(lathe_trainer_checkpoint_restore(b, owner, buf, size, &err) == LATHE_OK, "stop %zu: %s", stops[k], err.message);
        CHECK(memcmp(a->prune_mask, b->prune_mask, a->n_params) == 0, "stop %zu: the masks differ after restoring", stops[k]);
        buf[size - 1] = 2; /* a mask byte that is neither 0 nor 1 */
        CHECK(lathe_trainer_checkpoint_restore(b, owner, buf, size, &err) == LATHE_ERR_INVALID &&
                  strstr(err.message, "pruning mask"),
              "a damaged mask: '%s'", err.message);
        free(buf);
        CHECK(lathe_trainer_step(b, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
        lathe_trainer_weights_sha256(b, got);
        CHECK(strcmp(got, want) == 0, "resumed after %zu steps: %s, uninterrupted %s", stops[k], got, want);
        lathe_trainer_destroy(a);
        lathe_trainer_destroy(b);
    }
    lathe_trainer_destroy(whole);
    lathe_prepared_destroy(prep);
    lathe_experiment_destroy(exp);
}

static void refusals(lathe_table *table) {
    static const char *const cases[][2] = {
        {"\"prune\":{\"sparsity\":1.0}", "train.prune.sparsity"},
        {"\"prune\":{\"sparsity\":-0.1}", "train.prune.sparsity"},
        {"\"prune\":{}", "train.prune.sparsity: missing"},
        {"\"prune\":{\"sparsity\":0.5,\"begin_step\":50,\"end_step\":40}", "train.prune.end_step: must come after"},
        {"\"prune\":{\"sparsity\":0.5,\"frequency\":0}", "train.prune.frequency"},
        {"\"prune\":{\"sparsity\":0.5,\"scope\":\"net\"}", "train.prune.scope"},
        {"\"prune\":{\"sparsity\":0.5,\"every\":3}", "train.prune"},
        {"\"prune\":0.5", "train.prune: must be an object"},
    };
    size_t c;
    for (c = 0; c < sizeof cases / sizeof *cases; c++) {
        char train[256];
        lathe_error err;
        lathe_status st;
        lathe_experiment *exp;
        snprintf(train, sizeof train, "\"epochs\":2,%s", cases[c][0]);
        exp = experiment(train, &err, &st);
        CHECK(st == LATHE_ERR_INVALID && strstr(err.message, cases[c][1]), "%s: '%s'", cases[c][0], err.message);
        lathe_experiment_destroy(exp);
    }
    { /* an end step past the run's last, found when the trainer is made */
        lathe_error err;
        lathe_status st;
        lathe_experiment *exp = experiment("\"epochs\":2,\"batch_size\":16,\"prune\":{\"sparsity\":0.5,\"end_step\":1000}", &err, &st);
        lathe_prepared *prep = NULL;
        lathe_trainer *t = NULL;
        CHECK(st == LATHE_OK && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
        st = prep ? lathe_trainer_create(exp, prep, &t, &err) : LATHE_ERR_INVALID;
        CHECK(st == LATHE_ERR_INVALID && strstr(err.message, "train.prune.end_step: 1000, but training takes 24 steps"),
              "a late end step: '%s'", err.message);
        lathe_trainer_destroy(t);
        lathe_prepared_destroy(prep);
        lathe_experiment_destroy(exp);
    }
}

int main(void) {
    lathe_table *table = NULL;
    lathe_error err;
    long live = lathe_alloc_live();
    schedule();
    CHECK(lathe_synthetic_table("spiral", 240, 0.2f, 3, 5, &table, &err) == LATHE_OK, "%s", err.message);
    if (!table) return check_finish("test_prune");
    optimisers(table);
    resume(table);
    refusals(table);
    lathe_table_destroy(table);
    CHECK(lathe_alloc_live() == live, "%ld blocks leaked", lathe_alloc_live() - live);
    return check_finish("test_prune");
}
