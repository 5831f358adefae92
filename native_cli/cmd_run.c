/* lathe run EXPERIMENT: prepare the data, train, evaluate, report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/alloc.h"
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
    lathe_trainer *trainer = NULL;
    lathe_status st;
    lathe_metrics train_m, val_m, test_m;
    lathe_progress progress;
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
    status = cli_load_data(exp, path, data_override, &table, fingerprint);
    if (status != CLI_OK) goto done;
    if (lathe_prepare(exp, table, &prep, &err) != LATHE_OK ||
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
    if (st != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_FAILED;
    }
    train_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TRAIN);
    val_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_VALIDATION);
    test_m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
    lathe_trainer_weights_sha256(trainer, weights);
    if (model_path) {
        cJSON *metrics = cJSON_CreateObject();
        char *metrics_text, *model = NULL;
        cJSON_AddItemToObject(metrics, "train", metrics_json(&train_m, prep->task));
        if (val_m.rows) cJSON_AddItemToObject(metrics, "validation", metrics_json(&val_m, prep->task));
        cJSON_AddItemToObject(metrics, "test", metrics_json(&test_m, prep->task));
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
        cJSON *o = cJSON_CreateObject(), *metrics = cJSON_CreateObject();
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
        cJSON_AddItemToObject(metrics, "train", metrics_json(&train_m, prep->task));
        if (val_m.rows) cJSON_AddItemToObject(metrics, "validation", metrics_json(&val_m, prep->task));
        cJSON_AddItemToObject(metrics, "test", metrics_json(&test_m, prep->task));
        cJSON_AddItemToObject(o, "metrics", metrics);
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
        printf("weights sha256 %s\n", weights);
    }

done:
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
    lathe_table_destroy(table);
    lathe_experiment_destroy(exp);
    free(text);
    return status;
}
