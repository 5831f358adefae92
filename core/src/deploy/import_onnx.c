/* ONNX import (lathe/import_onnx.h): the graph is unpacked by protobuf-c through the core's
 * allocation hook, walked node by node as one chain into Lathe layers (weights decoded into
 * one parameter array in Lathe's order), and run by a trainer in raw-output mode. The model
 * file is then written by the model writer from that network and a preparation. */
#include "lathe/import_onnx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/batchnorm.h"
#include "lathe/experiment.h"
#include "lathe/json_hooks.h"
#include "lathe/kernels.h"
#include "lathe/layers.h"
#include "lathe/limits.h"
#include "lathe/mathf.h"
#include "lathe/model.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"
#include "onnx.pb-c.h"

#define MAX_RANK 8
#define MAX_SCALING_STEPS 8
#define ONNX_FLOAT ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define ONNX_INT64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64

typedef enum head_kind { HEAD_NONE = 0, HEAD_SOFTMAX, HEAD_BINARY } head_kind;

/* A growing float array. */
typedef struct floats {
    float *v;
    size_t n, cap;
} floats;

struct lathe_onnx_network {
    lathe_experiment *exp; /* the chain's layers (raw outputs) */
    lathe_prepared *prep;  /* the network's input: features or an image; no rows */
    lathe_trainer *trainer;
    floats params, stats;
    size_t n_in, n_out;    /* values per row into the graph and out of the head */
    size_t n_net_out;      /* values per row out of the last layer */
    head_kind head;
    float *fill;           /* (n_in) the recognised fill of missing cells, NaN: none; or NULL */
    size_t n_scaling;
    float *shift[MAX_SCALING_STEPS], *scale[MAX_SCALING_STEPS]; /* (n_in) each */
    float *work;           /* (rows of one batch, n_in) */
    size_t batch;
    /* what the file says of itself (NULL when absent) */
    char *meta_task, *meta_target, *meta_classes, *meta_inputs, *meta_features, *meta_experiment;
    char producer[96];
    size_t eps_folded;     /* batch norms whose epsilon was folded into the variance */
    size_t first_rank;     /* the first layer's input: its rank per row (1: features, 3: an */
    int first_image;       /* image, first_dims (C, H, W)) */
    size_t first_dims[3];
    float *y;              /* (rows of one batch, n_net_out): the last layer's output */
};

/* ---- protobuf-c through the core's allocation hook ---- */

static void *pb_alloc(void *data, size_t size) {
    (void)data;
    return lathe_malloc(size);
}

static void pb_free(void *data, void *p) {
    (void)data;
    lathe_free(p);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

/* ---- small helpers ---- */

static int push_float(floats *a, float v) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        float *grown = lathe_realloc(a->v, cap * sizeof *grown);
        if (!grown) return 0;
        a->v = grown, a->cap = cap;
    }
    a->v[a->n++] = v;
    return 1;
}

static const char *node_name(const Onnx__NodeProto *nd, size_t index, char buf[80]) {
    if (nd->name && nd->name[0]) snprintf(buf, 80, "'%.60s'", nd->name);
    else snprintf(buf, 80, "#%zu", index);
    return buf;
}

/* The walk's state: the graph, the chain's current value and its per-row shape. */
typedef struct walker {
    const Onnx__GraphProto *g;
    lathe_onnx_network *net;
    lathe_error *err;
    int64_t opset;
    const char *current;       /* the chain's value */
    size_t rank;               /* its rank without the batch dimension */
    size_t dims[MAX_RANK];     /* its dims without the batch dimension */
    int layers_started;        /* a layer was added: no preparation op may follow */
    int ended;                 /* Softmax or the binary head: nothing may follow */
    const Onnx__NodeProto *constants[256]; /* Constant nodes seen */
    size_t n_constants;
    /* constants folded from a Transpose: name, dims and values */
    struct folded {
        char *name;
        int64_t dims[2];
        float *v;
    } folded[16];
    size_t n_folded;
    const Onnx__NodeProto *nd; /* the node being read, and its index and printed name */
    size_t index;
    char where[128];
} walker;

