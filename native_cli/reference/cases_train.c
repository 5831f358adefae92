/* Cases for optimisers, learning-rate schedules and training:
 *  - optimizers.json: lathe_optimizer_step on the file's gradients, state after every step;
 *  - mlp_train_steps.json: full-batch steps of an MLP composed here from the core's dense,
 *    ReLU, cross-entropy and optimiser functions, compared with the logits, losses, step-1
 *    gradients and final parameters;
 *  - schedules.json: lathe_schedule_lr for every k against PyTorch's scheduler after k steps;
 *  - trainer_run.json: the real trainer (lathe_experiment_parse → lathe_trainer_create →
 *    lathe_trainer_set_weights → lathe_trainer_step one batch at a time) with train.shuffle
 *    false, compared with every batch loss, learning rate, gradient norm, epoch loss and the
 *    parameters after every epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "lathe/experiment.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/losses.h"
#include "lathe/optim.h"
#include "lathe/prepare.h"
#include "lathe/schedule.h"
#include "lathe/trainer.h"
#include "reference_check.h"

static int same_word(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

/* The optimiser named by name up to its first '_' ("Adam", "adamw_lr0.01", "SGD"). */
static int optimizer_kind(const char *name, lathe_optimizer_kind *kind) {
    char word[16];
    size_t i;
    for (i = 0; name[i] && name[i] != '_' && i + 1 < sizeof word; i++)
        word[i] = name[i];
    word[i] = '\0';
    name = word;
    if (same_word(name, "sgd"))
        *kind = LATHE_OPT_SGD;
    else if (same_word(name, "adam"))
        *kind = LATHE_OPT_ADAM;
    else if (same_word(name, "adamw"))
        *kind = LATHE_OPT_ADAMW;
    else
        return 0;
    return 1;
}

static int truthy(const cJSON *v) {
    return cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0.0);
}

/* cfg from a PyTorch optimiser name ("Adam", "AdamW", "SGD") and its hyperparameters {lr,
 * betas, eps, weight_decay, momentum, dampening, nesterov}. 0 after a FAIL line or a
 * malformed report. */
static int optimizer_from_hyper(ref_run *c, const char *name, const cJSON *hyper,
                                const char *hpath, lathe_optimizer_config *cfg) {
    lathe_optimizer_kind kind;
    const cJSON *betas = ref_field_opt(hyper, "betas");
    double v;
    if (!optimizer_kind(name, &kind)) {
        ref_case_fail(c, "unknown optimizer '%s'", name);
        return 0;
    }
    *cfg = lathe_optimizer_defaults(kind);
    if (ref_number_field(c, hyper, hpath, "lr", &v)) cfg->lr = (float)v;
    if (ref_field_opt(hyper, "eps") && ref_number_field(c, hyper, hpath, "eps", &v)) cfg->eps = (float)v;
    if (ref_field_opt(hyper, "weight_decay") && ref_number_field(c, hyper, hpath, "weight_decay", &v))
        cfg->weight_decay = (float)v;
    if (ref_field_opt(hyper, "momentum") && ref_number_field(c, hyper, hpath, "momentum", &v))
        cfg->momentum = (float)v;
    if (ref_field_opt(hyper, "dampening") && ref_number_field(c, hyper, hpath, "dampening", &v))
        cfg->dampening = (float)v;
    cfg->nesterov = truthy(ref_field_opt(hyper, "nesterov"));
    if (betas) {
        char path[REF_PATH_CAP];
        ref_join(path, hpath, "betas");
        if (!cJSON_IsArray(betas) || cJSON_GetArraySize(betas) != 2 ||
            !cJSON_IsNumber(cJSON_GetArrayItem(betas, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(betas, 1))) {
            ref_malformed(c, path, "not a pair of numbers");
            return 0;
        }
        cfg->beta1 = (float)cJSON_GetArrayItem(betas, 0)->valuedouble;
        cfg->beta2 = (float)cJSON_GetArrayItem(betas, 1)->valuedouble;
    }
    if (c->bad) return 0;
    if (truthy(ref_field_opt(hyper, "amsgrad")) || truthy(ref_field_opt(hyper, "maximize"))) {
        ref_case_fail(c, "amsgrad and maximize are not supported");
        return 0;
    }
    return 1;
}

/* cfg from a case name such as "adam_lr0.01" or "sgd_lr0.1_momentum0.9": the optimiser, then
 * lr, momentum, dampening, wd or weightdecay, eps, beta1, beta2 followed by a number, or
 * nesterov. 0 after a FAIL line. */
static int optimizer_from_name(ref_run *c, const char *desc,
                               lathe_optimizer_config *cfg) {
    static const char *const keys[] = {"lr",  "momentum", "dampening", "weightdecay", "wd",
                                       "eps", "beta1",    "beta2",     NULL};
    char buf[128], *tok, *next;
    lathe_optimizer_kind kind;
    ref_copy_str(buf, sizeof buf, desc);
    next = strchr(buf, '_');
    if (next) *next++ = '\0';
    if (!optimizer_kind(buf, &kind)) {
        ref_case_fail(c, "unknown optimizer in '%s'", desc);
        return 0;
    }
    *cfg = lathe_optimizer_defaults(kind);
    for (tok = next; tok; tok = next) {
        size_t k;
        char *end;
        double v;
        next = strchr(tok, '_');
        if (next) *next++ = '\0';
        if (same_word(tok, "nesterov")) {
            cfg->nesterov = 1;
            continue;
        }
        for (k = 0; keys[k]; k++)
            if (strncmp(tok, keys[k], strlen(keys[k])) == 0) break;
        if (!keys[k]) {
            ref_case_fail(c, "unknown optimizer setting '%s' in '%s'", tok, desc);
            return 0;
        }
        v = strtod(tok + strlen(keys[k]), &end);
        if (end == tok + strlen(keys[k]) || *end != '\0') {
            ref_case_fail(c, "'%s' in '%s' has no number", tok, desc);
            return 0;
        }
        switch (k) {
        case 0:
            cfg->lr = (float)v;
            break;
        case 1:
            cfg->momentum = (float)v;
            break;
        case 2:
            cfg->dampening = (float)v;
            break;
        case 3:
        case 4:
            cfg->weight_decay = (float)v;
            break;
        case 5:
            cfg->eps = (float)v;
            break;
        case 6:
            cfg->beta1 = (float)v;
            break;
        default:
            cfg->beta2 = (float)v;
            break;
        }
    }
    return 1;
}

/* Finds the key "<prefix><K>_steps" in obj; returns K (>= 1) and its item, or 0. */
static size_t steps_key(const cJSON *obj, const char *prefix, const cJSON **item) {
    const cJSON *it;
    size_t plen = strlen(prefix);
    cJSON_ArrayForEach(it, obj) {
        const char *s = it->string;
        char *end;
        unsigned long k;
        if (!s || strncmp(s, prefix, plen) != 0 || s[plen] < '0' || s[plen] > '9') continue;
        k = strtoul(s + plen, &end, 10);
        if (k >= 1 && k < 1000000 && strcmp(end, "_steps") == 0) {
            *item = it;
            return (size_t)k;
        }
    }
    return 0;
}

/* The history/after_step entry for step t: an element whose "step" is t (or, lacking "step",
 * the (t−1)-th element). */
static const cJSON *entry_for_step(const cJSON *list, size_t t, size_t *index) {
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, list) {
        const cJSON *s = ref_field_opt(e, "step");
        if ((cJSON_IsNumber(s) && s->valuedouble == (double)t) || (!s && i + 1 == t)) {
            *index = i;
            return e;
        }
        i++;
    }
    return NULL;
}

