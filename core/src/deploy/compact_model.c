/* The inference-only model of the web export's runtime, from its compact description
 * (lathe/compact_model.h): an experiment and a fitted preparation filled from the words, the
 * core's trainer built on them and given the weights. Only what prediction reads is filled:
 * the layers, the binary head and the batch size; the task, features, classes, image shape
 * and scaling steps. */
#include "lathe/compact_model.h"

#include <string.h>

#include "lathe/alloc.h"
#include "lathe/model.h"
#include "lathe/sha256.h"

struct lathe_compact_model {
    lathe_experiment *exp;
    lathe_prepared *prep;
    lathe_trainer *net;
};

void lathe_compact_model_destroy(lathe_compact_model *m) {
    if (!m) return;
    lathe_trainer_destroy(m->net);
    lathe_prepared_destroy(m->prep);
    lathe_free(m->exp);
    lathe_free(m);
}

size_t lathe_compact_model_outputs(const lathe_compact_model *m) {
    return lathe_trainer_n_outputs(m->net);
}

size_t lathe_compact_model_features(const lathe_compact_model *m) { return m->prep->n_features; }

/* Word i of the description (little-endian). */
static uint32_t word(const uint8_t *b, size_t i) {
    b += 4 * i;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* count floats from word `at` on into out. */
static void read_floats(const uint8_t *b, size_t at, size_t count, float *out) {
    size_t i;
    for (i = 0; i < count; i++) {
        uint32_t bits = word(b, at + i);
        memcpy(&out[i], &bits, 4);
    }
}

/* The parameters' SHA-256, as little-endian float32 bytes (the model file's weights_sha256). */
static void params_digest(const float *params, size_t n, uint8_t digest[32]) {
    lathe_sha256 ctx;
    lathe_sha256_init(&ctx);
    lathe_sha256_update_f32le(&ctx, params, n);
    lathe_sha256_final(&ctx, digest);
}

/* Layer l's declared shape (words at w) against the network's: an error names the field. */
static lathe_status check_shape(const uint8_t *b, size_t w, size_t l, const lathe_layer_info *info,
                                lathe_error *err) {
    size_t in[3], want[3] = {0, 0, 0}, k;
    const char *field = "in";
    for (k = 0; k < 3; k++) in[k] = word(b, w + 9 + k);
    switch (info->kind) {
    case LATHE_LAYER_DENSE:
        want[0] = info->in, want[1] = want[2] = 1;
        if (word(b, w + 2) != info->out)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "layers[%zu].units: %zu, but the network has %zu here", l,
                                   (size_t)word(b, w + 2), info->out);
        break;
    case LATHE_LAYER_CONV2D:
    case LATHE_LAYER_MAX_POOL:
    case LATHE_LAYER_AVG_POOL:
    case LATHE_LAYER_FLATTEN:
        want[0] = info->in_c, want[1] = info->in_h, want[2] = info->in_w;
        break;
    case LATHE_LAYER_BATCH_NORM:
        field = "channels";
        in[1] = in[2] = 0;
        in[0] = word(b, w + 12), want[0] = info->channels;
        break;
    default:
        return LATHE_OK;
    }
    for (k = 0; k < 3; k++)
        if (in[k] != want[k])
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "layers[%zu].%s: [%zu, %zu, %zu], but the network has "
                                   "[%zu, %zu, %zu] here",
                                   l, field, in[0], in[1], in[2], want[0], want[1], want[2]);
    return LATHE_OK;
}

