/* lathe run EXPERIMENT and lathe train: prepare the data, train (from scratch, from a
 * checkpoint or from a model's weights), evaluate, report, save. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/metrics.h"
#include "lathe/model.h"
#include "lathe/model_file.h"
#include "lathe/sha256.h"
#include "lathe/prepare.h"
#include "lathe/prune.h"
#include "lathe/session.h"
#include "lathe/trainer.h"

static const char run_usage_text[] =
    "usage: lathe run EXPERIMENT [--out MODEL] [--json] [--quiet] [--data FILE]\n"
    "                 [--checkpoint FILE] [--stop-after BATCHES]\n"
    "\n"
    "Prepares the experiment's data, trains its model and prints the metrics and the\n"
    "SHA-256 of the final weights (little-endian float32, layer order).\n"
    "\n"
    "options:\n"
    "  --out MODEL         write the trained model file (*.lathe.json)\n"
    "  --json              print one JSON object (metrics, weights_sha256, ...) on stdout\n"
    "  --quiet             no progress on stderr\n"
    "  --data FILE         train on FILE instead of the experiment's data (skips the\n"
    "                      data.sha256 check); an IDX set is --data IMAGES --data LABELS\n"
    "                      (gzipped or raw), then optionally its test images and labels\n"
    "  --checkpoint FILE   save the whole training state to FILE after every epoch (and on\n"
    "                      --stop-after); `lathe train EXPERIMENT --resume FILE` continues\n"
    "  --stop-after N      stop after N mini-batches (saving the checkpoint), as if\n"
    "                      interrupted\n"
    "  -h, --help          show this help\n";

static const char train_usage_text[] =
    "usage: lathe train EXPERIMENT (--resume CHECKPOINT | --init MODEL) [run's options]\n"
    "\n"
    "Continues or fine-tunes training:\n"
    "  --resume CHECKPOINT  continue an interrupted run from its checkpoint; it ends with the\n"
    "                       same weights, bit for bit, as a run that was never interrupted\n"
    "  --init MODEL         fine-tune: start from a model file's weights and its fitted\n"
    "                       preparation (the data is encoded and scaled as the model's was),\n"
    "                       with a fresh optimiser and the experiment's training settings;\n"
    "                       the data's classes must be among the model's (matched by name,\n"
    "                       some may be absent) and the model keeps all of its classes\n"
    "\n"
    "The other options are run's (see `lathe run --help`): --out, --json, --quiet, --data,\n"
    "--checkpoint, --stop-after.\n";

/* sklearn's classification_report layout, plus AUC, then the confusion matrix. */
void cli_print_class_report(const char *split, const lathe_class_report *r,
                            char *const *class_names) {
    size_t c, k, width = 12;
    if (!r) return;
    for (c = 0; c < r->n_classes; c++)
        if (strlen(class_names[c]) > width) width = strlen(class_names[c]);
    if (width > 28) width = 28;
    printf("\n%s, per class:\n%*s  precision    recall  f1-score   support   roc-auc\n", split,
           (int)width, "");
    for (c = 0; c < r->n_classes; c++)
        printf("%*.*s  %9.4f %9.4f %9.4f %9zu %9.4f\n", (int)width, (int)width, class_names[c],
               r->precision[c], r->recall[c], r->f1[c], r->support[c], r->roc_auc[c]);
    printf("%*s  %9.4f %9.4f %9.4f %9zu %9.4f\n", (int)width, "macro avg", r->macro_precision,
           r->macro_recall, r->macro_f1, r->rows, r->macro_roc_auc);
    printf("%*s  %9.4f %9.4f %9.4f %9zu\n", (int)width, "weighted avg", r->weighted_precision,
           r->weighted_recall, r->weighted_f1, r->rows);
    printf("log loss %.4f\n\nconfusion matrix (rows: true class, columns: predicted):\n",
           r->log_loss);
    for (c = 0; c < r->n_classes; c++) {
        printf("%*.*s ", (int)width, (int)width, class_names[c]);
        for (k = 0; k < r->n_classes; k++)
            printf(" %6zu", r->confusion[c * r->n_classes + k]);
        putchar('\n');
    }
}

static void print_metrics(const char *name, const lathe_metrics *m, lathe_task task) {
    if (m->rows == 0) return;
    if (task == LATHE_TASK_CLASSIFICATION)
        printf("%-10s rows %-6zu loss %-10.6g accuracy %.4f\n", name, m->rows, (double)m->loss,
               (double)m->accuracy);
    else
        printf("%-10s rows %-6zu mse %-10.6g mae %-10.6g r2 %.4f\n", name, m->rows, (double)m->mse,
               (double)m->mae, (double)m->r2);
}

