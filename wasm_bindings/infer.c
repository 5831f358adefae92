/* The web export's exported C functions (lathe_infer.wasm): loading a model file and
 * predicting raw CSV rows with it, nothing else, so the linker leaves the trainer's training
 * code, the data readers but CSV, and the exporters out. One per call, pointers and sizes in,
 * a status out; deploy/web/lathe_web.js is the only code that calls these. The export list
 * is infer_exports.txt. */
#include <stdlib.h>

#include "lathe/alloc.h"
#include "lathe/model.h"

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

/* Frees a string or buffer the calls below returned. */
void lathe_infer_free(void *p) {
    lathe_free(p);
}

/* Loads a model file text:(n) (lathe_model_load; errors name the field). The caller owns
 * *out (lathe_infer_model_destroy). */
int lathe_infer_model_load(const char *text, size_t n, lathe_model **out, lathe_error *err) {
    *out = NULL;
    return lathe_model_load(text, n, out, err);
}
void lathe_infer_model_destroy(lathe_model *m) {
    lathe_model_destroy(m);
}

/* What the model takes and gives as JSON text in *out (lathe_model_info_json). */
int lathe_infer_model_info_json(lathe_model *m, char **out, lathe_error *err) {
    return lathe_model_info_json(m, out, err);
}

/* Predicts every row of CSV bytes csv:(n) of raw columns, as `lathe predict` does
 * (lathe_model_predict_csv): *out gets (rows, outputs) floats, info[0..2] = rows, outputs,
 * cells of unseen categories. */
int lathe_infer_model_predict_csv(lathe_model *m, const char *csv, size_t n, float **out,
                                  double *info, lathe_error *err) {
    return lathe_model_predict_csv(m, csv, n, out, info, err);
}
