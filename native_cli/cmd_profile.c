/* lathe profile FILE: what is in a CSV file, column by column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/alloc.h"
#include "lathe/profile.h"

static void profile_usage(FILE *out) {
    fputs("usage: lathe profile FILE [--target COLUMN] [--json]\n"
          "\n"
          "Reads a CSV file and prints each column's type, missing and distinct counts,\n"
          "range, mean, standard deviation and quartiles (numbers) or most frequent values\n"
          "(categories), and the class balance of the target column.\n"
          "\n"
          "options:\n"
          "  --target COLUMN   show the class balance of COLUMN\n"
          "  --json            print one JSON object on stdout\n"
          "  -h, --help        show this help\n",
          out);
}

static const char *type_name(lathe_column_type t) {
    return t == LATHE_COLUMN_NUMERIC ? "numeric" : t == LATHE_COLUMN_BOOLEAN ? "boolean" : "categorical";
}

static const char *level_name(const lathe_column *col, size_t index) {
    if (col->type == LATHE_COLUMN_BOOLEAN) return index ? "true" : "false";
    return col->categories[index];
}

static void add_number(cJSON *o, const char *key, double v) {
    if (v == v) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

int cmd_profile(int argc, char **argv) {
    const char *path = NULL, *target = NULL;
    int json = 0, i, status = CLI_OK;
    char *bytes;
    size_t n, c, k;
    lathe_table *table = NULL;
    lathe_column_profile *profiles = NULL;
    lathe_error err;
    long target_index = -1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            profile_usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            target = argv[++i];
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "lathe profile: unexpected argument '%s'\n", argv[i]);
            profile_usage(stderr);
            return CLI_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        profile_usage(stderr);
        return CLI_USAGE;
    }
    bytes = cli_read_file(path, &n);
    if (!bytes) return CLI_USAGE;
    if (lathe_csv_read(bytes, n, NULL, &table, &err) != LATHE_OK) {
        cli_error(path, err.message);
        free(bytes);
        return CLI_USAGE;
    }
    free(bytes);
    if (target && (target_index = lathe_table_find(table, target)) < 0) {
        fprintf(stderr, "lathe profile: %s has no column named '%s'\n", path, target);
        status = CLI_USAGE;
        goto done;
    }
    profiles = calloc(table->cols, sizeof *profiles);
    if (!profiles || lathe_profile_table(table, profiles, &err) != LATHE_OK) {
        cli_error(path, "out of memory profiling the data");
        status = CLI_FAILED;
        goto done;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject(), *cols = cJSON_CreateArray();
        char *printed;
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddNumberToObject(o, "rows", (double)table->rows);
        cJSON_AddItemToObject(o, "columns", cols);
        for (c = 0; c < table->cols; c++) {
            const lathe_column *col = &table->columns[c];
            const lathe_column_profile *p = &profiles[c];
            cJSON *item = cJSON_CreateObject(), *top;
            cJSON_AddStringToObject(item, "name", col->name);
            cJSON_AddStringToObject(item, "type", type_name(col->type));
            cJSON_AddNumberToObject(item, "count", (double)p->count);
            cJSON_AddNumberToObject(item, "missing", (double)p->missing);
            cJSON_AddNumberToObject(item, "distinct", (double)p->distinct);
            if (col->type != LATHE_COLUMN_CATEGORICAL) {
                add_number(item, "min", p->min), add_number(item, "max", p->max);
                add_number(item, "mean", p->mean), add_number(item, "std", p->std);
                add_number(item, "q25", p->q25), add_number(item, "median", p->q50);
                add_number(item, "q75", p->q75);
            }
            if (p->n_top) {
                top = cJSON_AddArrayToObject(item, (long)c == target_index ? "class_balance" : "top");
                for (k = 0; k < p->n_top; k++) {
                    cJSON *entry = cJSON_CreateObject();
                    cJSON_AddStringToObject(entry, "value", level_name(col, p->top_index[k]));
                    cJSON_AddNumberToObject(entry, "count", (double)p->top_count[k]);
                    cJSON_AddItemToArray(top, entry);
                }
            }
            cJSON_AddItemToArray(cols, item);
        }
        printed = cJSON_Print(o);
        if (printed) puts(printed);
        cJSON_free(printed);
        cJSON_Delete(o);
        goto done;
    }
    printf("%s: %zu rows, %zu columns\n\n", path, table->rows, table->cols);
    printf("%-24s %-11s %7s %8s  %s\n", "column", "type", "missing", "distinct",
           "min / mean ± std / max  (quartiles)  or  most frequent");
    for (c = 0; c < table->cols; c++) {
        const lathe_column *col = &table->columns[c];
        const lathe_column_profile *p = &profiles[c];
        printf("%-24.24s %-11s %7zu %8zu  ", col->name, type_name(col->type), p->missing,
               p->distinct);
        if (col->type == LATHE_COLUMN_NUMERIC) {
            if (p->min == p->min)
                printf("%g / %.4g ± %.4g / %g  (%g, %g, %g)", p->min, p->mean, p->std, p->max,
                       p->q25, p->q50, p->q75);
        } else {
            for (k = 0; k < p->n_top; k++)
                printf("%s%s (%zu)", k ? ", " : "", level_name(col, p->top_index[k]), p->top_count[k]);
            if (col->type == LATHE_COLUMN_CATEGORICAL && p->distinct > p->n_top) printf(", …");
        }
        putchar('\n');
    }
    if (target_index >= 0) {
        const lathe_column *col = &table->columns[target_index];
        const lathe_column_profile *p = &profiles[target_index];
        printf("\nclass balance of '%s':\n", col->name);
        if (col->type == LATHE_COLUMN_NUMERIC) printf("  (numeric: %zu distinct values)\n", p->distinct);
        for (k = 0; k < p->n_top; k++)
            printf("  %-20s %6zu  %5.1f%%\n", level_name(col, p->top_index[k]), p->top_count[k],
                   100.0 * (double)p->top_count[k] / (double)(p->count - p->missing));
        if (p->distinct > p->n_top && col->type != LATHE_COLUMN_NUMERIC) printf("  … %zu more\n", p->distinct - p->n_top);
    }
done:
    free(profiles);
    lathe_table_destroy(table);
    return status;
}