/* Checks that every entry of base.key (list) has a step in [1, steps]. */
static int steps_in_range(ref_run *c, const cJSON *list, const char *base, const char *key,
                          size_t steps) {
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, list) {
        char path[REF_PATH_CAP], at[REF_PATH_CAP];
        size_t t = i + 1;
        ref_join_index(path, base, key, i);
        if (ref_field_opt(e, "step") && !ref_size_field(c, e, path, "step", &t)) return 0;
        if (t < 1 || t > steps) {
            ref_join(at, path, "step");
            ref_malformed(c, at, "step %zu is outside 1..%zu", t, steps);
            return 0;
        }
        i++;
    }
    return 1;
}

/* What one after_step entry expects: the parameter and the optimiser state. */
#define OPT_KEYS 4
static const char *const opt_keys[OPT_KEYS] = {"param", "exp_avg", "exp_avg_sq", "momentum_buffer"};
typedef struct opt_expect {
    ref_tensor *t[OPT_KEYS]; /* "param" required, the state tensors when present */
} opt_expect;

void ref_check_optimizers(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *cases = ref_array_field(c, root, "", "cases");
    const cJSON *grads_json = ref_array_field(c, in, "inputs", "grads"), *cs, *g;
    ref_tensor *p0 = ref_tensor_field(c, in, "inputs", "param0"), **grads;
    size_t steps, i, ci = 0;
    if (c->bad) return;
    steps = (size_t)cJSON_GetArraySize(grads_json);
    if (steps == 0) {
        ref_malformed(c, "inputs.grads", "no gradients");
        return;
    }
    grads = ref_alloc(c, steps, sizeof *grads);
    if (!grads) return;
    i = 0;
    cJSON_ArrayForEach(g, grads_json) {
        char path[REF_PATH_CAP];
        ref_join_index(path, "inputs", "grads", i);
        grads[i] = ref_tensor_at(c, g, path, 0);
        if (!ref_expect_shape(c, grads[i], p0->ndim, p0->shape)) return;
        i++;
    }
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP], hpath[REF_PATH_CAP], label[REF_LABEL_CAP], what[REF_PATH_CAP];
        const char *name = NULL, *opt;
        const cJSON *hyper, *after, *final_item = NULL, *e;
        lathe_optimizer_config cfg;
        size_t t, k, k_final, n = p0->count, per, n_after;
        float *p, *state;
        ref_tensor *final_want;
        opt_expect *expect;
        ref_join_index(base, "", "cases", ci);
        if (ref_field_opt(cs, "name")) name = ref_string_field(c, cs, base, "name");
        opt = ref_string_field(c, cs, base, "optimizer");
        hyper = ref_object_field(c, cs, base, "hyper");
        after = ref_array_field(c, cs, base, "after_step");
        if (c->bad) return;
        snprintf(label, sizeof label, "%s", name ? name : opt);
        ref_join(hpath, base, "hyper");
        ci++;
        k_final = steps_key(cs, "param_after_", &final_item);
        if (k_final == 0) {
            char path[REF_PATH_CAP];
            snprintf(what, sizeof what, "param_after_%zu_steps", steps);
            ref_join(path, base, what);
            ref_malformed(c, path, "missing");
            return;
        }
        ref_join(what, base, final_item->string);
        if (k_final > steps) {
            ref_malformed(c, what, "%zu steps but inputs.grads has %zu gradients", k_final, steps);
            return;
        }
        final_want = ref_tensor_at(c, final_item, what, 0);
        if (!ref_expect_shape(c, final_want, p0->ndim, p0->shape) ||
            !steps_in_range(c, after, base, "after_step", steps))
            return;
        /* Every expected tensor is read before anything is computed. */
        n_after = (size_t)cJSON_GetArraySize(after);
        expect = ref_alloc(c, n_after, sizeof *expect);
        if (!expect) return;
        i = 0;
        cJSON_ArrayForEach(e, after) {
            char path[REF_PATH_CAP];
            ref_join_index(path, base, "after_step", i);
            for (k = 0; k < OPT_KEYS; k++) {
                ref_tensor *tw = k == 0 ? ref_tensor_field(c, e, path, opt_keys[k])
                                    : ref_tensor_field_opt(c, e, path, opt_keys[k]);
                if (tw && !ref_expect_shape(c, tw, p0->ndim, p0->shape)) return;
                expect[i].t[k] = tw;
            }
            i++;
        }
        if (c->bad) return;
        ref_case_begin(c, label);
        if (!optimizer_from_hyper(c, opt, hyper, hpath, &cfg)) {
            if (c->bad) return;
            ref_case_end(c);
            continue;
        }
        per = lathe_optimizer_state_per_param(&cfg);
        p = ref_floats(c, n), state = ref_floats(c, n * (per ? per : 1));
        if (c->bad) return;
        memcpy(p, p0->f, n * sizeof *p);
        for (t = 1; t <= steps; t++) {
            size_t idx;
            lathe_optimizer_step(lathe_kernels(), &cfg, cfg.lr, (unsigned long)t, n, p, grads[t - 1]->f, state);
            if (entry_for_step(after, t, &idx))
                for (k = 0; k < OPT_KEYS; k++) {
                    const float *got;
                    ref_tensor *tw = expect[idx].t[k];
                    if (!tw) continue;
                    snprintf(what, sizeof what, "after_step[%zu].%s", idx, opt_keys[k]);
                    /* State layout (core/src/nn/optim.c): Adam m then v; SGD the momentum buffer. */
                    if (k == 0)
                        got = p;
                    else if (k == 1 && per == 2)
                        got = state;
                    else if (k == 2 && per == 2)
                        got = state + n;
                    else if (k == 3 && per == 1)
                        got = state;
                    else {
                        ref_case_fail(c, "%s: the core keeps no such state for this setting",
                                 what);
                        continue;
                    }
                    ref_compare(c, what, got, p0->ndim, p0->shape, tw, REF_TOL_OP);
                }
            if (t == k_final)
                ref_compare(c, final_item->string, p, p0->ndim, p0->shape, final_want, REF_TOL_OP);
        }
        ref_case_end(c);
    }
    if (ci == 0 && !c->bad) ref_malformed(c, "cases", "no cases");
}