/* train.prune's result: each dense and conv2d layer's zero weights, as "sparsity" in --json:
 * [{"layer", "type", "weights", "zeros", "sparsity"}]. */
static void add_sparsity(cJSON *o, const lathe_trainer *trainer) {
    cJSON *arr = cJSON_AddArrayToObject(o, "sparsity");
    size_t l;
    for (l = 0; arr && l < lathe_trainer_layer_count(trainer); l++) {
        lathe_layer_info info;
        size_t zeros, weights;
        cJSON *item;
        lathe_trainer_layer_zeros(trainer, l, &zeros, &weights);
        if (!weights) continue;
        lathe_trainer_layer(trainer, l, &info);
        item = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, item);
        cJSON_AddNumberToObject(item, "layer", (double)l);
        cJSON_AddStringToObject(item, "type", lathe_layer_type_name(info.kind, info.activation));
        cJSON_AddNumberToObject(item, "weights", (double)weights);
        cJSON_AddNumberToObject(item, "zeros", (double)zeros);
        cJSON_AddNumberToObject(item, "sparsity", (double)zeros / (double)weights);
    }
}

/* The same as a table after the metrics. */
static void print_sparsity(const lathe_trainer *trainer, float target) {
    size_t l, all = 0, all_zeros = 0;
    printf("\npruned to %.1f%% (train.prune), per layer:\n", 100.0 * (double)target);
    for (l = 0; l < lathe_trainer_layer_count(trainer); l++) {
        lathe_layer_info info;
        size_t zeros, weights;
        lathe_trainer_layer_zeros(trainer, l, &zeros, &weights);
        if (!weights) continue;
        lathe_trainer_layer(trainer, l, &info);
        printf("  layers[%zu] %-8s %9zu weights, %9zu zero (%.1f%%)\n", l,
               lathe_layer_type_name(info.kind, info.activation), weights, zeros,
               100.0 * (double)zeros / (double)weights);
        all += weights, all_zeros += zeros;
    }
    printf("  all               %9zu weights, %9zu zero (%.1f%%)\n", all, all_zeros,
           all ? 100.0 * (double)all_zeros / (double)all : 0.0);
}

typedef struct run_args {
    const char *path, *model_path, *checkpoint, *resume, *init;
    cli_data_files data; /* --data */
    size_t stop_after;   /* 0: never */
    int json, quiet;
} run_args;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int save_checkpoint(const run_args *a, const lathe_session *session) {
    size_t size = lathe_session_checkpoint_size(session);
    void *buf = malloc(size);
    int status;
    if (!buf) {
        cli_error(a->checkpoint, "out of memory writing the checkpoint");
        return CLI_FAILED;
    }
    lathe_session_checkpoint_save(session, buf);
    status = cli_write_file(a->checkpoint, buf, size);
    free(buf);
    return status;
}

/* The classification report of one split (NULL when the split is empty or memory is short). */
static lathe_class_report *split_report(const lathe_session *session, lathe_split split) {
    const lathe_prepared *prep = lathe_session_prepared(session);
    const lathe_split_data *s = lathe_session_split(session, split);
    lathe_class_report *report = NULL;
    float *probs;
    if (prep->task != LATHE_TASK_CLASSIFICATION || s->rows == 0) return NULL;
    probs = malloc(s->rows * prep->n_classes * sizeof *probs);
    if (!probs) return NULL;
    lathe_trainer_predict_split(lathe_session_trainer(session), split, probs);
    (void)lathe_class_report_create(s->rows, prep->n_classes, s->label, probs, &report, NULL);
    free(probs);
    return report;
}

/* Progress on stderr: a bar with the ETA on a terminal, one line per epoch otherwise. */
static void report_progress(const lathe_progress *p, double started, size_t steps_at_start, int tty,
                            int epoch_done) {
    if (tty) {
        double total = (double)p->epochs * (double)p->batches_per_epoch;
        double done = (double)p->epoch * (double)p->batches_per_epoch + (double)p->batch;
        double elapsed = now_seconds() - started, rate;
        size_t steps = p->steps - steps_at_start;
        int width = 30, filled = total > 0 ? (int)(width * done / total) : width, i;
        rate = elapsed > 0 ? (double)steps / elapsed : 0.0;
        fputc('\r', stderr);
        fputc('[', stderr);
        for (i = 0; i < width; i++)
            fputc(i < filled ? '#' : '.', stderr);
        fprintf(stderr, "] epoch %zu/%zu", p->epoch + (p->batch > 0), p->epochs);
        if (p->last_epoch_loss == p->last_epoch_loss)
            fprintf(stderr, "  loss %.5f", (double)p->last_epoch_loss);
        if (rate > 0 && steps > 0) fprintf(stderr, "  ETA %.0fs  ", (total - done) / rate);
        fflush(stderr);
    } else if (epoch_done) {
        fprintf(stderr, "epoch %zu/%zu loss %.6f\n", p->epoch, p->epochs,
                (double)p->last_epoch_loss);
    }
}

