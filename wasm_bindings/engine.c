/* The browser engine's exported C functions: one per call, pointers and sizes in, a status
 * out, no logic beyond composing the core's own calls. wasm_bindings/lathe.js is the only
 * code that calls these. The export list is exports.txt. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten/emmalloc.h>
#include <emscripten/heap.h>
#endif

#include "lathe/alloc.h"
#include "lathe/augment.h"
#include "lathe/export_c.h"
#include "lathe/export_onnx.h"
#include "lathe/import_onnx.h"
#include "lathe/idx.h"
#include "lathe/image.h"
#include "lathe/model.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/profile.h"
#include "lathe/quantize.h"
#include "lathe/session.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

/* The engine's session is the core's (lathe/session.h); a preview is a session whose trainer
 * is never built. */
typedef lathe_session lathe_preview;

lathe_error *lathe_engine_error_create(void) {
    return calloc(1, sizeof(lathe_error));
}
void lathe_engine_error_destroy(lathe_error *err) {
    free(err);
}
const char *lathe_engine_error_message(const lathe_error *err) {
    return err->message;
}

/* The bytes the heap holds in use, and the bytes the data may still take: what emmalloc (the
 * engine's malloc, -sMALLOC=emmalloc) has free and what the heap may still grow by. */
static size_t heap_used(void) {
#ifdef __EMSCRIPTEN__
    return emmalloc_dynamic_heap_size() - emmalloc_free_dynamic_memory();
#else
    return 0;
#endif
}
static size_t heap_left(void) {
#ifdef __EMSCRIPTEN__
    return emmalloc_free_dynamic_memory() + emmalloc_unclaimed_heap_memory() + 1; /* 0: none */
#else
    return 0;
#endif
}

/* The data of an experiment: an IDX set (images, borrowed), else CSV bytes data:(data_n),
 * else none (a synthetic set); refused before it is read when it would not fit the heap. */
static lathe_session_data session_data(const char *data, size_t data_n,
                                       const lathe_idx_set *images) {
    lathe_session_data d;
    memset(&d, 0, sizeof d);
    d.images = images;
    if (!images && data_n > 0) d.csv = data, d.csv_n = data_n;
    d.memory_limit = heap_left();
    return d;
}

/* Opens a session on the experiment and its data (lathe_session_open) and builds its
 * trainer. */
int lathe_engine_session_create(const char *json, size_t json_n, const char *data, size_t data_n,
                                const lathe_idx_set *images, lathe_session **out,
                                lathe_error *err) {
    lathe_session_data d = session_data(data, data_n, images);
    lathe_status st = lathe_session_open(json, json_n, &d, out, err);
    if (st == LATHE_OK && (st = lathe_session_build(*out, NULL, err)) != LATHE_OK) {
        lathe_session_destroy(*out);
        *out = NULL;
    }
    return st;
}
/* lathe_engine_session_create for fine-tuning: the trainer starts from init's weights and the
 * data is encoded and scaled with init's fitted preparation (lathe_session_build), as
 * `lathe train --init`; init (borrowed) may be freed afterwards. */
int lathe_engine_session_create_init(const char *json, size_t json_n, const char *data,
                                     size_t data_n, const lathe_idx_set *images,
                                     lathe_model *init, lathe_session **out, lathe_error *err) {
    lathe_session_data d = session_data(data, data_n, images);
    lathe_status st = lathe_session_open(json, json_n, &d, out, err);
    if (st == LATHE_OK && (st = lathe_session_build(*out, init, err)) != LATHE_OK) {
        lathe_session_destroy(*out);
        *out = NULL;
    }
    return st;
}
void lathe_engine_session_destroy(lathe_session *s) {
    lathe_session_destroy(s);
}

/* The data of an experiment prepared by its steps, no network built (the Prepare step's
 * preview: it works while the design is invalid). */