/* An error about the node being read: "node 'NAME' (OP): reason". */
static lathe_status refuse(walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static lathe_status refuse(walker *w, const char *fmt, ...) {
    char reason[LATHE_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return lathe_error_set(w->err, LATHE_ERR_INVALID, "%s: %s", w->where, reason);
}

static size_t values_per_row(const walker *w) {
    size_t i, n = 1;
    for (i = 0; i < w->rank; i++) n *= w->dims[i];
    return n;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *nd, const char *name) {
    size_t i;
    for (i = 0; i < nd->n_attribute; i++)
        if (nd->attribute[i]->name && strcmp(nd->attribute[i]->name, name) == 0)
            return nd->attribute[i];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *nd, const char *name, int64_t dflt) {
    const Onnx__AttributeProto *a = attr(nd, name);
    return a && a->has_i ? a->i : dflt;
}

static float attr_float(const Onnx__NodeProto *nd, const char *name, float dflt) {
    const Onnx__AttributeProto *a = attr(nd, name);
    return a && a->has_f ? a->f : dflt;
}

/* The attribute's ints, or NULL (with *n = 0) when absent. */
static const int64_t *attr_ints(const Onnx__NodeProto *nd, const char *name, size_t *n) {
    const Onnx__AttributeProto *a = attr(nd, name);
    *n = a ? a->n_ints : 0;
    return a && a->n_ints ? a->ints : NULL;
}

/* The attribute's string (e.g. auto_pad), or dflt. */
static const char *attr_string(const Onnx__NodeProto *nd, const char *name, char *buf,
                               size_t cap, const char *dflt) {
    const Onnx__AttributeProto *a = attr(nd, name);
    size_t n;
    if (!a || !a->has_s) return dflt;
    n = a->s.len < cap - 1 ? a->s.len : cap - 1;
    memcpy(buf, a->s.data, n);
    buf[n] = '\0';
    return buf;
}

/* Every ints[i] equal to v (or the attribute absent). */
static int all_equal(const int64_t *ints, size_t n, int64_t v) {
    size_t i;
    for (i = 0; i < n; i++)
        if (ints[i] != v) return 0;
    return 1;
}

static void ints_text(const int64_t *ints, size_t n, char *buf, size_t cap) {
    size_t i, used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, cap - used, "[");
    for (i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)ints[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
}

/* ---- constants ---- */

/* A constant tensor seen by name: an initialiser, a Constant node's value or a folded one. */
typedef struct constant {
    const Onnx__TensorProto *t; /* NULL for a folded constant */
    const struct folded *f;
} constant;

static int find_constant(const walker *w, const char *name, constant *c) {
    size_t i;
    c->t = NULL, c->f = NULL;
    if (!name || !name[0]) return 0;
    for (i = 0; i < w->n_folded; i++)
        if (strcmp(w->folded[i].name, name) == 0) {
            c->f = &w->folded[i];
            return 1;
        }
    for (i = 0; i < w->g->n_initializer; i++)
        if (w->g->initializer[i]->name && strcmp(w->g->initializer[i]->name, name) == 0) {
            c->t = w->g->initializer[i];
            return 1;
        }
    for (i = 0; i < w->n_constants; i++) {
        const Onnx__NodeProto *nd = w->constants[i];
        if (nd->n_output == 1 && strcmp(nd->output[0], name) == 0) {
            const Onnx__AttributeProto *a = attr(nd, "value");
            if (a && a->t) {
                c->t = a->t;
                return 1;
            }
        }
    }
    return 0;
}

static size_t constant_rank(const constant *c) { return c->f ? 2 : c->t->n_dims; }

static int64_t constant_dim(const constant *c, size_t i) {
    return c->f ? c->f->dims[i] : c->t->dims[i];
}

/* The element count of a constant from its dims, checked: 0, with the error set, for an empty,
 * a bad or a too large shape (every constant Lathe reads holds values). */
static size_t constant_count(walker *w, const constant *c, const char *what) {
    size_t i, n = 1;
    for (i = 0; i < constant_rank(c); i++) {
        int64_t d = constant_dim(c, i);
        if (d < 0 || (d > 0 && n > (size_t)LATHE_LIMIT_PARAMETERS / (size_t)d)) {
            (void)refuse(w, "%s has a negative or too large dimension", what);
            return 0;
        }
        n *= (size_t)d;
    }
    if (n > LATHE_LIMIT_PARAMETERS) {
        (void)refuse(w, "%s has %zu values; Lathe's limit is %u", what, n, LATHE_LIMIT_PARAMETERS);
        return 0;
    }
    if (n == 0) (void)refuse(w, "%s is empty", what);
    return n;
}

/* Decodes a float constant of count values into out (lathe_malloc'd). */
static lathe_status constant_floats(walker *w, const constant *c, size_t count, const char *what,
                                    float **out) {
    const Onnx__TensorProto *t = c->t;
    size_t i;
    *out = NULL;
    if (c->f) {
        *out = lathe_malloc(count * sizeof **out);
        if (!*out) return lathe_error_set(w->err, LATHE_ERR_NOMEM, "out of memory reading %s", what);
        memcpy(*out, c->f->v, count * sizeof **out);
        return LATHE_OK;
    }
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return refuse(w, "%s is stored in an external file; save the model with its weights "
                         "inside (onnx.save(model, path, save_as_external_data=False))", what);
    if (!t->has_data_type || t->data_type != ONNX_FLOAT)
        return refuse(w, "%s has data type %d; Lathe reads float (1) weights", what,
                      t->has_data_type ? (int)t->data_type : 0);
    if (t->has_raw_data ? t->raw_data.len != 4 * count : t->n_float_data != count)
        return refuse(w, "%s holds %zu values, its dims say %zu", what,
                      t->has_raw_data ? t->raw_data.len / 4 : t->n_float_data, count);
    *out = lathe_malloc((count ? count : 1) * sizeof **out);
    if (!*out) return lathe_error_set(w->err, LATHE_ERR_NOMEM, "out of memory reading %s", what);
    for (i = 0; i < count; i++) {
        float v;
        if (t->has_raw_data) {
            const uint8_t *b = t->raw_data.data + 4 * i;
            uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                            (uint32_t)b[3] << 24;
            memcpy(&v, &bits, 4);
        } else {
            v = t->float_data[i];
        }
        (*out)[i] = v;
    }
    return LATHE_OK;
}

/* Decodes an int64 constant of at most cap values (a shape) into out; *n its count. */
static lathe_status constant_int64s(walker *w, const constant *c, int64_t *out, size_t cap,
                                    size_t *n, const char *what) {
    const Onnx__TensorProto *t = c->t;
    size_t count, i;
    if (!t || !t->has_data_type || t->data_type != ONNX_INT64)
        return refuse(w, "%s must be an int64 constant", what);
    count = t->has_raw_data ? t->raw_data.len / 8 : t->n_int64_data;
    if (count > cap || (t->has_raw_data && t->raw_data.len % 8))
        return refuse(w, "%s must hold at most %zu int64 values", what, cap);
    for (i = 0; i < count; i++) {
        if (t->has_raw_data) {
            uint64_t u = 0;
            size_t b;
            for (b = 0; b < 8; b++) u |= (uint64_t)t->raw_data.data[8 * i + b] << (8 * b);
            out[i] = (int64_t)u;
        } else {
            out[i] = t->int64_data[i];
        }
    }
    *n = count;
    return LATHE_OK;
}

/* The float constant named name with count values (any dims of that size), decoded. */
static lathe_status vector_of(walker *w, const char *name, size_t count, const char *what,
                              float **out) {
    constant c;
    size_t have;
    *out = NULL;
    if (!find_constant(w, name, &c))
        return refuse(w, "its %s ('%s') must be a constant (an initialiser)", what, name ? name : "");
    if ((have = constant_count(w, &c, what)) == 0) return LATHE_ERR_INVALID;
    if (have != count) return refuse(w, "its %s has %zu values, expected %zu", what, have, count);
    return constant_floats(w, &c, count, what, out);
}

/* ---- layers ---- */

static lathe_status add_layer(walker *w, const lathe_layer_spec *spec) {
    lathe_experiment *exp = w->net->exp;
    if (exp->n_layers == LATHE_MAX_LAYERS)
        return refuse(w, "the network has more than %d layers, Lathe's limit", LATHE_MAX_LAYERS);
    if (exp->n_layers == 0) w->net->first_rank = w->rank;
    if (exp->n_layers == 0 && w->rank == 3) {
        w->net->first_image = 1;
        memcpy(w->net->first_dims, w->dims, sizeof w->net->first_dims);
    }
    exp->layers[exp->n_layers++] = *spec;
    w->layers_started = 1;
    return LATHE_OK;
}

static lathe_status add_params(walker *w, floats *to, const float *v, size_t n) {
    size_t i;
    if (to->n + n > LATHE_LIMIT_PARAMETERS)
        return refuse(w, "the network reaches %zu parameters; Lathe's limit is %u", to->n + n,
                      LATHE_LIMIT_PARAMETERS);
    for (i = 0; i < n; i++)
        if (!push_float(to, v[i]))
            return lathe_error_set(w->err, LATHE_ERR_NOMEM, "out of memory reading the weights");
    return LATHE_OK;
}

/* Every value finite (a NaN or an infinite weight is refused). */
static lathe_status check_finite(walker *w, const float *v, size_t n, const char *what) {
    size_t i;
    for (i = 0; i < n; i++)
        if (!(v[i] - v[i] == 0.0f)) return refuse(w, "%s[%zu] is not finite", what, i);
    return LATHE_OK;
}

/* The chain continues into the node's only output. */
static lathe_status advance(walker *w) {
    const Onnx__NodeProto *nd = w->nd;
    size_t i;
    if (nd->n_output < 1 || !nd->output[0][0]) return refuse(w, "it has no output");
    for (i = 1; i < nd->n_output; i++) /* a second output (a mask, indices) must be unused */
        if (nd->output[i][0]) {
            size_t k, j;
            for (k = w->index + 1; k < w->g->n_node; k++)
                for (j = 0; j < w->g->node[k]->n_input; j++)
                    if (strcmp(w->g->node[k]->input[j], nd->output[i]) == 0)
                        return refuse(w, "its output %zu ('%s') is used; Lathe gives only the "
                                         "first", i, nd->output[i]);
            for (k = 0; k < w->g->n_output; k++)
                if (w->g->output[k]->name && strcmp(w->g->output[k]->name, nd->output[i]) == 0)
                    return refuse(w, "its output %zu ('%s') is a graph output; Lathe gives only "
                                     "the first", i, nd->output[i]);
        }
    w->current = nd->output[0];
    return LATHE_OK;
}

static lathe_status need_flat(walker *w, const char *op) {
    if (w->rank != 1)
        return refuse(w, "its input has %zu dimensions per row; %s takes (N, features)", w->rank, op);
    return LATHE_OK;
}

static lathe_status need_image(walker *w, const char *op) {
    if (w->rank != 3)
        return refuse(w, "its input has %zu dimensions per row; %s takes (N, C, H, W)", w->rank, op);
    return LATHE_OK;
}

/* Gemm, or MatMul (bias zero, an Add may follow): a dense layer. */
static lathe_status read_dense(walker *w, int matmul) {
    const Onnx__NodeProto *nd = w->nd;
    size_t in = w->dims[0], units, r, k;
    int trans_b = matmul ? 0 : (int)attr_int(nd, "transB", 0);
    float alpha = matmul ? 1.0f : attr_float(nd, "alpha", 1.0f);
    float beta = matmul ? 1.0f : attr_float(nd, "beta", 1.0f);
    float *b = NULL, *bias = NULL, *weights = NULL;
    constant c;
    lathe_layer_spec spec;
    lathe_status st;
    if ((st = need_flat(w, matmul ? "MatMul" : "Gemm")) != LATHE_OK) return st;
    if (!matmul && attr_int(nd, "transA", 0) != 0)
        return refuse(w, "transA 1 (a transposed input); Lathe's dense layer takes rows");
    if (nd->n_input < 2 || !find_constant(w, nd->input[1], &c) || constant_rank(&c) != 2)
        return refuse(w, "its weights (input 1) must be a 2-D constant");
    units = (size_t)(trans_b ? constant_dim(&c, 0) : constant_dim(&c, 1));
    if ((size_t)(trans_b ? constant_dim(&c, 1) : constant_dim(&c, 0)) != in)
        return refuse(w, "its weights are %lld x %lld for %zu input features",
                      (long long)constant_dim(&c, 0), (long long)constant_dim(&c, 1), in);
    if (constant_count(w, &c, "its weights") == 0) return LATHE_ERR_INVALID; /* units 0 too */
    if ((st = constant_floats(w, &c, in * units, "its weights", &b)) != LATHE_OK) return st;
    weights = lathe_malloc(in * units * sizeof *weights);
    bias = lathe_calloc(units, sizeof *bias);
    if (!weights || !bias) {
        st = lathe_error_set(w->err, LATHE_ERR_NOMEM, "out of memory reading the weights");
        goto done;
    }
    for (r = 0; r < units; r++) /* Lathe's W is (units, in) */
        for (k = 0; k < in; k++)
            weights[r * in + k] = alpha * (trans_b ? b[r * in + k] : b[k * units + r]);
    if (!matmul && nd->n_input > 2 && nd->input[2][0]) {
        size_t n;
        float *cv = NULL;
        if (!find_constant(w, nd->input[2], &c)) {
            st = refuse(w, "its bias (input 2) must be a constant");
            goto done;
        }
        n = constant_count(w, &c, "its bias");
        if ((n != units && n != 1) || (constant_rank(&c) == 2 && constant_dim(&c, 0) != 1)) {
            st = refuse(w, "its bias has %zu values; Lathe's dense layer has one per output (%zu)",
                        n, units);
            goto done;
        }
        if ((st = constant_floats(w, &c, n, "its bias", &cv)) != LATHE_OK) goto done;
        for (r = 0; r < units; r++) bias[r] = beta * cv[n == 1 ? 0 : r];
        lathe_free(cv);
    }
    if ((st = check_finite(w, weights, in * units, "weights")) != LATHE_OK ||
        (st = check_finite(w, bias, units, "bias")) != LATHE_OK)
        goto done;
    memset(&spec, 0, sizeof spec);
    spec.kind = LATHE_LAYER_DENSE, spec.units = units;
    if ((st = add_layer(w, &spec)) != LATHE_OK ||
        (st = add_params(w, &w->net->params, weights, in * units)) != LATHE_OK ||
        (st = add_params(w, &w->net->params, bias, units)) != LATHE_OK)
        goto done;
    w->dims[0] = units;
    st = advance(w);
done:
    lathe_free(b);
    lathe_free(weights);
    lathe_free(bias);
    return st;
}

/* Add of a constant bias right after a MatMul: the dense layer's bias. */
static lathe_status read_add(walker *w, int after_matmul) {
    const Onnx__NodeProto *nd = w->nd;
    const char *other = nd->n_input == 2 ? (strcmp(nd->input[0], w->current) == 0 ? nd->input[1]
                                                                                 : nd->input[0])
                                         : NULL;
    size_t units = w->dims[0], r;
    float *b = NULL, *bias;
    lathe_status st;
    if (!after_matmul)
        return refuse(w, "Lathe reads Add only as the bias right after a MatMul");
    if ((st = vector_of(w, other, units, "bias", &b)) != LATHE_OK) return st;
    if ((st = check_finite(w, b, units, "bias")) != LATHE_OK) {
        lathe_free(b);
        return st;
    }
    bias = w->net->params.v + w->net->params.n - units; /* the MatMul's zero bias */
    for (r = 0; r < units; r++) bias[r] = b[r];
    lathe_free(b);
    return advance(w);
}

/* The pads of Conv or a pool as one number per side (refused when they differ). */
static lathe_status read_pads(walker *w, size_t kernel, size_t stride, size_t *pad) {
    char buf[16], text[96];
    const char *auto_pad = attr_string(w->nd, "auto_pad", buf, sizeof buf, "NOTSET");
    size_t n;
    const int64_t *pads = attr_ints(w->nd, "pads", &n);
    *pad = 0;
    if (strcmp(auto_pad, "VALID") == 0) return LATHE_OK;
    if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
        if (stride != 1 || kernel % 2 == 0)
            return refuse(w, "auto_pad %s at stride %zu with kernel %zu pads one side more; "
                             "Lathe pads every side alike", auto_pad, stride, kernel);
        *pad = (kernel - 1) / 2;
        return LATHE_OK;
    }
    if (strcmp(auto_pad, "NOTSET") != 0) return refuse(w, "auto_pad '%s' is not ONNX's", auto_pad);
    if (!pads) return LATHE_OK;
    if (n != 4 || pads[0] < 0 || !all_equal(pads, n, pads[0])) {
        ints_text(pads, n, text, sizeof text);
        return refuse(w, "pads %s; Lathe pads every side of a 2-D input alike", text);
    }
    *pad = (size_t)pads[0];
    return LATHE_OK;
}

/* kernel_shape / strides / dilations of a 2-D window: square, equal, none. */
static lathe_status read_window(walker *w, size_t kh, size_t kw, size_t *stride, const char *op) {
    size_t n;
    const int64_t *ks = attr_ints(w->nd, "kernel_shape", &n), *s, *d;
    char text[96];
    if (ks && (n != 2 || (size_t)ks[0] != kh || (size_t)ks[1] != kw)) {
        ints_text(ks, n, text, sizeof text);
        return refuse(w, "kernel_shape %s does not match its %zu x %zu window", text, kh, kw);
    }
    if (kh != kw) return refuse(w, "a %zu x %zu window; Lathe's %s is square", kh, kw, op);
    d = attr_ints(w->nd, "dilations", &n);
    if (d && !all_equal(d, n, 1)) {
        ints_text(d, n, text, sizeof text);
        return refuse(w, "dilations %s; Lathe's %s has none", text, op);
    }
    s = attr_ints(w->nd, "strides", &n);
    *stride = 1;
    if (s) {
        if (n != 2 || s[0] < 1 || s[0] != s[1]) {
            ints_text(s, n, text, sizeof text);
            return refuse(w, "strides %s; Lathe's %s has one stride for both axes", text, op);
        }
        *stride = (size_t)s[0];
    }
    return LATHE_OK;
}

/* The output side of a window over n values with padding pad (0 when it does not fit). */
static size_t window_out(size_t n, size_t k, size_t stride, size_t pad) {
    return n + 2 * pad < k ? 0 : (n + 2 * pad - k) / stride + 1;
}

static lathe_status read_conv(walker *w) {
    const Onnx__NodeProto *nd = w->nd;
    size_t C = w->dims[0], H = w->dims[1], W = w->dims[2], M, k, stride, pad, nw, ho, wo;
    float *weights = NULL, *bias = NULL;
    constant c;
    lathe_layer_spec spec;
    lathe_status st;
    if ((st = need_image(w, "Conv")) != LATHE_OK) return st;
    if (attr_int(nd, "group", 1) != 1)
        return refuse(w, "group %lld; Lathe's conv2d has one group", (long long)attr_int(nd, "group", 1));
    if (nd->n_input < 2 || !find_constant(w, nd->input[1], &c) || constant_rank(&c) != 4)
        return refuse(w, "its weights (input 1) must be a 4-D constant [M, C, kH, kW]");
    if ((size_t)constant_dim(&c, 1) != C)
        return refuse(w, "its weights take %lld channels, its input has %zu",
                      (long long)constant_dim(&c, 1), C);
    M = (size_t)constant_dim(&c, 0), k = (size_t)constant_dim(&c, 2);
    if ((st = read_window(w, k, (size_t)constant_dim(&c, 3), &stride, "conv2d")) != LATHE_OK ||
        (st = read_pads(w, k, stride, &pad)) != LATHE_OK)
        return st;
    if ((nw = constant_count(w, &c, "its weights")) == 0) return LATHE_ERR_INVALID; /* M 0 too */
    ho = window_out(H, k, stride, pad), wo = window_out(W, k, stride, pad);
    if (!ho || !wo) return refuse(w, "its %zu x %zu kernel is larger than its input %zu x %zu", k, k, H, W);
    if ((st = constant_floats(w, &c, nw, "its weights", &weights)) != LATHE_OK) return st;
    if (nd->n_input > 2 && nd->input[2][0]) st = vector_of(w, nd->input[2], M, "bias", &bias);
    else if (!(bias = lathe_calloc(M, sizeof *bias)))
        st = lathe_error_set(w->err, LATHE_ERR_NOMEM, "out of memory reading the weights");
    if (st == LATHE_OK) st = check_finite(w, weights, nw, "weights");
    if (st == LATHE_OK) st = check_finite(w, bias, M, "bias");
    memset(&spec, 0, sizeof spec);
    spec.kind = LATHE_LAYER_CONV2D, spec.filters = M, spec.kernel = k, spec.stride = stride;
    spec.pad = pad;
    if (st == LATHE_OK) st = add_layer(w, &spec);
    if (st == LATHE_OK) st = add_params(w, &w->net->params, weights, nw);
    if (st == LATHE_OK) st = add_params(w, &w->net->params, bias, M);
    lathe_free(weights);
    lathe_free(bias);
    if (st != LATHE_OK) return st;
    w->dims[0] = M, w->dims[1] = ho, w->dims[2] = wo;
    return advance(w);
}

static lathe_status read_pool(walker *w, int max, int global) {
    const Onnx__NodeProto *nd = w->nd;
    size_t k, stride = 1, pad = 0, ho, wo, n;
    const int64_t *ks;
    lathe_layer_spec spec;
    lathe_status st;
    const char *op = global ? "global_avg_pool" : max ? "max_pool" : "avg_pool";
    if ((st = need_image(w, global ? "GlobalAveragePool" : max ? "MaxPool" : "AveragePool")) != LATHE_OK)
        return st;
    if (global) {
        if (w->dims[1] != w->dims[2])
            return refuse(w, "its input is %zu x %zu; Lathe's pools are square", w->dims[1], w->dims[2]);
        k = stride = w->dims[1];
    } else {
        ks = attr_ints(nd, "kernel_shape", &n);
        if (!ks || n != 2 || ks[0] < 1 || ks[1] < 1) return refuse(w, "kernel_shape must give a 2-D window");
        k = (size_t)ks[0];
        if ((st = read_window(w, k, (size_t)ks[1], &stride, op)) != LATHE_OK ||
            (st = read_pads(w, k, stride, &pad)) != LATHE_OK)
            return st;
        if (pad) return refuse(w, "pads %zu; Lathe's pools have no padding", pad);
        if (attr_int(nd, "ceil_mode", 0) != 0) return refuse(w, "ceil_mode 1; Lathe's pools floor");
        if (max && attr_int(nd, "storage_order", 0) != 0)
            return refuse(w, "storage_order 1 (column-major indices)");
    }
    ho = window_out(w->dims[1], k, stride, 0), wo = window_out(w->dims[2], k, stride, 0);
    if (!ho || !wo) return refuse(w, "its %zu x %zu window is larger than its input", k, k);
    memset(&spec, 0, sizeof spec);
    spec.kind = max ? LATHE_LAYER_MAX_POOL : LATHE_LAYER_AVG_POOL, spec.size = k, spec.stride = stride;
    if ((st = add_layer(w, &spec)) != LATHE_OK) return st;
    w->dims[1] = ho, w->dims[2] = wo;
    return advance(w);
}

static lathe_status read_batchnorm(walker *w) {
    const Onnx__NodeProto *nd = w->nd;
    size_t c = w->dims[0], i;
    float eps = attr_float(nd, "epsilon", 1e-5f);
    float *v[4] = {NULL, NULL, NULL, NULL};
    static const char *const what[4] = {"scale", "bias", "mean", "variance"};
    lathe_layer_spec spec;
    lathe_status st = LATHE_OK;
    if (w->rank != 1 && w->rank != 3)
        return refuse(w, "its input has %zu dimensions per row; Lathe's batch_norm takes "
                         "(N, features) or (N, C, H, W)", w->rank);
    if (attr_int(nd, "training_mode", 0) != 0)
        return refuse(w, "training_mode 1; Lathe imports batch norm in inference mode");
    if (nd->n_input != 5) return refuse(w, "it has %zu inputs, expected 5", nd->n_input);
    for (i = 0; i < 4 && st == LATHE_OK; i++) {
        st = vector_of(w, nd->input[i + 1], c, what[i], &v[i]);
        if (st == LATHE_OK) st = check_finite(w, v[i], c, what[i]);
    }
    if (!(eps > 0.0f) || !(eps < 1.0f)) st = refuse(w, "epsilon %g is not in (0, 1)", (double)eps);
    for (i = 0; st == LATHE_OK && i < c; i++) {
        if (eps != LATHE_BATCHNORM_EPS) v[3][i] = v[3][i] + (eps - LATHE_BATCHNORM_EPS);
        if (!(v[3][i] >= 0.0f)) st = refuse(w, "variance[%zu] is negative", i);
    }
    if (st == LATHE_OK && eps != LATHE_BATCHNORM_EPS) w->net->eps_folded++;
    memset(&spec, 0, sizeof spec);
    spec.kind = LATHE_LAYER_BATCH_NORM;
    if (st == LATHE_OK) st = add_layer(w, &spec);
    if (st == LATHE_OK) st = add_params(w, &w->net->params, v[0], c);
    if (st == LATHE_OK) st = add_params(w, &w->net->params, v[1], c);
    if (st == LATHE_OK) st = add_params(w, &w->net->stats, v[2], c);
    if (st == LATHE_OK) st = add_params(w, &w->net->stats, v[3], c);
    for (i = 0; i < 4; i++) lathe_free(v[i]);
    return st == LATHE_OK ? advance(w) : st;
}

static lathe_status read_activation(walker *w, lathe_activation a) {
    lathe_layer_spec spec;
    lathe_status st;
    memset(&spec, 0, sizeof spec);
    spec.kind = LATHE_LAYER_ACTIVATION, spec.activation = a;
    if ((st = add_layer(w, &spec)) != LATHE_OK) return st;
    return advance(w);
}

static lathe_status read_dropout(walker *w) {
    const Onnx__NodeProto *nd = w->nd;
    float rate = attr_float(nd, "ratio", 0.5f);
    lathe_layer_spec spec;
    lathe_status st;
    if (nd->n_input > 1 && nd->input[1][0]) {
        float *r = NULL;
        if ((st = vector_of(w, nd->input[1], 1, "ratio", &r)) != LATHE_OK) return st;
        rate = r[0];
        lathe_free(r);
    }
    if (nd->n_input > 2 && nd->input[2][0]) {
        constant c;
        if (!find_constant(w, nd->input[2], &c) || !c.t || c.t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ||
            (c.t->has_raw_data ? c.t->raw_data.len != 1 || c.t->raw_data.data[0] != 0
                               : c.t->n_int32_data != 1 || c.t->int32_data[0] != 0))
            return refuse(w, "its training_mode must be a constant false; Lathe imports inference");
    }
    if (!(rate >= 0.0f && rate <= 0.99f)) return refuse(w, "ratio %g is not in [0, 0.99]", (double)rate);
    memset(&spec, 0, sizeof spec);
    spec.kind = LATHE_LAYER_DROPOUT, spec.rate = rate;
    if ((st = add_layer(w, &spec)) != LATHE_OK) return st;
    return advance(w);
}

/* Flatten (axis 1), or a Reshape to (N, values): an image's flatten layer, else a new view. */
static lathe_status flatten_to(walker *w) {
    size_t n = values_per_row(w);
    lathe_status st;
    if (w->rank == 3) {
        lathe_layer_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.kind = LATHE_LAYER_FLATTEN;
        if ((st = add_layer(w, &spec)) != LATHE_OK) return st;
    }
    w->rank = 1, w->dims[0] = n;
    return advance(w);
}

static lathe_status read_flatten(walker *w) {
    int64_t axis = attr_int(w->nd, "axis", 1);
    if (axis < 0) axis += (int64_t)w->rank + 1;
    if (axis != 1) return refuse(w, "axis %lld; Lathe flattens each row (axis 1)", (long long)attr_int(w->nd, "axis", 1));
    return flatten_to(w);
}

static lathe_status read_reshape(walker *w) {
    const Onnx__NodeProto *nd = w->nd;
    int64_t shape[MAX_RANK + 1];
    size_t n = 0, i, known = 1, total = values_per_row(w);
    int infer = -1;
    constant c;
    lathe_status st;
    char text[128];
    if (nd->n_input < 2 || !find_constant(w, nd->input[1], &c))
        return refuse(w, "its shape (input 1) must be a constant");
    if ((st = constant_int64s(w, &c, shape, MAX_RANK + 1, &n, "its shape")) != LATHE_OK) return st;
    if (attr_int(nd, "allowzero", 0) != 0) return refuse(w, "allowzero 1");
    ints_text(shape, n, text, sizeof text);
    if (n < 2 || !(shape[0] == 0 || shape[0] == -1 || shape[0] > 0))
        return refuse(w, "shape %s; Lathe keeps the batch dimension first", text);
    for (i = 1; i < n; i++) {
        if (shape[i] == -1 && infer < 0) infer = (int)i;
        else if (shape[i] == 0 && i - 1 < w->rank) shape[i] = (int64_t)w->dims[i - 1];
        if (shape[i] < 1 && (int)i != infer) return refuse(w, "shape %s is not one Lathe reads", text);
        if ((int)i != infer) {
            if ((size_t)shape[i] > total) return refuse(w, "shape %s does not hold its %zu values", text, total);
            known *= (size_t)shape[i];
        }
    }
    if (infer > 0) {
        if (known == 0 || total % known) return refuse(w, "shape %s does not hold its %zu values", text, total);
        shape[infer] = (int64_t)(total / known);
    }
    if (infer <= 0 && known != total) return refuse(w, "shape %s does not hold its %zu values", text, total);
    if (n == 2) return flatten_to(w);
    if (n == 4 && w->rank == 1 && !w->layers_started) { /* the features as an image */
        w->rank = 3;
        for (i = 0; i < 3; i++) w->dims[i] = (size_t)shape[i + 1];
        return advance(w);
    }
    return refuse(w, "shape %s; Lathe reshapes only to (N, values), or the input features to "
                     "(N, C, H, W) before the first layer", text);
}

/* Softmax: the end of the chain, over each row. */
static lathe_status read_softmax(walker *w) {
    int64_t dflt = w->opset >= 13 ? -1 : 1, axis = attr_int(w->nd, "axis", dflt);
    lathe_status st;
    if ((st = need_flat(w, "Lathe's softmax")) != LATHE_OK) return st;
    if (axis != 1 && axis != -1) return refuse(w, "axis %lld; Lathe's softmax is over each row", (long long)axis);
    w->net->head = HEAD_SOFTMAX;
    w->ended = 1;
    return advance(w);
}

/* Lathe's preparation before the first layer: IsNaN then Where (the fill). */
static lathe_status read_fill(walker *w) {
    const Onnx__NodeProto *where;
    size_t F = w->dims[0];
    lathe_status st;
    if (w->layers_started || w->net->fill || w->net->n_scaling || w->rank != 1)
        return refuse(w, "Lathe reads IsNaN only as the fill of missing input features, first");
    if (w->index + 1 >= w->g->n_node) return refuse(w, "IsNaN must be followed by Where");
    where = w->g->node[w->index + 1];
    if (!where->op_type || strcmp(where->op_type, "Where") != 0 || where->n_input != 3 ||
        strcmp(where->input[0], w->nd->output[0]) != 0 || strcmp(where->input[2], w->current) != 0 ||
        where->n_output != 1)
        return refuse(w, "IsNaN must be followed by Where(mask, fill, input)");
    if ((st = vector_of(w, where->input[1], F, "fill", &w->net->fill)) != LATHE_OK) return st;
    w->index++, w->nd = where;
    return advance(w);
}

/* Sub and/or Mul by constants before the first layer: a scaling step (x − shift)·scale. */
static lathe_status read_scaling(walker *w, int sub) {
    lathe_onnx_network *net = w->net;
    const Onnx__NodeProto *nd = w->nd, *mul = NULL;
    size_t F = w->dims[0], i, n;
    float *shift = NULL, *scale = NULL, *v = NULL;
    constant c;
    lathe_status st;
    if (w->layers_started || w->rank != 1 || nd->n_input != 2 || strcmp(nd->input[0], w->current) != 0)
        return refuse(w, "Lathe reads %s only as a scaling of the input features before the first "
                         "layer, x %s constant", sub ? "Sub" : "Mul", sub ? "-" : "*");
    if (net->n_scaling == MAX_SCALING_STEPS) return refuse(w, "more than %d scaling steps", MAX_SCALING_STEPS);
    if (sub && w->index + 1 < w->g->n_node) {
        const Onnx__NodeProto *next = w->g->node[w->index + 1];
        if (next->op_type && strcmp(next->op_type, "Mul") == 0 && next->n_input == 2 &&
            strcmp(next->input[0], nd->output[0]) == 0)
            mul = next;
    }
    shift = lathe_calloc(F, sizeof *shift), scale = lathe_malloc(F * sizeof *scale);
    if (!shift || !scale) {
        st = lathe_error_set(w->err, LATHE_ERR_NOMEM, "out of memory reading the scaling");
        goto fail;
    }
    for (i = 0; i < F; i++) scale[i] = 1.0f;
    for (i = 0; i < (size_t)(sub && mul ? 2 : 1); i++) {
        const Onnx__NodeProto *op = i == 0 ? nd : mul;
        float *to = i == 0 && sub ? shift : scale;
        size_t k;
        if (!find_constant(w, op->input[1], &c)) {
            st = refuse(w, "its input 1 must be a constant");
            goto fail;
        }
        n = constant_count(w, &c, "its constant");
        if (n != F && n != 1) {
            st = refuse(w, "its constant has %zu values for %zu features", n, F);
            goto fail;
        }
        if ((st = constant_floats(w, &c, n, "its constant", &v)) != LATHE_OK) goto fail;
        for (k = 0; k < F; k++) to[k] = v[n == 1 ? 0 : k];
        lathe_free(v);
        v = NULL;
        if ((st = check_finite(w, to, F, "its constant")) != LATHE_OK) goto fail;
    }
    net->shift[net->n_scaling] = shift, net->scale[net->n_scaling] = scale;
    net->n_scaling++;
    if (mul) w->index++, w->nd = mul;
    return advance(w);
fail:
    lathe_free(shift);
    lathe_free(scale);
    lathe_free(v);
    return st;
}

/* Lathe's binary head after a final Sigmoid: Sub(1, p) then Concat(1 − p, p) on axis 1. */
static lathe_status read_binary_head(walker *w) {
    const Onnx__NodeProto *nd = w->nd, *cat;
    lathe_experiment *exp = w->net->exp;
    float *one = NULL;
    lathe_status st;
    const lathe_layer_spec *last = exp->n_layers ? &exp->layers[exp->n_layers - 1] : NULL;
    if (!last || last->kind != LATHE_LAYER_ACTIVATION || last->activation != LATHE_ACT_SIGMOID ||
        w->rank != 1 || w->dims[0] != 1 || nd->n_input != 2 || strcmp(nd->input[1], w->current) != 0 ||
        w->index + 1 >= w->g->n_node)
        return refuse(w, "Lathe reads Sub after its first layer only as a binary head 1 - sigmoid");
    if ((st = vector_of(w, nd->input[0], 1, "constant", &one)) != LATHE_OK) return st;
    st = one[0] == 1.0f ? LATHE_OK : refuse(w, "a binary head computes 1 - p, not %g - p", (double)one[0]);
    lathe_free(one);
    if (st != LATHE_OK) return st;
    cat = w->g->node[w->index + 1];
    if (!cat->op_type || strcmp(cat->op_type, "Concat") != 0 || cat->n_input != 2 ||
        strcmp(cat->input[0], nd->output[0]) != 0 || strcmp(cat->input[1], w->current) != 0 ||
        attr_int(cat, "axis", 0) != 1 || cat->n_output != 1)
        return refuse(w, "a binary head must end with Concat(1 - p, p) on axis 1");
    exp->n_layers--; /* the sigmoid is part of the head */
    w->net->head = HEAD_BINARY;
    w->ended = 1;
    w->index++, w->nd = cat;
    if ((st = advance(w)) != LATHE_OK) return st;
    w->dims[0] = 2;
    return LATHE_OK;
}

/* Transpose of a 2-D constant (perm [1, 0]): folded into a new constant. */
static lathe_status fold_transpose(walker *w) {
    const Onnx__NodeProto *nd = w->nd;
    constant c;
    size_t n, perm_n, r, k, rows, cols;
    const int64_t *perm = attr_ints(nd, "perm", &perm_n);
    struct folded *f;
    float *v = NULL;
    lathe_status st;
    if (nd->n_input != 1 || !find_constant(w, nd->input[0], &c) || constant_rank(&c) != 2 ||
        (perm && (perm_n != 2 || perm[0] != 1 || perm[1] != 0)) || nd->n_output != 1)
        return refuse(w, "Lathe folds Transpose only of a 2-D constant");
    if (w->n_folded == sizeof w->folded / sizeof w->folded[0]) return refuse(w, "too many transposed constants");
    rows = (size_t)constant_dim(&c, 0), cols = (size_t)constant_dim(&c, 1);
    if ((n = constant_count(w, &c, "its input")) == 0) return LATHE_ERR_INVALID;
    if ((st = constant_floats(w, &c, n, "its input", &v)) != LATHE_OK) return st;
    f = &w->folded[w->n_folded];
    f->v = lathe_malloc(n * sizeof *f->v);
    f->name = lathe_strdup(nd->output[0]);
    if (!f->v || !f->name) {
        lathe_free(f->v), lathe_free(f->name), lathe_free(v);
        return lathe_error_set(w->err, LATHE_ERR_NOMEM, "out of memory folding a Transpose");
    }
    for (r = 0; r < rows; r++)
        for (k = 0; k < cols; k++) f->v[k * rows + r] = v[r * cols + k];
    f->dims[0] = (int64_t)cols, f->dims[1] = (int64_t)rows;
    w->n_folded++;
    lathe_free(v);
    return LATHE_OK;
}

static int consumes(const Onnx__NodeProto *nd, const char *value) {
    size_t i;
    for (i = 0; i < nd->n_input; i++)
        if (strcmp(nd->input[i], value) == 0) return 1;
    return 0;
}

/* One node of the chain. */
static lathe_status read_node(walker *w, int *after_matmul) {
    const Onnx__NodeProto *nd = w->nd;
    const char *op = nd->op_type ? nd->op_type : "";
    int was_matmul = *after_matmul;
    *after_matmul = 0;
    if (nd->n_output < 1) return refuse(w, "it has no output");
    if (nd->domain && nd->domain[0] && strcmp(nd->domain, "ai.onnx") != 0)
        return refuse(w, "domain '%s'; Lathe reads ONNX's own operators", nd->domain);
    if (strcmp(op, "QuantizeLinear") == 0 || strcmp(op, "DequantizeLinear") == 0 ||
        strcmp(op, "DynamicQuantizeLinear") == 0 || strncmp(op, "QLinear", 7) == 0 ||
        strcmp(op, "MatMulInteger") == 0 || strcmp(op, "ConvInteger") == 0)
        return refuse(w, "int8 ONNX graphs (QuantizeLinear/DequantizeLinear or integer "
                         "operators) are not imported; import the float model's ONNX file");
    if (strcmp(op, "Constant") == 0) {
        if (w->n_constants == sizeof w->constants / sizeof w->constants[0])
            return refuse(w, "more than %zu Constant nodes", sizeof w->constants / sizeof w->constants[0]);
        if (!attr(nd, "value") || !attr(nd, "value")->t || nd->n_output != 1)
            return refuse(w, "Lathe reads a Constant's 'value' tensor only");
        w->constants[w->n_constants++] = nd;
        return LATHE_OK;
    }
    if (strcmp(op, "Transpose") == 0 && !consumes(nd, w->current)) return fold_transpose(w);
    if (w->ended) return refuse(w, "nothing may follow the graph's Softmax or binary head");
    if (!consumes(nd, w->current) || nd->n_input == 0 ||
        (strcmp(op, "Where") != 0 && strcmp(op, "Sub") != 0 && strcmp(nd->input[0], w->current) != 0))
        return refuse(w, "it does not continue the chain from '%s'; Lathe imports a sequential "
                         "network (one input, each node taking the previous node's output)",
                      w->current);
    if (strcmp(op, "Transpose") == 0)
        return refuse(w, "a transpose of the rows; Lathe folds Transpose only of a constant (weights)");
    if (strcmp(op, "Gemm") == 0) return read_dense(w, 0);
    if (strcmp(op, "MatMul") == 0) {
        *after_matmul = 1;
        return read_dense(w, 1);
    }
    if (strcmp(op, "Add") == 0) return read_add(w, was_matmul);
    if (strcmp(op, "Conv") == 0) return read_conv(w);
    if (strcmp(op, "MaxPool") == 0) return read_pool(w, 1, 0);
    if (strcmp(op, "AveragePool") == 0) return read_pool(w, 0, 0);
    if (strcmp(op, "GlobalAveragePool") == 0) return read_pool(w, 0, 1);
    if (strcmp(op, "BatchNormalization") == 0) return read_batchnorm(w);
    if (strcmp(op, "Relu") == 0) return read_activation(w, LATHE_ACT_RELU);
    if (strcmp(op, "Sigmoid") == 0) return read_activation(w, LATHE_ACT_SIGMOID);
    if (strcmp(op, "Tanh") == 0) return read_activation(w, LATHE_ACT_TANH);
    if (strcmp(op, "LeakyRelu") == 0) {
        float alpha = attr_float(nd, "alpha", 0.01f);
        if (alpha != LATHE_LEAKY_RELU_SLOPE)
            return refuse(w, "alpha %g; Lathe's leaky_relu has slope 0.01", (double)alpha);
        return read_activation(w, LATHE_ACT_LEAKY_RELU);
    }
    if (strcmp(op, "Dropout") == 0) return read_dropout(w);
    if (strcmp(op, "Identity") == 0) return advance(w);
    if (strcmp(op, "Flatten") == 0) return read_flatten(w);
    if (strcmp(op, "Reshape") == 0) return read_reshape(w);
    if (strcmp(op, "Softmax") == 0) return read_softmax(w);
    if (strcmp(op, "IsNaN") == 0) return read_fill(w);
    if (strcmp(op, "Sub") == 0) return w->layers_started ? read_binary_head(w) : read_scaling(w, 1);
    if (strcmp(op, "Mul") == 0) return read_scaling(w, 0);
    return refuse(w, "Lathe has no such layer; it imports Gemm, MatMul (+ Add), Conv, MaxPool, "
                     "AveragePool, GlobalAveragePool, BatchNormalization, Relu, LeakyRelu, "
                     "Sigmoid, Tanh, Flatten, Reshape, Dropout, Identity and a final Softmax");
}

/* The graph's one data input (not an initialiser): its per-row shape into w. */
static lathe_status read_input(walker *w) {
    const Onnx__GraphProto *g = w->g;
    const Onnx__ValueInfoProto *in = NULL;
    const Onnx__TypeProto__Tensor *tt;
    size_t i, n = 0;
    constant c;
    for (i = 0; i < g->n_input; i++) {
        if (!g->input[i]->name || !g->input[i]->name[0])
            return lathe_error_set(w->err, LATHE_ERR_INVALID, "graph input %zu has no name", i);
    }
    for (i = 0; i < g->n_input; i++)
        if (!find_constant(w, g->input[i]->name, &c)) {
            if (in)
                return lathe_error_set(w->err, LATHE_ERR_INVALID,
                                       "graph input '%s': Lathe's network has one input (the "
                                       "first is '%s'); other inputs must be initialisers",
                                       g->input[i]->name, in->name);
            in = g->input[i];
        }
    if (!in) return lathe_error_set(w->err, LATHE_ERR_INVALID, "the graph has no data input");
    if (!in->type || in->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !(tt = in->type->tensor_type) || !tt->shape)
        return lathe_error_set(w->err, LATHE_ERR_INVALID,
                               "graph input '%s': must be a float tensor of known rank", in->name);
    if (tt->has_elem_type && tt->elem_type != ONNX_FLOAT)
        return lathe_error_set(w->err, LATHE_ERR_INVALID,
                               "graph input '%s': element type %d; Lathe takes float (1)",
                               in->name, (int)tt->elem_type);
    if (tt->shape->n_dim < 2 || tt->shape->n_dim > MAX_RANK + 1)
        return lathe_error_set(w->err, LATHE_ERR_INVALID,
                               "graph input '%s': rank %zu; Lathe takes a batch of rows (N, ...) "
                               "of rank 2 to %d", in->name, tt->shape->n_dim, MAX_RANK + 1);
    w->rank = tt->shape->n_dim - 1;
    for (i = 0; i < w->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i + 1];
        if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || d->dim_value < 1 ||
            d->dim_value > (int64_t)LATHE_LIMIT_LAYER_WIDTH)
            return lathe_error_set(w->err, LATHE_ERR_INVALID,
                                   "graph input '%s': dimension %zu must be a fixed size (1 to %u)",
                                   in->name, i + 1, LATHE_LIMIT_LAYER_WIDTH);
        w->dims[i] = (size_t)d->dim_value;
    }
    for (i = 0, n = 1; i < w->rank; i++) {
        n *= w->dims[i];
        if (n > LATHE_LIMIT_LAYER_WIDTH)
            return lathe_error_set(w->err, LATHE_ERR_INVALID,
                                   "graph input '%s': more than %u values per row, Lathe's limit",
                                   in->name, LATHE_LIMIT_LAYER_WIDTH);
    }
    w->current = in->name;
    return LATHE_OK;
}

