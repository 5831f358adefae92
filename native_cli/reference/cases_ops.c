/* Cases for single ops and losses: linear, activations, softmax cross-entropy, MSE, conv2d,
 * pooling, batch norm (1-D and 2-D) and losses2 (BCE with logits, L1, Huber, leaky ReLU,
 * softplus). Every compared output is computed by a core function on the file's inputs; an
 * output the core does not compute (a sum reduction, a gradient with respect to the target,
 * the unbiased batch variance) is not compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "lathe/batchnorm.h"
#include "lathe/conv.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/losses.h"
#include "lathe/mathf.h"
#include "lathe/pool.h"
#include "reference_check.h"

void ref_check_linear(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *out = ref_object_field(c, root, "", "outputs");
    ref_tensor *x = ref_tensor_field(c, in, "inputs", "x"), *w = ref_tensor_field(c, in, "inputs", "W");
    ref_tensor *b = ref_tensor_field_opt(c, in, "inputs", "b");
    ref_tensor *dy = ref_tensor_field(c, in, "inputs", "grad_output");
    ref_tensor *y_want = ref_tensor_field(c, out, "outputs", "y");
    ref_tensor *dx_want = ref_tensor_field(c, out, "outputs", "grad_x");
    ref_tensor *dw_want = ref_tensor_field(c, out, "outputs", "grad_W");
    ref_tensor *db_want = b ? ref_tensor_field(c, out, "outputs", "grad_b") : NULL;
    const lathe_kernel_table *k = lathe_kernels();
    size_t n, fin, fout;
    float *y, *dx, *dw, *db;
    if (c->bad || !ref_expect_shape(c, x, 2, REF_DIMS(REF_ANY, REF_ANY))) return;
    n = x->shape[0], fin = x->shape[1];
    if (!ref_expect_shape(c, w, 2, REF_DIMS(REF_ANY, fin))) return;
    fout = w->shape[0];
    if ((b && !ref_expect_shape(c, b, 1, REF_DIMS(fout))) || !ref_expect_shape(c, dy, 2, REF_DIMS(n, fout))) return;
    y = ref_floats(c, n * fout), dx = ref_floats(c, n * fin), dw = ref_floats(c, fout * fin);
    db = ref_floats(c, fout);
    if (c->bad) return;
    ref_case_begin(c, "linear");
    lathe_dense_forward(k, n, fin, fout, x->f, w->f, b ? b->f : NULL, y);
    lathe_dense_backward(k, n, fin, fout, x->f, w->f, dy->f, dx, dw, db);
    ref_compare(c, "y", y, 2, REF_DIMS(n, fout), y_want, REF_TOL_OP);
    ref_compare(c, "grad_x", dx, 2, REF_DIMS(n, fin), dx_want, REF_TOL_OP);
    ref_compare(c, "grad_W", dw, 2, REF_DIMS(fout, fin), dw_want, REF_TOL_OP);
    if (db_want) ref_compare(c, "grad_b", db, 1, REF_DIMS(fout), db_want, REF_TOL_OP);
    ref_case_end(c);
}

void ref_check_activations(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *out = ref_object_field(c, root, "", "outputs");
    const cJSON *act;
    ref_tensor *x = ref_tensor_field(c, in, "inputs", "x");
    ref_tensor *dy = ref_tensor_field(c, in, "inputs", "grad_output");
    float *y, *dx;
    if (c->bad || !ref_expect_shape(c, dy, x->ndim, x->shape)) return;
    if (cJSON_GetArraySize(out) == 0) {
        ref_malformed(c, "outputs", "no activations listed");
        return;
    }
    y = ref_floats(c, x->count), dx = ref_floats(c, x->count);
    cJSON_ArrayForEach(act, out) {
        const char *name = act->string;
        char base[REF_PATH_CAP], label[REF_LABEL_CAP];
        ref_tensor *y_want, *dx_want;
        ref_join(base, "outputs", name);
        y_want = ref_tensor_field(c, act, base, "y");
        dx_want = ref_tensor_field(c, act, base, "grad_x");
        if (c->bad) return;
        snprintf(label, sizeof label, "%s", name);
        ref_case_begin(c, label);
        if (strcmp(name, "relu") == 0 || strcmp(name, "sigmoid") == 0 ||
            strcmp(name, "tanh") == 0 || strcmp(name, "leaky_relu") == 0 ||
            strcmp(name, "identity") == 0) {
            lathe_activation a = name[0] == 'r'   ? LATHE_ACT_RELU
                                 : name[0] == 's' ? LATHE_ACT_SIGMOID
                                 : name[0] == 't' ? LATHE_ACT_TANH
                                 : name[0] == 'l' ? LATHE_ACT_LEAKY_RELU
                                                  : LATHE_ACT_IDENTITY;
            lathe_activation_forward(lathe_kernels(), a, x->count, x->f, y);
            lathe_activation_backward(lathe_kernels(), a, x->count, x->f, y, dy->f, dx);
        } else if (strcmp(name, "softmax") == 0 || strcmp(name, "softmax_dim1") == 0 ||
                   strcmp(name, "log_softmax") == 0 || strcmp(name, "log_softmax_dim1") == 0) {
            size_t rows, cols;
            if (x->ndim != 2) {
                ref_case_fail(c, "softmax over dim 1 is checked for 2-D x only (x is %zu-D)",
                         x->ndim);
                ref_case_end(c);
                continue;
            }
            rows = x->shape[0], cols = x->shape[1];
            if (name[0] == 's') {
                lathe_softmax_forward(lathe_kernels(), rows, cols, x->f, y);
                lathe_softmax_backward(rows, cols, y, dy->f, dx);
            } else {
                lathe_log_softmax_forward(lathe_kernels(), rows, cols, x->f, y);
                lathe_log_softmax_backward(rows, cols, y, dy->f, dx);
            }
        } else {
            ref_case_fail(c, "unknown activation '%s'", name);
            ref_case_end(c);
            continue;
        }
        ref_compare(c, "y", y, x->ndim, x->shape, y_want, REF_TOL_OP);
        ref_compare(c, "grad_x", dx, x->ndim, x->shape, dx_want, REF_TOL_OP);
        ref_case_end(c);
    }
}

/* loss_mean, loss_per_sample (the core on one row at a time), softmax, grad_logits_mean. The
 * sum reduction (loss_sum, grad_logits_sum) is not a core function: not compared. */