lathe_status lathe_compact_model_load(const uint8_t *b, size_t n, lathe_compact_model **out,
                                      lathe_error *err) {
    lathe_compact_model *m = NULL;
    lathe_experiment *exp;
    lathe_prepared *p;
    float *params = NULL, *stats = NULL;
    uint64_t words = n / 4, need;
    size_t F, C, L, S_steps, P, S, l, k, at;
    uint8_t digest[32];
    lathe_status st;
    *out = NULL;
    if (n % 4 || words < LATHE_COMPACT_HEADER_WORDS || word(b, 0) != LATHE_COMPACT_MAGIC)
        return lathe_error_set(err, LATHE_ERR_INVALID, "not a compact model description");
    F = word(b, 3), C = word(b, 4), S_steps = word(b, 9), L = word(b, 10);
    P = word(b, 11), S = word(b, 12);
    if (word(b, 1) > 1 || word(b, 2) > 1)
        return lathe_error_set(err, LATHE_ERR_INVALID, "task: must be 0 or 1");
    if (F == 0 || F > LATHE_MODEL_MAX_FEATURES)
        return lathe_error_set(err, LATHE_ERR_INVALID, "features: %zu (1 to %u allowed)", F,
                               LATHE_MODEL_MAX_FEATURES);
    if (word(b, 1) == 0 ? C < 2 || C > LATHE_MODEL_MAX_CLASSES : C != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "classes: %zu for this task", C);
    if (word(b, 8) < 1 || word(b, 8) > 65536)
        return lathe_error_set(err, LATHE_ERR_INVALID, "batch_size: must be in [1, 65536]");
    if (S_steps > LATHE_MAX_OPS || L == 0 || L > LATHE_MAX_LAYERS)
        return lathe_error_set(err, LATHE_ERR_INVALID, "%zu steps and %zu layers (at most %d and %d)",
                               S_steps, L, LATHE_MAX_OPS, LATHE_MAX_LAYERS);
    if (word(b, 5) > F || word(b, 6) > F || word(b, 7) > F ||
        (uint64_t)word(b, 5) * word(b, 6) * word(b, 7) != (word(b, 5) ? F : 0))
        return lathe_error_set(err, LATHE_ERR_INVALID, "image: its C·H·W is not the %zu features", F);
    need = LATHE_COMPACT_HEADER_WORDS + (uint64_t)L * LATHE_COMPACT_LAYER_WORDS +
           2 * (uint64_t)S_steps * F + P + S;
    if (need != words)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the description holds %llu words, its counts make %llu",
                               (unsigned long long)words, (unsigned long long)need);

    /* Sizes are backed by the description: allocate. */
    m = lathe_calloc(1, sizeof *m);
    if (m) m->exp = lathe_calloc(1, sizeof *m->exp), m->prep = lathe_calloc(1, sizeof *m->prep);
    if (!m || !m->exp || !m->prep) goto nomem;
    exp = m->exp, p = m->prep;
    exp->loss = word(b, 2) ? LATHE_LOSS_BINARY_CROSS_ENTROPY : LATHE_LOSS_AUTO;
    exp->task = p->task = (lathe_task)word(b, 1);
    exp->batch_size = word(b, 8);
    exp->n_layers = L;
    for (l = 0; l < L; l++) {
        size_t w = LATHE_COMPACT_HEADER_WORDS + l * LATHE_COMPACT_LAYER_WORDS;
        lathe_layer_spec *s = &exp->layers[l];
        uint32_t rate = word(b, w + 8);
        if (word(b, w) > LATHE_LAYER_DROPOUT || word(b, w + 1) > LATHE_ACT_TANH) {
            st = lathe_error_set(err, LATHE_ERR_INVALID, "layers[%zu]: an unknown type", l);
            goto fail;
        }
        s->kind = (lathe_layer_kind)word(b, w), s->activation = (lathe_activation)word(b, w + 1);
        s->units = word(b, w + 2), s->filters = word(b, w + 3), s->kernel = word(b, w + 4);
        s->stride = word(b, w + 5), s->pad = word(b, w + 6), s->size = word(b, w + 7);
        memcpy(&s->rate, &rate, 4);
    }
    p->n_features = F, p->n_classes = C;
    for (k = 0; k < 3; k++) p->image[k] = word(b, 5 + k);
    p->steps = lathe_calloc(S_steps ? S_steps : 1, sizeof *p->steps);
    if (!p->steps) goto nomem;
    at = LATHE_COMPACT_HEADER_WORDS + L * LATHE_COMPACT_LAYER_WORDS;
    for (k = 0; k < S_steps; k++, p->n_steps = k) {
        lathe_prepared_step *step = &p->steps[k];
        step->kind = LATHE_PREP_STANDARDIZE; /* any scaling step: apply_steps runs each alike */
        step->shift = lathe_malloc(F * sizeof *step->shift);
        step->scale = lathe_malloc(F * sizeof *step->scale);
        if (!step->shift || !step->scale) {
            p->n_steps = k + 1;
            goto nomem;
        }
        read_floats(b, at, F, step->shift), at += F;
        read_floats(b, at, F, step->scale), at += F;
    }
    if ((st = lathe_trainer_create(exp, p, &m->net, err)) != LATHE_OK) goto fail;
    {
        size_t have_p, have_s;
        (void)lathe_trainer_params(m->net, &have_p);
        (void)lathe_trainer_stats(m->net, &have_s);
        if (have_p != P || have_s != S) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "layers: %zu parameters and %zu statistics, the network has %zu "
                                 "and %zu",
                                 P, S, have_p, have_s);
            goto fail;
        }
    }
    for (l = 0; l < L; l++) {
        lathe_layer_info info;
        lathe_trainer_layer(m->net, l, &info);
        st = check_shape(b, LATHE_COMPACT_HEADER_WORDS + l * LATHE_COMPACT_LAYER_WORDS, l, &info, err);
        if (st != LATHE_OK) goto fail;
    }
    params = lathe_malloc((P ? P : 1) * sizeof *params);
    stats = lathe_malloc((S ? S : 1) * sizeof *stats);
    if (!params || !stats) goto nomem;
    read_floats(b, at, P, params);
    read_floats(b, at + P, S, stats);
    params_digest(params, P, digest);
    if (memcmp(digest, b + 13 * 4, 32) != 0) {
        char got[65], want[65];
        lathe_sha256_to_hex(digest, got);
        lathe_sha256_to_hex(b + 13 * 4, want);
        st = lathe_error_set(err, LATHE_ERR_MISMATCH,
                             "weights_sha256: the weights hash to %.12s…, the file says %.12s… "
                             "(the weights were altered or damaged)",
                             got, want);
        goto fail;
    }
    lathe_trainer_set_weights(m->net, params, S ? stats : NULL);
    lathe_free(params);
    lathe_free(stats);
    *out = m;
    return LATHE_OK;
nomem:
    st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory loading the model");
fail:
    lathe_free(params);
    lathe_free(stats);
    lathe_compact_model_destroy(m);
    return st;
}

void lathe_compact_model_predict(lathe_compact_model *m, float *x, size_t rows, float *out) {
    lathe_prepared_apply_steps(m->prep, x, rows);
    lathe_trainer_predict(m->net, rows, x, out);
}