static char *copy_text(const char *s) { return s ? lathe_strdup(s) : NULL; }

/* The metadata Lathe's exporter writes, copied. */
static int read_metadata(lathe_onnx_network *net, const Onnx__ModelProto *m) {
    size_t i;
    for (i = 0; i < m->n_metadata_props; i++) {
        const char *k = m->metadata_props[i]->key, *v = m->metadata_props[i]->value;
        char **to = NULL;
        if (!k || !v) continue;
        if (strcmp(k, "lathe.task") == 0) to = &net->meta_task;
        else if (strcmp(k, "lathe.target") == 0) to = &net->meta_target;
        else if (strcmp(k, "lathe.classes") == 0) to = &net->meta_classes;
        else if (strcmp(k, "lathe.inputs") == 0) to = &net->meta_inputs;
        else if (strcmp(k, "lathe.features") == 0) to = &net->meta_features;
        else if (strcmp(k, "lathe.experiment") == 0) to = &net->meta_experiment;
        if (to && !*to && !(*to = copy_text(v))) return 0;
    }
    snprintf(net->producer, sizeof net->producer, "%.40s%s%.40s",
             m->producer_name && m->producer_name[0] ? m->producer_name : "an unnamed producer",
             m->producer_version && m->producer_version[0] ? " " : "",
             m->producer_version ? m->producer_version : "");
    return 1;
}

