/* ONNX export (lathe/export_onnx.h): the graph is built as protobuf-c messages in a pool of
 * allocations (freed together), then packed once. */
#include "lathe/export_onnx.h"

#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/batchnorm.h"
#include "lathe/json_hooks.h"
#include "lathe/kernels.h"
#include "lathe/trainer.h"
#include "lathe/version.h"
#include "onnx.pb-c.h"

#define ONNX_IR_VERSION 8
#define ONNX_OPSET 17

/* Every allocation of one export, freed together. */
typedef struct pool {
    void **blocks;
    size_t n, cap;
    int failed;
} pool;

static void *take(pool *p, size_t size) {
    void *b;
    if (p->failed) return NULL;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        void **blocks = lathe_realloc(p->blocks, cap * sizeof *blocks);
        if (!blocks) {
            p->failed = 1;
            return NULL;
        }
        p->blocks = blocks, p->cap = cap;
    }
    b = lathe_calloc(1, size ? size : 1);
    if (!b) {
        p->failed = 1;
        return NULL;
    }
    p->blocks[p->n++] = b;
    return b;
}

static char *text(pool *p, const char *s) {
    size_t n = strlen(s) + 1;
    char *t = take(p, n);
    if (t) memcpy(t, s, n);
    return t;
}

static void pool_free(pool *p) {
    size_t i;
    for (i = 0; i < p->n; i++) lathe_free(p->blocks[i]);
    lathe_free(p->blocks);
}

/* A growing array of message pointers (nodes, initialisers). */
typedef struct list {
    void **items;
    size_t n, cap;
} list;

static void push(pool *p, list *l, void *item) {
    if (!item || p->failed) {
        p->failed = 1;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        void **items = take(p, cap * sizeof *items);
        if (!items) return;
        if (l->n) memcpy(items, l->items, l->n * sizeof *items);
        l->items = items, l->cap = cap;
    }
    l->items[l->n++] = item;
}

/* The graph under construction, and a counter for the names of intermediate values. */
typedef struct graph {
    pool *p;
    list nodes, inits;
    size_t serial;
} graph;

/* A fresh value name: "<stem>_<serial>". */
static char *value(graph *g, const char *stem) {
    char name[64];
    snprintf(name, sizeof name, "%s_%zu", stem, g->serial++);
    return text(g->p, name);
}

/* A node op(inputs) → output (a new value named after stem, or out when given). */
static Onnx__NodeProto *node(graph *g, const char *op, const char *const *inputs, size_t n_in,
                             const char *out) {
    Onnx__NodeProto *nd = take(g->p, sizeof *nd);
    size_t i;
    if (!nd) return NULL;
    onnx__node_proto__init(nd);
    nd->op_type = text(g->p, op);
    nd->name = value(g, op);
    nd->n_input = n_in;
    nd->input = take(g->p, n_in * sizeof *nd->input);
    for (i = 0; nd->input && i < n_in; i++) nd->input[i] = text(g->p, inputs[i]);
    nd->n_output = 1;
    nd->output = take(g->p, sizeof *nd->output);
    if (nd->output) nd->output[0] = out ? text(g->p, out) : value(g, "x");
    push(g->p, &g->nodes, nd);
    return g->p->failed ? NULL : nd;
}

/* The output value of nd ("" after a failure, which the caller reports at the end). */
static const char *out_of(const Onnx__NodeProto *nd) {
    return nd && nd->output ? nd->output[0] : "";
}

static Onnx__AttributeProto *attribute(graph *g, Onnx__NodeProto *nd, const char *name) {
    Onnx__AttributeProto *a = take(g->p, sizeof *a), **grown;
    if (!a || !nd) return NULL;
    onnx__attribute_proto__init(a);
    a->name = text(g->p, name);
    grown = take(g->p, (nd->n_attribute + 1) * sizeof *grown);
    if (!grown) return NULL;
    if (nd->n_attribute) memcpy(grown, nd->attribute, nd->n_attribute * sizeof *grown);
    grown[nd->n_attribute++] = a;
    nd->attribute = grown;
    return a;
}