/* ---- MLP training --------------------------------------------------------------------- */

typedef struct mlp {
    size_t layers, n, dims[REF_MAX_LAYERS + 1]; /* dims[0] inputs, dims[l+1] units of layer l */
    ref_tensor *w0[REF_MAX_LAYERS], *b0[REF_MAX_LAYERS];
    float *w[REF_MAX_LAYERS], *b[REF_MAX_LAYERS], *dw[REF_MAX_LAYERS], *db[REF_MAX_LAYERS];
    float *sw[REF_MAX_LAYERS], *sb[REF_MAX_LAYERS]; /* optimiser state */
    float *z[REF_MAX_LAYERS], *a[REF_MAX_LAYERS];   /* pre-activation, ReLU output (not the last) */
    float *dz, *da;                         /* (n, widest) scratch */
} mlp;

/* Forward on x and the loss; the logits are m->z[layers − 1]. grads: also the backward. */
static float mlp_pass(mlp *m, const float *x, const uint32_t *targets, int grads) {
    const lathe_kernel_table *k = lathe_kernels();
    size_t l, L = m->layers;
    float loss;
    for (l = 0; l < L; l++) {
        const float *in = l ? m->a[l - 1] : x;
        lathe_dense_forward(k, m->n, m->dims[l], m->dims[l + 1], in, m->w[l], m->b[l], m->z[l]);
        if (l + 1 < L)
            lathe_activation_forward(lathe_kernels(), LATHE_ACT_RELU, m->n * m->dims[l + 1], m->z[l], m->a[l]);
    }
    loss =
        lathe_loss_softmax_cross_entropy(m->n, m->dims[L], m->z[L - 1], targets, grads ? m->dz : NULL);
    if (!grads) return loss;
    for (l = L; l-- > 0;) {
        const float *in = l ? m->a[l - 1] : x;
        lathe_dense_backward(k, m->n, m->dims[l], m->dims[l + 1], in, m->w[l], m->dz,
                             l ? m->da : NULL, m->dw[l], m->db[l]);
        if (l)
            lathe_activation_backward(lathe_kernels(), LATHE_ACT_RELU, m->n * m->dims[l], m->z[l - 1], m->a[l - 1],
                                      m->da, m->dz);
    }
    return loss;
}

