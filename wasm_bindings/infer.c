/* The web export's exported C functions (lathe_infer.wasm): building a model from the compact
 * description that deploy/web/lathe_web.js makes of a model file (lathe/compact_model.h), and
 * predicting encoded rows with it, nothing else, so the linker leaves out the model file's
 * JSON, the data readers and the trainer's training code. One per call, pointers and sizes
 * in, a status out; deploy/web/lathe_web.js is the only code that calls these. The export
 * list is infer_exports.txt. */
#include <stdlib.h>

#include "lathe/compact_model.h"

/* A zeroed error for the calls below (free with lathe_infer_error_destroy). */
lathe_error *lathe_infer_error_create(void) {
    return calloc(1, sizeof(lathe_error));
}
void lathe_infer_error_destroy(lathe_error *err) {
    free(err);
}
/* The message of the last failed call (borrowed). */
const char *lathe_infer_error_message(const lathe_error *err) {
    return err->message;
}

/* Builds the model that bytes:(n) describe (lathe_compact_model_load; errors name the field).
 * The caller owns *out (lathe_infer_model_destroy). */
int lathe_infer_model_load(const uint8_t *bytes, size_t n, lathe_compact_model **out,
                           lathe_error *err) {
    return lathe_compact_model_load(bytes, n, out, err);
}
void lathe_infer_model_destroy(lathe_compact_model *m) {
    lathe_compact_model_destroy(m);
}

/* Columns of the model's output (lathe_compact_model_outputs). */
size_t lathe_infer_model_outputs(const lathe_compact_model *m) {
    return lathe_compact_model_outputs(m);
}

/* Predicts encoded rows x:(rows, features), scaled in place, into out:(rows, outputs)
 * (lathe_compact_model_predict). */
void lathe_infer_model_predict(lathe_compact_model *m, float *x, size_t rows, float *out) {
    lathe_compact_model_predict(m, x, rows, out);
}