static void attr_int(graph *g, Onnx__NodeProto *nd, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attribute(g, nd, name);
    if (!a) return;
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1, a->i = v;
}

static void attr_float(graph *g, Onnx__NodeProto *nd, const char *name, float v) {
    Onnx__AttributeProto *a = attribute(g, nd, name);
    if (!a) return;
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1, a->f = v;
}

/* An INTS attribute of n copies of v (kernel_shape, strides, pads). */
static void attr_ints(graph *g, Onnx__NodeProto *nd, const char *name, int64_t v, size_t n) {
    Onnx__AttributeProto *a = attribute(g, nd, name);
    size_t i;
    if (!a) return;
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->ints = take(g->p, n * sizeof *a->ints);
    if (!a->ints) return;
    a->n_ints = n;
    for (i = 0; i < n; i++) a->ints[i] = v;
}

/* A tensor of dims:(nd) whose elements are bytes:(size · count) little-endian. */
static Onnx__TensorProto *tensor(graph *g, const char *name, int32_t type, const int64_t *dims,
                                 size_t nd, size_t bytes) {
    Onnx__TensorProto *t = take(g->p, sizeof *t);
    if (!t) return NULL;
    onnx__tensor_proto__init(t);
    t->name = text(g->p, name);
    t->has_data_type = 1, t->data_type = type;
    t->dims = take(g->p, nd * sizeof *t->dims);
    if (t->dims) memcpy(t->dims, dims, nd * sizeof *t->dims), t->n_dims = nd;
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = take(g->p, bytes);
    push(g->p, &g->inits, t);
    return g->p->failed ? NULL : t;
}

/* A float initialiser named after stem: values:(count) with dims:(nd); returns its name. */
static const char *floats(graph *g, const char *stem, const float *values, size_t count,
                          const int64_t *dims, size_t nd) {
    char *name = value(g, stem);
    Onnx__TensorProto *t =
        name ? tensor(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, nd, 4 * count) : NULL;
    size_t i;
    if (!t) return "";
    for (i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], 4);
        t->raw_data.data[4 * i] = (uint8_t)bits, t->raw_data.data[4 * i + 1] = (uint8_t)(bits >> 8);
        t->raw_data.data[4 * i + 2] = (uint8_t)(bits >> 16);
        t->raw_data.data[4 * i + 3] = (uint8_t)(bits >> 24);
    }
    return name;
}

static const char *floats1(graph *g, const char *stem, const float *values, size_t count) {
    int64_t dims[1];
    dims[0] = (int64_t)count;
    return floats(g, stem, values, count, dims, 1);
}

/* An int64 initialiser values:(count) of one dimension; returns its name. */
static const char *int64s(graph *g, const char *stem, const int64_t *values, size_t count) {
    char *name = value(g, stem);
    int64_t dims[1];
    Onnx__TensorProto *t;
    size_t i, b;
    dims[0] = (int64_t)count;
    t = name ? tensor(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, 1, 8 * count) : NULL;
    if (!t) return "";
    for (i = 0; i < count; i++)
        for (b = 0; b < 8; b++)
            t->raw_data.data[8 * i + b] = (uint8_t)((uint64_t)values[i] >> (8 * b));
    return name;
}

/* An int8 initialiser named after stem: values:(count) with dims:(nd) (nd 0: a scalar);
 * returns its name. */
static const char *int8s(graph *g, const char *stem, const int8_t *values, size_t count,
                         const int64_t *dims, size_t nd) {
    char *name = value(g, stem);
    Onnx__TensorProto *t =
        name ? tensor(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT8, dims, nd, count) : NULL;
    if (!t) return "";
    if (count) memcpy(t->raw_data.data, values, count);
    return name;
}

/* x through QuantizeLinear and DequantizeLinear with the int8 layer's per-tensor input
 * scale and zero point (round half to even and saturation, as lathe_int8_quantize); returns
 * the float value the layer computes on. */
static const char *qdq_input(graph *g, const lathe_int8_layer *q, const char *x) {
    const int8_t zero_point = (int8_t)q->input_zero_point;
    const char *in[3];
    in[0] = x;
    in[1] = floats(g, "x_scale", &q->input_scale, 1, NULL, 0);
    in[2] = int8s(g, "x_zero_point", &zero_point, 1, NULL, 0);
    in[0] = out_of(node(g, "QuantizeLinear", in, 3, NULL));
    return out_of(node(g, "DequantizeLinear", in, 3, NULL));
}