void ref_check_mlp_steps(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *cases = ref_array_field(c, root, "", "cases");
    const cJSON *cs;
    ref_tensor *x = ref_tensor_field(c, in, "inputs", "x"),
           *t = ref_int_tensor_field(c, in, "inputs", "targets");
    mlp m;
    size_t l, ci = 0, widest;
    uint32_t *targets;
    if (c->bad || !ref_expect_shape(c, x, 2, REF_DIMS(REF_ANY, REF_ANY)) ||
        !ref_expect_shape(c, t, 1, REF_DIMS(x->shape[0])))
        return;
    memset(&m, 0, sizeof m);
    m.n = x->shape[0], m.dims[0] = x->shape[1], widest = m.dims[0];
    for (l = 0; l < REF_MAX_LAYERS; l++) {
        char wkey[24], bkey[24];
        snprintf(wkey, sizeof wkey, "W%zu", l + 1);
        snprintf(bkey, sizeof bkey, "b%zu", l + 1);
        if (!ref_field_opt(in, wkey)) break;
        m.w0[l] = ref_tensor_field(c, in, "inputs", wkey);
        m.b0[l] = ref_tensor_field_opt(c, in, "inputs", bkey);
        if (!ref_expect_shape(c, m.w0[l], 2, REF_DIMS(REF_ANY, m.dims[l]))) return;
        m.dims[l + 1] = m.w0[l]->shape[0];
        if (m.b0[l] && !ref_expect_shape(c, m.b0[l], 1, REF_DIMS(m.dims[l + 1]))) return;
        if (m.dims[l + 1] > widest) widest = m.dims[l + 1];
    }
    m.layers = l;
    if (m.layers == 0) {
        ref_malformed(c, "inputs.W1", "missing");
        return;
    }
    if (m.n == 0 || m.dims[m.layers] == 0) {
        ref_malformed(c, x->path, "empty batch or no classes");
        return;
    }
    targets = ref_targets_of(c, t, m.dims[m.layers]);
    for (l = 0; l < m.layers; l++) {
        size_t nw = m.dims[l] * m.dims[l + 1], nb = m.dims[l + 1];
        m.w[l] = ref_floats(c, nw), m.dw[l] = ref_floats(c, nw), m.sw[l] = ref_floats(c, 2 * nw);
        m.b[l] = m.b0[l] ? ref_floats(c, nb) : NULL, m.db[l] = ref_floats(c, nb);
        m.sb[l] = ref_floats(c, 2 * nb);
        m.z[l] = ref_floats(c, m.n * nb), m.a[l] = ref_floats(c, m.n * nb);
    }
    m.dz = ref_floats(c, m.n * widest), m.da = ref_floats(c, m.n * widest);
    if (c->bad) return;
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP], label[REF_LABEL_CAP], what[REF_PATH_CAP];
        const char *opt;
        const cJSON *history, *loss_item = NULL, *params_item = NULL, *e;
        lathe_optimizer_config cfg;
        size_t steps, k_params, step, L = m.layers;
        double loss_final_want;
        int ok;
        ref_join_index(base, "", "cases", ci);
        opt = ref_string_field(c, cs, base, "optimizer");
        history = ref_array_field(c, cs, base, "history");
        if (c->bad) return;
        snprintf(label, sizeof label, "%s", opt);
        ci++;
        steps = steps_key(cs, "loss_after_", &loss_item);
        k_params = steps_key(cs, "params_after_", &params_item);
        if (steps == 0 || k_params != steps) {
            char path[REF_PATH_CAP];
            snprintf(what, sizeof what, "%s_after_%zu_steps", steps ? "params" : "loss",
                     steps ? steps : (size_t)cJSON_GetArraySize(history));
            ref_join(path, base, what);
            ref_malformed(c, path, "missing");
            return;
        }
        ref_join(what, base, loss_item->string);
        if (!cJSON_IsNumber(loss_item)) {
            ref_malformed(c, what, "not a number");
            return;
        }
        loss_final_want = loss_item->valuedouble;
        ref_join(what, base, params_item->string);
        for (l = 0; l < L; l++) {
            char key[24];
            snprintf(key, sizeof key, "W%zu", l + 1);
            if (!ref_expect_shape(c, ref_tensor_field(c, params_item, what, key), 2,
                              REF_DIMS(m.dims[l + 1], m.dims[l])))
                return;
            snprintf(key, sizeof key, "b%zu", l + 1);
            if (m.b0[l] &&
                !ref_expect_shape(c, ref_tensor_field(c, params_item, what, key), 1, REF_DIMS(m.dims[l + 1])))
                return;
        }
        if (!steps_in_range(c, history, base, "history", steps)) return;
        ref_join(what, base, "hyper");
        ref_case_begin(c, label);
        ok = ref_field_opt(cs, "hyper")
                 ? optimizer_from_hyper(c, opt, ref_field_opt(cs, "hyper"), what, &cfg)
                 : optimizer_from_name(c, opt, &cfg);
        if (c->bad) return;
        if (!ok) {
            ref_case_end(c);
            continue;
        }
        for (l = 0; l < L; l++) {
            size_t nw = m.dims[l] * m.dims[l + 1], nb = m.dims[l + 1];
            memcpy(m.w[l], m.w0[l]->f, nw * sizeof(float));
            memset(m.sw[l], 0, 2 * nw * sizeof(float));
            memset(m.sb[l], 0, 2 * nb * sizeof(float));
            if (m.b0[l]) memcpy(m.b[l], m.b0[l]->f, nb * sizeof(float));
        }
        for (step = 1; step <= steps + 1; step++) {
            size_t idx;
            float loss = mlp_pass(&m, x->f, targets, step <= steps);
            const float *logits = m.z[L - 1];
            if (step > steps) {
                ref_compare_scalar(c, loss_item->string, (double)loss, loss_final_want, REF_TOL_SUM);
                break;
            }
            e = entry_for_step(history, step, &idx);
            if (e) {
                char hb[REF_PATH_CAP], path[REF_PATH_CAP];
                double want;
                const cJSON *gr = ref_field_opt(e, "grads");
                ref_tensor *lw;
                ref_join_index(hb, "", "history", idx);
                ref_join_index(path, base, "history", idx);
                if (ref_field_opt(e, "loss_before_step") &&
                    ref_number_field(c, e, path, "loss_before_step", &want)) {
                    ref_join(what, hb, "loss_before_step");
                    ref_compare_scalar(c, what, (double)loss, want, REF_TOL_SUM);
                }
                if ((lw = ref_tensor_field_opt(c, e, path, "logits")) != NULL) {
                    ref_join(what, hb, "logits");
                    ref_compare(c, what, logits, 2, REF_DIMS(m.n, m.dims[L]), lw, REF_TOL_SUM);
                }
                if (gr) {
                    const cJSON *gi;
                    char gpath[REF_PATH_CAP];
                    ref_join(gpath, path, "grads");
                    cJSON_ArrayForEach(gi, gr) {
                        const char *key = gi->string;
                        size_t li;
                        char *end = NULL, tmp[REF_PATH_CAP];
                        ref_tensor *gw;
                        ref_join(path, gpath, key);
                        li = (key[0] == 'W' || key[0] == 'b') ? strtoul(key + 1, &end, 10) : 0;
                        if (li < 1 || li > L || !end || *end != '\0' ||
                            (key[0] == 'b' && !m.b0[li - 1])) {
                            ref_malformed(c, path, "not a parameter of the model");
                            return;
                        }
                        gw = ref_tensor_at(c, gi, path, 0);
                        if (c->bad) return;
                        ref_join(tmp, hb, "grads");
                        ref_join(what, tmp, key);
                        if (key[0] == 'W')
                            ref_compare(c, what, m.dw[li - 1], 2,
                                    REF_DIMS(m.dims[li], m.dims[li - 1]), gw, REF_TOL_SUM);
                        else
                            ref_compare(c, what, m.db[li - 1], 1, REF_DIMS(m.dims[li]), gw, REF_TOL_SUM);
                    }
                }
                if (c->bad) return;
            }
            for (l = 0; l < L; l++) {
                size_t nw = m.dims[l] * m.dims[l + 1], nb = m.dims[l + 1];
                lathe_optimizer_step(lathe_kernels(), &cfg, cfg.lr, (unsigned long)step, nw, m.w[l], m.dw[l],
                                     m.sw[l]);
                if (m.b[l])
                    lathe_optimizer_step(lathe_kernels(), &cfg, cfg.lr, (unsigned long)step, nb, m.b[l], m.db[l],
                                         m.sb[l]);
            }
        }
        ref_join(what, base, params_item->string);
        for (l = 0; l < L; l++) {
            char key[24], name[REF_PATH_CAP];
            snprintf(key, sizeof key, "W%zu", l + 1);
            ref_join(name, params_item->string, key);
            ref_compare(c, name, m.w[l], 2, REF_DIMS(m.dims[l + 1], m.dims[l]),
                    ref_tensor_field(c, params_item, what, key), REF_TOL_SUM);
            if (!m.b[l]) continue;
            snprintf(key, sizeof key, "b%zu", l + 1);
            ref_join(name, params_item->string, key);
            ref_compare(c, name, m.b[l], 1, REF_DIMS(m.dims[l + 1]),
                    ref_tensor_field(c, params_item, what, key), REF_TOL_SUM);
        }
        ref_case_end(c);
    }
    if (ci == 0 && !c->bad) ref_malformed(c, "cases", "no cases");
}
/* ---- schedules -------------------------------------------------------------------------- */