void ref_check_softmax_ce(ref_run *c, const cJSON *root) {
    const cJSON *cases = ref_array_field(c, root, "", "cases"), *cs;
    size_t ci = 0;
    if (c->bad) return;
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP], label[REF_LABEL_CAP];
        const cJSON *name_item = ref_field_opt(cs, "name");
        ref_tensor *z, *t, *per_want, *sm_want, *gm_want;
        double loss_mean_want;
        size_t n, k, i;
        uint32_t *targets;
        float *grad, *sm, *per, loss_mean;
        ref_join_index(base, "", "cases", ci);
        z = ref_tensor_field(c, cs, base, "logits");
        t = ref_int_tensor_field(c, cs, base, "targets");
        per_want = ref_tensor_field_opt(c, cs, base, "loss_per_sample");
        sm_want = ref_tensor_field_opt(c, cs, base, "softmax");
        gm_want = ref_tensor_field(c, cs, base, "grad_logits_mean");
        ref_number_field(c, cs, base, "loss_mean", &loss_mean_want);
        if (c->bad || !ref_expect_shape(c, z, 2, REF_DIMS(REF_ANY, REF_ANY))) return;
        n = z->shape[0], k = z->shape[1];
        if (!ref_expect_shape(c, t, 1, REF_DIMS(n))) return;
        if (n == 0 || k == 0) {
            ref_malformed(c, z->path, "empty logits");
            return;
        }
        targets = ref_targets_of(c, t, k);
        grad = ref_floats(c, n * k), sm = ref_floats(c, n * k), per = ref_floats(c, n);
        if (c->bad) return;
        if (cJSON_IsString(name_item))
            snprintf(label, sizeof label, "%s", name_item->valuestring);
        else
            snprintf(label, sizeof label, "cases[%zu]", ci);
        ref_case_begin(c, label);
        loss_mean = lathe_loss_softmax_cross_entropy(n, k, z->f, targets, grad);
        for (i = 0; i < n; i++)
            per[i] = lathe_loss_softmax_cross_entropy(1, k, z->f + i * k, targets + i, NULL);
        lathe_softmax_forward(lathe_kernels(), n, k, z->f, sm);
        ref_compare_scalar(c, "loss_mean", (double)loss_mean, loss_mean_want, REF_TOL_OP);
        if (per_want) ref_compare(c, "loss_per_sample", per, 1, REF_DIMS(n), per_want, REF_TOL_OP);
        if (sm_want) ref_compare(c, "softmax", sm, 2, REF_DIMS(n, k), sm_want, REF_TOL_OP);
        ref_compare(c, "grad_logits_mean", grad, 2, REF_DIMS(n, k), gm_want, REF_TOL_OP);
        ref_case_end(c);
        ci++;
    }
    if (ci == 0) ref_malformed(c, "cases", "no cases");
}