/* The walk over the whole graph. */
static lathe_status walk(walker *w, const Onnx__ModelProto *m) {
    const Onnx__GraphProto *g = w->g;
    size_t i;
    int after_matmul = 0;
    lathe_status st;
    for (i = 0; i < m->n_opset_import; i++)
        if (!m->opset_import[i]->domain || !m->opset_import[i]->domain[0])
            w->opset = m->opset_import[i]->version;
    if ((st = read_input(w)) != LATHE_OK) return st;
    w->net->n_in = values_per_row(w);
    for (w->index = 0; w->index < g->n_node; w->index++) {
        char name[80];
        w->nd = g->node[w->index];
        snprintf(w->where, sizeof w->where, "node %s (%.30s)", node_name(w->nd, w->index, name),
                 w->nd->op_type ? w->nd->op_type : "?");
        if ((st = read_node(w, &after_matmul)) != LATHE_OK) return st;
    }
    if (g->n_output != 1 || !g->output[0]->name || strcmp(g->output[0]->name, w->current) != 0)
        return lathe_error_set(w->err, LATHE_ERR_INVALID,
                               "the graph's output must be the chain's last value ('%s'); it has "
                               "%zu outputs%s%s", w->current, g->n_output,
                               g->n_output ? ", the first " : "",
                               g->n_output && g->output[0]->name ? g->output[0]->name : "");
    if (w->rank != 1 && w->net->exp->n_layers && w->net->head != HEAD_NONE)
        return lathe_error_set(w->err, LATHE_ERR_INVALID, "the graph's output must be (N, values)");
    w->net->n_out = values_per_row(w);
    return LATHE_OK;
}