/* The core schedule for a PyTorch scheduler name and its hyper object: 1 with *s set, 0 when
 * the core has no such schedule (*why says so), -1 after a malformed report. */
static int schedule_from(ref_run *c, const char *name, const cJSON *hyper, const char *hpath,
                         lathe_schedule *s, char *why, size_t cap) {
    double v;
    memset(s, 0, sizeof *s);
    if (strcmp(name, "StepLR") == 0) {
        s->kind = LATHE_SCHEDULE_STEP;
        if (!ref_size_field(c, hyper, hpath, "step_size", &s->step_size) ||
            !ref_number_field(c, hyper, hpath, "gamma", &v))
            return -1;
        s->gamma = (float)v;
    } else if (strcmp(name, "ExponentialLR") == 0) {
        s->kind = LATHE_SCHEDULE_EXPONENTIAL;
        if (!ref_number_field(c, hyper, hpath, "gamma", &v)) return -1;
        s->gamma = (float)v;
    } else if (strcmp(name, "CosineAnnealingLR") == 0) {
        s->kind = LATHE_SCHEDULE_COSINE;
        if (!ref_size_field(c, hyper, hpath, "T_max", &s->t_max)) return -1;
        if (ref_field_opt(hyper, "eta_min")) {
            if (!ref_number_field(c, hyper, hpath, "eta_min", &v)) return -1;
            s->eta_min = (float)v;
        }
    } else {
        snprintf(why, cap, "the core has no %s schedule (it has StepLR, ExponentialLR and "
                           "CosineAnnealingLR per epoch, and a per-step linear warm-up)",
                 name);
        return 0;
    }
    return 1;
}

void ref_check_schedules(ref_run *c, const cJSON *root) {
    const cJSON *cases = ref_array_field(c, root, "", "cases"), *cs;
    double base_lr;
    size_t ci = 0;
    if (!ref_number_field(c, root, "", "base_lr", &base_lr)) return;
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP], hpath[REF_PATH_CAP], why[256];
        const char *name, *kind;
        const cJSON *hyper;
        ref_tensor *want;
        lathe_schedule s;
        float *got;
        size_t k;
        int ok;
        ref_join_index(base, "", "cases", ci++);
        name = ref_string_field(c, cs, base, "name");
        kind = ref_string_field(c, cs, base, "scheduler");
        hyper = ref_object_field(c, cs, base, "hyper");
        want = ref_numbers_field(c, cs, base, "lr");
        if (c->bad) return;
        ref_join(hpath, base, "hyper");
        ok = schedule_from(c, kind, hyper, hpath, &s, why, sizeof why);
        if (ok < 0) return;
        if (ok == 0) {
            ref_not_implemented(c, name, "%s", why);
            continue;
        }
        got = ref_floats(c, want->count);
        if (!got) return;
        ref_case_begin(c, name);
        /* lr[k]: the rate after k scheduler steps, i.e. the core's rate for epoch k */
        for (k = 0; k < want->count; k++)
            got[k] = lathe_schedule_lr(&s, (float)base_lr, k, 0);
        ref_compare(c, "lr", got, 1, want->shape, want, REF_TOL_OP);
        ref_case_end(c);
    }
    if (ci == 0) ref_malformed(c, "cases", "no cases");
}

/* ---- the trainer, end to end ------------------------------------------------------------ */

/* The file's MLP: inputs x, targets, W1, b1, W2, b2, … (ReLU between the dense layers). */
typedef struct run_model {
    size_t layers, n, dims[REF_MAX_LAYERS + 1];
    ref_tensor *x, *w[REF_MAX_LAYERS], *b[REF_MAX_LAYERS];
    uint32_t *targets;
} run_model;