int lathe_engine_preview_create(const char *json, size_t json_n, const char *data, size_t data_n,
                                const lathe_idx_set *images, lathe_preview **out,
                                lathe_error *err) {
    lathe_session_data d = session_data(data, data_n, images);
    return lathe_session_open(json, json_n, &d, out, err);
}
void lathe_engine_preview_destroy(lathe_preview *p) {
    lathe_session_destroy(p);
}

int lathe_engine_session_step(lathe_session *s, size_t batches, lathe_error *err) {
    return lathe_trainer_step(lathe_session_trainer(s), batches, err);
}

/* out[0..9] = epoch, epochs, batch, batches_per_epoch, steps, last_epoch_loss, done,
 * train rows, stopped_early, best_epoch. */
void lathe_engine_session_progress(const lathe_session *s, double *out) {
    lathe_progress p = lathe_trainer_progress(lathe_session_trainer(s));
    out[0] = (double)p.epoch, out[1] = (double)p.epochs, out[2] = (double)p.batch;
    out[3] = (double)p.batches_per_epoch, out[4] = (double)p.steps;
    out[5] = (double)p.last_epoch_loss, out[6] = (double)p.done;
    out[7] = (double)lathe_session_prepared(s)->train.rows;
    out[8] = (double)p.stopped_early, out[9] = (double)p.best_epoch;
}

/* out[0..5] = rows, loss, accuracy, mse, mae, r2 for split 0 train, 1 validation, 2 test. */
void lathe_engine_session_evaluate(lathe_session *s, int split, double *out) {
    lathe_metrics m = lathe_trainer_evaluate(lathe_session_trainer(s), (lathe_split)split);
    out[0] = (double)m.rows, out[1] = (double)m.loss, out[2] = (double)m.accuracy;
    out[3] = (double)m.mse, out[4] = (double)m.mae, out[5] = (double)m.r2;
}

/* hex must hold 65 bytes. */
void lathe_engine_session_weights_sha256(const lathe_session *s, char *hex) {
    lathe_trainer_weights_sha256(lathe_session_trainer(s), hex);
}
void lathe_engine_session_data_sha256(const lathe_session *s, char *hex) {
    memcpy(hex, lathe_session_data_sha256(s), 65);
}
/* out[0..4] = features, classes (0 regression), parameters, test rows, outputs per row. */
void lathe_engine_session_shape(const lathe_session *s, double *out) {
    const lathe_prepared *prep = lathe_session_prepared(s);
    size_t n_params;
    (void)lathe_trainer_params(lathe_session_trainer(s), &n_params);
    out[0] = (double)prep->n_features, out[1] = (double)prep->n_classes;
    out[2] = (double)n_params, out[3] = (double)prep->test.rows;
    out[4] = (double)lathe_trainer_n_outputs(lathe_session_trainer(s));
}

/* Frees a string the engine returned (the reports below). */
void lathe_engine_string_free(char *s) {
    lathe_free(s);
}

/* The evaluation of one split (0 train, 1 validation, 2 test) as JSON text in *out
 * (lathe_session_report_json). */
int lathe_engine_session_report_json(lathe_session *s, int split, char **out, lathe_error *err) {
    return lathe_session_report_json(s, (lathe_split)split, out, err);
}

/* Rows of a prepared split (0 train, 1 validation, 2 test). */
double lathe_engine_session_split_rows(const lathe_session *s, int split) {
    return (double)lathe_session_split(s, (lathe_split)split)->rows;
}

/* Copies a prepared split: x:(rows, features) and y:(rows) the class index or the target
 * value. */
void lathe_engine_session_split_copy(const lathe_session *s, int split, float *x, float *y) {
    lathe_session_rows(s, (lathe_split)split, 0, lathe_session_split(s, (lathe_split)split)->rows,
                       x, y, NULL);
}

/* Predicts with the current weights on prepared rows x:(n, features): out:(n, outputs) gets
 * class probabilities or values (lathe_trainer_predict; allocates nothing, changes no
 * training state). */