/* loss_mean and grad_pred_mean. The gradient with respect to the target and the sum
 * reduction are not core outputs: not compared. */
void ref_check_mse(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *out = ref_object_field(c, root, "", "outputs");
    ref_tensor *p = ref_tensor_field(c, in, "inputs", "pred"),
               *t = ref_tensor_field(c, in, "inputs", "target");
    ref_tensor *gp_want = ref_tensor_field(c, out, "outputs", "grad_pred_mean");
    double mean_want;
    size_t n, d;
    float *g, loss;
    ref_number_field(c, out, "outputs", "loss_mean", &mean_want);
    if (c->bad || !ref_expect_shape(c, t, p->ndim, p->shape)) return;
    if (p->count == 0) {
        ref_malformed(c, p->path, "empty");
        return;
    }
    n = p->ndim ? p->shape[0] : 1;
    d = p->count / n;
    g = ref_floats(c, p->count);
    if (c->bad) return;
    ref_case_begin(c, "mse_loss");
    loss = lathe_loss_mse(n, d, p->f, t->f, g);
    ref_compare_scalar(c, "loss_mean", (double)loss, mean_want, REF_TOL_OP);
    ref_compare(c, "grad_pred_mean", g, p->ndim, p->shape, gp_want, REF_TOL_OP);
    ref_case_end(c);
}

/* Checks the file's y_shape (when given) against the core's output shape. */
static int y_shape_ok(ref_run *c, const cJSON *cs, const char *base, size_t ndim,
                      const size_t *dims) {
    const cJSON *ys = ref_field_opt(cs, "y_shape"), *v;
    size_t k = 0, got[REF_MAX_DIMS];
    char a[96], b[96], path[REF_PATH_CAP];
    if (!ys) return 1;
    ref_join(path, base, "y_shape");
    if (!cJSON_IsArray(ys) || (size_t)cJSON_GetArraySize(ys) > REF_MAX_DIMS) {
        ref_malformed(c, path, "not an array of sizes");
        return 0;
    }
    cJSON_ArrayForEach(v, ys) {
        char at[REF_PATH_CAP];
        ref_join_index(at, base, "y_shape", k);
        if (!ref_size_of(c, v, at, &got[k])) return 0;
        k++;
    }
    if (k == ndim && memcmp(got, dims, ndim * sizeof *dims) == 0) return 1;
    ref_shape_str(a, sizeof a, k, got);
    ref_shape_str(b, sizeof b, ndim, dims);
    ref_case_fail(c, "y_shape %s but the core gives %s", a, b);
    ref_case_end(c);
    return 0;
}

