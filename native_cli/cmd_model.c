/* The commands that take a trained model file: inspect, predict and eval. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/model.h"

/* Options shared by the three commands. */
typedef struct model_args {
    const char *model, *data, *out, *format;
    int json, quiet;
} model_args;

/* Parses argv (argv[0] is the command). want_data: the command takes DATA after MODEL.
 * Returns -1 to go on, else the exit status (help printed, or a usage error). */
static int parse_args(int argc, char **argv, int want_data, int want_out, const char *usage,
                      model_args *a) {
    int i;
    memset(a, 0, sizeof *a);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            a->quiet = 1;
        } else if (want_out && strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            a->out = argv[++i];
        } else if (want_out && strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            a->format = argv[++i];
            if (strcmp(a->format, "csv") != 0 && strcmp(a->format, "json") != 0) {
                fprintf(stderr, "lathe %s: --format is csv or json, not '%s'\n", argv[0],
                        a->format);
                return CLI_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lathe %s: unknown option '%s'\n%s", argv[0], argv[i], usage);
            return CLI_USAGE;
        } else if (!a->model) {
            a->model = argv[i];
        } else if (want_data && !a->data) {
            a->data = argv[i];
        } else {
            fprintf(stderr, "lathe %s: unexpected argument '%s'\n%s", argv[0], argv[i], usage);
            return CLI_USAGE;
        }
    }
    if (!a->model || (want_data && !a->data)) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    return -1;
}

static const char *layer_name(const lathe_layer_info *info) {
    return lathe_layer_type_name(info->kind, info->activation);
}

static const char *data_source(const lathe_experiment *exp, char *buf, size_t cap) {
    if (exp->data_kind == LATHE_DATA_BUILTIN)
        snprintf(buf, cap, "built-in set '%s'", exp->data_name);
    else if (exp->data_kind == LATHE_DATA_SYNTHETIC)
        snprintf(buf, cap, "synthetic '%s' (%zu samples)", exp->data_name, exp->synthetic_samples);
    else if (exp->data_kind == LATHE_DATA_IDX_FILES)
        snprintf(buf, cap, "image files '%s' and '%s'%s", exp->data_files[0], exp->data_files[1],
                 exp->n_data_files == 4 ? " (and their test files)" : "");
    else
        snprintf(buf, cap, "file '%s'", exp->data_file);
    return buf;
}

static const char *optimizer_name(const lathe_experiment *exp) {
    switch (exp->optimizer.kind) {
    case LATHE_OPT_ADAM:
        return "adam";
    case LATHE_OPT_ADAMW:
        return "adamw";
    default:
        return exp->optimizer.momentum > 0.0f ? "sgd (momentum)" : "sgd";
    }
}

static const char inspect_usage[] =
    "usage: lathe inspect MODEL [--json]\n"
    "\n"
    "Validates a model file and describes it: task, inputs, layers with their output shapes,\n"
    "parameters and FLOPs per sample, how it was trained, its metrics and its weights hash.\n"
    "\n"
    "options:\n"
    "  --json      one JSON object on stdout\n"
    "  -h, --help  show this help\n";