static int read_run_model(ref_run *c, const cJSON *in, run_model *m) {
    ref_tensor *t;
    size_t l;
    memset(m, 0, sizeof *m);
    m->x = ref_tensor_field(c, in, "inputs", "x");
    t = ref_int_tensor_field(c, in, "inputs", "targets");
    if (c->bad || !ref_expect_shape(c, m->x, 2, REF_DIMS(REF_ANY, REF_ANY)) ||
        !ref_expect_shape(c, t, 1, REF_DIMS(m->x->shape[0])))
        return 0;
    m->n = m->x->shape[0], m->dims[0] = m->x->shape[1];
    for (l = 0; l < REF_MAX_LAYERS; l++) {
        char wkey[24], bkey[24];
        snprintf(wkey, sizeof wkey, "W%zu", l + 1);
        snprintf(bkey, sizeof bkey, "b%zu", l + 1);
        if (!ref_field_opt(in, wkey)) break;
        m->w[l] = ref_tensor_field(c, in, "inputs", wkey);
        m->b[l] = ref_tensor_field(c, in, "inputs", bkey); /* the core's dense layers have b */
        if (!ref_expect_shape(c, m->w[l], 2, REF_DIMS(REF_ANY, m->dims[l]))) return 0;
        m->dims[l + 1] = m->w[l]->shape[0];
        if (!ref_expect_shape(c, m->b[l], 1, REF_DIMS(m->dims[l + 1]))) return 0;
    }
    m->layers = l;
    if (l == 0) {
        ref_malformed(c, "inputs.W1", "missing");
        return 0;
    }
    if (m->n == 0 || m->dims[l] < 2) {
        ref_malformed(c, m->x->path, "no rows, or fewer than 2 classes");
        return 0;
    }
    m->targets = ref_targets_of(c, t, m->dims[l]);
    return m->targets != NULL;
}

static void lower(char *out, size_t cap, const char *s) {
    size_t i;
    for (i = 0; s[i] && i + 1 < cap; i++)
        out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    out[i] = '\0';
}

/* The experiment file for one case: the model, train.shuffle false, the optimiser, the
 * schedule and clipping. The data source is a placeholder: the trainer gets the file's rows
 * as prepared data. NULL with *why set when the core cannot express the case (why[0] = 0:
 * malformed, reported). The caller frees the text with cJSON_free. */
static char *experiment_for(ref_run *c, const run_model *m, const cJSON *cs, const char *base,
                            size_t batch, size_t epochs, char *why, size_t cap) {
    const cJSON *hyper, *sched, *clip, *v;
    const char *opt;
    char hpath[REF_PATH_CAP], name[16], *text = NULL;
    cJSON *root = cJSON_CreateObject(), *data, *prep, *split, *model, *layers, *train;
    double lr, x;
    size_t l;
    why[0] = '\0';
    opt = ref_string_field(c, cs, base, "optimizer");
    hyper = ref_object_field(c, cs, base, "hyper");
    ref_join(hpath, base, "hyper");
    if (!root || c->bad || !ref_number_field(c, hyper, hpath, "lr", &lr)) goto done;
    lower(name, sizeof name, opt);
    if (strcmp(name, "adam") != 0 && strcmp(name, "adamw") != 0 && strcmp(name, "sgd") != 0) {
        snprintf(why, cap, "the trainer has no %s optimizer", opt);
        goto done;
    }
    cJSON_AddStringToObject(root, "format", "lathe-experiment");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "seed", 0);
    data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(data, "synthetic", "blobs");
    prep = cJSON_AddArrayToObject(root, "prepare");
    split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "op", "split");
    cJSON_AddNumberToObject(split, "test", 0);
    cJSON_AddItemToArray(prep, split);
    model = cJSON_AddObjectToObject(root, "model");
    layers = cJSON_AddArrayToObject(model, "layers");
    for (l = 0; l < m->layers; l++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "type", "dense");
        cJSON_AddNumberToObject(d, "units", (double)m->dims[l + 1]);
        cJSON_AddItemToArray(layers, d);
        if (l + 1 < m->layers) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "type", "relu");
            cJSON_AddItemToArray(layers, a);
        }
    }
    train = cJSON_AddObjectToObject(root, "train");
    cJSON_AddStringToObject(train, "optimizer", name);
    cJSON_AddNumberToObject(train, "learning_rate", lr);
    if (ref_field_opt(hyper, "weight_decay")) {
        if (!ref_number_field(c, hyper, hpath, "weight_decay", &x)) goto done;
        cJSON_AddNumberToObject(train, "weight_decay", x);
    }
    if (name[0] == 'a') {
        const cJSON *betas = ref_field_opt(hyper, "betas");
        if (betas) {
            if (!cJSON_IsArray(betas) || cJSON_GetArraySize(betas) != 2 ||
                !cJSON_IsNumber(cJSON_GetArrayItem(betas, 0)) ||
                !cJSON_IsNumber(cJSON_GetArrayItem(betas, 1))) {
                char path[REF_PATH_CAP];
                ref_join(path, hpath, "betas");
                ref_malformed(c, path, "not a pair of numbers");
                goto done;
            }
            cJSON_AddNumberToObject(train, "beta1", cJSON_GetArrayItem(betas, 0)->valuedouble);
            cJSON_AddNumberToObject(train, "beta2", cJSON_GetArrayItem(betas, 1)->valuedouble);
        }
        if (ref_field_opt(hyper, "eps")) {
            if (!ref_number_field(c, hyper, hpath, "eps", &x)) goto done;
            cJSON_AddNumberToObject(train, "eps", x);
        }
        if (truthy(ref_field_opt(hyper, "amsgrad")) || truthy(ref_field_opt(hyper, "maximize"))) {
            snprintf(why, cap, "the trainer has no amsgrad or maximize");
            goto done;
        }
    } else {
        if (ref_field_opt(hyper, "momentum")) {
            if (!ref_number_field(c, hyper, hpath, "momentum", &x)) goto done;
            if (x != 0.0) cJSON_AddNumberToObject(train, "momentum", x);
        }
        if (truthy(ref_field_opt(hyper, "nesterov"))) cJSON_AddTrueToObject(train, "nesterov");
        if (truthy(ref_field_opt(hyper, "dampening"))) {
            snprintf(why, cap, "the experiment file has no SGD dampening");
            goto done;
        }
    }
    cJSON_AddNumberToObject(train, "batch_size", (double)batch);
    cJSON_AddFalseToObject(train, "shuffle");
    cJSON_AddNumberToObject(train, "epochs", (double)epochs);
    sched = ref_field(c, cs, base, "scheduler");
    if (sched && !cJSON_IsNull(sched)) {
        char spath[REF_PATH_CAP], sname[64];
        const char *kind;
        lathe_schedule s;
        cJSON *o;
        int ok;
        ref_join(spath, base, "scheduler");
        kind = ref_string_field(c, sched, spath, "name");
        if (!kind) goto done;
        ok = schedule_from(c, kind, sched, spath, &s, why, cap);
        if (ok <= 0) goto done;
        v = ref_field_opt(sched, "stepped");
        if (v && (!cJSON_IsString(v) || !strstr(v->valuestring, "epoch"))) {
            snprintf(why, cap, "the trainer steps its schedule once per epoch only");
            goto done;
        }
        o = cJSON_AddObjectToObject(train, "schedule");
        snprintf(sname, sizeof sname, "%s",
                 s.kind == LATHE_SCHEDULE_STEP          ? "step"
                 : s.kind == LATHE_SCHEDULE_EXPONENTIAL ? "exponential"
                                                        : "cosine");
        cJSON_AddStringToObject(o, "kind", sname);
        if (s.kind == LATHE_SCHEDULE_STEP) cJSON_AddNumberToObject(o, "step_size", (double)s.step_size);
        if (s.kind != LATHE_SCHEDULE_COSINE) cJSON_AddNumberToObject(o, "gamma", (double)s.gamma);
        if (s.kind == LATHE_SCHEDULE_COSINE) {
            cJSON_AddNumberToObject(o, "t_max", (double)s.t_max);
            cJSON_AddNumberToObject(o, "eta_min", (double)s.eta_min);
        }
    }
    clip = ref_field(c, cs, base, "clip_grad_norm");
    if (clip && !cJSON_IsNull(clip)) {
        char cpath[REF_PATH_CAP];
        double norm_type = 2.0;
        ref_join(cpath, base, "clip_grad_norm");
        if (!ref_number_field(c, clip, cpath, "max_norm", &x)) goto done;
        if (ref_field_opt(clip, "norm_type") &&
            !ref_number_field(c, clip, cpath, "norm_type", &norm_type))
            goto done;
        if (norm_type != 2.0) {
            snprintf(why, cap, "the trainer clips by the L2 norm only (norm_type %g)", norm_type);
            goto done;
        }
        cJSON_AddNumberToObject(train, "clip_norm", x);
    }
    if (!c->bad) text = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(root);
    return text;
}