/* The int8 weights q:(channels, fan_in) as an INT8 initialiser of dims:(nd) through
 * DequantizeLinear per output channel (axis 0, zero points 0); returns the float weights. */
static const char *dq_weights(graph *g, const lathe_int8_layer *q, const int64_t *dims,
                              size_t nd) {
    int8_t *zeros = take(g->p, q->channels);
    const char *in[3];
    Onnx__NodeProto *nd_dq;
    if (!zeros) return "";
    in[0] = int8s(g, "weight_q", q->weights, q->channels * q->fan_in, dims, nd);
    in[1] = floats1(g, "weight_scale", q->weight_scales, q->channels);
    in[2] = int8s(g, "weight_zero_point", zeros, q->channels, dims, 1);
    nd_dq = node(g, "DequantizeLinear", in, 3, NULL);
    attr_int(g, nd_dq, "axis", 0);
    return out_of(nd_dq);
}

/* A float tensor value (N, d1) named name: the graph's input or output. */
static Onnx__ValueInfoProto *value_info(pool *p, const char *name, int64_t width) {
    Onnx__ValueInfoProto *v = take(p, sizeof *v);
    Onnx__TypeProto *type = take(p, sizeof *type);
    Onnx__TypeProto__Tensor *tt = take(p, sizeof *tt);
    Onnx__TensorShapeProto *shape = take(p, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dims = take(p, 2 * sizeof *dims);
    Onnx__TensorShapeProto__Dimension *d0 = take(p, sizeof *d0), *d1 = take(p, sizeof *d1);
    if (p->failed) return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(type);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(shape);
    onnx__tensor_shape_proto__dimension__init(d0);
    onnx__tensor_shape_proto__dimension__init(d1);
    d0->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0->dim_param = text(p, "N");
    d1->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1->dim_value = width;
    dims[0] = d0, dims[1] = d1;
    shape->n_dim = 2, shape->dim = dims;
    tt->has_elem_type = 1, tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = shape;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tt;
    v->name = text(p, name);
    v->type = type;
    return v;
}

/* arr printed as compact JSON into the pool (arr deleted); NULL when memory ran out. */
static char *json_text(pool *p, cJSON *arr) {
    char *printed = arr ? cJSON_PrintUnformatted(arr) : NULL, *copy;
    cJSON_Delete(arr);
    if (!printed) {
        p->failed = 1;
        return NULL;
    }
    copy = text(p, printed);
    cJSON_free(printed);
    return copy;
}

/* The names:(n) as a JSON array (lathe.features: the prepared feature names; lathe.classes:
 * the class names in output order). */
static char *strings_json(pool *p, char *const *names, size_t n) {
    cJSON *arr = cJSON_CreateArray();
    size_t j;
    for (j = 0; arr && j < n; j++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(names[j]));
    return json_text(p, arr);
}

/* The metadata lathe.inputs: each raw column's type, features [first, width] and categories. */
static char *inputs_json(pool *p, const lathe_prepared *prep) {
    cJSON *arr = cJSON_CreateArray();
    size_t j, k;
    for (j = 0; arr && j < prep->n_inputs; j++) {
        const lathe_prepared_input *in = &prep->inputs[j];
        cJSON *o = cJSON_CreateObject(), *span = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "column", in->name);
        cJSON_AddStringToObject(o, "type",
                                in->type == LATHE_COLUMN_CATEGORICAL ? "categorical"
                                : in->type == LATHE_COLUMN_BOOLEAN   ? "boolean"
                                                                     : "numeric");
        cJSON_AddItemToArray(span, cJSON_CreateNumber((double)in->first));
        cJSON_AddItemToArray(span, cJSON_CreateNumber((double)in->width));
        cJSON_AddItemToObject(o, "features", span);
        if (in->type == LATHE_COLUMN_CATEGORICAL) {
            cJSON *cats = cJSON_AddArrayToObject(o, "categories");
            for (k = 0; k < in->width; k++)
                cJSON_AddItemToArray(cats, cJSON_CreateString(lathe_prepared_category(prep, j, k)));
        }
    }
    return json_text(p, arr);
}