void ref_check_conv2d(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *cases = ref_array_field(c, root, "", "cases");
    const cJSON *cs;
    ref_tensor *x = ref_tensor_field(c, in, "inputs", "x"), *w = ref_tensor_field(c, in, "inputs", "W");
    ref_tensor *b = ref_tensor_field_opt(c, in, "inputs", "b");
    const lathe_kernel_table *k = lathe_kernels();
    size_t ci = 0;
    if (c->bad || !ref_expect_shape(c, x, 4, REF_DIMS(REF_ANY, REF_ANY, REF_ANY, REF_ANY)) ||
        !ref_expect_shape(c, w, 4, REF_DIMS(REF_ANY, x->shape[1], REF_ANY, REF_ANY)) ||
        (b && !ref_expect_shape(c, b, 1, REF_DIMS(w->shape[0]))))
        return;
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP], label[REF_LABEL_CAP];
        lathe_conv2d_shape s;
        lathe_error err;
        ref_tensor *dy, *y_want, *dx_want, *dw_want, *db_want = NULL;
        size_t ho, wo, ydims[4];
        float *y, *dx, *dw, *db, *work;
        ref_join_index(base, "", "cases", ci);
        s.n = x->shape[0], s.in_ch = x->shape[1], s.h = x->shape[2], s.w = x->shape[3];
        s.out_ch = w->shape[0], s.kh = w->shape[2], s.kw = w->shape[3];
        ref_size_field(c, cs, base, "stride", &s.stride);
        ref_size_field(c, cs, base, "padding", &s.pad);
        dy = ref_tensor_field(c, cs, base, "grad_output");
        y_want = ref_tensor_field(c, cs, base, "y");
        dx_want = ref_tensor_field(c, cs, base, "grad_x");
        dw_want = ref_tensor_field(c, cs, base, "grad_W");
        if (b) db_want = ref_tensor_field(c, cs, base, "grad_b");
        if (c->bad) return;
        if (lathe_conv2d_output_size(&s, &ho, &wo, &err) != LATHE_OK) {
            ref_malformed(c, base, "%s", err.message);
            return;
        }
        snprintf(label, sizeof label, "stride=%zu,padding=%zu", s.stride, s.pad);
        ref_case_begin(c, label);
        ci++;
        ydims[0] = s.n, ydims[1] = s.out_ch, ydims[2] = ho, ydims[3] = wo;
        if (!y_shape_ok(c, cs, base, 4, ydims)) continue;
        if (!ref_expect_shape(c, dy, 4, ydims)) return;
        y = ref_floats(c, dy->count), dx = ref_floats(c, x->count), dw = ref_floats(c, w->count);
        db = ref_floats(c, s.out_ch), work = ref_floats(c, lathe_conv2d_workspace_size(&s));
        if (c->bad) return;
        lathe_conv2d_forward(k, &s, x->f, w->f, b ? b->f : NULL, y, work);
        lathe_conv2d_backward_data(k, &s, w->f, dy->f, dx, work);
        lathe_conv2d_backward_weights(k, &s, x->f, dy->f, dw, db, work);
        ref_compare(c, "y", y, 4, ydims, y_want, REF_TOL_SUM);
        ref_compare(c, "grad_x", dx, 4, x->shape, dx_want, REF_TOL_SUM);
        ref_compare(c, "grad_W", dw, 4, w->shape, dw_want, REF_TOL_SUM);
        if (db_want) ref_compare(c, "grad_b", db, 1, REF_DIMS(s.out_ch), db_want, REF_TOL_SUM);
        ref_case_end(c);
    }
    if (ci == 0 && !c->bad) ref_malformed(c, "cases", "no cases");
}

