/* Checkpoint and resume: a trainer interrupted after k mini-batches, saved, and restored into
 * a fresh trainer ends with weights bit-identical to a run never interrupted — for k at the
 * start, inside an epoch, on an epoch boundary and near the end, with Adam, dropout, batch
 * norm and early stopping all carrying state. A checkpoint of another owner, a truncated one
 * and one with corrupted progress are refused and leave the trainer untouched; saving and
 * restoring allocate nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/checkpoint.h"
#include "lathe/experiment.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static const char *experiment =
    "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":11,"
    "\"data\":{\"synthetic\":\"spiral\",\"samples\":150,\"noise\":0.2,\"classes\":3},"
    "\"prepare\":[{\"op\":\"split\",\"test\":0.2,\"validation\":0.2},{\"op\":\"standardize\"}],"
    "\"model\":{\"layers\":[{\"type\":\"dense\",\"units\":24},{\"type\":\"batch_norm\"},"
    "{\"type\":\"relu\"},{\"type\":\"dropout\",\"rate\":0.2},{\"type\":\"dense\"}]},"
    "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.02,\"batch_size\":16,\"epochs\":30,"
    "\"schedule\":{\"kind\":\"cosine\"},\"early_stopping\":{\"patience\":6}}}";

static lathe_trainer *fresh(const lathe_experiment *exp, const lathe_prepared *prep) {
    lathe_trainer *t = NULL;
    lathe_error err;
    CHECK(lathe_trainer_create(exp, prep, &t, &err) == LATHE_OK, "%s", err.message);
    return t;
}

int main(void) {
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_trainer *whole = NULL;
    lathe_error err;
    char want[65];
    uint8_t owner[32], other[32];
    size_t batches_per_epoch, total_batches, k, stops[6];
    long live = lathe_alloc_live();

    memset(owner, 0xA5, sizeof owner);
    memset(other, 0x5A, sizeof other);
    CHECK(lathe_experiment_parse(experiment, strlen(experiment), &exp, &err) == LATHE_OK, "%s", err.message);
    if (!exp) return check_finish("test_checkpoint");
    CHECK(lathe_synthetic_table("spiral", 150, 0.2f, 3, 11, &table, &err) == LATHE_OK, "%s", err.message);
    CHECK(table && lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "%s", err.message);
    if (!prep) return check_finish("test_checkpoint");

    /* The uninterrupted run. */
    whole = fresh(exp, prep);
    if (!whole) return check_finish("test_checkpoint");
    batches_per_epoch = lathe_trainer_progress(whole).batches_per_epoch;
    CHECK(lathe_trainer_step(whole, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
    total_batches = lathe_trainer_progress(whole).steps;
    lathe_trainer_weights_sha256(whole, want);
    CHECK(total_batches > 3 * batches_per_epoch, "the run is too short to interrupt (%zu batches)",
          total_batches);

    stops[0] = 1, stops[1] = batches_per_epoch / 2, stops[2] = batches_per_epoch;
    stops[3] = 2 * batches_per_epoch + 3, stops[4] = total_batches - 1, stops[5] = total_batches;
    for (k = 0; k < 6; k++) {
        lathe_trainer *first = fresh(exp, prep), *second = fresh(exp, prep);
        size_t size;
        uint8_t *buf;
        char got[65];
        lathe_progress a, b;
        if (!first || !second) break;
        CHECK(lathe_trainer_step(first, stops[k], &err) == LATHE_OK, "%s", err.message);
        size = lathe_trainer_checkpoint_size(first);
        buf = malloc(size);
        lathe_alloc_fail_at(0);
        lathe_trainer_checkpoint_save(first, owner, buf);
        CHECK(lathe_trainer_checkpoint_restore(second, owner, buf, size, &err) == LATHE_OK,
              "stop %zu: %s", stops[k], err.message);
        CHECK(lathe_alloc_count() == 0, "checkpointing allocated %lu times", lathe_alloc_count());
        a = lathe_trainer_progress(first), b = lathe_trainer_progress(second);
        CHECK(a.epoch == b.epoch && a.batch == b.batch && a.steps == b.steps && a.done == b.done &&
                  a.best_epoch == b.best_epoch,
              "stop %zu: progress differs after restoring", stops[k]);
        CHECK(lathe_trainer_step(second, (size_t)-1, &err) == LATHE_OK, "%s", err.message);
        lathe_trainer_weights_sha256(second, got);
        CHECK(strcmp(got, want) == 0, "interrupted after %zu batches: weights %.16s… differ from "
              "the uninterrupted run's %.16s…", stops[k], got, want);
        CHECK(lathe_trainer_progress(second).steps == total_batches, "stop %zu: %zu steps, not %zu",
              stops[k], lathe_trainer_progress(second).steps, total_batches);

        if (k == 1) { /* refusals leave the fresh trainer as it was */
            lathe_trainer *t = fresh(exp, prep);
            char before[65], after[65];
            uint8_t saved;
            lathe_trainer_weights_sha256(t, before);
            CHECK(lathe_trainer_checkpoint_restore(t, other, buf, size, &err) == LATHE_ERR_MISMATCH &&
                      strstr(err.message, "another experiment"),
                  "another owner: %s", err.message);
            CHECK(lathe_trainer_checkpoint_restore(t, owner, buf, size - 1, &err) == LATHE_ERR_INVALID &&
                      strstr(err.message, "truncated"),
                  "truncated: %s", err.message);
            CHECK(lathe_trainer_checkpoint_restore(t, owner, "not a checkpoint", 16, &err) == LATHE_ERR_INVALID &&
                      strstr(err.message, "not a Lathe checkpoint"),
                  "garbage: %s", err.message);
            saved = buf[8 + 32 + 8 * 6]; /* the low byte of the batch position */
            buf[8 + 32 + 8 * 6] = 0xFF;
            CHECK(lathe_trainer_checkpoint_restore(t, owner, buf, size, &err) == LATHE_ERR_INVALID &&
                      strstr(err.message, "inconsistent"),
                  "corrupted batch position: %s", err.message);
            buf[8 + 32 + 8 * 6] = saved;
            lathe_trainer_weights_sha256(t, after);
            CHECK(strcmp(before, after) == 0 && lathe_trainer_progress(t).steps == 0,
                  "a refused checkpoint changed the trainer");
            lathe_trainer_destroy(t);
        }
        free(buf);
        lathe_trainer_destroy(first);
        lathe_trainer_destroy(second);
    }
    lathe_trainer_destroy(whole);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_checkpoint");
}
