/* libFuzzer target: the ONNX importer (lathe/import_onnx.h) on any bytes. protobuf-c unpacks
 * through the core's allocation hook; every size is checked before it is decoded. A file the
 * importer accepts must give a model file that loads with the weights hash it carries, and
 * its network must run one row of zeros. A failure must carry a message; nothing may leak.
 * Seeds: Lathe's own exports and PyTorch exports from libonnx-testdata (corpus/onnx_import). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/import_onnx.h"
#include "lathe/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    long live = lathe_alloc_live();
    lathe_error err;
    char *model_json = NULL, *notes = NULL;
    lathe_onnx_network *net = NULL;
    lathe_status st = lathe_onnx_network_read(data, size, &net, &err);
    fuzz_check_status(st, &err);
    if (st == LATHE_OK) {
        size_t n_in = lathe_onnx_network_inputs(net), n_out = lathe_onnx_network_outputs(net);
        float *x = calloc(n_in ? n_in : 1, sizeof *x), *y = calloc(n_out ? n_out : 1, sizeof *y);
        FUZZ_ASSERT(x && y, "the harness ran out of memory");
        lathe_onnx_network_run(net, 1, x, y);
        free(x);
        free(y);
        lathe_onnx_network_destroy(net);
    }
    st = lathe_import_onnx(data, size, NULL, &model_json, &notes, &err);
    fuzz_check_status(st, &err);
    if (st == LATHE_OK) {
        lathe_model *m = NULL;
        FUZZ_ASSERT(model_json && notes, "an import without its model file or notes");
        st = lathe_model_load(model_json, strlen(model_json), &m, &err);
        FUZZ_ASSERT(st == LATHE_OK, "an imported model file does not load");
        lathe_model_destroy(m);
    }
    lathe_free(model_json);
    lathe_free(notes);
    fuzz_check_no_leak(live);
    return 0;
}