/* One list of pooling cases ("max" or "avg"); returns the number of cases. */
static size_t check_pool_list(ref_run *c, const cJSON *in, const cJSON *list, const char *key,
                              int is_max) {
    const cJSON *cs;
    size_t ci = 0;
    cJSON_ArrayForEach(cs, list) {
        char base[REF_PATH_CAP], label[REF_LABEL_CAP];
        const char *input;
        lathe_pool2d_shape s;
        lathe_error err;
        ref_tensor *x, *dy, *y_want, *dx_want, *am_want = NULL;
        size_t ho, wo, pad = 0, ydims[4];
        float *y, *dx;
        uint32_t *am;
        ref_join_index(base, "", key, ci);
        input = ref_string_field(c, cs, base, "input");
        ref_size_field(c, cs, base, "kernel", &s.k);
        ref_size_field(c, cs, base, "stride", &s.stride);
        if (ref_field_opt(cs, "padding")) ref_size_field(c, cs, base, "padding", &pad);
        dy = ref_tensor_field(c, cs, base, "grad_output");
        y_want = ref_tensor_field(c, cs, base, "y");
        dx_want = ref_tensor_field(c, cs, base, "grad_x");
        if (is_max) am_want = ref_int_tensor_field(c, cs, base, "argmax_flat_hw");
        if (c->bad) return ci;
        x = ref_tensor_field(c, in, "inputs", input);
        if (c->bad || !ref_expect_shape(c, x, 4, REF_DIMS(REF_ANY, REF_ANY, REF_ANY, REF_ANY))) return ci;
        s.n = x->shape[0], s.c = x->shape[1], s.h = x->shape[2], s.w = x->shape[3];
        snprintf(label, sizeof label, "%s[%s,k=%zu,s=%zu]", key, input, s.k, s.stride);
        ref_case_begin(c, label);
        ci++;
        if (pad != 0) {
            ref_case_fail(c, "padding %zu is not supported (pooling has no padding)", pad);
            ref_case_end(c);
            continue;
        }
        if (lathe_pool2d_output_size(&s, &ho, &wo, &err) != LATHE_OK) {
            ref_malformed(c, base, "%s", err.message);
            return ci;
        }
        ydims[0] = s.n, ydims[1] = s.c, ydims[2] = ho, ydims[3] = wo;
        if (!y_shape_ok(c, cs, base, 4, ydims)) continue;
        if (!ref_expect_shape(c, dy, 4, ydims)) return ci;
        y = ref_floats(c, dy->count), dx = ref_floats(c, x->count);
        am = ref_alloc(c, dy->count, sizeof *am);
        if (c->bad) return ci;
        if (is_max) {
            lathe_max_pool2d_forward(lathe_kernels(), &s, x->f, y, am);
            lathe_max_pool2d_backward(lathe_kernels(), &s, am, dy->f, dx);
        } else {
            lathe_avg_pool2d_forward(lathe_kernels(), &s, x->f, y);
            lathe_avg_pool2d_backward(lathe_kernels(), &s, dy->f, dx);
        }
        ref_compare(c, "y", y, 4, ydims, y_want, REF_TOL_OP);
        ref_compare(c, "grad_x", dx, 4, x->shape, dx_want, REF_TOL_OP);
        if (am_want) ref_compare_index(c, "argmax_flat_hw", am, 4, ydims, am_want);
        ref_case_end(c);
    }
    return ci;
}

void ref_check_pool2d(ref_run *c, const cJSON *root) {
    const cJSON *in = ref_object_field(c, root, "", "inputs");
    const cJSON *max = ref_field_opt(root, "max"), *avg = ref_field_opt(root, "avg");
    size_t cases = 0;
    if (c->bad) return;
    if (!max && !avg) {
        ref_malformed(c, "max", "missing (and no avg either)");
        return;
    }
    if (max && !cJSON_IsArray(max)) ref_malformed(c, "max", "not an array");
    if (avg && !cJSON_IsArray(avg)) ref_malformed(c, "avg", "not an array");
    if (max) cases += check_pool_list(c, in, max, "max", 1);
    if (avg && !c->bad) cases += check_pool_list(c, in, avg, "avg", 0);
    if (cases == 0 && !c->bad) ref_malformed(c, "max", "no cases");
}

/* Training-mode forward (y, batch mean and biased variance, running statistics after one
 * step), backward, and the eval-mode output afterwards. batch_var_unbiased is not a core
 * output (the core uses it inside the running-variance update, which is compared). */