void lathe_onnx_network_destroy(lathe_onnx_network *net) {
    size_t i;
    if (!net) return;
    lathe_trainer_destroy(net->trainer);
    lathe_prepared_destroy(net->prep);
    lathe_free(net->exp);
    lathe_free(net->params.v);
    lathe_free(net->stats.v);
    lathe_free(net->fill);
    for (i = 0; i < net->n_scaling; i++) lathe_free(net->shift[i]), lathe_free(net->scale[i]);
    lathe_free(net->work);
    lathe_free(net->y);
    lathe_free(net->meta_task), lathe_free(net->meta_target), lathe_free(net->meta_classes);
    lathe_free(net->meta_inputs), lathe_free(net->meta_features), lathe_free(net->meta_experiment);
    lathe_free(net);
}

/* The trainer that runs the chain: raw outputs, on the network's input shape. */
static lathe_status build_runner(lathe_onnx_network *net, lathe_error *err) {
    lathe_prepared *p = net->prep;
    size_t n_params, n_stats;
    lathe_status st;
    p->task = LATHE_TASK_REGRESSION;
    p->n_features = net->n_in;
    if (net->first_image) memcpy(p->image, net->first_dims, sizeof p->image);
    net->exp->raw_outputs = 1;
    net->exp->batch_size = 64;
    net->batch = 64;
    if (net->exp->n_layers == 0) { /* a graph of preparation and a head only */
        net->n_net_out = net->n_in;
    } else {
        if ((st = lathe_trainer_create(net->exp, p, &net->trainer, err)) != LATHE_OK) return st;
        (void)lathe_trainer_params(net->trainer, &n_params);
        (void)lathe_trainer_stats(net->trainer, &n_stats);
        if (n_params != net->params.n || n_stats != net->stats.n)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "the weights read (%zu) do not fill the network (%zu)",
                                   net->params.n, n_params);
        if (n_params) lathe_trainer_set_weights(net->trainer, net->params.v, net->stats.v);
        net->n_net_out = lathe_trainer_n_outputs(net->trainer);
    }
    net->work = lathe_malloc(net->batch * net->n_in * sizeof *net->work);
    net->y = lathe_malloc(net->batch * net->n_net_out * sizeof *net->y);
    if (!net->work || !net->y) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory building the network");
    return LATHE_OK;
}

