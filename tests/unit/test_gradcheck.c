/* Finite-difference gradient checks of every layer's backward pass against its own forward.
 * For an op y = f(x, θ) with a fixed random upstream gradient dy, the scalar is
 * L = Σ y·dy (for losses, the loss itself), accumulated in double from the float forward. Each
 * float input v[i] is perturbed by h = 1e-2·max(|v[i]|, 1) (1e-3 for the piecewise-linear
 * pools) either way, and the central
 * difference (L(v+h) − L(v−h)) / ((v+h) − (v−h)) must match the analytic gradient within
 * 1e-2 relative plus 1e-3 of the largest analytic gradient of that tensor (float rounding in
 * L and the h² term of the difference stay well below that; a wrong term does not).
 * Shapes come from a seeded LCG; max-pool inputs are distinct values spaced wider than 2h, and
 * ReLU inputs stay clear of the kink, so no perturbation crosses a non-smooth point. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/batchnorm.h"
#include "lathe/conv.h"
#include "lathe/dropout.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/losses.h"
#include "lathe/pool.h"
#include "lathe/rng.h"

#define H_REL 1e-2
#define RTOL 1e-2
#define ATOL_SCALE 1e-3

static uint32_t lcg_state = 20240611u;

static uint32_t lcg(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8; /* 24 well-mixed bits */
}

/* Uniform integer in [lo, hi]. */
static size_t lcg_range(size_t lo, size_t hi) {
    return lo + (size_t)lcg() % (hi - lo + 1);
}

static float lcg_uniform(float lo, float hi) {
    return lo + (hi - lo) * ((float)lcg() / 16777216.0f);
}

static float *random_floats(size_t n, float lo, float hi) {
    float *v = malloc((n ? n : 1) * sizeof *v);
    size_t i;
    if (!v) {
        fprintf(stderr, "test_gradcheck: out of memory\n");
        exit(2);
    }
    for (i = 0; i < n; i++)
        v[i] = lcg_uniform(lo, hi);
    return v;
}

static double dot(size_t n, const float *y, const float *dy) {
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        s += (double)y[i] * (double)dy[i];
    return s;
}

typedef double (*objective)(void *ctx);

/* Compares grad:(n) with the central differences of f over v:(n) (v is restored), stepping
 * each v[i] by h_rel·max(|v[i]|, 1). */
static void gradcheck_h(const char *what, float *v, size_t n, const float *grad, objective f,
                        void *ctx, double h_rel) {
    double scale = 0.0, worst_num = 0.0;
    size_t i, bad = 0, first = 0;
    for (i = 0; i < n; i++)
        if (fabs((double)grad[i]) > scale) scale = fabs((double)grad[i]);
    if (scale == 0.0) scale = 1.0;
    for (i = 0; i < n; i++) {
        float saved = v[i];
        float h = (float)h_rel * (fabsf(saved) > 1.0f ? fabsf(saved) : 1.0f);
        float up = saved + h, down = saved - h;
        double lp, lm, num;
        v[i] = up;
        lp = f(ctx);
        v[i] = down;
        lm = f(ctx);
        v[i] = saved;
        num = (lp - lm) / ((double)up - (double)down);
        if (!(fabs(num - (double)grad[i]) <= RTOL * fabs((double)grad[i]) + ATOL_SCALE * scale)) {
            if (bad == 0) first = i, worst_num = num;
            bad++;
        }
    }
    CHECK(bad == 0, "%s: %zu of %zu gradients differ; first [%zu]: analytic %.7g, numeric %.7g",
          what, bad, n, first, bad ? (double)grad[first] : 0.0, worst_num);
}

static void gradcheck(const char *what, float *v, size_t n, const float *grad, objective f,
                      void *ctx) {
    gradcheck_h(what, v, n, grad, f, ctx, H_REL);
}

/* ---- dense ---------------------------------------------------------------------------- */

typedef struct dense_ctx {
    size_t n, in, out;
    float *x, *w, *b, *dy, *y;
} dense_ctx;

static double dense_obj(void *p) {
    dense_ctx *c = p;
    lathe_dense_forward(lathe_kernels(), c->n, c->in, c->out, c->x, c->w, c->b, c->y);
    return dot(c->n * c->out, c->y, c->dy);
}