void ref_check_batchnorm(ref_run *c, const cJSON *root) {
    const char *op = ref_string_field(c, root, "", "op");
    const cJSON *in = ref_object_field(c, root, "", "inputs"),
                *out = ref_object_field(c, root, "", "outputs");
    ref_tensor *x = ref_tensor_field(c, in, "inputs", "x");
    ref_tensor *gamma = ref_tensor_field_opt(c, in, "inputs", "gamma");
    ref_tensor *beta = ref_tensor_field_opt(c, in, "inputs", "beta");
    ref_tensor *dy = ref_tensor_field(c, in, "inputs", "grad_output");
    ref_tensor *x_eval = ref_tensor_field(c, in, "inputs", "x_eval");
    ref_tensor *rm0 = ref_tensor_field_opt(c, in, "inputs", "running_mean");
    ref_tensor *rv0 = ref_tensor_field_opt(c, in, "inputs", "running_var");
    ref_tensor *y_want = ref_tensor_field(c, out, "outputs", "y_train");
    ref_tensor *mean_want = ref_tensor_field(c, out, "outputs", "batch_mean");
    ref_tensor *varb_want = ref_tensor_field(c, out, "outputs", "batch_var_biased");
    ref_tensor *rm_want = ref_tensor_field(c, out, "outputs", "running_mean_after");
    ref_tensor *rv_want = ref_tensor_field(c, out, "outputs", "running_var_after");
    ref_tensor *dx_want = ref_tensor_field(c, out, "outputs", "grad_x");
    ref_tensor *dg_want = gamma ? ref_tensor_field(c, out, "outputs", "grad_gamma") : NULL;
    ref_tensor *db_want = beta ? ref_tensor_field(c, out, "outputs", "grad_beta") : NULL;
    ref_tensor *ye_want = ref_tensor_field(c, out, "outputs", "y_eval_after_one_train_step");
    double eps = 1e-5, momentum = 0.1;
    size_t n, ch, hw, cdim[1];
    float *y, *mean, *var, *save_mean, *save_invstd, *rm, *rv, *dx, *dg, *db, *ye;
    lathe_error err;
    char label[REF_LABEL_CAP];
    if (ref_field_opt(in, "eps")) ref_number_field(c, in, "inputs", "eps", &eps);
    if (ref_field_opt(in, "momentum")) ref_number_field(c, in, "inputs", "momentum", &momentum);
    if (c->bad) return;
    if (x->ndim < 2) {
        ref_malformed(c, x->path, "needs at least 2 dimensions (N, C, ...)");
        return;
    }
    n = x->shape[0], ch = x->shape[1];
    hw = n ? x->count / n / (ch ? ch : 1) : 0;
    cdim[0] = ch;
    if ((gamma && !ref_expect_shape(c, gamma, 1, cdim)) || (beta && !ref_expect_shape(c, beta, 1, cdim)) ||
        (rm0 && !ref_expect_shape(c, rm0, 1, cdim)) || (rv0 && !ref_expect_shape(c, rv0, 1, cdim)) ||
        !ref_expect_shape(c, dy, x->ndim, x->shape))
        return;
    if (x_eval->ndim != x->ndim || x_eval->shape[1] != ch ||
        (x->ndim > 2 && memcmp(x_eval->shape + 2, x->shape + 2, (x->ndim - 2) * sizeof(size_t)))) {
        ref_malformed(c, x_eval->path, "shape does not fit x (same channels and positions)");
        return;
    }
    y = ref_floats(c, x->count), dx = ref_floats(c, x->count), ye = ref_floats(c, x_eval->count);
    mean = ref_floats(c, ch), var = ref_floats(c, ch);
    save_mean = ref_floats(c, ch), save_invstd = ref_floats(c, ch), rm = ref_floats(c, ch);
    rv = ref_floats(c, ch), dg = ref_floats(c, ch), db = ref_floats(c, ch);
    if (c->bad) return;
    snprintf(label, sizeof label, "%s", op);
    ref_case_begin(c, label);
    lathe_batchnorm_init_running(ch, rm, rv); /* unless the file gives the starting stats */
    if (rm0) memcpy(rm, rm0->f, ch * sizeof *rm);
    if (rv0) memcpy(rv, rv0->f, ch * sizeof *rv);
    if (lathe_batchnorm_forward_train(n, ch, hw, (float)eps, (float)momentum, x->f,
                                      gamma ? gamma->f : NULL, beta ? beta->f : NULL, y, save_mean,
                                      save_invstd, rm, rv, &err) != LATHE_OK) {
        ref_malformed(c, x->path, "%s", err.message);
        return;
    }
    lathe_batchnorm_stats(n, ch, hw, x->f, mean, var);
    lathe_batchnorm_backward(n, ch, hw, x->f, gamma ? gamma->f : NULL, save_mean, save_invstd,
                             dy->f, dx, dg, db);
    lathe_batchnorm_forward_eval(x_eval->shape[0], ch, hw, (float)eps, x_eval->f,
                                 gamma ? gamma->f : NULL, beta ? beta->f : NULL, rm, rv, ye);
    ref_compare(c, "y_train", y, x->ndim, x->shape, y_want, REF_TOL_SUM);
    ref_compare(c, "batch_mean", mean, 1, cdim, mean_want, REF_TOL_SUM);
    ref_compare(c, "batch_var_biased", var, 1, cdim, varb_want, REF_TOL_SUM);
    ref_compare(c, "running_mean_after", rm, 1, cdim, rm_want, REF_TOL_SUM);
    ref_compare(c, "running_var_after", rv, 1, cdim, rv_want, REF_TOL_SUM);
    ref_compare(c, "grad_x", dx, x->ndim, x->shape, dx_want, REF_TOL_SUM);
    if (dg_want) ref_compare(c, "grad_gamma", dg, 1, cdim, dg_want, REF_TOL_SUM);
    if (db_want) ref_compare(c, "grad_beta", db, 1, cdim, db_want, REF_TOL_SUM);
    ref_compare(c, "y_eval_after_one_train_step", ye, x_eval->ndim, x_eval->shape, ye_want,
                REF_TOL_SUM);
    ref_case_end(c);
}
/* ---- losses2 ---------------------------------------------------------------------------- */

