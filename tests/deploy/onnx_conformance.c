/* ONNX's own conformance cases (Debian's libonnx-testdata) through Lathe's importer.
 *
 * usage: onnx_conformance CASE_DIR...
 * For each case whose nodes are all operators Lathe imports, the graph's other inputs (the
 * weights, which the cases pass as inputs) become initialisers from test_data_set_0's
 * input_K.pb, the model goes through lathe_onnx_network_read and runs on input_0.pb, and
 * the result is compared with output_0.pb at ONNX's tolerance (|y − ŷ| ≤ 1e-7 + 1e-3·|ŷ|).
 * One line per case: "NAME\tpass\tSHA-256 of the output bits", "NAME\tfail\twhy",
 * "NAME\tout of scope\tthe importer's reason" or "NAME\tnot ours\tthe first other op".
 * Exit status 0 unless a case could not be read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lathe/import_onnx.h"
#include "lathe/sha256.h"
#include "onnx.pb-c.h"

static const char *const lathe_ops[] = {
    "Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
    "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "Flatten", "Dropout", "Reshape",
    "Identity", "Transpose", NULL};

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long size;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(size > 0 ? (size_t)size : 1);
    *n = buf ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    return buf;
}

static Onnx__TensorProto *read_tensor(const char *dir, const char *name) {
    char path[4200];
    size_t n;
    uint8_t *bytes;
    Onnx__TensorProto *t;
    snprintf(path, sizeof path, "%s/test_data_set_0/%s", dir, name);
    if (!(bytes = read_all(path, &n))) return NULL;
    t = onnx__tensor_proto__unpack(NULL, n, bytes);
    free(bytes);
    return t;
}

/* A float tensor's values (malloc'd) and count; NULL when it is not float. */
static float *tensor_floats(const Onnx__TensorProto *t, size_t *count) {
    size_t i, n = 1;
    float *v;
    for (i = 0; i < t->n_dims; i++) n *= (size_t)t->dims[i];
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) return NULL;
    if (t->has_raw_data ? t->raw_data.len != 4 * n : t->n_float_data != n) return NULL;
    v = malloc((n ? n : 1) * sizeof *v);
    for (i = 0; v && i < n; i++) {
        if (t->has_raw_data) memcpy(&v[i], t->raw_data.data + 4 * i, 4); /* little-endian host */
        else v[i] = t->float_data[i];
    }
    *count = n;
    return v;
}

static const char *base_name(const char *dir) {
    const char *s = strrchr(dir, '/');
    return s && s[1] ? s + 1 : dir;
}

/* The first op of the graph that Lathe does not import, or NULL. */
static const char *other_op(const Onnx__GraphProto *g) {
    size_t i, k;
    for (i = 0; i < g->n_node; i++) {
        for (k = 0; lathe_ops[k] && strcmp(lathe_ops[k], g->node[i]->op_type) != 0; k++) {}
        if (!lathe_ops[k]) return g->node[i]->op_type;
    }
    return NULL;
}

static int run_case(const char *dir) {
    char path[4200], why[600];
    const char *name = base_name(dir), *other;
    size_t n, i, k, n_in, n_out, rows, got_n, want_n;
    uint8_t *bytes, *packed;
    Onnx__ModelProto *m;
    Onnx__TensorProto *x = NULL, *y = NULL;
    lathe_onnx_network *net = NULL;
    lathe_error err;
    float *xs = NULL, *want = NULL, *got = NULL;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (!(bytes = read_all(path, &n)) || !(m = onnx__model_proto__unpack(NULL, n, bytes))) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(bytes);
        return 1;
    }
    free(bytes);
    if ((other = other_op(m->graph)) != NULL) {
        printf("%s\tnot ours\t%s\n", name, other);
        onnx__model_proto__free_unpacked(m, NULL);
        return 0;
    }
    /* inputs after the first: initialisers from the case's data */
    for (i = 1, k = 0; i < m->graph->n_input; i++) {
        Onnx__TensorProto *t, **grown;
        snprintf(path, sizeof path, "input_%zu.pb", i);
        if (!(t = read_tensor(dir, path))) continue;
        free(t->name);
        t->name = malloc(strlen(m->graph->input[i]->name) + 1);
        strcpy(t->name, m->graph->input[i]->name);
        grown = realloc(m->graph->initializer, (m->graph->n_initializer + 1) * sizeof *grown);
        grown[m->graph->n_initializer++] = t;
        m->graph->initializer = grown;
        k++;
    }
    packed = malloc(onnx__model_proto__get_packed_size(m));
    n = onnx__model_proto__pack(m, packed);
    onnx__model_proto__free_unpacked(m, NULL);
    if (lathe_onnx_network_read(packed, n, &net, &err) != LATHE_OK) {
        printf("%s\tout of scope\t%s\n", name, err.message);
        free(packed);
        return 0;
    }
    free(packed);
    x = read_tensor(dir, "input_0.pb"), y = read_tensor(dir, "output_0.pb");
    n_in = lathe_onnx_network_inputs(net), n_out = lathe_onnx_network_outputs(net);
    xs = x ? tensor_floats(x, &got_n) : NULL;
    want = y ? tensor_floats(y, &want_n) : NULL;
    rows = x && x->n_dims ? (size_t)x->dims[0] : 0;
    if (!xs || !want || got_n != rows * n_in || want_n != rows * n_out) {
        printf("%s\tfail\tthe case's input or output does not fit the network (%zu rows of %zu "
               "in, %zu out)\n", name, rows, n_in, n_out);
    } else {
        size_t bad = 0, worst = 0;
        char hex[65];
        got = malloc((want_n ? want_n : 1) * sizeof *got);
        lathe_onnx_network_run(net, rows, xs, got);
        for (i = 0; i < want_n; i++)
            if (!(fabs((double)got[i] - (double)want[i]) <= 1e-7 + 1e-3 * fabs((double)want[i]))) {
                if (!bad) worst = i;
                bad++;
            }
        if (bad) {
            snprintf(why, sizeof why, "%zu of %zu values differ, first at %zu: %.9g, expected %.9g",
                     bad, want_n, worst, (double)got[worst], (double)want[worst]);
            printf("%s\tfail\t%s\n", name, why);
        } else {
            lathe_sha256_hex(got, want_n * sizeof *got, hex);
            printf("%s\tpass\t%s\n", name, hex);
        }
    }
    if (x) onnx__tensor_proto__free_unpacked(x, NULL);
    if (y) onnx__tensor_proto__free_unpacked(y, NULL);
    free(xs), free(want), free(got);
    lathe_onnx_network_destroy(net);
    return 0;
}

int main(int argc, char **argv) {
    int i, status = 0;
    for (i = 1; i < argc; i++) status |= run_case(argv[i]);
    return status;
}
