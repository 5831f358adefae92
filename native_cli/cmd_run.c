/* lathe run EXPERIMENT: prepare the data, train, evaluate, report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/metrics.h"
#include "lathe/metrics_json.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static void run_usage(FILE *out) {
    fputs("usage: lathe run EXPERIMENT [--out MODEL] [--json] [--quiet] [--data FILE]\n"
          "\n"
          "Prepares the experiment's data, trains its model and prints the metrics and the\n"
          "SHA-256 of the final weights (little-endian float32, layer order).\n"
          "\n"
          "options:\n"
          "  --out MODEL    write the trained model file (*.lathe.json)\n"
          "  --json         print one JSON object (metrics, weights_sha256, ...) on stdout\n"
          "  --quiet        no progress on stderr\n"
          "  --data FILE    train on FILE instead of the experiment's data (skips the\n"
          "                 data.sha256 check)\n"
          "  -h, --help     show this help\n",
          out);
}

static cJSON *metrics_json(const lathe_metrics *m, lathe_task task) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rows", (double)m->rows);
    if (m->rows == 0) return o;
    cJSON_AddNumberToObject(o, "loss", (double)m->loss);
    if (task == LATHE_TASK_CLASSIFICATION) {
        cJSON_AddNumberToObject(o, "accuracy", (double)m->accuracy);
    } else {
        cJSON_AddNumberToObject(o, "mse", (double)m->mse);
        cJSON_AddNumberToObject(o, "mae", (double)m->mae);
        if (m->r2 == m->r2) cJSON_AddNumberToObject(o, "r2", (double)m->r2);
    }
    return o;
}

/* The classification report of one split (NULL when the split is empty or memory is short). */
static lathe_class_report *split_report(lathe_trainer *trainer, const lathe_prepared *prep,
                                        const lathe_split_data *s) {
    lathe_class_report *report = NULL;
    float *probs;
    if (prep->task != LATHE_TASK_CLASSIFICATION || s->rows == 0) return NULL;
    probs = malloc(s->rows * prep->n_classes * sizeof *probs);
    if (!probs) return NULL;
    lathe_trainer_predict(trainer, s->rows, s->x, probs);
    (void)lathe_class_report_create(s->rows, prep->n_classes, s->label, probs, &report, NULL);
    free(probs);
    return report;
}

static void add_report_json(cJSON *o, const lathe_class_report *r, const lathe_prepared *prep) {
    if (r) (void)lathe_class_report_add_json(o, r, prep->class_names);
}

/* {"train": …, "validation": … (when it has rows), "test": …} with the class reports. */
static cJSON *all_metrics_json(const lathe_prepared *prep, const lathe_metrics *train,
                               const lathe_metrics *val, const lathe_metrics *test,
                               const lathe_class_report *val_report,
                               const lathe_class_report *test_report) {
    cJSON *metrics = cJSON_CreateObject(), *item;
    cJSON_AddItemToObject(metrics, "train", metrics_json(train, prep->task));
    if (val->rows) {
        cJSON_AddItemToObject(metrics, "validation", item = metrics_json(val, prep->task));
        add_report_json(item, val_report, prep);
    }
    cJSON_AddItemToObject(metrics, "test", item = metrics_json(test, prep->task));
    add_report_json(item, test_report, prep);
    return metrics;
}