/* Per-element losses: the core's loss on one element at a time. */
typedef float (*elementwise_loss)(const float *pred, const float *target, float delta);
static float bce_one(const float *z, const float *t, float delta) {
    (void)delta;
    return lathe_loss_bce_with_logits(1, 1, z, t, NULL);
}
static float mae_one(const float *p, const float *t, float delta) {
    (void)delta;
    return lathe_loss_mae(1, 1, p, t, NULL);
}
static float huber_one(const float *p, const float *t, float delta) {
    return lathe_loss_huber(1, 1, delta, p, t, NULL);
}

/* Loss cases: loss_mean and the gradient with respect to the prediction (logits), and
 * loss_per_element when the file has it. The sum reduction and grad_target(s) are not core
 * outputs: not compared. */
static void check_loss_case(ref_run *c, const cJSON *cs, const char *base, const char *name,
                            int kind /* 0 BCE, 1 L1, 2 Huber */) {
    const char *pkey = kind == 0 ? "logits" : "pred", *tkey = kind == 0 ? "targets" : "target";
    const char *gkey = kind == 0 ? "grad_logits_mean" : "grad_pred_mean";
    ref_tensor *p = ref_tensor_field(c, cs, base, pkey), *t = ref_tensor_field(c, cs, base, tkey);
    ref_tensor *g_want = ref_tensor_field(c, cs, base, gkey);
    ref_tensor *per_want = ref_tensor_field_opt(c, cs, base, "loss_per_element");
    double mean_want, delta = 1.0;
    size_t n, d, i;
    float *g, *per, loss;
    ref_number_field(c, cs, base, "loss_mean", &mean_want);
    if (kind == 2) ref_number_field(c, cs, base, "delta", &delta);
    if (c->bad || !ref_expect_shape(c, t, p->ndim, p->shape) ||
        !ref_expect_shape(c, g_want, p->ndim, p->shape) ||
        (per_want && !ref_expect_shape(c, per_want, p->ndim, p->shape)))
        return;
    if (p->count == 0 || !(delta > 0.0)) {
        ref_malformed(c, base, "empty, or delta <= 0");
        return;
    }
    n = p->ndim > 1 ? p->shape[0] : 1;
    d = p->count / n;
    g = ref_floats(c, p->count), per = ref_floats(c, p->count);
    if (c->bad) return;
    ref_case_begin(c, name);
    if (kind == 0)
        loss = lathe_loss_bce_with_logits(n, d, p->f, t->f, g);
    else if (kind == 1)
        loss = lathe_loss_mae(n, d, p->f, t->f, g);
    else
        loss = lathe_loss_huber(n, d, (float)delta, p->f, t->f, g);
    ref_compare_scalar(c, "loss_mean", (double)loss, mean_want, REF_TOL_OP);
    ref_compare(c, gkey, g, p->ndim, p->shape, g_want, REF_TOL_OP);
    if (per_want) {
        elementwise_loss one = kind == 0 ? bce_one : kind == 1 ? mae_one : huber_one;
        for (i = 0; i < p->count; i++)
            per[i] = one(p->f + i, t->f + i, (float)delta);
        ref_compare(c, "loss_per_element", per, p->ndim, p->shape, per_want, REF_TOL_OP);
    }
    ref_case_end(c);
}