static void test_dense(void) {
    int round;
    for (round = 0; round < 3; round++) {
        dense_ctx c;
        float *dx, *dw, *db;
        char what[64];
        c.n = lcg_range(1, 5), c.in = lcg_range(1, 9), c.out = lcg_range(1, 7);
        c.x = random_floats(c.n * c.in, -1, 1), c.w = random_floats(c.out * c.in, -1, 1);
        c.b = random_floats(c.out, -1, 1), c.dy = random_floats(c.n * c.out, -1, 1);
        c.y = random_floats(c.n * c.out, 0, 0);
        dx = random_floats(c.n * c.in, 0, 0), dw = random_floats(c.out * c.in, 0, 0);
        db = random_floats(c.out, 0, 0);
        lathe_dense_backward(lathe_kernels(), c.n, c.in, c.out, c.x, c.w, c.dy, dx, dw, db);
        snprintf(what, sizeof what, "dense %zux%zu->%zu", c.n, c.in, c.out);
        gradcheck(what, c.x, c.n * c.in, dx, dense_obj, &c);
        gradcheck(what, c.w, c.out * c.in, dw, dense_obj, &c);
        gradcheck(what, c.b, c.out, db, dense_obj, &c);
        free(c.x), free(c.w), free(c.b), free(c.dy), free(c.y), free(dx), free(dw), free(db);
    }
}

/* ---- activations ---------------------------------------------------------------------- */

typedef struct act_ctx {
    lathe_activation act;
    size_t n;
    float *x, *dy, *y;
} act_ctx;

static double act_obj(void *p) {
    act_ctx *c = p;
    lathe_activation_forward(lathe_kernels(), c->act, c->n, c->x, c->y);
    return dot(c->n, c->y, c->dy);
}