int cmd_inspect(int argc, char **argv) {
    model_args a;
    lathe_model *m = NULL;
    const lathe_experiment *exp;
    const lathe_prepared *prep;
    lathe_trainer *net;
    size_t i, n_layers, n_params;
    double total_flops = 0.0;
    size_t n_int8 = 0;
    char source[2 * LATHE_PATH_MAX + 96];
    int status = parse_args(argc, argv, 0, 0, inspect_usage, &a);
    cJSON *metrics = NULL;
    if (status >= 0) return status;
    if ((status = cli_load_model(a.model, &m)) != CLI_OK) return status;
    exp = lathe_model_experiment(m);
    prep = lathe_model_preparation(m);
    net = lathe_model_network(m);
    n_layers = lathe_trainer_layer_count(net);
    (void)lathe_trainer_params(net, &n_params);
    if (lathe_model_metrics_json(m)) metrics = cJSON_Parse(lathe_model_metrics_json(m));
    data_source(exp, source, sizeof source);
    if (a.json) {
        cJSON *o = cJSON_CreateObject(), *layers, *inputs, *classes;
        char *text;
        cJSON_AddStringToObject(o, "model", a.model);
        cJSON_AddStringToObject(o, "producer", lathe_model_producer(m));
        cJSON_AddStringToObject(
            o, "task", prep->task == LATHE_TASK_CLASSIFICATION ? "classification" : "regression");
        cJSON_AddStringToObject(o, "target", prep->target);
        inputs = cJSON_AddArrayToObject(o, "inputs");
        for (i = 0; i < prep->n_inputs; i++) {
            cJSON *in = cJSON_CreateObject();
            cJSON_AddStringToObject(in, "column", prep->inputs[i].name);
            cJSON_AddStringToObject(in, "type",
                                    prep->inputs[i].type == LATHE_COLUMN_CATEGORICAL ? "categorical"
                                    : prep->inputs[i].type == LATHE_COLUMN_BOOLEAN   ? "boolean"
                                                                                     : "numeric");
            cJSON_AddNumberToObject(in, "features", (double)prep->inputs[i].width);
            cJSON_AddItemToArray(inputs, in);
        }
        cJSON_AddNumberToObject(o, "features", (double)prep->n_features);
        classes =
            cJSON_CreateStringArray((const char *const *)prep->class_names, (int)prep->n_classes);
        cJSON_AddItemToObject(o, "classes", classes);
        layers = cJSON_AddArrayToObject(o, "layers");
        for (i = 0; i < n_layers; i++) {
            lathe_layer_info info;
            cJSON *l = cJSON_CreateObject(), *shape = cJSON_CreateArray();
            lathe_trainer_layer(net, i, &info);
            cJSON_AddStringToObject(l, "type", layer_name(&info));
            if (info.out_image) {
                cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)info.out_c));
                cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)info.out_h));
                cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)info.out_w));
            } else {
                cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)info.out));
            }
            cJSON_AddItemToObject(l, "output", shape);
            cJSON_AddNumberToObject(l, "parameters", (double)(info.n_weights + info.n_bias));
            cJSON_AddNumberToObject(l, "flops", lathe_layer_flops(&info));
            cJSON_AddItemToArray(layers, l);
        }
        cJSON_AddNumberToObject(o, "parameters", (double)n_params);
        cJSON_AddStringToObject(o, "data", source);
        cJSON_AddStringToObject(o, "data_sha256", exp->data_sha256);
        cJSON_AddNumberToObject(o, "seed", (double)exp->seed);
        if (metrics) cJSON_AddItemToObject(o, "metrics", metrics), metrics = NULL;
        cJSON_AddStringToObject(o, "weights_sha256", lathe_model_weights_sha256(m));
        text = cJSON_Print(o);
        if (text) puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        const cJSON *test = metrics ? cJSON_GetObjectItem(metrics, "test") : NULL;
        const cJSON *val = metrics ? cJSON_GetObjectItem(metrics, "validation") : NULL;
        size_t n_cat = 0;
        printf("%s: a Lathe model%s%s\n", a.model, lathe_model_producer(m)[0] ? ", made by " : "",
               lathe_model_producer(m));
        if (prep->task == LATHE_TASK_CLASSIFICATION) {
            printf("task       classification of '%s' into %zu classes:", prep->target,
                   prep->n_classes);
            for (i = 0; i < prep->n_classes && i < 12; i++)
                printf(" %s", prep->class_names[i]);
            printf("%s\n", prep->n_classes > 12 ? " …" : "");
        } else {
            printf("task       regression of '%s'\n", prep->target);
        }
        for (i = 0; i < prep->n_inputs; i++)
            n_cat += prep->inputs[i].type == LATHE_COLUMN_CATEGORICAL;
        printf("inputs     %zu column%s -> %zu features", prep->n_inputs,
               prep->n_inputs == 1 ? "" : "s", prep->n_features);
        if (n_cat) printf(" (%zu categorical, one-hot encoded)", n_cat);
        if (prep->image[0])
            printf(", an image %zux%zux%zu", prep->image[0], prep->image[1], prep->image[2]);
        printf("\ntrained on %s%s%.12s%s, seed %llu\n", source,
               exp->data_sha256[0] ? " (sha256 " : "", exp->data_sha256,
               exp->data_sha256[0] ? "…)" : "", (unsigned long long)exp->seed);
        printf("training   %s lr %g, batch %zu, %zu epochs\n", optimizer_name(exp),
               (double)exp->optimizer.lr, exp->batch_size, exp->epochs);
        printf("\n  #  %-11s %-14s %11s %13s\n", "layer", "output", "parameters", "FLOPs");
        for (i = 0; i < n_layers; i++) {
            lathe_layer_info info;
            char shape[48];
            lathe_trainer_layer(net, i, &info);
            if (info.out_image)
                snprintf(shape, sizeof shape, "%zux%zux%zu", info.out_c, info.out_h, info.out_w);
            else
                snprintf(shape, sizeof shape, "%zu", info.out);
            total_flops += lathe_layer_flops(&info);
            printf("%3zu  %-11s %-14s %11zu %13.0f%s\n", i, layer_name(&info), shape,
                   info.n_weights + info.n_bias, lathe_layer_flops(&info),
                   info.int8 ? "  int8" : "");
            n_int8 += info.int8 != NULL;
        }
        printf("     %-11s %-14s %11zu %13.0f\n\n", "total", "", n_params, total_flops);
        if (n_int8) {
            const cJSON *q = cJSON_GetObjectItem(metrics, "int8");
            const cJSON *rows = cJSON_GetObjectItem(q, "calibration_rows"),
                        *from = cJSON_GetObjectItem(q, "float_weights_sha256");
            printf("int8       %zu layer%s (weights per output channel; inputs per tensor", n_int8,
                   n_int8 == 1 ? "" : "s");
            if (cJSON_IsNumber(rows)) printf(", calibrated on %g training rows", rows->valuedouble);
            printf(")\n");
            if (cJSON_IsString(from)) printf("           from the float model %.12s…\n", from->valuestring);
            printf("\n");
        }
        if (test || val) {
            const cJSON *sets[2];
            const char *names[2] = {"validation", "test"};
            size_t k;
            sets[0] = val, sets[1] = test;
            for (k = 0; k < 2; k++) {
                const cJSON *s = sets[k], *rows, *acc, *r2, *mse;
                if (!s) continue;
                rows = cJSON_GetObjectItem(s, "rows");
                acc = cJSON_GetObjectItem(s, "accuracy");
                r2 = cJSON_GetObjectItem(s, "r2");
                mse = cJSON_GetObjectItem(s, "mse");
                printf("%-10s %g rows", names[k], cJSON_IsNumber(rows) ? rows->valuedouble : 0.0);
                if (cJSON_IsNumber(acc)) printf(", accuracy %.4f", acc->valuedouble);
                if (cJSON_IsNumber(mse)) printf(", mse %.6g", mse->valuedouble);
                if (cJSON_IsNumber(r2)) printf(", r2 %.4f", r2->valuedouble);
                putchar('\n');
            }
        } else {
            printf("metrics    none stored\n");
        }
        printf("weights sha256 %s (verified)\n", lathe_model_weights_sha256(m));
    }
    cJSON_Delete(metrics);
    lathe_model_destroy(m);
    return CLI_OK;
}