void lathe_engine_session_predict(lathe_session *s, size_t n, const float *x, float *out) {
    lathe_trainer_predict(lathe_session_trainer(s), n, x, out);
}

/* The network as JSON text in *out (lathe_session_layers_json). */
int lathe_engine_session_layers_json(const lathe_session *s, char **out, lathe_error *err) {
    return lathe_session_layers_json(s, out, err);
}

/* The model file (lathe/model_file.h) of the current weights in *out (free with
 * lathe_engine_string_free), embedding the experiment as the session was opened with it and
 * metrics_json (NUL-terminated object text, or NULL) as "metrics". */
int lathe_engine_session_model_file(const lathe_session *s, const char *metrics_json, char **out,
                                    lathe_error *err) {
    *out = NULL;
    return lathe_session_model_file(s, metrics_json, out, err);
}

/* Makes the session's trainer int8 (lathe_session_quantize: rows calibration rows of the
 * training split, the percentile of each input's range): the report in *report and the
 * metrics the int8 model file embeds in *metrics (each freed with lathe_engine_string_free);
 * lathe_engine_session_model_file then writes the int8 model. */
int lathe_engine_session_quantize(lathe_session *s, size_t rows, double percentile, char **report,
                                  char **metrics, lathe_error *err) {
    *report = *metrics = NULL;
    return lathe_session_quantize(s, rows, percentile, report, metrics, err);
}

/* Reads the data of an experiment (JSON text; only its seed and data are used, but the whole
 * file must be valid) into a table: an IDX set, CSV bytes data:(data_n), or the synthetic
 * generator (lathe_session_read_table). The caller owns *out (lathe_engine_table_destroy). */
int lathe_engine_table_create(const char *json, size_t json_n, const char *data, size_t data_n,
                              const lathe_idx_set *images, lathe_table **out, lathe_error *err) {
    lathe_session_data d = session_data(data, data_n, images);
    return lathe_session_read_table(json, json_n, &d, out, err);
}

void lathe_engine_table_destroy(lathe_table *t) {
    lathe_table_destroy(t);
}

/* Copies column j's values:(rows) (numbers, category or boolean indices, NaN when missing). */
void lathe_engine_table_column(const lathe_table *t, size_t j, float *out) {
    size_t r;
    if (t->columns[j].values) {
        memcpy(out, t->columns[j].values, t->rows * sizeof *out);
        return;
    }
    for (r = 0; r < t->rows; r++)
        out[r] = lathe_column_at(&t->columns[j], r);
}

/* The table's columns and profiles as JSON (lathe_profile_table_json). */
int lathe_engine_table_info_json(const lathe_table *t, char **out, lathe_error *err) {
    return lathe_profile_table_json(t, out, err);
}

/* Rows and columns of a table: out[0] = rows, out[1] = columns. */
void lathe_engine_table_size(const lathe_table *t, double *out) {
    out[0] = (double)t->rows, out[1] = (double)t->cols;
}

/* Live allocations of the core's hook (lathe_alloc_live): a leak check for the page. */
double lathe_engine_alloc_live(void) {
    return (double)lathe_alloc_live();
}

/* The bytes the session's trainer allocated (lathe_trainer_memory_bytes). */
double lathe_engine_session_memory(const lathe_session *s) {
    return (double)lathe_trainer_memory_bytes(lathe_session_trainer(s));
}

/* Checkpoints (lathe/trainer.h) tagged with the session's owner: the same tag the CLI makes
 * for this experiment text and data, so either resumes the other's. out holds
 * lathe_engine_session_checkpoint_size bytes. */
double lathe_engine_session_checkpoint_size(const lathe_session *s) {
    return (double)lathe_session_checkpoint_size(s);
}
void lathe_engine_session_checkpoint_save(const lathe_session *s, void *out) {
    lathe_session_checkpoint_save(s, out);
}
int lathe_engine_session_checkpoint_restore(lathe_session *s, const void *data, size_t n,
                                            lathe_error *err) {
    return lathe_session_checkpoint_restore(s, data, n, err);
}

