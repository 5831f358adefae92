/* Checkpoints of a trainer (lathe/trainer.h): save, check, restore; same bits after. */
#ifndef LATHE_CHECKPOINT_H
#define LATHE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"
#include "lathe/trainer.h"

/* Checkpoints: the trainer's whole state (weights, optimiser state, generators, epoch, batch
 * position and the epoch's row order, early-stopping state) as lathe_trainer_checkpoint_size
 * bytes, little-endian on every target. owner is the caller's 32-byte fingerprint of the
 * experiment and data (e.g. a SHA-256); restoring checks it, the sizes and every progress
 * field before changing anything, so a refused checkpoint leaves the trainer as it was. A
 * trainer restored from a checkpoint continues exactly as the one that saved it: same
 * batches, same bits. Neither allocates. */
size_t lathe_trainer_checkpoint_size(const lathe_trainer *trainer);
/* The owner tag every Lathe front end uses (so a checkpoint saved by the page resumes in the
 * CLI and back): SHA-256 of the experiment bytes, then the data fingerprint and the prepared
 * data's hash as their hex text ("" when there is none). */
void lathe_checkpoint_owner(const char *experiment, size_t n, const char *data_sha256_hex,
                            const char *prepared_sha256_hex, uint8_t owner[32]);
void lathe_trainer_checkpoint_save(const lathe_trainer *trainer, const uint8_t owner[32], void *out);
lathe_status lathe_trainer_checkpoint_restore(lathe_trainer *trainer, const uint8_t owner[32],
                                              const void *data, size_t n, lathe_error *err);

#endif