static const char predict_usage[] =
    "usage: lathe predict MODEL DATA.csv [--out FILE] [--format csv|json] [--json]\n"
    "\n"
    "Predicts every row of a CSV file of raw data (the columns the model was trained on; the\n"
    "target column may be absent, other columns are ignored). The model's own preparation is\n"
    "applied first. Writes one line per row: the prediction and, for a classifier, each\n"
    "class's probability.\n"
    "\n"
    "options:\n"
    "  --out FILE      write there instead of stdout (FILE.json: JSON)\n"
    "  --format FMT    csv (default) or json\n"
    "  --json          same as --format json\n"
    "  -h, --help      show this help\n";

/* Writes a CSV field, quoted when it needs to be. */
static void csv_field(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int cmd_predict(int argc, char **argv) {
    model_args a;
    lathe_model *m = NULL;
    lathe_table *table = NULL;
    lathe_error err;
    float *pred = NULL;
    size_t rows = 0, unseen = 0, C, r, c;
    const lathe_prepared *prep;
    int status = parse_args(argc, argv, 1, 1, predict_usage, &a), json;
    FILE *f = stdout;
    char tmp[4096];
    if (status >= 0) return status;
    json = a.json || (a.format && strcmp(a.format, "json") == 0) ||
           (!a.format && a.out && strlen(a.out) > 5 &&
            strcmp(a.out + strlen(a.out) - 5, ".json") == 0);
    if ((status = cli_load_model(a.model, &m)) != CLI_OK) return status;
    if ((status = cli_read_csv(a.data, &table)) != CLI_OK) goto done;
    if (lathe_model_predict_table(m, table, &pred, &rows, &unseen, &err) != LATHE_OK) {
        cli_error(a.data, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
        goto done;
    }
    prep = lathe_model_preparation(m);
    C = lathe_trainer_n_outputs(lathe_model_network(m));
    if (a.out) {
        snprintf(tmp, sizeof tmp, "%s.tmp", a.out);
        f = fopen(tmp, "wb");
        if (!f) {
            cli_error(a.out, "could not create the file");
            status = CLI_FAILED;
            goto done;
        }
    }
    if (json) {
        fputs("{\"model\": ", f);
        {
            cJSON *s = cJSON_CreateString(a.model);
            char *t = cJSON_PrintUnformatted(s);
            fputs(t ? t : "\"\"", f);
            cJSON_free(t);
            cJSON_Delete(s);
        }
        fprintf(f, ", \"rows\": %zu, \"predictions\": [", rows);
    } else {
        fputs("row,prediction", f);
        for (c = 0; prep->task == LATHE_TASK_CLASSIFICATION && c < C; c++) {
            char name[300];
            snprintf(name, sizeof name, "p(%s)", prep->class_names[c]);
            fputc(',', f);
            csv_field(f, name);
        }
        fputc('\n', f);
    }
    for (r = 0; r < rows; r++) {
        const float *p = pred + r * C;
        if (prep->task == LATHE_TASK_CLASSIFICATION) {
            size_t best = 0;
            for (c = 1; c < C; c++)
                if (p[c] > p[best]) best = c;
            if (json) {
                cJSON *o = cJSON_CreateObject(),
                      *probs = cJSON_AddObjectToObject(o, "probabilities");
                char *t;
                cJSON_AddNumberToObject(o, "row", (double)(r + 1));
                cJSON_AddStringToObject(o, "prediction", prep->class_names[best]);
                for (c = 0; c < C; c++)
                    cJSON_AddNumberToObject(probs, prep->class_names[c], (double)p[c]);
                t = cJSON_PrintUnformatted(o);
                fprintf(f, "%s%s", r ? ",\n  " : "\n  ", t ? t : "null");
                cJSON_free(t);
                cJSON_Delete(o);
            } else {
                fprintf(f, "%zu,", r + 1);
                csv_field(f, prep->class_names[best]);
                for (c = 0; c < C; c++)
                    fprintf(f, ",%.9g", (double)p[c]);
                fputc('\n', f);
            }
        } else if (json) {
            fprintf(f, "%s{\"row\": %zu, \"prediction\": %.9g}", r ? ",\n  " : "\n  ", r + 1,
                    (double)p[0]);
        } else {
            fprintf(f, "%zu,%.9g\n", r + 1, (double)p[0]);
        }
    }
    if (json) fputs("\n]}\n", f);
    if (a.out) {
        if (fclose(f) != 0 || rename(tmp, a.out) != 0) {
            cli_error(a.out, "could not write the predictions");
            remove(tmp);
            status = CLI_FAILED;
            goto done;
        }
        if (!a.quiet) fprintf(stderr, "lathe: wrote %zu predictions to %s\n", rows, a.out);
    }
    if (unseen && !a.quiet)
        fprintf(stderr,
                "lathe: note: %zu cell%s held a category the model never saw in training "
                "(encoded as none of the known ones)\n",
                unseen, unseen == 1 ? "" : "s");
done:
    lathe_free(pred);
    lathe_table_destroy(table);
    lathe_model_destroy(m);
    return status;
}

static const char eval_usage[] =
    "usage: lathe eval MODEL DATA.csv [--json]\n"
    "\n"
    "Evaluates a model on a CSV file of raw data that includes the target column: accuracy,\n"
    "per-class precision, recall, F1 and ROC AUC, log loss and the confusion matrix for a\n"
    "classifier; MSE, MAE, RMSE and R² for a regression model.\n"
    "\n"
    "options:\n"
    "  --json      one JSON object on stdout\n"
    "  -h, --help  show this help\n";

int cmd_eval(int argc, char **argv) {
    model_args a;
    lathe_model *m = NULL;
    lathe_table *table = NULL;
    lathe_error err;
    lathe_model_evaluation ev;
    const lathe_prepared *prep;
    int status = parse_args(argc, argv, 1, 0, eval_usage, &a);
    memset(&ev, 0, sizeof ev);
    if (status >= 0) return status;
    if ((status = cli_load_model(a.model, &m)) != CLI_OK) return status;
    if ((status = cli_read_csv(a.data, &table)) != CLI_OK) goto done;
    if (lathe_model_evaluate_table(m, table, &ev, &err) != LATHE_OK) {
        cli_error(a.data, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
        goto done;
    }
    prep = lathe_model_preparation(m);
    if (a.json) {
        char *json = NULL, *t;
        cJSON *o = cJSON_CreateObject(), *core, *item;
        if (lathe_model_evaluation_json(m, &ev, &json, &err) != LATHE_OK) {
            cli_error(a.model, err.message);
            status = CLI_FAILED;
            cJSON_Delete(o);
            goto done;
        }
        core = cJSON_Parse(json);
        lathe_free(json);
        cJSON_AddStringToObject(o, "model", a.model);
        cJSON_AddStringToObject(o, "data", a.data);
        while (core && (item = cJSON_DetachItemViaPointer(core, core->child)) != NULL)
            cJSON_AddItemToObject(o, item->string, item);
        cJSON_Delete(core);
        t = cJSON_Print(o);
        if (t) puts(t);
        cJSON_free(t);
        cJSON_Delete(o);
    } else {
        printf("%s on %s: %zu rows\n", a.model, a.data, ev.rows);
        if (ev.report) {
            printf("accuracy %.4f\n", ev.report->accuracy);
            cli_print_class_report("all rows", ev.report, prep->class_names);
        } else {
            printf("mse %.6g  mae %.6g  rmse %.6g  r2 %.4f\n", ev.regression.mse, ev.regression.mae,
                   ev.regression.rmse, ev.regression.r2);
        }
        if (ev.unseen)
            printf("note: %zu cell%s held a category not seen in training\n", ev.unseen,
                   ev.unseen == 1 ? "" : "s");
    }
done:
    lathe_class_report_destroy(ev.report);
    lathe_table_destroy(table);
    lathe_model_destroy(m);
    return status;
}
