/* The session: one object that owns an experiment's whole path, data → preparation → trainer
 * → report → model file, so that the page (through wasm_bindings/engine.c) and every CLI
 * command walk it the same way. It does no I/O: a front end reads the bytes and hands them
 * over.
 *
 *   lathe_session_open     parse the experiment, read its data, check data.sha256, prepare
 *                          (the Prepare step's preview needs nothing more)
 *   lathe_session_build    create the trainer (optionally from a model: fine-tuning)
 *   lathe_session_trainer  step, evaluate, predict with the trainer it owns
 *   lathe_session_*_json   the reports the page and `lathe … --json` print
 *   lathe_session_model_file, _checkpoint_*: what a run saves
 */
#ifndef LATHE_SESSION_H
#define LATHE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/experiment.h"
#include "lathe/idx.h"
#include "lathe/model.h"
#include "lathe/prepare.h"
#include "lathe/status.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

typedef struct lathe_session lathe_session;

/* The rows of a session, as a front end read them: images (an IDX set: the session makes
 * its table, fingerprint and layout), else table (a table the front end built from image
 * files, with the SHA-256 of the bytes it came from), else csv (CSV bytes, hashed and read by
 * the session), else nothing (the experiment's synthetic set). */
typedef struct lathe_session_data {
    const lathe_idx_set *images; /* an IDX set (borrowed), or NULL */
    size_t memory_limit;         /* bytes the data may take once read (its table and its
                                  * prepared copy; 0: no limit): more is refused with
                                  * LATHE_ERR_LIMIT and the numbers, before it is spent */
    const char *csv;             /* CSV bytes:(csv_n), or NULL */
    size_t csv_n;
    lathe_table *table;              /* a ready table, or NULL; the session takes it over, on
                                      * failure too */
    const char *table_sha256;        /* with table: the hex SHA-256 of its source bytes */
    const lathe_data_layout *layout; /* with table: its own test split and image shape, or NULL */
    int skip_fingerprint;            /* 1: do not check data.sha256 (the user chose this data) */
    const char *csv_name;            /* with csv: its name (a file path) to begin the CSV
                                      * reader's errors with ("NAME: line 3, …"), or NULL */
} lathe_session_data;

/* LATHE_OK when rows images whose table takes table_bytes (lathe_image_table_bytes) fit limit
 * bytes with its prepared copy and held bytes more (what reading them will take before the
 * table: the set's own pixels, when they are not in the heap yet); else LATHE_ERR_LIMIT with
 * the numbers ("70000 images need 2344 MiB once read and prepared; this engine has 1754 MiB
 * left for data (use fewer or smaller images)"). limit 0: no limit. */
lathe_status lathe_session_images_fit(uint64_t rows, uint64_t table_bytes, uint64_t held,
                                      size_t limit, lathe_error *err);

/* Parses experiment:(n) (the session keeps a copy), reads the data, checks data.sha256 (when
 * the experiment has one and data->skip_fingerprint is 0; LATHE_ERR_MISMATCH names both
 * hashes) and prepares it. data may be NULL for a synthetic set. The caller owns *out
 * (lathe_session_destroy); on an error *out is NULL and err says what and where. */
lathe_status lathe_session_open(const char *experiment, size_t n, const lathe_session_data *data,
                                lathe_session **out, lathe_error *err);
/* The experiment's rows as a table, neither checked against data.sha256 nor prepared (the
 * Data step's view of them): data as for lathe_session_open. The caller owns *out. */
lathe_status lathe_session_read_table(const char *experiment, size_t n,
                                      const lathe_session_data *data, lathe_table **out,
                                      lathe_error *err);
/* Frees the session and all it owns. NULL is a no-op. */
void lathe_session_destroy(lathe_session *s);

/* Creates the trainer (once). With init (a model file, borrowed), fine-tunes it: the data is
 * prepared with the model's fitted preparation (lathe_prepared_adopt) and training starts
 * from its weights (and its int8 form, until a training step); the network must have the
 * model's parameter counts. Without init, train.distill needs a teacher
 * (lathe_session_set_teacher); with init it does not (a model is evaluated, quantised or
 * deployed without its teacher; trained without one, it learns from the labels alone). */