/* Compares the trainer's parameters with want {W1, b1, …} at path. */
static void compare_params(ref_run *c, lathe_trainer *tr, const run_model *m, const cJSON *want,
                           const char *path) {
    size_t l, j = 0, n = lathe_trainer_layer_count(tr);
    for (l = 0; l < n && !c->bad; l++) {
        lathe_layer_info info;
        char key[24], what[REF_PATH_CAP];
        lathe_trainer_layer(tr, l, &info);
        if (info.kind != LATHE_LAYER_DENSE) continue;
        snprintf(key, sizeof key, "W%zu", j + 1);
        ref_join(what, path, key);
        ref_compare(c, what, info.weights, 2, REF_DIMS(m->dims[j + 1], m->dims[j]),
                    ref_tensor_field(c, want, path, key), REF_TOL_SUM);
        snprintf(key, sizeof key, "b%zu", j + 1);
        ref_join(what, path, key);
        ref_compare(c, what, info.bias, 1, REF_DIMS(m->dims[j + 1]),
                    ref_tensor_field(c, want, path, key), REF_TOL_SUM);
        j++;
    }
}

/* One case: the trainer from the experiment for it, the file's initial weights, then one
 * batch at a time. */
static void run_trainer_case(ref_run *c, const run_model *m, const cJSON *cs, const char *base,
                             const ref_tensor *sizes) {
    const char *name = ref_string_field(c, cs, base, "name");
    ref_tensor *lr_want = ref_numbers_field(c, cs, base, "lr_per_epoch");
    ref_tensor *loss_want = ref_numbers_field(c, cs, base, "batch_losses");
    ref_tensor *epoch_want = ref_numbers_field(c, cs, base, "epoch_mean_loss");
    ref_tensor *norm_want = ref_field_opt(cs, "grad_norm_before_clip")
                                ? ref_numbers_field(c, cs, base, "grad_norm_before_clip")
                                : NULL;
    const cJSON *after = ref_array_field(c, cs, base, "params_after_epoch");
    const cJSON *final = ref_object_field(c, cs, base, "params_final");
    size_t epochs, per_epoch = sizes ? sizes->count : 0, e, b, l, k, n_params;
    char why[256], *text = NULL;
    lathe_experiment *exp = NULL;
    lathe_trainer *tr = NULL;
    lathe_prepared prep;
    lathe_error err;
    float *init, *got_loss, *got_lr, *got_epoch, *got_norm;
    if (c->bad) return;
    epochs = epoch_want->count;
    if (lr_want->count != epochs || loss_want->count != epochs * per_epoch ||
        (norm_want && norm_want->count != epochs * per_epoch) ||
        (size_t)cJSON_GetArraySize(after) != epochs || epochs == 0) {
        ref_malformed(c, base, "lr_per_epoch, batch_losses, grad_norm_before_clip and "
                               "params_after_epoch do not fit %zu epochs of %zu batches",
                      epochs, per_epoch);
        return;
    }
    got_loss = ref_floats(c, loss_want->count), got_norm = ref_floats(c, loss_want->count);
    got_lr = ref_floats(c, loss_want->count), got_epoch = ref_floats(c, epochs);
    if (c->bad) return;
    text = experiment_for(c, m, cs, base, (size_t)sizes->f[0], epochs, why, sizeof why);
    if (!text) {
        if (!c->bad && why[0]) ref_not_implemented(c, name, "%s", why);
        return;
    }
    ref_case_begin(c, name);
    if (lathe_experiment_parse(text, strlen(text), &exp, &err) != LATHE_OK) {
        ref_case_fail(c, "the experiment for this case does not parse: %s", err.message);
        goto done;
    }
    memset(&prep, 0, sizeof prep);
    prep.task = LATHE_TASK_CLASSIFICATION;
    prep.n_features = m->dims[0];
    prep.n_classes = m->dims[m->layers];
    prep.train.rows = m->n;
    prep.train.x = m->x->f;
    prep.train.label = m->targets;
    if (lathe_trainer_create(exp, &prep, &tr, &err) != LATHE_OK) {
        ref_case_fail(c, "lathe_trainer_create: %s", err.message);
        goto done;
    }
    if (lathe_trainer_progress(tr).batches_per_epoch != per_epoch) {
        ref_case_fail(c, "the trainer makes %zu batches per epoch, the file %zu",
                      lathe_trainer_progress(tr).batches_per_epoch, per_epoch);
        goto done;
    }
    /* The file's initial weights, layer by layer (W (out, in) then b, as the core keeps them). */
    (void)lathe_trainer_params(tr, &n_params);
    init = ref_floats(c, n_params);
    if (!init) goto done;
    for (l = 0, k = 0; l < m->layers; l++) {
        memcpy(init + k, m->w[l]->f, m->w[l]->count * sizeof *init), k += m->w[l]->count;
        memcpy(init + k, m->b[l]->f, m->b[l]->count * sizeof *init), k += m->b[l]->count;
    }
    if (k != n_params) {
        ref_case_fail(c, "the trainer has %zu parameters, the file %zu", n_params, k);
        goto done;
    }
    lathe_trainer_set_weights(tr, init, NULL);
    for (e = 0; e < epochs && !c->bad; e++) {
        char path[REF_PATH_CAP];
        lathe_progress p;
        for (b = 0; b < per_epoch; b++) {
            if (lathe_trainer_step(tr, 1, &err) != LATHE_OK) {
                ref_case_fail(c, "lathe_trainer_step (epoch %zu, batch %zu): %s", e, b,
                              err.message);
                goto done;
            }
            p = lathe_trainer_progress(tr);
            got_loss[e * per_epoch + b] = p.last_batch_loss;
            got_norm[e * per_epoch + b] = (float)p.last_grad_norm;
            got_lr[e * per_epoch + b] = p.last_lr;
        }
        p = lathe_trainer_progress(tr);
        if (p.epoch != e + 1 || p.batch != 0) {
            ref_case_fail(c, "after %zu batches the trainer is at epoch %zu, batch %zu",
                          (e + 1) * per_epoch, p.epoch, p.batch);
            goto done;
        }
        got_epoch[e] = p.last_epoch_loss;
        ref_join_index(path, "", "params_after_epoch", e);
        compare_params(c, tr, m, cJSON_GetArrayItem(after, (int)e), path);
    }
    /* every batch of epoch e trains with lr_per_epoch[e] */
    for (e = 0; e < epochs; e++)
        for (b = 1; b < per_epoch; b++)
            if (got_lr[e * per_epoch + b] != got_lr[e * per_epoch]) {
                ref_case_fail(c, "the rate changes inside epoch %zu", e);
                b = per_epoch, e = epochs;
            }
    for (e = 0; e < epochs; e++) got_lr[e] = got_lr[e * per_epoch];
    ref_compare(c, "batch_losses", got_loss, 1, loss_want->shape, loss_want, REF_TOL_SUM);
    ref_compare(c, "lr_per_epoch", got_lr, 1, lr_want->shape, lr_want, REF_TOL_OP);
    ref_compare(c, "epoch_mean_loss", got_epoch, 1, epoch_want->shape, epoch_want, REF_TOL_SUM);
    if (norm_want)
        ref_compare(c, "grad_norm_before_clip", got_norm, 1, norm_want->shape, norm_want,
                    REF_TOL_SUM);
    if (!lathe_trainer_progress(tr).done) ref_case_fail(c, "the trainer is not done after %zu epochs", epochs);
    compare_params(c, tr, m, final, "params_final");
done:
    ref_case_end(c);
    lathe_trainer_destroy(tr);
    lathe_experiment_destroy(exp);
    cJSON_free(text);
}

void ref_check_trainer_run(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *cases = ref_array_field(c, root, "", "cases"), *cs;
    ref_tensor *sizes = ref_numbers_field(c, root, "", "batch_sizes");
    run_model m;
    size_t i, total = 0, ci = 0;
    if (c->bad || !read_run_model(c, in, &m)) return;
    /* DataLoader(shuffle=False, drop_last=False): full batches of sizes[0], the last partial */
    for (i = 0; i < sizes->count; i++) {
        size_t s = (size_t)sizes->f[i];
        if ((float)s != sizes->f[i] || s == 0 || s > (size_t)sizes->f[0] ||
            (i + 1 < sizes->count && s != (size_t)sizes->f[0])) {
            ref_malformed(c, "batch_sizes", "not equal batches with a smaller last one");
            return;
        }
        total += s;
    }
    if (sizes->count == 0 || total != m.n) {
        ref_malformed(c, "batch_sizes", "the batches hold %zu rows, inputs.x has %zu", total, m.n);
        return;
    }
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP];
        ref_join_index(base, "", "cases", ci++);
        run_trainer_case(c, &m, cs, base, sizes);
        if (c->bad) return;
    }
    if (ci == 0) ref_malformed(c, "cases", "no cases");
}