static int parse_run_args(int argc, char **argv, int train, run_args *a) {
    const char *usage = train ? train_usage_text : run_usage_text;
    int i;
    memset(a, 0, sizeof *a);
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            return CLI_OK;
        } else if (strcmp(arg, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(arg, "--out") == 0 && has_value) {
            a->model_path = argv[++i];
        } else if (strcmp(arg, "--data") == 0 && has_value) {
            if (cli_data_files_add(&a->data, argv[++i], argv[0]) != CLI_OK) return CLI_USAGE;
        } else if (strcmp(arg, "--checkpoint") == 0 && has_value) {
            a->checkpoint = argv[++i];
        } else if (strcmp(arg, "--stop-after") == 0 && has_value) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || v == 0) {
                fprintf(stderr,
                        "lathe %s: --stop-after needs a positive number of batches, not "
                        "'%s'\n",
                        argv[0], argv[i]);
                return CLI_USAGE;
            }
            a->stop_after = (size_t)v;
        } else if (train && strcmp(arg, "--resume") == 0 && has_value) {
            a->resume = argv[++i];
        } else if (train && strcmp(arg, "--init") == 0 && has_value) {
            a->init = argv[++i];
        } else if (arg[0] == '-') {
            fprintf(stderr, "lathe %s: unknown option '%s'%s\n\n%s", argv[0], arg,
                    has_value ? "" : " (or its value is missing)", usage);
            return CLI_USAGE;
        } else if (!a->path) {
            a->path = arg;
        } else {
            fprintf(stderr, "lathe %s: one experiment at a time ('%s' is extra)\n", argv[0], arg);
            return CLI_USAGE;
        }
    }
    if (!a->path) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (train && !a->resume == !a->init) {
        fprintf(stderr,
                "lathe train: give exactly one of --resume CHECKPOINT or --init MODEL\n\n%s",
                usage);
        return CLI_USAGE;
    }
    return -1;
}

