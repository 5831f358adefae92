/* lathe cv EXPERIMENT: k-fold cross-validation. Runs the experiment once per fold of its
 * split ("folds": k; "fold" is replaced by 0 … k − 1), each run exactly as `lathe run` with
 * that fold would, and prints every fold's validation metrics and their mean ± standard
 * deviation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/metrics.h"
#include "lathe/prepare.h"
#include "lathe/trainer.h"

static const char cv_usage_text[] =
    "usage: lathe cv EXPERIMENT [--json] [--quiet] [--data FILE]\n"
    "\n"
    "Cross-validates an experiment whose split has \"folds\": k. Trains once per fold\n"
    "(\"fold\" 0 to k − 1, as `lathe run` would with that fold) and prints each fold's\n"
    "validation metrics, then their mean ± standard deviation (population, as numpy's\n"
    "std). The test rows are the same in every fold and are not reported.\n"
    "\n"
    "options:\n"
    "  --json       print one JSON object (folds, mean, std) on stdout\n"
    "  --quiet      no progress on stderr\n"
    "  --data FILE  use FILE instead of the experiment's data (skips the data.sha256 check);\n"
    "               an IDX set is --data IMAGES --data LABELS\n"
    "  -h, --help   show this help\n";

/* The validation metrics reported per fold. */
enum { CV_LOSS = 0, CV_ACCURACY, CV_MACRO_F1, CV_MSE, CV_MAE, CV_R2, CV_METRICS };
static const char *const cv_names[CV_METRICS] = {"loss", "accuracy", "macro_f1",
                                                 "mse",  "mae",      "r2"};

/* The metrics of one fold's validation split into values[CV_METRICS] (NaN: not measured). */
static void fold_metrics(lathe_trainer *trainer, const lathe_prepared *prep, double *values) {
    lathe_metrics m = lathe_trainer_evaluate(trainer, LATHE_SPLIT_VALIDATION);
    size_t k;
    for (k = 0; k < CV_METRICS; k++)
        values[k] = __builtin_nan("");
    values[CV_LOSS] = (double)m.loss;
    if (prep->task == LATHE_TASK_CLASSIFICATION) {
        float *probs = malloc(prep->validation.rows * prep->n_classes * sizeof *probs);
        lathe_class_report *report = NULL;
        values[CV_ACCURACY] = (double)m.accuracy;
        if (probs) {
            lathe_trainer_predict_split(trainer, LATHE_SPLIT_VALIDATION, probs);
            if (lathe_class_report_create(prep->validation.rows, prep->n_classes,
                                          prep->validation.label, probs, &report, NULL) == LATHE_OK)
                values[CV_MACRO_F1] = report->macro_f1;
            lathe_class_report_destroy(report);
            free(probs);
        }
    } else {
        values[CV_MSE] = (double)m.mse, values[CV_MAE] = (double)m.mae,
        values[CV_R2] = (double)m.r2;
    }
}

/* Trains the session's fold; fills values. Returns the exit status. */
static int run_fold(lathe_session *session, const char *path, int quiet, size_t fold, size_t folds,
                    double *values) {
    const lathe_prepared *prep;
    lathe_trainer *trainer;
    lathe_error err;
    lathe_status st;
    lathe_progress progress;
    if (lathe_session_select_fold(session, fold, &err) != LATHE_OK ||
        lathe_session_build(session, NULL, &err) != LATHE_OK) {
        cli_error(path, err.message);
        return err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
    }
    prep = lathe_session_prepared(session);
    trainer = lathe_session_trainer(session);
    if (!quiet)
        fprintf(stderr, "fold %zu/%zu: %zu train / %zu validation rows\n", fold + 1, folds,
                prep->train.rows, prep->validation.rows);
    do {
        st = lathe_trainer_step(trainer, 64, &err);
        progress = lathe_trainer_progress(trainer);
    } while (st == LATHE_OK && !progress.done);
    fold_metrics(trainer, prep, values);
    if (st != LATHE_OK) {
        fprintf(stderr, "lathe: %s: fold %zu: %s\n", path, fold, err.message);
        return CLI_FAILED;
    }
    return CLI_OK;
}