/* Loads a model file (lathe_model_load; errors name the field). The caller owns *out. */
int lathe_engine_model_load(const char *text, size_t n, lathe_model **out, lathe_error *err) {
    *out = NULL;
    return lathe_model_load(text, n, out, err);
}
void lathe_engine_model_destroy(lathe_model *m) {
    lathe_model_destroy(m);
}

/* What a model takes and gives, and predicting CSV rows (lathe/model.h). */
int lathe_engine_model_info_json(lathe_model *m, char **out, lathe_error *err) {
    return lathe_model_info_json(m, out, err);
}
int lathe_engine_model_predict_csv(lathe_model *m, const char *csv, size_t n, float **out,
                                   double *info, lathe_error *err) {
    return lathe_model_predict_csv(m, csv, n, out, info, err);
}

/* The model as C source (lathe_export_c): NAME.h text in *header, NAME.c in *source (each
 * freed with lathe_engine_string_free). */
int lathe_engine_model_export_c(lathe_model *m, const char *name, char **header, char **source,
                                lathe_error *err) {
    return lathe_export_c(m, name, header, source, err);
}

/* out[0..1] = the bytes of the C export's constant data (flash, the code aside) and of its
 * static buffers (RAM) (lathe_export_c_footprint). */
int lathe_engine_model_c_footprint(lathe_model *m, double *out, lathe_error *err) {
    size_t flash = 0, ram = 0;
    lathe_status st = lathe_export_c_footprint(m, &flash, &ram, err);
    out[0] = (double)flash, out[1] = (double)ram;
    return st;
}

/* The model as ONNX bytes (lathe_export_onnx): *out (freed with lathe_engine_string_free),
 * *n bytes. */
int lathe_engine_model_export_onnx(lathe_model *m, uint8_t **out, size_t *n, lathe_error *err) {
    return lathe_export_onnx(m, out, n, err);
}

/* An ONNX file bytes:(n) as model file text (lathe_import_onnx), *out and *notes freed with
 * lathe_engine_string_free; classes and inputs (comma-separated, or "": from the file, else
 * numbered) name the outputs and the input columns. */
int lathe_engine_onnx_import(const uint8_t *bytes, size_t n, const char *classes,
                             const char *inputs, char **out, char **notes, lathe_error *err) {
    lathe_onnx_import_options o;
    memset(&o, 0, sizeof o);
    o.classes = classes && classes[0] ? classes : NULL;
    o.inputs = inputs && inputs[0] ? inputs : NULL;
    return lathe_import_onnx(bytes, n, &o, out, notes, err);
}

/* Converts 8-bit pixels (h rows of w, `channels` each) to out:(c, oh, ow) floats in 0…255
 * (lathe_image_convert: BT.601 luma, area-weighted resampling). */
int lathe_engine_image_convert(const uint8_t *src, size_t w, size_t h, size_t channels, size_t c,
                               size_t oh, size_t ow, float *out, lathe_error *err) {
    return lathe_image_convert(src, w, h, channels, c, oh, ow, out, err);
}

/* IDX sets (lathe/idx.h): the page's IDX files, added part by part (gzip undone: idx:(idx_n);
 * as stored: stored:(stored_n), hashed for the fingerprint), then given to the create
 * functions above, which read them into a table. The caller owns *out. */
