/* Checkpoints: a trainer's whole state as bytes, and back (lathe/checkpoint.h). */
#include "lathe/checkpoint.h"

#include <string.h>

#include "lathe/optim.h"
#include "lathe/sha256.h"
#include "trainer_internal.h"

/* ---- Checkpoints ----------------------------------------------------------------------
 * Layout (all little-endian): "LATHECK1", then u64 fields: owner tag (4 × u64, the caller's
 * 32-byte fingerprint), n_params, n_stats, per_param, train rows, batch size, epoch, batch,
 * steps, done, stopped_early, best_epoch, epochs_since_best, has_best, the two generators'
 * state and increment; then f64 epoch_loss_sum; f32 last_epoch_loss, best_value; then the
 * f32 arrays params, opt_state, snapshot, stats, stats_snapshot, [best_params, best_stats];
 * then the u32 array order; then, with train.prune, the pruning mask (a byte per parameter,
 * 0 or 1). */
#define CK_MAGIC "LATHECK1"
#define CK_U64S 22

static size_t checkpoint_floats(const lathe_trainer *t) {
    size_t per = lathe_optimizer_state_per_param(&t->exp->optimizer);
    size_t n = t->n_params * (2 + per) + 2 * t->n_stats;
    if (t->best_params) n += t->n_params + t->n_stats;
    return n;
}

size_t lathe_trainer_checkpoint_size(const lathe_trainer *t) {
    return 8 + 8 * CK_U64S + 8 + 4 * 2 + 4 * checkpoint_floats(t) + 4 * t->data->train.rows +
           (t->prune_mask ? t->n_params : 0);
}

static uint8_t *put_u64(uint8_t *p, uint64_t v) {
    int i;
    for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}
static uint8_t *put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
    return p + 4;
}
static uint8_t *put_f32s(uint8_t *p, const float *v, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        p = put_u32(p, bits);
    }
    return p;
}
static uint64_t get_u64(const uint8_t **p) {
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++) v |= (uint64_t)(*p)[i] << (8 * i);
    *p += 8;
    return v;
}
static uint32_t get_u32(const uint8_t **p) {
    uint32_t v = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 |
                 (uint32_t)(*p)[3] << 24;
    *p += 4;
    return v;
}
static void get_f32s(const uint8_t **p, float *v, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t bits = get_u32(p);
        memcpy(&v[i], &bits, 4);
    }
}

void lathe_trainer_checkpoint_save(const lathe_trainer *t, const uint8_t owner[32], void *out) {
    uint8_t *p = out;
    size_t i, per = lathe_optimizer_state_per_param(&t->exp->optimizer);
    uint64_t bits;
    double sum = t->epoch_loss_sum;
    memcpy(p, CK_MAGIC, 8), p += 8;
    memcpy(p, owner, 32), p += 32;
    p = put_u64(p, t->n_params), p = put_u64(p, t->n_stats), p = put_u64(p, per);
    p = put_u64(p, t->data->train.rows), p = put_u64(p, t->batch_size);
    p = put_u64(p, t->epoch), p = put_u64(p, t->batch), p = put_u64(p, t->steps);
    p = put_u64(p, (uint64_t)t->done), p = put_u64(p, (uint64_t)t->stopped_early);
    p = put_u64(p, t->best_epoch), p = put_u64(p, t->epochs_since_best);
    p = put_u64(p, t->best_params != NULL);
    p = put_u64(p, t->shuffle_rng.state), p = put_u64(p, t->shuffle_rng.inc);
    p = put_u64(p, t->dropout_rng.state), p = put_u64(p, t->dropout_rng.inc);
    p = put_u64(p, 0); /* reserved */
    memcpy(&bits, &sum, 8);
    p = put_u64(p, bits);
    p = put_f32s(p, &t->last_epoch_loss, 1), p = put_f32s(p, &t->best_value, 1);
    p = put_f32s(p, t->params, t->n_params);
    p = put_f32s(p, t->opt_state, t->n_params * per);
    p = put_f32s(p, t->snapshot, t->n_params);
    p = put_f32s(p, t->stats, t->n_stats);
    p = put_f32s(p, t->stats_snapshot, t->n_stats);
    if (t->best_params) {
        p = put_f32s(p, t->best_params, t->n_params);
        p = put_f32s(p, t->best_stats, t->n_stats);
    }
    for (i = 0; i < t->data->train.rows; i++) p = put_u32(p, t->order[i]);
    if (t->prune_mask) memcpy(p, t->prune_mask, t->n_params);
}