static void test_activations(void) {
    static const lathe_activation acts[] = {LATHE_ACT_IDENTITY, LATHE_ACT_RELU,
                                            LATHE_ACT_LEAKY_RELU, LATHE_ACT_SIGMOID,
                                            LATHE_ACT_TANH};
    static const char *const names[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh"};
    size_t a, i;
    for (a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        act_ctx c;
        float *dx;
        char what[64];
        c.act = acts[a], c.n = 40;
        c.x = random_floats(c.n, -4, 4), c.dy = random_floats(c.n, -1, 1);
        c.y = random_floats(c.n, 0, 0), dx = random_floats(c.n, 0, 0);
        /* Keep clear of the ReLU kink: |x| >= 0.1 > h. */
        for (i = 0; i < c.n; i++)
            if (fabsf(c.x[i]) < 0.1f) c.x[i] = c.x[i] < 0.0f ? -0.1f - c.x[i] : 0.1f + c.x[i];
        lathe_activation_forward(lathe_kernels(), c.act, c.n, c.x, c.y);
        lathe_activation_backward(lathe_kernels(), c.act, c.n, c.x, c.y, c.dy, dx);
        snprintf(what, sizeof what, "activation %s", names[a]);
        gradcheck(what, c.x, c.n, dx, act_obj, &c);
        free(c.x), free(c.dy), free(c.y), free(dx);
    }
}

/* ---- losses --------------------------------------------------------------------------- */

typedef struct ce_ctx {
    size_t n, c;
    float *z;
    uint32_t *t;
} ce_ctx;

static double ce_obj(void *p) {
    ce_ctx *c = p;
    return (double)lathe_loss_softmax_cross_entropy(c->n, c->c, c->z, c->t, NULL);
}

static void test_softmax_ce(void) {
    int round;
    for (round = 0; round < 3; round++) {
        ce_ctx c;
        float *g;
        size_t i;
        char what[64];
        c.n = lcg_range(1, 6), c.c = lcg_range(2, 7);
        c.z = random_floats(c.n * c.c, -3, 3), g = random_floats(c.n * c.c, 0, 0);
        c.t = malloc(c.n * sizeof *c.t);
        if (!c.t) exit(2);
        for (i = 0; i < c.n; i++)
            c.t[i] = (uint32_t)lcg_range(0, c.c - 1);
        lathe_loss_softmax_cross_entropy(c.n, c.c, c.z, c.t, g);
        snprintf(what, sizeof what, "softmax CE %zux%zu", c.n, c.c);
        gradcheck(what, c.z, c.n * c.c, g, ce_obj, &c);
        free(c.z), free(c.t), free(g);
    }
}

typedef struct mse_ctx {
    size_t n, d;
    float *p, *t;
} mse_ctx;

static double mse_obj(void *p) {
    mse_ctx *c = p;
    return (double)lathe_loss_mse(c->n, c->d, c->p, c->t, NULL);
}

static void test_mse(void) {
    mse_ctx c;
    float *g, *gt;
    size_t i;
    c.n = lcg_range(2, 6), c.d = lcg_range(1, 4);
    c.p = random_floats(c.n * c.d, -2, 2), c.t = random_floats(c.n * c.d, -2, 2);
    g = random_floats(c.n * c.d, 0, 0), gt = random_floats(c.n * c.d, 0, 0);
    lathe_loss_mse(c.n, c.d, c.p, c.t, g);
    for (i = 0; i < c.n * c.d; i++)
        gt[i] = -g[i]; /* d/dtarget = −d/dpred */
    gradcheck("mse pred", c.p, c.n * c.d, g, mse_obj, &c);
    gradcheck("mse target", c.t, c.n * c.d, gt, mse_obj, &c);
    free(c.p), free(c.t), free(g), free(gt);
}

/* ---- conv2d --------------------------------------------------------------------------- */

typedef struct conv_ctx {
    lathe_conv2d_shape s;
    float *x, *w, *b, *dy, *y, *work;
    size_t ny;
} conv_ctx;

static double conv_obj(void *p) {
    conv_ctx *c = p;
    lathe_conv2d_forward(lathe_kernels(), &c->s, c->x, c->w, c->b, c->y, c->work);
    return dot(c->ny, c->y, c->dy);
}

static void conv_case(const lathe_conv2d_shape *s) {
    conv_ctx c;
    size_t ho, wo, nx, nw;
    float *dx, *dw, *db;
    char what[128];
    lathe_error err;
    c.s = *s;
    if (lathe_conv2d_output_size(s, &ho, &wo, &err) != LATHE_OK) {
        CHECK(0, "conv case rejected: %s", err.message);
        return;
    }
    nx = s->n * s->in_ch * s->h * s->w, nw = s->out_ch * s->in_ch * s->kh * s->kw;
    c.ny = s->n * s->out_ch * ho * wo;
    c.x = random_floats(nx, -1, 1), c.w = random_floats(nw, -1, 1);
    c.b = random_floats(s->out_ch, -1, 1), c.dy = random_floats(c.ny, -1, 1);
    c.y = random_floats(c.ny, 0, 0), c.work = random_floats(lathe_conv2d_workspace_size(s), 0, 0);
    dx = random_floats(nx, 0, 0), dw = random_floats(nw, 0, 0), db = random_floats(s->out_ch, 0, 0);
    lathe_conv2d_backward_data(lathe_kernels(), s, c.w, c.dy, dx, c.work);
    lathe_conv2d_backward_weights(lathe_kernels(), s, c.x, c.dy, dw, db, c.work);
    snprintf(what, sizeof what, "conv2d x(%zu,%zu,%zu,%zu) k%zux%zu out %zu s%zu p%zu", s->n,
             s->in_ch, s->h, s->w, s->kh, s->kw, s->out_ch, s->stride, s->pad);
    gradcheck(what, c.x, nx, dx, conv_obj, &c);
    gradcheck(what, c.w, nw, dw, conv_obj, &c);
    gradcheck(what, c.b, s->out_ch, db, conv_obj, &c);
    free(c.x), free(c.w), free(c.b), free(c.dy), free(c.y), free(c.work);
    free(dx), free(dw), free(db);
}

static void test_conv2d(void) {
    /* Edge shapes: 1×1 kernel with stride 2; padding wider than half the kernel; a kernel as
     * large as the padded input (1×1 output); stride larger than the kernel. */
    static const lathe_conv2d_shape fixed[] = {
        {2, 3, 5, 4, 2, 1, 1, 2, 0},
        {1, 2, 3, 3, 2, 2, 2, 1, 2},
        {2, 1, 4, 3, 3, 6, 5, 1, 1},
        {1, 2, 7, 8, 2, 2, 3, 3, 1},
    };
    size_t i;
    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        conv_case(&fixed[i]);
    for (i = 0; i < 8; i++) {
        lathe_conv2d_shape s;
        s.n = lcg_range(1, 3), s.in_ch = lcg_range(1, 3), s.out_ch = lcg_range(1, 4);
        s.kh = lcg_range(1, 4), s.kw = lcg_range(1, 4);
        s.stride = lcg_range(1, 3), s.pad = lcg_range(0, 2);
        /* The smallest input the padded kernel fits, plus a few rows and columns. */
        s.h = (s.kh > 2 * s.pad ? s.kh - 2 * s.pad : 1) + lcg_range(0, 4);
        s.w = (s.kw > 2 * s.pad ? s.kw - 2 * s.pad : 1) + lcg_range(0, 4);
        conv_case(&s);
    }
}

/* ---- pooling -------------------------------------------------------------------------- */

typedef struct pool_ctx {
    lathe_pool2d_shape s;
    int is_max;
    float *x, *dy, *y;
    uint32_t *argmax;
    size_t ny;
} pool_ctx;

static double pool_obj(void *p) {
    pool_ctx *c = p;
    if (c->is_max)
        lathe_max_pool2d_forward(lathe_kernels(), &c->s, c->x, c->y, c->argmax);
    else
        lathe_avg_pool2d_forward(lathe_kernels(), &c->s, c->x, c->y);
    return dot(c->ny, c->y, c->dy);
}

static void pool_case(const lathe_pool2d_shape *s, int is_max) {
    pool_ctx c;
    size_t ho, wo, nx, i;
    float *dx;
    char what[128];
    lathe_error err;
    c.s = *s, c.is_max = is_max;
    if (lathe_pool2d_output_size(s, &ho, &wo, &err) != LATHE_OK) {
        CHECK(0, "pool case rejected: %s", err.message);
        return;
    }
    nx = s->n * s->c * s->h * s->w, c.ny = s->n * s->c * ho * wo;
    c.x = random_floats(nx, 0, 0), c.dy = random_floats(c.ny, -1, 1);
    c.y = random_floats(c.ny, 0, 0), dx = random_floats(nx, 0, 0);
    c.argmax = malloc(c.ny * sizeof *c.argmax);
    if (!c.argmax) exit(2);
    /* Distinct values 0.05 apart in a shuffled order; with the smaller step h = 1e-3·|v|
     * (|v| < 0.025·nx) no perturbation changes which element is a window's maximum, and both
     * pools are linear in between, so the difference is exact up to rounding. */
    for (i = 0; i < nx; i++)
        c.x[i] = (float)i * 0.05f - (float)nx * 0.025f;
    for (i = nx; i > 1; i--) {
        size_t j = (size_t)lcg() % i;
        float t = c.x[i - 1];
        c.x[i - 1] = c.x[j], c.x[j] = t;
    }
    if (is_max) {
        lathe_max_pool2d_forward(lathe_kernels(), s, c.x, c.y, c.argmax);
        lathe_max_pool2d_backward(lathe_kernels(), s, c.argmax, c.dy, dx);
    } else {
        lathe_avg_pool2d_forward(lathe_kernels(), s, c.x, c.y);
        lathe_avg_pool2d_backward(lathe_kernels(), s, c.dy, dx);
    }
    snprintf(what, sizeof what, "%s x(%zu,%zu,%zu,%zu) k%zu s%zu", is_max ? "max_pool" : "avg_pool",
             s->n, s->c, s->h, s->w, s->k, s->stride);
    gradcheck_h(what, c.x, nx, dx, pool_obj, &c, 1e-3);
    free(c.x), free(c.dy), free(c.y), free(dx), free(c.argmax);
}

static void test_pools(void) {
    static const lathe_pool2d_shape fixed[] = {
        {2, 2, 5, 5, 2, 2},
        {1, 2, 5, 4, 3, 1},
        {1, 1, 6, 7, 3, 2},
        {2, 1, 4, 4, 4, 1},
    };
    size_t i;
    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        pool_case(&fixed[i], 1);
        pool_case(&fixed[i], 0);
    }
    for (i = 0; i < 6; i++) {
        lathe_pool2d_shape s;
        s.n = lcg_range(1, 2), s.c = lcg_range(1, 3), s.k = lcg_range(1, 3);
        s.stride = lcg_range(1, 3);
        s.h = s.k + lcg_range(0, 4), s.w = s.k + lcg_range(0, 4);
        pool_case(&s, (int)(i & 1));
    }
}