/* run and train: everything but the argument parsing. */
static int train_experiment(const run_args *a) {
    const char *path = a->path;
    int status = CLI_OK;
    char *text = NULL, weights[65], prepared_hash[65], *metrics_text = NULL;
    size_t n, steps_at_start, batches_left = a->stop_after;
    lathe_error err;
    lathe_session *session = NULL;
    const lathe_experiment *exp;
    const lathe_prepared *prep;
    lathe_trainer *trainer;
    lathe_model *init = NULL, *teacher = NULL;
    lathe_status st = LATHE_OK;
    lathe_metrics train_m, val_m, test_m;
    lathe_progress progress;
    lathe_class_report *test_report = NULL;
    int tty = isatty(2), interrupted = 0;
    double started;

    text = cli_read_file(path, &n);
    if (!text) return CLI_USAGE;
    if ((status = cli_open_session(path, text, n, &a->data, &session)) != CLI_OK) goto done;
    if (a->init && (status = cli_load_model(a->init, &init)) != CLI_OK) goto done;
    if ((status = cli_load_teacher(path, session, &teacher)) != CLI_OK) goto done;
    if (lathe_session_build(session, init, &err) != LATHE_OK) {
        cli_error(init ? a->init : path, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
        goto done;
    }
    exp = lathe_session_experiment(session);
    prep = lathe_session_prepared(session);
    trainer = lathe_session_trainer(session);
    lathe_session_prepared_sha256(session, prepared_hash);
    if (a->resume) {
        size_t size;
        char *bytes = cli_read_file(a->resume, &size);
        if (!bytes) {
            status = CLI_USAGE;
            goto done;
        }
        st = lathe_session_checkpoint_restore(session, bytes, size, &err);
        free(bytes);
        if (st != LATHE_OK) {
            cli_error(a->resume, err.message);
            status = CLI_USAGE;
            goto done;
        }
        progress = lathe_trainer_progress(trainer);
        if (!a->quiet)
            fprintf(stderr, "resuming at epoch %zu/%zu, batch %zu/%zu\n", progress.epoch + 1,
                    progress.epochs, progress.batch, progress.batches_per_epoch);
    }
    started = now_seconds();
    steps_at_start = lathe_trainer_progress(trainer).steps;
    progress = lathe_trainer_progress(trainer);
    while (!progress.done) {
        size_t want = progress.batches_per_epoch - progress.batch, epoch = progress.epoch;
        if (tty && want > 8) want = (want + 7) / 8; /* redraw the bar 8 times an epoch */
        if (a->stop_after && want > batches_left) want = batches_left;
        st = lathe_trainer_step(trainer, want, &err);
        progress = lathe_trainer_progress(trainer);
        if (st != LATHE_OK) break;
        if (!a->quiet)
            report_progress(&progress, started, steps_at_start, tty, progress.epoch > epoch);
        if (a->checkpoint && progress.epoch > epoch &&
            (status = save_checkpoint(a, session)) != CLI_OK)
            goto done;
        if (a->stop_after && (batches_left -= want) == 0 && !progress.done) {
            interrupted = 1;
            break;
        }
    }
    if (!a->quiet && tty) fputc('\n', stderr);
    if (interrupted) {
        if (a->checkpoint && (status = save_checkpoint(a, session)) != CLI_OK) goto done;
        if (!a->quiet)
            fprintf(stderr, "stopped after %zu batches at epoch %zu, batch %zu%s%s\n",
                    a->stop_after, progress.epoch + 1, progress.batch,
                    a->checkpoint ? "; checkpoint saved to " : "",
                    a->checkpoint ? a->checkpoint : "");
    }
    if (!a->quiet && progress.stopped_early)
        fprintf(stderr,
                "stopped early after epoch %zu: no better validation %s for %zu epochs; kept "
                "the weights of epoch %zu (%.6g)\n",
                progress.epoch, exp->early_stopping_accuracy ? "accuracy" : "loss",
                exp->early_stopping_patience, progress.best_epoch, (double)progress.best_value);
    if (st != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_FAILED;
    }
    lathe_trainer_weights_sha256(trainer, weights);
    if ((a->model_path || a->json) &&
        lathe_session_metrics_json(session, &metrics_text, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_FAILED;
        goto done;
    }
    if (a->model_path) {
        char *model = NULL;
        if (lathe_session_model_file(session, metrics_text, &model, &err) != LATHE_OK) {
            cli_error(a->model_path, err.message);
            status = CLI_FAILED;
        } else if (cli_write_file(a->model_path, model, strlen(model)) != CLI_OK) {
            status = CLI_FAILED;
        }
        lathe_free(model);
    }
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        char *printed;
        size_t n_params;
        (void)lathe_trainer_params(trainer, &n_params);
        cJSON_AddStringToObject(o, "experiment", path);
        cJSON_AddStringToObject(o, "status",
                                st != LATHE_OK ? "diverged"
                                : interrupted  ? "stopped"
                                               : "ok");
        cJSON_AddStringToObject(o, "data_sha256", lathe_session_data_sha256(session));
        cJSON_AddStringToObject(o, "prepared_sha256", prepared_hash);
        cJSON_AddNumberToObject(o, "features", (double)prep->n_features);
        cJSON_AddNumberToObject(o, "parameters", (double)n_params);
        cJSON_AddNumberToObject(o, "epochs", (double)progress.epoch);
        cJSON_AddNumberToObject(o, "steps", (double)progress.steps);
        if (exp->early_stopping) {
            cJSON_AddBoolToObject(o, "stopped_early", progress.stopped_early);
            cJSON_AddNumberToObject(o, "best_epoch", (double)progress.best_epoch);
        }
        cJSON_AddItemToObject(o, "metrics", cJSON_Parse(metrics_text));
        if (exp->prune) add_sparsity(o, trainer);
        cJSON_AddStringToObject(o, "weights_sha256", weights);
        printed = cJSON_Print(o);
        if (printed) puts(printed);
        cJSON_free(printed);
        cJSON_Delete(o);
    } else {
        train_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TRAIN);
        val_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_VALIDATION);
        test_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
        test_report = split_report(session, LATHE_SPLIT_TEST);
        printf("%s: %zu features, %zu train / %zu validation / %zu test rows\n", path,
               prep->n_features, prep->train.rows, prep->validation.rows, prep->test.rows);
        print_metrics("train", &train_m, prep->task);
        print_metrics("validation", &val_m, prep->task);
        print_metrics("test", &test_m, prep->task);
        if (test_report) cli_print_class_report("test split", test_report, prep->class_names);
        if (exp->prune) print_sparsity(trainer, exp->prune_sparsity);
        printf("\nweights sha256 %s\n", weights);
    }

done:
    lathe_free(metrics_text);
    lathe_class_report_destroy(test_report);
    lathe_model_destroy(init);
    lathe_session_destroy(session);
    lathe_model_destroy(teacher);
    free(text);
    return status;
}

int cmd_run(int argc, char **argv) {
    run_args a;
    int status = parse_run_args(argc, argv, 0, &a);
    return status >= 0 ? status : train_experiment(&a);
}

int cmd_train(int argc, char **argv) {
    run_args a;
    int status = parse_run_args(argc, argv, 1, &a);
    return status >= 0 ? status : train_experiment(&a);
}
