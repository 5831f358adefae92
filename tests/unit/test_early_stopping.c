/* Early stopping: training ends after `patience` epochs without a better validation loss,
 * the weights of the best epoch come back (the validation loss after training equals the
 * best one recorded), nothing is allocated while stepping, and a missing validation split
 * is refused with its JSON path. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static const char *experiment =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":4,"
    "\"data\":{\"synthetic\":\"moons\",\"samples\":200,\"noise\":0.35},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.2,\"validation\":0.2},{\"op\":\"standardize\"}],"
    "\"model\":{\"template\":\"mlp\",\"hidden\":[64,64]},"
    "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.05,\"batch_size\":16,\"epochs\":400,"
    "\"early_stopping\":{\"patience\":4}}}";

int main(void) {
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *trainer = NULL;
    lathe_error err;
    lathe_progress p;
    lathe_metrics m;
    long live = lathe_alloc_live();

    CHECK(lathe_experiment_parse(experiment, strlen(experiment), &exp, &err) == LATHE_OK, "%s", err.message);
    if (!exp) return check_finish("test_early_stopping");
    CHECK(exp->early_stopping && exp->early_stopping_patience == 4 && !exp->early_stopping_accuracy,
          "parsed settings");
    CHECK(lathe_synthetic_table("moons", 200, 0.35f, 2, 4, &table, &err) == LATHE_OK, "%s", err.message);
    CHECK(table && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
    CHECK(prep && lathe_trainer_create(exp, prep, &trainer, &err) == LATHE_OK, "%s", err.message);
    if (trainer) {
        lathe_alloc_fail_at(0);
        CHECK(lathe_trainer_step(trainer, 1000000, &err) == LATHE_OK, "%s", err.message);
        CHECK(lathe_alloc_count() == 0, "stepping with early stopping allocated %lu times", lathe_alloc_count());
        p = lathe_trainer_progress(trainer);
        CHECK(p.done && p.stopped_early, "did not stop early (epoch %zu of %zu)", p.epoch, p.epochs);
        CHECK(p.epoch < 400 && p.best_epoch + 4 == p.epoch, "stopped at %zu, best %zu", p.epoch, p.best_epoch);
        m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_VALIDATION);
        CHECK(m.loss == p.best_value, "validation loss after training %.9g is not the best %.9g: "
              "the best weights were not restored", (double)m.loss, (double)p.best_value);
    }
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);

    {
        const char *no_validation = strstr(experiment, "\"validation\":0.2");
        char json[1024];
        lathe_status st;
        snprintf(json, sizeof json, "%.*s\"validation\":0%s", (int)(no_validation - experiment),
                 experiment, no_validation + strlen("\"validation\":0.2"));
        exp = NULL;
        st = lathe_experiment_parse(json, strlen(json), &exp, &err);
        CHECK(st == LATHE_ERR_INVALID && strstr(err.message, "train.early_stopping: watches the validation split"),
              "no validation split: %s", err.message);
        lathe_experiment_destroy(exp);
    }
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_early_stopping");
}