/* ---- batch norm (training mode) ------------------------------------------------------- */

typedef struct bn_ctx {
    size_t n, c, hw;
    float *x, *gamma, *beta, *dy, *y, *mean, *invstd;
} bn_ctx;

static double bn_obj(void *p) {
    bn_ctx *c = p;
    lathe_status st = lathe_batchnorm_forward_train(
        c->n, c->c, c->hw, LATHE_BATCHNORM_EPS, LATHE_BATCHNORM_MOMENTUM, c->x, c->gamma, c->beta,
        c->y, c->mean, c->invstd, NULL, NULL, NULL);
    CHECK(st == LATHE_OK, "batch norm forward failed");
    return dot(c->n * c->c * c->hw, c->y, c->dy);
}

static void bn_case(size_t n, size_t ch, size_t hw) {
    bn_ctx c;
    size_t nx = n * ch * hw;
    float *dx, *dg, *db;
    char what[64];
    c.n = n, c.c = ch, c.hw = hw;
    c.x = random_floats(nx, -2, 2), c.gamma = random_floats(ch, 0.5f, 1.5f);
    c.beta = random_floats(ch, -1, 1), c.dy = random_floats(nx, -1, 1);
    c.y = random_floats(nx, 0, 0), c.mean = random_floats(ch, 0, 0);
    c.invstd = random_floats(ch, 0, 0);
    dx = random_floats(nx, 0, 0), dg = random_floats(ch, 0, 0), db = random_floats(ch, 0, 0);
    bn_obj(&c);
    lathe_batchnorm_backward(n, ch, hw, c.x, c.gamma, c.mean, c.invstd, c.dy, dx, dg, db);
    snprintf(what, sizeof what, "batchnorm (%zu,%zu,%zu)", n, ch, hw);
    gradcheck(what, c.x, nx, dx, bn_obj, &c);
    gradcheck(what, c.gamma, ch, dg, bn_obj, &c);
    gradcheck(what, c.beta, ch, db, bn_obj, &c);
    free(c.x), free(c.gamma), free(c.beta), free(c.dy), free(c.y), free(c.mean), free(c.invstd);
    free(dx), free(dg), free(db);
}