lathe_status lathe_onnx_network_read(const uint8_t *bytes, size_t n, lathe_onnx_network **out,
                                     lathe_error *err) {
    Onnx__ModelProto *m;
    lathe_onnx_network *net;
    walker *w;
    size_t i;
    unsigned long failures = lathe_alloc_failures();
    lathe_status st;
    *out = NULL;
    m = onnx__model_proto__unpack(&pb_allocator, n, bytes);
    if (!m) {
        if (lathe_alloc_failures() != failures)
            return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the ONNX file");
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "not an ONNX model: its %zu bytes are not a valid ModelProto "
                               "(protobuf)", n);
    }
    if (!m->graph) {
        onnx__model_proto__free_unpacked(m, &pb_allocator);
        return lathe_error_set(err, LATHE_ERR_INVALID, "the ONNX model has no graph");
    }
    net = lathe_calloc(1, sizeof *net);
    w = lathe_calloc(1, sizeof *w);
    if (net) net->exp = lathe_calloc(1, sizeof *net->exp), net->prep = lathe_calloc(1, sizeof *net->prep);
    if (!net || !w || !net->exp || !net->prep || !read_metadata(net, m)) {
        st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the ONNX file");
        goto done;
    }
    w->g = m->graph, w->net = net, w->err = err, w->opset = 1;
    st = walk(w, m);
    if (st == LATHE_OK) st = build_runner(net, err);
done:
    for (i = 0; w && i < w->n_folded; i++) lathe_free(w->folded[i].name), lathe_free(w->folded[i].v);
    lathe_free(w);
    onnx__model_proto__free_unpacked(m, &pb_allocator);
    if (st != LATHE_OK) {
        lathe_onnx_network_destroy(net);
        return st;
    }
    *out = net;
    return LATHE_OK;
}

size_t lathe_onnx_network_inputs(const lathe_onnx_network *net) { return net->n_in; }
size_t lathe_onnx_network_outputs(const lathe_onnx_network *net) { return net->n_out; }

/* The recognised preparation on rows x:(rows, n_in) in place: the fill, then each scaling. */
static void prepare_rows(const lathe_onnx_network *net, size_t rows, float *x) {
    size_t F = net->n_in, r, f, s;
    for (r = 0; r < rows; r++) {
        float *row = x + r * F;
        if (net->fill)
            for (f = 0; f < F; f++)
                if (row[f] != row[f]) row[f] = net->fill[f];
        for (s = 0; s < net->n_scaling; s++)
            for (f = 0; f < F; f++) row[f] = (row[f] - net->shift[s][f]) * net->scale[s][f];
    }
}

void lathe_onnx_network_run(lathe_onnx_network *net, size_t rows, const float *x, float *out) {
    size_t start, F = net->n_in, C = net->n_net_out, i;
    for (start = 0; start < rows; start += net->batch) {
        size_t n = rows - start < net->batch ? rows - start : net->batch;
        float *o = out + start * net->n_out;
        memcpy(net->work, x + start * F, n * F * sizeof *net->work);
        prepare_rows(net, n, net->work);
        if (net->trainer) lathe_trainer_predict(net->trainer, n, net->work, net->y);
        else memcpy(net->y, net->work, n * C * sizeof *net->y);
        if (net->head == HEAD_SOFTMAX) {
            lathe_softmax_forward(lathe_kernels(), n, C, net->y, o);
        } else if (net->head == HEAD_BINARY) {
            for (i = 0; i < n; i++) {
                float p = lathe_sigmoidf(net->y[i]);
                o[2 * i] = 1.0f - p, o[2 * i + 1] = p;
            }
        } else {
            memcpy(o, net->y, n * C * sizeof *o);
        }
    }
}

/* ---- the model file ---- */

/* Splits list ("a,b,c") into n names (lathe_strdup'd into names); 0 when the count differs. */
static int split_names(const char *list, char **names, size_t n) {
    size_t k = 0;
    const char *p = list;
    while (k < n) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) return 0;
        names[k] = lathe_malloc(len + 1);
        if (!names[k]) return 0;
        memcpy(names[k], p, len);
        names[k][len] = '\0';
        k++;
        if (!end) break;
        p = end + 1;
    }
    return k == n && !strchr(p, ',');
}

static size_t count_names(const char *list) {
    size_t n = 1;
    for (; *list; list++) n += *list == ',';
    return n;
}