/* The network's nodes from value x; returns the last value (the logits). */
static const char *network(graph *g, lathe_trainer *net, const char *x) {
    size_t l, L = lathe_trainer_layer_count(net);
    for (l = 0; l < L; l++) {
        lathe_layer_info li;
        const char *in[5];
        Onnx__NodeProto *nd;
        int64_t dims[4];
        lathe_trainer_layer(net, l, &li);
        if (li.in_image && (li.kind == LATHE_LAYER_DENSE || li.kind == LATHE_LAYER_FLATTEN)) {
            /* (N, C, H, W) → (N, C·H·W), the order of Lathe's features */
            in[0] = x;
            nd = node(g, "Flatten", in, 1, NULL);
            attr_int(g, nd, "axis", 1);
            x = out_of(nd);
        }
        switch (li.kind) {
        case LATHE_LAYER_DENSE:
            dims[0] = (int64_t)li.out, dims[1] = (int64_t)li.in;
            in[0] = li.int8 ? qdq_input(g, li.int8, x) : x;
            in[1] = li.int8 ? dq_weights(g, li.int8, dims, 2)
                            : floats(g, "weight", li.weights, li.n_weights, dims, 2);
            in[2] = floats1(g, "bias", li.bias, li.n_bias);
            nd = node(g, "Gemm", in, li.n_bias ? 3 : 2, NULL);
            attr_int(g, nd, "transB", 1);
            x = out_of(nd);
            break;
        case LATHE_LAYER_CONV2D:
            dims[0] = (int64_t)li.out_c, dims[1] = (int64_t)li.in_c;
            dims[2] = dims[3] = (int64_t)li.kernel;
            in[0] = li.int8 ? qdq_input(g, li.int8, x) : x;
            in[1] = li.int8 ? dq_weights(g, li.int8, dims, 4)
                            : floats(g, "weight", li.weights, li.n_weights, dims, 4);
            in[2] = floats1(g, "bias", li.bias, li.n_bias);
            nd = node(g, "Conv", in, li.n_bias ? 3 : 2, NULL);
            attr_ints(g, nd, "kernel_shape", (int64_t)li.kernel, 2);
            attr_ints(g, nd, "strides", (int64_t)li.stride, 2);
            attr_ints(g, nd, "pads", (int64_t)li.pad, 4);
            x = out_of(nd);
            break;
        case LATHE_LAYER_MAX_POOL:
        case LATHE_LAYER_AVG_POOL:
            in[0] = x;
            nd = node(g, li.kind == LATHE_LAYER_MAX_POOL ? "MaxPool" : "AveragePool", in, 1, NULL);
            attr_ints(g, nd, "kernel_shape", (int64_t)li.kernel, 2);
            attr_ints(g, nd, "strides", (int64_t)li.stride, 2);
            x = out_of(nd);
            break;
        case LATHE_LAYER_BATCH_NORM: {
            size_t c = li.channels, k;
            float *ones = take(g->p, c * sizeof *ones), *zeros = take(g->p, c * sizeof *zeros);
            if (!ones || !zeros) return "";
            for (k = 0; k < c; k++) ones[k] = 1.0f, zeros[k] = 0.0f;
            in[0] = x;
            in[1] = floats1(g, "scale", li.n_weights ? li.weights : ones, c);
            in[2] = floats1(g, "bias", li.n_bias ? li.bias : zeros, c);
            in[3] = floats1(g, "mean", li.running_mean, c);
            in[4] = floats1(g, "var", li.running_var, c);
            nd = node(g, "BatchNormalization", in, 5, NULL);
            attr_float(g, nd, "epsilon", LATHE_BATCHNORM_EPS);
            x = out_of(nd);
            break;
        }
        case LATHE_LAYER_DROPOUT: /* the identity at inference */
        case LATHE_LAYER_FLATTEN: /* flattened above when it had an image */
            break;
        default:
            in[0] = x;
            switch (li.activation) {
            case LATHE_ACT_RELU:
                x = out_of(node(g, "Relu", in, 1, NULL));
                break;
            case LATHE_ACT_LEAKY_RELU:
                nd = node(g, "LeakyRelu", in, 1, NULL);
                attr_float(g, nd, "alpha", LATHE_LEAKY_RELU_SLOPE);
                x = out_of(nd);
                break;
            case LATHE_ACT_SIGMOID:
                x = out_of(node(g, "Sigmoid", in, 1, NULL));
                break;
            case LATHE_ACT_TANH:
                x = out_of(node(g, "Tanh", in, 1, NULL));
                break;
            default:
                break;
            }
            break;
        }
        if (g->p->failed) return "";
    }
    return x;
}