static void test_batchnorm(void) {
    bn_case(6, 4, 1); /* (N, C) */
    bn_case(2, 3, 6); /* (N, C, H, W) with H·W = 6 */
    bn_case(3, 2, 5);
}

/* ---- dropout (a fixed mask: the generator is re-seeded for every forward) -------------- */

typedef struct drop_ctx {
    float p;
    size_t n;
    float *x, *dy, *y;
    uint8_t *mask;
} drop_ctx;

static double drop_obj(void *p) {
    drop_ctx *c = p;
    lathe_rng rng;
    lathe_rng_seed(&rng, 99, 7);
    lathe_dropout_forward(&rng, c->p, c->n, c->x, c->y, c->mask);
    return dot(c->n, c->y, c->dy);
}

static void test_dropout(void) {
    drop_ctx c;
    float *dx;
    size_t i, kept = 0;
    c.p = 0.3f, c.n = 64;
    c.x = random_floats(c.n, -2, 2), c.dy = random_floats(c.n, -1, 1);
    c.y = random_floats(c.n, 0, 0), dx = random_floats(c.n, 0, 0);
    c.mask = malloc(c.n);
    if (!c.mask) exit(2);
    drop_obj(&c);
    for (i = 0; i < c.n; i++) {
        kept += c.mask[i];
        CHECK(c.y[i] == (c.mask[i] ? c.x[i] * (1.0f / (1.0f - c.p)) : 0.0f),
              "dropout y[%zu] = %g for x %g, mask %d", i, (double)c.y[i], (double)c.x[i],
              c.mask[i]);
    }
    CHECK(kept > 0 && kept < c.n, "dropout kept %zu of %zu", kept, c.n);
    lathe_dropout_backward(c.p, c.n, c.mask, c.dy, dx);
    gradcheck("dropout p=0.3", c.x, c.n, dx, drop_obj, &c);
    free(c.x), free(c.dy), free(c.y), free(dx), free(c.mask);
}

int main(void) {
    test_dense();
    test_activations();
    test_softmax_ce();
    test_mse();
    test_conv2d();
    test_pools();
    test_batchnorm();
    test_dropout();
    return check_finish("test_gradcheck");
}