/* Activation cases: y and grad_x = dy·f'(x). Leaky ReLU is the core's activation; softplus
 * is the core's lathe_softplusf, whose derivative is the core's lathe_sigmoidf (the core has
 * no softplus layer, so no backward of its own). */
static void check_activation_case(ref_run *c, const cJSON *cs, const char *base,
                                  const char *name, int softplus) {
    ref_tensor *x = ref_tensor_field(c, cs, base, "x");
    ref_tensor *dy = ref_tensor_field(c, cs, base, "grad_output");
    ref_tensor *y_want = ref_tensor_field(c, cs, base, "y");
    ref_tensor *dx_want = ref_tensor_field(c, cs, base, "grad_x");
    size_t i;
    float *y, *dx;
    if (c->bad || !ref_expect_shape(c, dy, x->ndim, x->shape)) return;
    y = ref_floats(c, x->count), dx = ref_floats(c, x->count);
    if (c->bad) return;
    ref_case_begin(c, name);
    if (softplus) {
        for (i = 0; i < x->count; i++) {
            y[i] = lathe_softplusf(x->f[i]);
            dx[i] = dy->f[i] * lathe_sigmoidf(x->f[i]);
        }
    } else {
        lathe_activation_forward(lathe_kernels(), LATHE_ACT_LEAKY_RELU, x->count, x->f, y);
        lathe_activation_backward(lathe_kernels(), LATHE_ACT_LEAKY_RELU, x->count, x->f, y, dy->f, dx);
    }
    ref_compare(c, "y", y, x->ndim, x->shape, y_want, REF_TOL_OP);
    ref_compare(c, "grad_x", dx, x->ndim, x->shape, dx_want, REF_TOL_OP);
    ref_case_end(c);
}

static int name_is(const char *name, const char *prefix) {
    return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* Cases by name: bce_with_logits*, l1_loss*, huber_loss* (with "delta"), leaky_relu*
 * (slope 0.01: the core's fixed slope, checked against the name), softplus*. */
void ref_check_losses2(ref_run *c, const cJSON *root) {
    const cJSON *cases = ref_array_field(c, root, "", "cases"), *cs;
    size_t ci = 0;
    if (c->bad) return;
    cJSON_ArrayForEach(cs, cases) {
        char base[REF_PATH_CAP];
        const char *name;
        ref_join_index(base, "", "cases", ci++);
        name = ref_string_field(c, cs, base, "name");
        if (!name) return;
        if (name_is(name, "bce_with_logits"))
            check_loss_case(c, cs, base, name, 0);
        else if (name_is(name, "l1_loss"))
            check_loss_case(c, cs, base, name, 1);
        else if (name_is(name, "huber_loss"))
            check_loss_case(c, cs, base, name, 2);
        else if (strcmp(name, "leaky_relu") == 0 || strcmp(name, "leaky_relu_0.01") == 0)
            check_activation_case(c, cs, base, name, 0);
        else if (name_is(name, "leaky_relu"))
            ref_not_implemented(c, name, "the core's leaky ReLU has the fixed slope 0.01");
        else if (name_is(name, "softplus"))
            check_activation_case(c, cs, base, name, 1);
        else {
            ref_case_begin(c, name);
            ref_case_fail(c, "unknown case kind (not bce_with_logits, l1_loss, huber_loss, "
                             "leaky_relu or softplus)");
            ref_case_end(c);
        }
        if (c->bad) return;
    }
    if (ci == 0) ref_malformed(c, "cases", "no cases");
}