/* The metadata lathe.int8 into doc (cap bytes): how int8 layers are written and which
 * (the network's layer indices); 0 for a float network (no int8 layer). */
static int int8_layers(lathe_trainer *net, char *doc, size_t cap) {
    size_t l, L = lathe_trainer_layer_count(net), at, count = 0;
    at = (size_t)snprintf(doc, cap, "QDQ: per-tensor int8 input (QuantizeLinear, "
                                    "DequantizeLinear), per-channel int8 weights "
                                    "(DequantizeLinear, axis 0) in layers");
    for (l = 0; l < L; l++)
        if (lathe_trainer_int8(net, l)) {
            count++;
            if (at < cap)
                at += (size_t)snprintf(doc + at, cap - at, "%s%zu", count > 1 ? ", " : " ", l);
        }
    return count > 0;
}

/* A key-value metadata entry. */
static Onnx__StringStringEntryProto *entry(pool *p, const char *key, const char *v) {
    Onnx__StringStringEntryProto *e = take(p, sizeof *e);
    if (!e) return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = text(p, key);
    e->value = text(p, v ? v : "");
    return e;
}

lathe_status lathe_export_onnx(lathe_model *model, uint8_t **out, size_t *n, lathe_error *err) {
    const lathe_prepared *prep = lathe_model_preparation(model);
    const lathe_experiment *exp = lathe_model_experiment(model);
    lathe_trainer *net = lathe_model_network(model);
    int binary = exp->loss == LATHE_LOSS_BINARY_CROSS_ENTROPY;
    int classify = prep->task == LATHE_TASK_CLASSIFICATION;
    size_t F = prep->n_features, s, C = lathe_trainer_n_outputs(net), packed;
    pool p = {0};
    graph g;
    const char *x = "input", *in[3];
    const char *result = classify ? "probabilities" : "value";
    Onnx__ModelProto *m;
    Onnx__GraphProto *gp;
    Onnx__OperatorSetIdProto *opset;
    list meta = {0};
    char doc[512];
    lathe_layer_info first;
    *out = NULL, *n = 0;
    lathe_json_hooks_install(); /* the metadata's JSON text is freed with cJSON_free */
    memset(&g, 0, sizeof g);
    g.p = &p;

    /* a missing cell (NaN) takes the fitted fill (lathe_prepare_rows), when any feature has
     * one (a one-hot feature's is 0 or 1; NaN, no fill, leaves the NaN as it is) */
    for (s = 0; s < F; s++)
        if (prep->fill[s] == prep->fill[s]) {
            in[0] = x;
            in[0] = out_of(node(&g, "IsNaN", in, 1, NULL));
            in[1] = floats1(&g, "fill", prep->fill, F);
            in[2] = x;
            x = out_of(node(&g, "Where", in, 3, NULL));
            break;
        }
    /* each scaling step, in order: (x − shift)·scale */
    for (s = 0; s < prep->n_steps; s++) {
        if (prep->steps[s].kind == LATHE_PREP_IMPUTE) continue;
        in[0] = x;
        in[1] = floats1(&g, "shift", prep->steps[s].shift, F);
        in[0] = out_of(node(&g, "Sub", in, 2, NULL));
        in[1] = floats1(&g, "scale", prep->steps[s].scale, F);
        x = out_of(node(&g, "Mul", in, 2, NULL));
    }
    /* an image model's rows as (N, C, H, W) */
    lathe_trainer_layer(net, 0, &first);
    if (first.in_image) {
        int64_t shape[4];
        shape[0] = -1, shape[1] = (int64_t)first.in_c, shape[2] = (int64_t)first.in_h;
        shape[3] = (int64_t)first.in_w;
        in[0] = x;
        in[1] = int64s(&g, "shape", shape, 4);
        x = out_of(node(&g, "Reshape", in, 2, NULL));
    }
    x = network(&g, net, x);
    /* the head */
    in[0] = x;
    if (binary) {
        static const float one = 1.0f;
        const char *prob = out_of(node(&g, "Sigmoid", in, 1, NULL));
        in[0] = floats1(&g, "one", &one, 1);
        in[1] = prob;
        in[0] = out_of(node(&g, "Sub", in, 2, NULL));
        in[1] = prob;
        attr_int(&g, node(&g, "Concat", in, 2, result), "axis", 1);
    } else if (classify) {
        attr_int(&g, node(&g, "Softmax", in, 1, result), "axis", 1);
    } else {
        node(&g, "Identity", in, 1, result);
    }

    gp = take(&p, sizeof *gp);
    m = take(&p, sizeof *m);
    opset = take(&p, sizeof *opset);
    if (p.failed) goto nomem;
    onnx__graph_proto__init(gp);
    gp->name = text(&p, "lathe");
    snprintf(doc, sizeof doc,
             "input: (N, %zu) raw features in lathe.features order (a categorical column as "
             "its one-hot features, NaN where missing); output %s: (N, %zu)%s",
             F, result, C,
             classify ? ", the class probabilities in lathe.classes order" : ", the prediction");
    gp->doc_string = text(&p, doc);
    gp->n_node = g.nodes.n, gp->node = (Onnx__NodeProto **)g.nodes.items;
    gp->n_initializer = g.inits.n, gp->initializer = (Onnx__TensorProto **)g.inits.items;
    gp->input = take(&p, sizeof *gp->input);
    gp->output = take(&p, sizeof *gp->output);
    if (p.failed) goto nomem;
    gp->n_input = 1, gp->input[0] = value_info(&p, "input", (int64_t)F);
    gp->n_output = 1, gp->output[0] = value_info(&p, result, (int64_t)C);

    onnx__operator_set_id_proto__init(opset);
    opset->domain = text(&p, "");
    opset->has_version = 1, opset->version = ONNX_OPSET;
    onnx__model_proto__init(m);
    m->has_ir_version = 1, m->ir_version = ONNX_IR_VERSION;
    m->n_opset_import = 1;
    m->opset_import = take(&p, sizeof *m->opset_import);
    if (m->opset_import) m->opset_import[0] = opset;
    m->producer_name = text(&p, "lathe");
    m->producer_version = text(&p, LATHE_VERSION);
    m->graph = gp;
    push(&p, &meta, entry(&p, "lathe.weights_sha256", lathe_model_weights_sha256(model)));
    push(&p, &meta, entry(&p, "lathe.task", classify ? "classification" : "regression"));
    push(&p, &meta, entry(&p, "lathe.target", prep->target));
    if (classify) push(&p, &meta, entry(&p, "lathe.classes", strings_json(&p, prep->class_names, prep->n_classes)));
    push(&p, &meta, entry(&p, "lathe.inputs", inputs_json(&p, prep)));
    push(&p, &meta, entry(&p, "lathe.features", strings_json(&p, prep->feature_names, prep->n_features)));
    push(&p, &meta, entry(&p, "lathe.experiment", lathe_model_experiment_json(model)));
    if (int8_layers(net, doc, sizeof doc)) push(&p, &meta, entry(&p, "lathe.int8", doc));
    m->n_metadata_props = meta.n;
    m->metadata_props = (Onnx__StringStringEntryProto **)meta.items;
    if (p.failed) goto nomem;

    packed = onnx__model_proto__get_packed_size(m);
    *out = lathe_malloc(packed ? packed : 1);
    if (!*out) goto nomem;
    *n = onnx__model_proto__pack(m, *out);
    pool_free(&p);
    return LATHE_OK;
nomem:
    pool_free(&p);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory writing the ONNX file");
}