lathe_status lathe_session_build(lathe_session *s, lathe_model *init, lathe_error *err);

/* train.distill: the teacher model (borrowed: it must outlive the session; NULL: none) that
 * lathe_session_build hands to the trainer (lathe_trainer_set_teacher, whose checks name
 * train.distill.teacher). Call it before building: an experiment with train.distill builds
 * only with a teacher, one without it only without. The front end reads the teacher's file
 * (train.distill.teacher, from the experiment's folder). */
void lathe_session_set_teacher(lathe_session *s, lathe_model *teacher);

/* k-fold cross-validation: the number of folds of the experiment's split (0 when it has none),
 * and a new preparation with fold `fold` (< folds) as the validation rows. select_fold
 * destroys the trainer: build it again. */
size_t lathe_session_folds(const lathe_session *s);
lathe_status lathe_session_select_fold(lathe_session *s, size_t fold, lathe_error *err);

/* What the session owns (borrowed; trainer is NULL before lathe_session_build). */
const lathe_experiment *lathe_session_experiment(const lathe_session *s);
const lathe_table *lathe_session_table(const lathe_session *s);
const lathe_prepared *lathe_session_prepared(const lathe_session *s);
lathe_trainer *lathe_session_trainer(const lathe_session *s);
/* The prepared rows of one split. */
const lathe_split_data *lathe_session_split(const lathe_session *s, lathe_split split);
/* The hex SHA-256 of the data bytes ("" for a synthetic set). */
const char *lathe_session_data_sha256(const lathe_session *s);
/* The hex SHA-256 of the prepared data (lathe_prepared_sha256) into hex:(65). */
void lathe_session_prepared_sha256(const lathe_session *s, char hex[65]);

/* Copies rows [first, first + count) of a prepared split (count within its rows): x:(count,
 * features), y:(count) the class index or target value, source:(count) each row's table row
 * (NULL: not wanted). No allocation. */
void lathe_session_rows(const lathe_session *s, lathe_split split, size_t first, size_t count,
                        float *x, float *y, double *source);

/* JSON texts (the caller frees *out with lathe_free); LATHE_ERR_NOMEM on a failed allocation.
 *  prepared_json: {"task", "target", "table": [rows, columns], "rows": [train, validation,
 *    test], "features": [names], "inputs": [{"column", "first", "width"}], "classes"}.
 *  layers_json (needs the trainer): [{"kind", "activation" (activation layers), "in": [C, H, W]
 *    or [F], "out", "weights", "bias" (parameter counts), "kernel", "stride", "pad"}].
 *  report_json (needs the trainer): one split's rows, loss, and accuracy, class report, curves
 *    and per-row (true, predicted, data row) "examples", or mse, mae, rmse, r2 and up to 2000
 *    (true, predicted) "points".
 *  metrics_json (needs the trainer): {"train", "validation" (when it has rows), "test"}, each
 *    {rows, loss, accuracy | mse, mae, r2} plus the class report for validation and test: what
 *    `lathe run --json` prints and the model file keeps. */
lathe_status lathe_session_prepared_json(const lathe_session *s, char **out, lathe_error *err);
lathe_status lathe_session_layers_json(const lathe_session *s, char **out, lathe_error *err);
lathe_status lathe_session_report_json(const lathe_session *s, lathe_split split, char **out,
                                       lathe_error *err);
lathe_status lathe_session_metrics_json(const lathe_session *s, char **out, lathe_error *err);

/* The model file (lathe/model_file.h) of the current weights in *out (free with lathe_free),
 * embedding the experiment as opened and metrics_json (object text, or NULL). */
lathe_status lathe_session_model_file(const lathe_session *s, const char *metrics_json, char **out,
                                      lathe_error *err);

/* Checkpoints tagged with the session's owner (lathe_checkpoint_owner of the experiment text,
 * the data and its preparation), so a checkpoint resumes only its own run, on any target.
 * save writes lathe_session_checkpoint_size bytes to out. */
size_t lathe_session_checkpoint_size(const lathe_session *s);
void lathe_session_checkpoint_save(const lathe_session *s, void *out);
lathe_status lathe_session_checkpoint_restore(lathe_session *s, const void *data, size_t n,
                                              lathe_error *err);

#endif