lathe_status lathe_trainer_checkpoint_restore(lathe_trainer *t, const uint8_t owner[32],
                                              const void *data, size_t n, lathe_error *err) {
    const uint8_t *p = data;
    size_t per = lathe_optimizer_state_per_param(&t->exp->optimizer), i;
    uint64_t expect[5], got[5], epoch, batch, steps, done, early, best_epoch, since, has_best;
    uint64_t sum_bits;
    lathe_rng shuffle, dropout;
    if (n < 8 + 32 || memcmp(p, CK_MAGIC, 8) != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "checkpoint: not a Lathe checkpoint (no "
                                                       "LATHECK1 signature)");
    if (n != lathe_trainer_checkpoint_size(t))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "checkpoint: %zu bytes, but this experiment's trainer needs %zu "
                               "(truncated, or made for another experiment)",
                               n, lathe_trainer_checkpoint_size(t));
    p += 8;
    if (memcmp(p, owner, 32) != 0)
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               "checkpoint: it was made for another experiment or other data "
                               "(its fingerprint differs)");
    p += 32;
    expect[0] = t->n_params, expect[1] = t->n_stats, expect[2] = per;
    expect[3] = t->data->train.rows, expect[4] = t->batch_size;
    for (i = 0; i < 5; i++) got[i] = get_u64(&p);
    for (i = 0; i < 5; i++) {
        static const char *const names[5] = {"parameters", "statistics",
                                             "optimiser values per parameter", "training rows",
                                             "batch size"};
        if (got[i] != expect[i])
            return lathe_error_set(err, LATHE_ERR_MISMATCH,
                                   "checkpoint: %llu %s, this trainer has %llu",
                                   (unsigned long long)got[i], names[i],
                                   (unsigned long long)expect[i]);
    }
    epoch = get_u64(&p), batch = get_u64(&p), steps = get_u64(&p);
    done = get_u64(&p), early = get_u64(&p), best_epoch = get_u64(&p), since = get_u64(&p);
    has_best = get_u64(&p);
    shuffle.state = get_u64(&p), shuffle.inc = get_u64(&p);
    dropout.state = get_u64(&p), dropout.inc = get_u64(&p);
    (void)get_u64(&p);
    sum_bits = get_u64(&p);
    if (epoch > t->exp->epochs || batch >= t->batches_per_epoch || done > 1 || early > 1 ||
        steps > (uint64_t)SIZE_MAX || best_epoch > epoch || since > epoch ||
        has_best != (t->best_params != NULL) || !(shuffle.inc & 1) || !(dropout.inc & 1))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "checkpoint: its progress fields are inconsistent (epoch %llu of "
                               "%zu, batch %llu of %zu)",
                               (unsigned long long)epoch, t->exp->epochs,
                               (unsigned long long)batch, t->batches_per_epoch);
    {
        const uint8_t *q = p + 8 + 4 * checkpoint_floats(t);
        for (i = 0; i < t->data->train.rows; i++)
            if (get_u32(&q) >= t->data->train.rows)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "checkpoint: the epoch's row order names row %zu of %zu",
                                       i, t->data->train.rows);
        for (i = 0; t->prune_mask && i < t->n_params; i++)
            if (q[i] > 1)
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "checkpoint: the pruning mask's byte %zu is %u (0 or 1)", i,
                                       (unsigned)q[i]);
    }
    /* Everything checked: now overwrite the trainer. */
    t->epoch = (size_t)epoch, t->batch = (size_t)batch, t->steps = (size_t)steps;
    t->done = (int)done, t->stopped_early = (int)early;
    t->best_epoch = (size_t)best_epoch, t->epochs_since_best = (size_t)since;
    t->shuffle_rng = shuffle, t->dropout_rng = dropout;
    memcpy(&t->epoch_loss_sum, &sum_bits, 8);
    t->last_batch_loss = t->last_lr = __builtin_nanf(""); /* not saved: no step yet */
    t->last_grad_norm = __builtin_nan("");
    get_f32s(&p, &t->last_epoch_loss, 1), get_f32s(&p, &t->best_value, 1);
    get_f32s(&p, t->params, t->n_params);
    get_f32s(&p, t->opt_state, t->n_params * per);
    get_f32s(&p, t->snapshot, t->n_params);
    get_f32s(&p, t->stats, t->n_stats);
    get_f32s(&p, t->stats_snapshot, t->n_stats);
    if (t->best_params) {
        get_f32s(&p, t->best_params, t->n_params);
        get_f32s(&p, t->best_stats, t->n_stats);
    }
    for (i = 0; i < t->data->train.rows; i++) t->order[i] = get_u32(&p);
    if (t->prune_mask) memcpy(t->prune_mask, p, t->n_params);
    return LATHE_OK;
}

void lathe_checkpoint_owner(const char *experiment, size_t n, const char *data_sha256_hex,
                            const char *prepared_sha256_hex, uint8_t owner[32]) {
    lathe_sha256 ctx;
    lathe_sha256_init(&ctx);
    lathe_sha256_update(&ctx, experiment, n);
    lathe_sha256_update(&ctx, data_sha256_hex, strlen(data_sha256_hex));
    lathe_sha256_update(&ctx, prepared_sha256_hex, strlen(prepared_sha256_hex));
    lathe_sha256_final(&ctx, owner);
}
