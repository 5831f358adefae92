#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lathe/prepare.h"
#include "lathe/sha256.h"

void cli_error(const char *context, const char *message) {
    if (context && context[0]) fprintf(stderr, "lathe: %s: %s\n", context, message);
    else fprintf(stderr, "lathe: %s\n", message);
}

char *cli_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, used = 0;
    if (!f) {
        cli_error(path, strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t got;
        if (used + 1 >= cap) {
            size_t new_cap = cap ? cap * 2 : 65536;
            char *grown = realloc(buf, new_cap);
            if (!grown) {
                free(buf);
                fclose(f);
                cli_error(path, "out of memory reading the file");
                return NULL;
            }
            buf = grown, cap = new_cap;
        }
        got = fread(buf + used, 1, cap - used - 1, f);
        used += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        cli_error(path, "read error");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[used] = '\0';
    *size = used;
    return buf;
}

static void parent_dir(const char *path, char *dir, size_t cap) {
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (!slash) {
        snprintf(dir, cap, ".");
        return;
    }
    if (n == 0) n = 1;
    snprintf(dir, cap, "%.*s", (int)n, path);
}

static int exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

void cli_data_dir(const char *experiment_path, char *dir, size_t cap) {
    const char *env = getenv("LATHE_DATA_DIR");
    char base[1024], candidate[1200];
    if (env && env[0]) {
        snprintf(dir, cap, "%s", env);
        return;
    }
    if (experiment_path) {
        parent_dir(experiment_path, base, sizeof base);
        snprintf(candidate, sizeof candidate, "%s/../data/builtin/manifest.json", base);
        if (exists(candidate)) {
            snprintf(dir, cap, "%s/../data/builtin", base);
            return;
        }
    }
    snprintf(dir, cap, "data/builtin");
}

int cli_load_data(const lathe_experiment *exp, const char *experiment_path,
                  const char *data_override, lathe_table **table, char fingerprint[65]) {
    char path[2048], dir[1024];
    char *bytes;
    size_t n;
    lathe_error err;
    fingerprint[0] = '\0';
    if (exp->data_kind == LATHE_DATA_SYNTHETIC && !data_override) {
        if (lathe_synthetic_table(exp->data_name, exp->synthetic_samples, exp->synthetic_noise,
                                  exp->synthetic_classes, exp->seed, table, &err) != LATHE_OK) {
            cli_error(experiment_path, err.message);
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (data_override) {
        snprintf(path, sizeof path, "%s", data_override);
    } else if (exp->data_kind == LATHE_DATA_BUILTIN) {
        cli_data_dir(experiment_path, dir, sizeof dir);
        snprintf(path, sizeof path, "%s/%s.csv", dir, exp->data_name);
        if (!exists(path)) {
            fprintf(stderr,
                    "lathe: %s: built-in data set '%s' not found at %s (run ./scripts/bootstrap.sh, "
                    "set LATHE_DATA_DIR, or pass --data FILE)\n",
                    experiment_path, exp->data_name, path);
            return CLI_USAGE;
        }
    } else if (exp->data_file[0] == '/') {
        snprintf(path, sizeof path, "%s", exp->data_file);
    } else {
        parent_dir(experiment_path, dir, sizeof dir);
        snprintf(path, sizeof path, "%s/%s", dir, exp->data_file);
    }
    bytes = cli_read_file(path, &n);
    if (!bytes) return CLI_USAGE;
    lathe_sha256_hex(bytes, n, fingerprint);
    if (!data_override && exp->data_sha256[0] && strcmp(exp->data_sha256, fingerprint) != 0) {
        fprintf(stderr,
                "lathe: %s: the data does not match the experiment's fingerprint\n"
                "  data.sha256 %s\n  %s has %s\n"
                "  (pass --data FILE to train on this data anyway)\n",
                experiment_path, exp->data_sha256, path, fingerprint);
        free(bytes);
        return CLI_USAGE;
    }
    if (lathe_csv_read(bytes, n, NULL, table, &err) != LATHE_OK) {
        cli_error(path, err.message);
        free(bytes);
        return CLI_USAGE;
    }
    free(bytes);
    return CLI_OK;
}