/* A JSON array of n strings from metadata text into names; 0 when it is not one. */
static int json_names(const char *text, char **names, size_t n) {
    cJSON *arr = text ? cJSON_Parse(text) : NULL, *v;
    size_t k = 0;
    int ok = cJSON_IsArray(arr) && (size_t)cJSON_GetArraySize(arr) == n;
    cJSON *list = ok ? arr : NULL;
    cJSON_ArrayForEach(v, list) {
        if (!cJSON_IsString(v) || !v->valuestring[0] || !(names[k] = lathe_strdup(v->valuestring))) {
            ok = 0;
            break;
        }
        k++;
    }
    cJSON_Delete(arr);
    return ok;
}

static void free_names(char **names, size_t n) {
    size_t k;
    for (k = 0; names && k < n; k++) lathe_free(names[k]), names[k] = NULL;
}

/* The inputs from the exporter's lathe.inputs (with lathe.features already in p). */
static int metadata_inputs(const char *text, lathe_prepared *p) {
    cJSON *arr = text ? cJSON_Parse(text) : NULL, *v;
    size_t k = 0, total = 0, n = arr && cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
    int ok = n > 0 && n <= p->n_features;
    p->inputs = ok ? lathe_calloc(n, sizeof *p->inputs) : NULL;
    cJSON *list;
    ok = ok && p->inputs;
    list = ok ? arr : NULL;
    cJSON_ArrayForEach(v, list) {
        const cJSON *column = cJSON_GetObjectItemCaseSensitive(v, "column");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(v, "type");
        const cJSON *span = cJSON_GetObjectItemCaseSensitive(v, "features");
        lathe_prepared_input *in = &p->inputs[k];
        if (!cJSON_IsString(column) || !cJSON_IsString(type) || !cJSON_IsArray(span) ||
            cJSON_GetArraySize(span) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(span, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(span, 1)) ||
            cJSON_GetArrayItem(span, 0)->valuedouble != (double)total ||
            !(cJSON_GetArrayItem(span, 1)->valuedouble >= 1.0) ||
            cJSON_GetArrayItem(span, 1)->valuedouble > (double)(p->n_features - total)) {
            ok = 0;
            break;
        }
        in->type = strcmp(type->valuestring, "categorical") == 0 ? LATHE_COLUMN_CATEGORICAL
                   : strcmp(type->valuestring, "boolean") == 0   ? LATHE_COLUMN_BOOLEAN
                                                                 : LATHE_COLUMN_NUMERIC;
        in->first = total, in->width = (size_t)cJSON_GetArrayItem(span, 1)->valuedouble;
        if (!(in->name = lathe_strdup(column->valuestring))) {
            ok = 0;
            break;
        }
        total += in->width;
        p->n_inputs = ++k;
    }
    cJSON_Delete(arr);
    return ok && total == p->n_features;
}

/* item appended to arr (deleted when arr is NULL, so that nothing leaks); item, or NULL. */
static cJSON *append(cJSON *arr, cJSON *item) {
    if (arr && item && cJSON_AddItemToArray(arr, item)) return item;
    cJSON_Delete(item);
    return NULL;
}

/* The experiment a model file needs, for a graph that does not carry Lathe's: the layers, and
 * a data section to edit before fine-tuning. *out is printed JSON (cJSON_free). */
static char *synthesised_experiment(const lathe_onnx_network *net, const lathe_prepared *p,
                                    const char *name, int binary) {
    cJSON *root = cJSON_CreateObject(), *data, *prep, *step, *model, *layers, *train;
    size_t l, s;
    char *text;
    int classify = p->task == LATHE_TASK_CLASSIFICATION;
    cJSON_AddStringToObject(root, "format", "lathe-experiment");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "name", name ? name : "Imported from ONNX");
    cJSON_AddNumberToObject(root, "seed", 0);
    data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(data, "file", "data.csv");
    cJSON_AddStringToObject(data, "target", p->target);
    cJSON_AddStringToObject(data, "task", classify ? "classification" : "regression");
    if (p->image[0]) {
        cJSON *img = cJSON_AddArrayToObject(data, "image");
        for (s = 0; s < 3; s++) append(img, cJSON_CreateNumber((double)p->image[s]));
    }
    prep = cJSON_AddArrayToObject(root, "prepare");
    step = append(prep, cJSON_CreateObject());
    cJSON_AddStringToObject(step, "op", "split");
    cJSON_AddNumberToObject(step, "test", 0.2);
    cJSON_AddNumberToObject(step, "validation", 0.1);
    if (classify) cJSON_AddBoolToObject(step, "stratify", 1);
    for (s = 0; s < p->n_steps; s++) {
        step = append(prep, cJSON_CreateObject());
        cJSON_AddStringToObject(step, "op", p->steps[s].kind == LATHE_PREP_IMPUTE ? "impute" : "standardize");
    }
    model = cJSON_AddObjectToObject(root, "model");
    layers = cJSON_AddArrayToObject(model, "layers");
    for (l = 0; l < net->exp->n_layers; l++) {
        const lathe_layer_spec *sp = &net->exp->layers[l];
        cJSON *ly = append(layers, cJSON_CreateObject());
        cJSON_AddStringToObject(ly, "type", lathe_layer_type_name(sp->kind, sp->activation));
        switch (sp->kind) {
        case LATHE_LAYER_DENSE:
            cJSON_AddNumberToObject(ly, "units", (double)sp->units);
            break;
        case LATHE_LAYER_CONV2D:
            cJSON_AddNumberToObject(ly, "filters", (double)sp->filters);
            cJSON_AddNumberToObject(ly, "kernel", (double)sp->kernel);
            cJSON_AddNumberToObject(ly, "stride", (double)sp->stride);
            cJSON_AddNumberToObject(ly, "padding", (double)sp->pad);
            break;
        case LATHE_LAYER_MAX_POOL:
        case LATHE_LAYER_AVG_POOL:
            cJSON_AddNumberToObject(ly, "size", (double)sp->size);
            cJSON_AddNumberToObject(ly, "stride", (double)sp->stride);
            break;
        case LATHE_LAYER_DROPOUT:
            cJSON_AddNumberToObject(ly, "rate", (double)sp->rate);
            break;
        default:
            break;
        }
    }
    train = cJSON_AddObjectToObject(root, "train");
    cJSON_AddStringToObject(train, "optimizer", "adam");
    cJSON_AddNumberToObject(train, "learning_rate", 0.001);
    cJSON_AddNumberToObject(train, "batch_size", 32);
    cJSON_AddNumberToObject(train, "epochs", 10);
    if (binary) cJSON_AddStringToObject(train, "loss", "binary_cross_entropy");
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* Appends a line to the notes. */
static void note(char *notes, size_t cap, const char *line) {
    size_t used = strlen(notes);
    snprintf(notes + used, cap - used, "%s%s", used ? "\n" : "", line);
}

/* The preparation of the imported model: names, classes, the fill and the scaling steps. */
static lathe_status build_preparation(lathe_onnx_network *net, const lathe_onnx_import_options *o,
                                      lathe_task task, size_t n_classes, lathe_prepared **out,
                                      char *notes, size_t cap, lathe_error *err) {
    lathe_prepared *p = lathe_calloc(1, sizeof *p);
    size_t F = net->n_in, k, s;
    int imputed = 0;
    char line[256];
    *out = NULL;
    if (!p) goto nomem;
    p->task = task, p->n_features = F, p->n_classes = n_classes;
    if (net->first_image) memcpy(p->image, net->first_dims, sizeof p->image);
    p->feature_names = lathe_calloc(F, sizeof *p->feature_names);
    p->class_names = lathe_calloc(n_classes ? n_classes : 1, sizeof *p->class_names);
    p->fill = lathe_malloc(F * sizeof *p->fill);
    if (!p->feature_names || !p->class_names || !p->fill) goto nomem;
    /* the target */
    p->target = lathe_strdup(o && o->target       ? o->target
                             : net->meta_target   ? net->meta_target
                             : task == LATHE_TASK_CLASSIFICATION ? "label"
                                                                 : "y");
    if (!p->target) goto nomem;
    /* the classes */
    if (o && o->classes) {
        if (count_names(o->classes) != n_classes || !split_names(o->classes, p->class_names, n_classes)) {
            lathe_prepared_destroy(p);
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "--classes: %zu names for a model of %zu classes",
                                   count_names(o->classes), n_classes);
        }
    } else if (n_classes && !json_names(net->meta_classes, p->class_names, n_classes)) {
        free_names(p->class_names, n_classes);
        for (k = 0; k < n_classes; k++) {
            snprintf(line, sizeof line, "%zu", k);
            if (!(p->class_names[k] = lathe_strdup(line))) goto nomem;
        }
        if (net->meta_classes) note(notes, cap, "lathe.classes does not fit the outputs: the classes are named 0, 1, …");
    }
    /* the inputs: the exporter's, the options', or numbered */
    if (!(o && o->inputs) && net->meta_features && json_names(net->meta_features, p->feature_names, F) &&
        metadata_inputs(net->meta_inputs, p)) {
        /* Lathe's own export */
    } else {
        free_names(p->feature_names, F);
        if (p->inputs) {
            for (k = 0; k < p->n_inputs; k++) lathe_free(p->inputs[k].name);
            lathe_free(p->inputs);
            p->inputs = NULL, p->n_inputs = 0;
        }
        if (o && o->inputs) {
            if (count_names(o->inputs) != F || !split_names(o->inputs, p->feature_names, F)) {
                size_t given = count_names(o->inputs);
                lathe_prepared_destroy(p);
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "--inputs: %zu names for a model of %zu input features", given, F);
            }
        } else {
            for (k = 0; k < F; k++) {
                snprintf(line, sizeof line, net->first_image ? "px%zu" : "x%zu", net->first_image ? k : k + 1);
                if (!(p->feature_names[k] = lathe_strdup(line))) goto nomem;
            }
        }
        p->inputs = lathe_calloc(F, sizeof *p->inputs);
        if (!p->inputs) goto nomem;
        for (k = 0; k < F; k++) {
            p->inputs[k].type = LATHE_COLUMN_NUMERIC, p->inputs[k].first = k, p->inputs[k].width = 1;
            if (!(p->inputs[k].name = lathe_strdup(p->feature_names[k]))) goto nomem;
            p->n_inputs = k + 1;
        }
    }
    /* the fill: the graph's, else none (a one-hot feature's missing category: all zeros) */
    for (k = 0; k < F; k++) {
        p->fill[k] = net->fill ? net->fill[k] : __builtin_nanf("");
        if (p->fill[k] == p->fill[k]) imputed = 1;
    }
    for (k = 0; k < p->n_inputs; k++)
        if (p->inputs[k].type == LATHE_COLUMN_CATEGORICAL)
            for (s = p->inputs[k].first; s < p->inputs[k].first + p->inputs[k].width; s++)
                if (!(p->fill[s] == 0.0f || p->fill[s] == 1.0f)) p->fill[s] = 0.0f;
    p->steps = lathe_calloc(net->n_scaling + 1, sizeof *p->steps);
    if (!p->steps) goto nomem;
    if (imputed) p->steps[p->n_steps++].kind = LATHE_PREP_IMPUTE;
    for (s = 0; s < net->n_scaling; s++) {
        lathe_prepared_step *st = &p->steps[p->n_steps];
        st->kind = LATHE_PREP_STANDARDIZE;
        st->shift = lathe_malloc(F * sizeof *st->shift);
        st->scale = lathe_malloc(F * sizeof *st->scale);
        p->n_steps++;
        if (!st->shift || !st->scale) goto nomem;
        memcpy(st->shift, net->shift[s], F * sizeof *st->shift);
        memcpy(st->scale, net->scale[s], F * sizeof *st->scale);
    }
    *out = p;
    return LATHE_OK;