/* sklearn's classification_report layout, plus AUC, then the confusion matrix. */
static void print_report(const char *split, const lathe_class_report *r, const lathe_prepared *prep) {
    size_t c, k, width = 12;
    if (!r) return;
    for (c = 0; c < r->n_classes; c++)
        if (strlen(prep->class_names[c]) > width) width = strlen(prep->class_names[c]);
    if (width > 28) width = 28;
    printf("\n%s split, per class:\n%*s  precision    recall  f1-score   support   roc-auc\n", split,
           (int)width, "");
    for (c = 0; c < r->n_classes; c++)
        printf("%*.*s  %9.4f %9.4f %9.4f %9zu %9.4f\n", (int)width, (int)width, prep->class_names[c],
               r->precision[c], r->recall[c], r->f1[c], r->support[c], r->roc_auc[c]);
    printf("%*s  %9.4f %9.4f %9.4f %9zu %9.4f\n", (int)width, "macro avg", r->macro_precision,
           r->macro_recall, r->macro_f1, r->rows, r->macro_roc_auc);
    printf("%*s  %9.4f %9.4f %9.4f %9zu\n", (int)width, "weighted avg", r->weighted_precision,
           r->weighted_recall, r->weighted_f1, r->rows);
    printf("log loss %.4f\n\nconfusion matrix (rows: true class, columns: predicted):\n", r->log_loss);
    for (c = 0; c < r->n_classes; c++) {
        printf("%*.*s ", (int)width, (int)width, prep->class_names[c]);
        for (k = 0; k < r->n_classes; k++) printf(" %6zu", r->confusion[c * r->n_classes + k]);
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

int cmd_run(int argc, char **argv) {
    const char *path = NULL, *data_override = NULL, *model_path = NULL;
    int json = 0, quiet = 0, status = CLI_OK, i;
    char *text = NULL, fingerprint[65], weights[65], prepared_hash[65];
    size_t n;
    lathe_error err;
    lathe_experiment *exp = NULL;
    lathe_table *table = NULL;
    lathe_prepared *prep = NULL;
    lathe_data_layout layout;
    lathe_trainer *trainer = NULL;
    lathe_status st;
    lathe_metrics train_m, val_m, test_m;
    lathe_progress progress;
    lathe_class_report *val_report = NULL, *test_report = NULL;
    int progress_on_tty;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            run_usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            model_path = argv[++i];
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data_override = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "lathe run: unknown option '%s'\n", argv[i]);
            run_usage(stderr);
            return CLI_USAGE;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "lathe run: one experiment at a time ('%s' is extra)\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!path) {
        run_usage(stderr);
        return CLI_USAGE;
    }
    text = cli_read_file(path, &n);
    if (!text) return CLI_USAGE;
    if (lathe_experiment_parse(text, n, &exp, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_USAGE;
        goto done;
    }
    status = cli_load_data(exp, path, data_override, &table, &layout, fingerprint);
    if (status != CLI_OK) goto done;
    if (lathe_prepare_layout(exp, table, &layout, &prep, &err) != LATHE_OK ||
        lathe_trainer_create(exp, prep, &trainer, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
        goto done;
    }
    lathe_prepared_sha256(prep, prepared_hash);
    progress_on_tty = isatty(2);
    do {
        progress = lathe_trainer_progress(trainer);
        st = lathe_trainer_step(trainer, progress.batches_per_epoch - progress.batch, &err);
        progress = lathe_trainer_progress(trainer);
        if (!quiet && st == LATHE_OK) {
            if (progress_on_tty)
                fprintf(stderr, "\repoch %zu/%zu  loss %.6f", progress.epoch, progress.epochs,
                        (double)progress.last_epoch_loss);
            else
                fprintf(stderr, "epoch %zu/%zu loss %.6f\n", progress.epoch, progress.epochs,
                        (double)progress.last_epoch_loss);
        }
    } while (st == LATHE_OK && !progress.done);
    if (!quiet && progress_on_tty) fputc('\n', stderr);
    if (!quiet && progress.stopped_early)
        fprintf(stderr, "stopped early after epoch %zu: no better validation %s for %zu epochs; kept "
                        "the weights of epoch %zu (%.6g)\n",
                progress.epoch, exp->early_stopping_accuracy ? "accuracy" : "loss",
                exp->early_stopping_patience, progress.best_epoch, (double)progress.best_value);
    if (st != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_FAILED;
    }
    train_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TRAIN);
    val_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_VALIDATION);
    test_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
    lathe_trainer_weights_sha256(trainer, weights);
    val_report = split_report(trainer, prep, &prep->validation);
    test_report = split_report(trainer, prep, &prep->test);
    if (model_path) {
        cJSON *metrics = all_metrics_json(prep, &train_m, &val_m, &test_m, val_report, test_report);
        char *metrics_text, *model = NULL;
        metrics_text = cJSON_PrintUnformatted(metrics);
        cJSON_Delete(metrics);
        if (lathe_model_file_write(text, n, prep, trainer, metrics_text, &model, &err) != LATHE_OK) {
            cli_error(model_path, err.message);
            status = CLI_FAILED;
        } else {
            FILE *f = fopen(model_path, "wb");
            size_t len = strlen(model);
            if (!f || fwrite(model, 1, len, f) != len || fclose(f) != 0) {
                cli_error(model_path, "could not write the model file");
                status = CLI_FAILED;
            }
        }
        lathe_free(model);
        lathe_free(metrics_text);
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        char *printed;
        size_t n_params;
        (void)lathe_trainer_params(trainer, &n_params);
        cJSON_AddStringToObject(o, "experiment", path);
        cJSON_AddStringToObject(o, "status", st == LATHE_OK ? "ok" : "diverged");
        cJSON_AddStringToObject(o, "data_sha256", fingerprint);
        cJSON_AddStringToObject(o, "prepared_sha256", prepared_hash);
        cJSON_AddNumberToObject(o, "features", (double)prep->n_features);
        cJSON_AddNumberToObject(o, "parameters", (double)n_params);
        cJSON_AddNumberToObject(o, "epochs", (double)progress.epoch);
        cJSON_AddNumberToObject(o, "steps", (double)progress.steps);
        if (exp->early_stopping) {
            cJSON_AddBoolToObject(o, "stopped_early", progress.stopped_early);
            cJSON_AddNumberToObject(o, "best_epoch", (double)progress.best_epoch);
        }
        cJSON_AddItemToObject(o, "metrics", all_metrics_json(prep, &train_m, &val_m, &test_m,
                                                             val_report, test_report));
        cJSON_AddStringToObject(o, "weights_sha256", weights);
        printed = cJSON_Print(o);
        if (printed) puts(printed);
        free(printed);
        cJSON_Delete(o);
    } else {
        printf("%s: %zu features, %zu train / %zu validation / %zu test rows\n", path,
               prep->n_features, prep->train.rows, prep->validation.rows, prep->test.rows);
        print_metrics("train", &train_m, prep->task);
        print_metrics("validation", &val_m, prep->task);
        print_metrics("test", &test_m, prep->task);
        print_report("test", test_report, prep);
        printf("\nweights sha256 %s\n", weights);
    }

done:
    lathe_class_report_destroy(val_report);
    lathe_class_report_destroy(test_report);
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    free(text);
    return status;
}