int cmd_cv(int argc, char **argv) {
    const char *path = NULL;
    cli_data_files data = {{NULL}, 0};
    int json = 0, quiet = 0, status = CLI_OK, i;
    char *text = NULL;
    size_t n, k, f, folds = 0, split = 0;
    lathe_experiment *exp = NULL;
    lathe_session *session = NULL;
    lathe_model *teacher = NULL;
    lathe_error err;
    double *values = NULL; /* (folds, CV_METRICS) */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(cv_usage_text, stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            if (cli_data_files_add(&data, argv[++i], "cv") != CLI_OK) return CLI_USAGE;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "lathe cv: unexpected argument '%s'\n\n%s", argv[i], cv_usage_text);
            return CLI_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fputs(cv_usage_text, stderr);
        return CLI_USAGE;
    }
    text = cli_read_file(path, &n);
    if (!text) return CLI_USAGE;
    if (lathe_experiment_parse(text, n, &exp, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = CLI_USAGE;
        goto done;
    }
    for (k = 0; k < exp->n_ops; k++)
        if (exp->ops[k].kind == LATHE_PREP_SPLIT) split = k, folds = exp->ops[k].folds;
    if (folds < 2) {
        fprintf(stderr,
                "lathe: %s: prepare[%zu]: cross-validation needs a split with \"folds\" "
                "(e.g. {\"op\": \"split\", \"test\": 0.2, \"folds\": 5, \"fold\": 0})\n",
                path, split);
        status = CLI_USAGE;
        goto done;
    }
    status = cli_open_session(path, text, n, &data, &session);
    if (status != CLI_OK) goto done;
    if ((status = cli_load_teacher(path, session, &teacher)) != CLI_OK) goto done;
    values = malloc(folds * CV_METRICS * sizeof *values);
    if (!values) {
        cli_error(path, "out of memory");
        status = CLI_FAILED;
        goto done;
    }
    for (f = 0; f < folds && status == CLI_OK; f++) {
        status = run_fold(session, path, quiet, f, folds, values + f * CV_METRICS);
    }
    if (status != CLI_OK) goto done;
    {
        double mean[CV_METRICS], sd[CV_METRICS];
        cJSON *o = json ? cJSON_CreateObject() : NULL, *list = NULL;
        for (k = 0; k < CV_METRICS; k++) {
            double sum = 0.0, sq = 0.0;
            for (f = 0; f < folds; f++)
                sum += values[f * CV_METRICS + k];
            mean[k] = sum / (double)folds;
            for (f = 0; f < folds; f++) {
                double d = values[f * CV_METRICS + k] - mean[k];
                sq += d * d;
            }
            sd[k] = __builtin_sqrt(sq / (double)folds);
        }
        if (json) {
            cJSON *m = cJSON_CreateObject(), *s = cJSON_CreateObject();
            char *printed;
            cJSON_AddStringToObject(o, "experiment", path);
            cJSON_AddNumberToObject(o, "folds", (double)folds);
            cJSON_AddItemToObject(o, "validation", list = cJSON_CreateArray());
            for (f = 0; f < folds; f++) {
                cJSON *item = cJSON_CreateObject();
                for (k = 0; k < CV_METRICS; k++)
                    if (values[f * CV_METRICS + k] == values[f * CV_METRICS + k])
                        cJSON_AddNumberToObject(item, cv_names[k], values[f * CV_METRICS + k]);
                cJSON_AddItemToArray(list, item);
            }
            for (k = 0; k < CV_METRICS; k++)
                if (mean[k] == mean[k]) {
                    cJSON_AddNumberToObject(m, cv_names[k], mean[k]);
                    cJSON_AddNumberToObject(s, cv_names[k], sd[k]);
                }
            cJSON_AddItemToObject(o, "mean", m);
            cJSON_AddItemToObject(o, "std", s);
            printed = cJSON_Print(o);
            if (printed) puts(printed);
            cJSON_free(printed);
            cJSON_Delete(o);
        } else {
            printf("%s: %zu-fold cross-validation, validation metrics\n%-6s", path, folds, "fold");
            for (k = 0; k < CV_METRICS; k++)
                if (mean[k] == mean[k]) printf(" %10s", cv_names[k]);
            putchar('\n');
            for (f = 0; f < folds; f++) {
                printf("%-6zu", f);
                for (k = 0; k < CV_METRICS; k++)
                    if (mean[k] == mean[k]) printf(" %10.4f", values[f * CV_METRICS + k]);
                putchar('\n');
            }
            for (k = 0; k < CV_METRICS; k++)
                if (mean[k] == mean[k])
                    printf("%s%s %.4f ± %.4f", k ? ", " : "mean ± std: ", cv_names[k], mean[k],
                           sd[k]);
            putchar('\n');
        }
    }
done:
    free(values);
    lathe_session_destroy(session);
    lathe_model_destroy(teacher);
    lathe_experiment_destroy(exp);
    free(text);
    return status;
}