nomem:
    lathe_prepared_destroy(p);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory importing the ONNX file");
}

/* The scaling steps' kinds from Lathe's own experiment (its prepare list, in order), which the
 * ONNX graph's Sub and Mul do not say; kept as standardize when the counts differ. A refused
 * allocation shows in lathe_alloc_failures (lathe_import_onnx reports it). */
static void step_kinds(const char *experiment_json, lathe_prepared *p) {
    lathe_experiment *exp = NULL;
    lathe_error err;
    size_t i, k = 0, scaling = 0;
    if (!experiment_json ||
        lathe_experiment_parse(experiment_json, strlen(experiment_json), &exp, &err) != LATHE_OK)
        return;
    for (i = 0; i < exp->n_ops; i++)
        scaling += exp->ops[i].kind == LATHE_PREP_STANDARDIZE || exp->ops[i].kind == LATHE_PREP_MINMAX;
    if (scaling == lathe_prepared_scaling_steps(p))
        for (i = 0; i < exp->n_ops; i++) {
            if (exp->ops[i].kind != LATHE_PREP_STANDARDIZE && exp->ops[i].kind != LATHE_PREP_MINMAX) continue;
            while (p->steps[k].kind == LATHE_PREP_IMPUTE) k++;
            p->steps[k++].kind = exp->ops[i].kind;
        }
    lathe_experiment_destroy(exp);
}

/* The model file from an experiment text, the preparation and the network's weights. */
static lathe_status write_model(lathe_onnx_network *net, const char *exp_text, const lathe_prepared *p,
                                char **out, lathe_error *err) {
    lathe_experiment *exp = NULL;
    lathe_trainer *t = NULL;
    lathe_model *check = NULL;
    size_t n_params, n_stats;
    lathe_status st = lathe_experiment_parse(exp_text, strlen(exp_text), &exp, err);
    *out = NULL;
    if (st == LATHE_OK) st = lathe_trainer_create(exp, p, &t, err);
    if (st == LATHE_OK) {
        (void)lathe_trainer_params(t, &n_params);
        (void)lathe_trainer_stats(t, &n_stats);
        if (n_params != net->params.n || n_stats != net->stats.n)
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "the experiment's network has %zu parameters, the graph %zu",
                                 n_params, net->params.n);
    }
    if (st == LATHE_OK) {
        if (n_params) lathe_trainer_set_weights(t, net->params.v, net->stats.v);
        st = lathe_model_file_write(exp_text, strlen(exp_text), p, t, NULL, out, err);
    }
    if (st == LATHE_OK && (st = lathe_model_load(*out, strlen(*out), &check, err)) != LATHE_OK) {
        lathe_free(*out);
        *out = NULL;
    }
    lathe_model_destroy(check);
    lathe_trainer_destroy(t);
    lathe_experiment_destroy(exp);
    return st;
}

lathe_status lathe_import_onnx(const uint8_t *bytes, size_t n,
                               const lathe_onnx_import_options *o, char **model_json,
                               char **notes_out, lathe_error *err) {
    lathe_onnx_network *net = NULL;
    lathe_prepared *p = NULL;
    lathe_experiment *exp;
    const char *task_name;
    lathe_task task;
    size_t L, K, n_classes = 0;
    int binary = 0;
    char notes[1024] = "", line[256], *synth = NULL;
    unsigned long failures = lathe_alloc_failures();
    lathe_status st;
    *model_json = NULL;
    if (notes_out) *notes_out = NULL;
    lathe_json_hooks_install(); /* cJSON allocates through the core's hook */
    if ((st = lathe_onnx_network_read(bytes, n, &net, err)) != LATHE_OK) return st;
    exp = net->exp, L = exp->n_layers, K = net->n_net_out;
    task_name = o && o->task ? o->task : net->meta_task;
    if (task_name && strcmp(task_name, "classification") != 0 && strcmp(task_name, "regression") != 0) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "--task: '%s' is neither classification nor regression", task_name);
        goto done;
    }
    task = task_name ? (strcmp(task_name, "regression") == 0 ? LATHE_TASK_REGRESSION : LATHE_TASK_CLASSIFICATION)
           : net->head != HEAD_NONE || K > 1 ||
                   (L && exp->layers[L - 1].kind == LATHE_LAYER_ACTIVATION &&
                    exp->layers[L - 1].activation == LATHE_ACT_SIGMOID)
               ? LATHE_TASK_CLASSIFICATION
               : LATHE_TASK_REGRESSION;
    if (task == LATHE_TASK_REGRESSION) {
        if (net->head != HEAD_NONE || K != 1) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "a regression model gives one value per row; this graph gives %zu%s",
                                 net->n_out, net->head != HEAD_NONE ? " probabilities" : "");
            goto done;
        }
    } else if (net->head == HEAD_BINARY) {
        binary = 1, n_classes = 2;
    } else if (net->head == HEAD_SOFTMAX) {
        n_classes = K;
    } else if (K == 1) { /* one logit, or a final Sigmoid: a binary classifier */
        binary = 1, n_classes = 2;
        if (L && exp->layers[L - 1].kind == LATHE_LAYER_ACTIVATION &&
            exp->layers[L - 1].activation == LATHE_ACT_SIGMOID) {
            exp->n_layers = --L;
            note(notes, sizeof notes, "the final Sigmoid is read as a binary classifier: Lathe gives (1 - p, p)");
        } else {
            note(notes, sizeof notes, "the one output is read as a binary classifier's logit: Lathe gives (1 - sigmoid, sigmoid)");
        }
    } else {
        n_classes = K;
        snprintf(line, sizeof line,
                 "the graph ends without Softmax: its %zu outputs are read as logits, and Lathe "
                 "predicts their softmax (the same classes)", K);
        note(notes, sizeof notes, line);
    }
    if (n_classes == 1 || n_classes > LATHE_MODEL_MAX_CLASSES) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "a classifier needs 2 to %u classes; this graph gives %zu",
                             LATHE_MODEL_MAX_CLASSES, n_classes);
        goto done;
    }
    if (L == 0 || exp->layers[L - 1].kind != LATHE_LAYER_DENSE) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "the network ends with %s; a Lathe model ends with a dense layer (Gemm "
                             "or MatMul) that gives its outputs",
                             L ? lathe_layer_type_name(exp->layers[L - 1].kind, exp->layers[L - 1].activation)
                               : "no layer");
        goto done;
    }
    if (net->first_rank != 1 && net->first_rank != 3) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "the network's input has %zu dimensions per row; a Lathe model takes "
                             "(N, features) or (N, C, H, W)", net->first_rank);
        goto done;
    }
    if (net->eps_folded) {
        snprintf(line, sizeof line,
                 "%zu batch norm%s: the epsilon is folded into the running variance (Lathe's is 1e-5)",
                 net->eps_folded, net->eps_folded == 1 ? "" : "s");
        note(notes, sizeof notes, line);
    }
    if ((st = build_preparation(net, o, task, n_classes, &p, notes, sizeof notes, err)) != LATHE_OK) goto done;
    step_kinds(net->meta_experiment, p);
    /* Lathe's own experiment when the file carries it and it builds this network */
    st = LATHE_ERR_INVALID;
    if (net->meta_experiment && !(o && (o->task || o->name))) {
        lathe_error inner;
        st = write_model(net, net->meta_experiment, p, model_json, &inner);
        if (st == LATHE_ERR_NOMEM) {
            *err = inner;
            goto done;
        }
        if (st != LATHE_OK) note(notes, sizeof notes, "lathe.experiment does not build this network: the experiment is Lathe's default for it");
    }
    if (st != LATHE_OK) {
        synth = synthesised_experiment(net, p, o ? o->name : NULL, binary);
        if (!synth) {
            st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory importing the ONNX file");
            goto done;
        }
        st = write_model(net, synth, p, model_json, err);
    }
done:
    /* a refused allocation anywhere (cJSON's builders and the metadata's parser report none)
     * means the result, or the reason it was refused, may lack a part: out of memory, never a
     * different file or a wrong reason */
    if (st != LATHE_ERR_NOMEM && lathe_alloc_failures() != failures) {
        lathe_free(*model_json);
        *model_json = NULL;
        st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory importing the ONNX file");
    }
    if (st == LATHE_OK && notes_out && !(*notes_out = lathe_strdup(notes))) {
        lathe_free(*model_json);
        *model_json = NULL;
        st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory importing the ONNX file");
    }
    cJSON_free(synth);
    lathe_prepared_destroy(p);
    lathe_onnx_network_destroy(net);
    return st;
}