int lathe_engine_idx_set_create(lathe_idx_set **out, lathe_error *err) {
    return lathe_idx_set_create(out, err);
}
void lathe_engine_idx_set_destroy(lathe_idx_set *set) {
    lathe_idx_set_destroy(set);
}
int lathe_engine_idx_set_add(lathe_idx_set *set, const char *images_name,
                             const uint8_t *images_stored, size_t images_stored_n,
                             const uint8_t *images_idx, size_t images_idx_n,
                             const char *labels_name, const uint8_t *labels_stored,
                             size_t labels_stored_n, const uint8_t *labels_idx, size_t labels_idx_n,
                             int is_test, lathe_error *err) {
    lathe_idx_file images = {images_name, images_stored, images_stored_n, images_idx, images_idx_n};
    lathe_idx_file labels = {labels_name, labels_stored, labels_stored_n, labels_idx, labels_idx_n};
    return lathe_idx_set_add(set, &images, &labels, is_test, err);
}
/* The class names, one per line (names:(n), no line ending at the end). */
int lathe_engine_idx_set_classes(lathe_idx_set *set, char *names, size_t n, lathe_error *err) {
    const char *list[256];
    size_t count = 0, i, start = 0;
    for (i = 0; i <= n && count < 256; i++)
        if (i == n || names[i] == '\n') {
            names[i] = '\0'; /* names holds n + 1 bytes */
            list[count++] = names + start;
            start = i + 1;
        }
    return lathe_idx_set_classes(set, list, n ? count : 0, err);
}
/* out[0..4] = images, the bytes their table takes, and the image shape C, H, W. */
void lathe_engine_idx_set_size(const lathe_idx_set *set, double *out) {
    size_t image[3];
    lathe_idx_set_image(set, image);
    out[0] = (double)lathe_idx_set_rows(set), out[1] = (double)lathe_idx_set_table_bytes(set);
    out[2] = (double)image[0], out[3] = (double)image[1], out[4] = (double)image[2];
}

/* LATHE_OK when an IDX set of these images would fit the heap once read and prepared, from
 * the images file's first bytes head:(head_n) (a gzipped file's, inflated; the rest need not
 * be there): rows from its first dimension, its pixels and their type. LATHE_ERR_LIMIT with the
 * numbers (lathe_session_images_fit) before anything is inflated or copied; a header that does
 * not parse is left to the reader, which names what is wrong. rows_before: the images of the
 * set's parts checked before this one, which the set will hold too. */
int lathe_engine_images_fit(const uint8_t *head, size_t head_n, double rows_before,
                            lathe_error *err) {
    lathe_idx_header h;
    lathe_error ignored;
    uint64_t rows, pixels;
    int u8;
    if (lathe_idx_header_read(head, head_n, &h, &ignored) != LATHE_OK || h.ndims < 2)
        return LATHE_OK;
    rows = (uint64_t)rows_before + h.dims[0];
    pixels = h.count / h.dims[0];
    u8 = h.type == LATHE_IDX_U8;
    return lathe_session_images_fit(rows, lathe_image_table_bytes(rows, pixels, u8),
                                    rows * pixels * (u8 ? 1 : sizeof(float)), heap_left(), err);
}

/* out[0..1] = the bytes the heap may grow to, the bytes allocated now. */
void lathe_engine_heap(double *out) {
#ifdef __EMSCRIPTEN__
    out[0] = (double)emscripten_get_heap_max(), out[1] = (double)heap_used();
#else
    out[0] = out[1] = 0;
#endif
}

/* Augmented copies of sample images for the preview (lathe_augment_images). */
void lathe_engine_augment_images(const float *src, float *dst, float *tmp, size_t n, size_t copies,
                                 size_t c, size_t h, size_t w, size_t shift, int flip,
                                 double rotate, double noise, double seed) {
    lathe_augment_images(src, dst, tmp, n, copies, c, h, w, shift, flip, rotate, noise,
                         (uint64_t)seed);
}

/* ---- The Prepare step's preview: the data prepared, without a network ----------------- */

/* What the preparation produced as JSON text in *out (lathe_session_prepared_json). */
int lathe_engine_preview_info_json(const lathe_preview *p, char **out, lathe_error *err) {
    return lathe_session_prepared_json(p, out, err);
}

/* Copies rows [first, first + count) of a prepared split (0 train, 1 validation, 2 test;
 * lathe_session_rows). */
void lathe_engine_preview_rows(const lathe_preview *p, int split, size_t first, size_t count,
                               float *x, float *y, double *source) {
    lathe_session_rows(p, (lathe_split)split, first, count, x, y, source);
}
