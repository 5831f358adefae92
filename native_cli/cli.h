/* Shared pieces of the `lathe` command: file reading, data location, output helpers. */
#ifndef LATHE_CLI_H
#define LATHE_CLI_H

#include <stddef.h>

#include "lathe/experiment.h"
#include "lathe/metrics.h"
#include "lathe/model.h"
#include "lathe/prepare.h"
#include "lathe/session.h"
#include "lathe/status.h"
#include "lathe/table.h"

/* Exit statuses: 0 success, 1 a failed run (e.g. divergence), 2 bad usage or bad input. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Reads a whole file into a NUL-terminated buffer; the caller frees it. On failure prints
 * "lathe: PATH: reason" and returns NULL. */
char *cli_read_file(const char *path, size_t *size);

/* Prints "lathe: <context>: <message>" on stderr. */
void cli_error(const char *context, const char *message);

/* The built-in data folder: $LATHE_DATA_DIR, else data/builtin beside the experiment's
 * folder's parent, else ./data/builtin. Writes into dir (cap bytes). */
void cli_data_dir(const char *experiment_path, char *dir, size_t cap);

/* The experiment's data as read from disk, for lathe_session_open (d.data points into it). */
typedef struct cli_data {
    lathe_session_data data;
    char *bytes;           /* CSV bytes (the caller frees them) */
    lathe_idx_set *images; /* an IDX set's files (the caller destroys it) */
} cli_data;

/* The files of --data: one CSV file, or an IDX set's images and labels (then optionally the
 * test images and labels), in the order given. */
typedef struct cli_data_files {
    const char *paths[4];
    size_t n;
} cli_data_files;

/* Adds one --data path of command; a fifth is an error (printed; the exit status returned). */
int cli_data_files_add(cli_data_files *files, const char *path, const char *command);

/* Opens the session of the experiment text:(n) read from experiment_path: its data is a
 * built-in CSV, a built-in IDX set (its files as listed in data/builtin/manifest.json, gzipped
 * or raw; its "test" split the predefined test split, its image shape the layout's; its
 * fingerprint the SHA-256 of every file's stored bytes in order: each split's images then
 * labels, the test split last), a file or an IDX set's files (data.files; relative paths are
 * taken from the experiment's folder), or a synthetic set. data_override (may be NULL)
 * replaces the data with its files and skips the data.sha256 check. On failure prints the error
 * (the file and line, or the fingerprints) and returns the exit status; the caller owns *out. */
int cli_open_session(const char *experiment_path, const char *text, size_t n,
                     const cli_data_files *data_override, lathe_session **out);

/* Writes n bytes to path through path.tmp and a rename, so a reader never sees half a file.
 * On failure prints the error and returns the exit status. */
int cli_write_file(const char *path, const void *data, size_t n);
/* Reads a CSV file into a table; on failure prints the error and returns the exit status. */
int cli_read_csv(const char *path, lathe_table **table);
/* Reads and validates a model file; on failure prints the error and returns the exit status. */
int cli_load_model(const char *path, lathe_model **model);

/* train.distill: loads the teacher model file the session's experiment names (a relative path
 * from the experiment's folder) into *teacher and gives it to the session; *teacher stays
 * NULL without train.distill. The caller destroys it after the session. On failure prints the
 * error and returns the exit status. */
int cli_load_teacher(const char *experiment_path, lathe_session *session, lathe_model **teacher);

/* Prints a classification report (sklearn's layout, ROC AUC, log loss, confusion matrix). */
void cli_print_class_report(const char *split, const lathe_class_report *report,
                            char *const *class_names);

int cmd_run(int argc, char **argv);
/* lathe train EXPERIMENT (--resume CHECKPOINT | --init MODEL): native_cli/cmd_run.c */
int cmd_train(int argc, char **argv);
/* lathe cv EXPERIMENT [--json] [--quiet] [--data FILE]: native_cli/cmd_cv.c */
int cmd_cv(int argc, char **argv);
/* lathe inspect / predict / eval MODEL: native_cli/cmd_model.c */
int cmd_inspect(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_eval(int argc, char **argv);
/* lathe export MODEL --format c --out DIR: native_cli/cmd_export.c */
int cmd_export(int argc, char **argv);
/* lathe compress-report MODEL [VARIANT...]: native_cli/cmd_compress_report.c */
int cmd_compress_report(int argc, char **argv);
/* lathe quantize MODEL --out FILE: native_cli/cmd_quantize.c */
int cmd_quantize(int argc, char **argv);
/* lathe import FILE.onnx --out MODEL: native_cli/cmd_import.c */
int cmd_import(int argc, char **argv);
int cmd_datasets(int argc, char **argv);
int cmd_profile(int argc, char **argv);
/* lathe reference-check DIR: native_cli/cmd_reference_check.c */
int cmd_reference_check(int argc, char **argv);
/* lathe bench kernels [--json] [--max N] [--seconds S]: native_cli/cmd_bench.c */
int cmd_bench(int argc, char **argv);

#endif
