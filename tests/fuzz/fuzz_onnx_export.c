/* libFuzzer target: the ONNX and C writers (lathe/export_onnx.h, lathe/export_c.h) on every
 * model file that loads. The ONNX bytes must unpack with protobuf-c (through the core's
 * allocation hook) into a graph whose every node reads values made before it, whose last node
 * makes the graph's output, whose initialisers hold as many bytes as their dimensions say, and
 * whose metadata carries the model's weights hash; the C header must carry it too. A failure
 * must carry a message; nothing may leak. Seeds: the model target's (corpus/onnx_export links
 * to them). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/export_c.h"
#include "lathe/export_onnx.h"
#include "lathe/model.h"
#include "onnx.pb-c.h"

static void *pb_alloc(void *data, size_t size) {
    (void)data;
    return lathe_malloc(size);
}
static void pb_free(void *data, void *p) {
    (void)data;
    lathe_free(p);
}

/* 1 when name is the graph's input, an initialiser, or the output of a node before node k. */
static int known(const Onnx__GraphProto *g, size_t k, const char *name) {
    size_t i, j;
    if (g->n_input && strcmp(g->input[0]->name, name) == 0) return 1;
    for (i = 0; i < g->n_initializer; i++)
        if (strcmp(g->initializer[i]->name, name) == 0) return 1;
    for (i = 0; i < k; i++)
        for (j = 0; j < g->node[i]->n_output; j++)
            if (strcmp(g->node[i]->output[j], name) == 0) return 1;
    return 0;
}

static void check_onnx(const uint8_t *bytes, size_t n, const lathe_model *model) {
    ProtobufCAllocator allocator = {pb_alloc, pb_free, NULL};
    Onnx__ModelProto *m = onnx__model_proto__unpack(&allocator, n, bytes);
    const Onnx__GraphProto *g;
    size_t i, j, hash = 0;
    FUZZ_ASSERT(m != NULL, "the ONNX bytes do not unpack");
    FUZZ_ASSERT(m->ir_version == 8 && m->n_opset_import == 1 && m->opset_import[0]->version == 17,
                "not IR 8, opset 17");
    g = m->graph;
    FUZZ_ASSERT(g && g->n_input == 1 && g->n_output == 1 && g->n_node > 0, "no graph");
    FUZZ_ASSERT(g->input[0]->type->tensor_type->shape->dim[1]->dim_value ==
                    (int64_t)lathe_model_preparation(model)->n_features,
                "the input is not (N, features)");
    for (i = 0; i < g->n_node; i++)
        for (j = 0; j < g->node[i]->n_input; j++)
            FUZZ_ASSERT(known(g, i, g->node[i]->input[j]), "a node reads a value made after it");
    FUZZ_ASSERT(strcmp(g->node[g->n_node - 1]->output[0], g->output[0]->name) == 0,
                "the last node does not make the output");
    for (i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        size_t count = 1;
        for (j = 0; j < t->n_dims; j++) count *= (size_t)t->dims[j];
        FUZZ_ASSERT(t->has_raw_data &&
                        t->raw_data.len ==
                            count * (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? 8 : 4),
                    "an initialiser's bytes do not match its dimensions");
    }
    for (i = 0; i < m->n_metadata_props; i++)
        if (strcmp(m->metadata_props[i]->key, "lathe.weights_sha256") == 0) {
            FUZZ_ASSERT(strcmp(m->metadata_props[i]->value, lathe_model_weights_sha256(model)) == 0,
                        "the metadata's weights hash is not the model's");
            hash = 1;
        }
    FUZZ_ASSERT(hash, "no lathe.weights_sha256 in the metadata");
    onnx__model_proto__free_unpacked(m, &allocator);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lathe_model *model = NULL;
    lathe_error err;
    long live = lathe_alloc_live();
    uint8_t *onnx = NULL;
    size_t n = 0;
    char *header = NULL, *source = NULL, want[160];
    lathe_status st = lathe_model_load((const char *)data, size, &model, &err);
    fuzz_check_status(st, &err);
    if (st != LATHE_OK) {
        fuzz_check_no_leak(live);
        return 0;
    }
    st = fuzz_check_status(lathe_export_onnx(model, &onnx, &n, &err), &err);
    FUZZ_ASSERT(st == LATHE_OK, "a loaded model does not export to ONNX");
    check_onnx(onnx, n, model);
    lathe_free(onnx);
    st = fuzz_check_status(lathe_export_c(model, "m", &header, &source, &err), &err);
    FUZZ_ASSERT(st == LATHE_OK, "a loaded model does not export to C");
    snprintf(want, sizeof want, "#define m_WEIGHTS_SHA256 \"%s\"", lathe_model_weights_sha256(model));
    FUZZ_ASSERT(strstr(header, want) != NULL && strstr(source, "int m_predict(") != NULL,
                "the C source lacks the hash or m_predict");
    lathe_free(header);
    lathe_free(source);
    lathe_model_destroy(model);
    fuzz_check_no_leak(live);
    return 0;
}
