#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "cli.h"
#include "lathe/idx.h"
#include "lathe/prepare.h"
#include "lathe/session.h"
#include "lathe/sha256.h"
#include "zlib.h"

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

/* Undoes gzip (bytes starting 1f 8b) with zlib's inflate; other bytes are returned as they
 * are. On success *out is bytes itself or a new buffer (the caller frees it if different). */
static int gunzip(const char *path, const unsigned char *bytes, size_t n, unsigned char **out,
                  size_t *out_n) {
    z_stream zs;
    unsigned char *buf;
    size_t cap;
    int rc;
    if (n < 18 || bytes[0] != 0x1f || bytes[1] != 0x8b) {
        *out = (unsigned char *)bytes, *out_n = n;
        return 0;
    }
    /* ISIZE, the last 4 bytes, is the uncompressed size mod 2^32: a first guess. */
    cap = (size_t)bytes[n - 4] | (size_t)bytes[n - 3] << 8 | (size_t)bytes[n - 2] << 16 |
          (size_t)bytes[n - 1] << 24;
    if (cap < n) cap = 2 * n;
    buf = malloc(cap + 1);
    if (!buf) {
        cli_error(path, "out of memory decompressing the file");
        return -1;
    }
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        free(buf);
        cli_error(path, "could not start zlib");
        return -1;
    }
    zs.next_in = (unsigned char *)bytes;
    zs.avail_in = (uInt)n;
    for (;;) {
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc == Z_OK && zs.avail_out == 0) {
            unsigned char *grown = realloc(buf, 2 * cap + 1);
            if (!grown) {
                rc = Z_MEM_ERROR;
            } else {
                buf = grown, cap *= 2;
                continue;
            }
        }
        if (rc != Z_OK) {
            char message[200];
            snprintf(message, sizeof message, "not a valid gzip file (zlib: %s, at byte %lu)",
                     zs.msg ? zs.msg : "truncated", (unsigned long)zs.total_in);
            inflateEnd(&zs);
            free(buf);
            cli_error(path, message);
            return -1;
        }
    }
    *out_n = zs.total_out;
    inflateEnd(&zs);
    *out = buf;
    return 0;
}

/* Reads one IDX file (raw or gzipped), adding its stored bytes to the fingerprint. */
static lathe_idx *read_idx(const char *path, lathe_sha256 *fingerprint) {
    size_t n, raw_n;
    char *bytes = cli_read_file(path, &n);
    unsigned char *raw;
    lathe_idx *idx = NULL;
    lathe_error err;
    if (!bytes) return NULL;
    lathe_sha256_update(fingerprint, bytes, n);
    if (gunzip(path, (const unsigned char *)bytes, n, &raw, &raw_n) != 0) {
        free(bytes);
        return NULL;
    }
    if (lathe_idx_read(raw, raw_n, &idx, &err) != LATHE_OK) cli_error(path, err.message);
    if (raw != (unsigned char *)bytes) free(raw);
    free(bytes);
    return idx;
}

#define CLI_MAX_PARTS 4

/* A built-in IDX set described by dir/manifest.json: its splits' files become one table
 * ("train" and "all" first, "test" last and predefined), its classes the label names. */
static int load_idx_builtin(const char *experiment_path, const char *dir, const cJSON *set,
                            lathe_table **table, lathe_data_layout *layout,
                            char fingerprint[65]) {
    const cJSON *splits = cJSON_GetObjectItemCaseSensitive(set, "splits");
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(set, "classes"), *split, *c;
    const char *class_names[256];
    lathe_idx *images[CLI_MAX_PARTS] = {0}, *labels[CLI_MAX_PARTS] = {0};
    size_t n_parts = 0, n_classes = 0, starts[CLI_MAX_PARTS], i, pass;
    long test_part = -1;
    int status = CLI_OK;
    lathe_sha256 ctx;
    uint8_t digest[32];
    lathe_error err;
    lathe_sha256_init(&ctx);
    cJSON_ArrayForEach(c, classes) {
        if (!cJSON_IsString(c) || n_classes == 256) break;
        class_names[n_classes++] = c->valuestring;
    }
    /* Two passes: every split but "test", then "test". */
    for (pass = 0; pass < 2 && status == CLI_OK; pass++)
        cJSON_ArrayForEach(split, splits) {
            const cJSON *im = cJSON_GetObjectItemCaseSensitive(split, "images");
            const cJSON *lb = cJSON_GetObjectItemCaseSensitive(split, "labels");
            char path[2048];
            int is_test = split->string && strcmp(split->string, "test") == 0;
            if (is_test != (pass == 1)) continue;
            if (!cJSON_IsString(im) || !cJSON_IsString(lb) || n_parts == CLI_MAX_PARTS) {
                cli_error(experiment_path, "data/builtin/manifest.json: a split needs \"images\" "
                                           "and \"labels\" files");
                status = CLI_USAGE;
                break;
            }
            if (is_test) test_part = (long)n_parts;
            snprintf(path, sizeof path, "%s/%s", dir, im->valuestring);
            images[n_parts] = read_idx(path, &ctx);
            snprintf(path, sizeof path, "%s/%s", dir, lb->valuestring);
            labels[n_parts] = images[n_parts] ? read_idx(path, &ctx) : NULL;
            n_parts++;
            if (!labels[n_parts - 1]) {
                status = CLI_USAGE;
                break;
            }
        }
    if (status == CLI_OK && n_parts == 0) {
        cli_error(experiment_path, "data/builtin/manifest.json: the data set lists no splits");
        status = CLI_USAGE;
    }
    if (status == CLI_OK &&
        lathe_image_table((const lathe_idx *const *)images, (const lathe_idx *const *)labels,
                          n_parts, n_classes ? class_names : NULL, n_classes, table,
                          layout->image, starts, &err) != LATHE_OK) {
        char context[1200];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(set, "name");
        snprintf(context, sizeof context, "%s: data set '%s' (parts in order: %s)",
                 experiment_path, cJSON_IsString(name) ? name->valuestring : "?",
                 test_part >= 0 ? "training files, then the test files" : "its files");
        cli_error(context, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
    }
    if (status == CLI_OK && test_part >= 0) layout->test_from = starts[test_part];
    for (i = 0; i < n_parts; i++) {
        lathe_idx_destroy(images[i]);
        lathe_idx_destroy(labels[i]);
    }
    lathe_sha256_final(&ctx, digest);
    lathe_sha256_to_hex(digest, fingerprint);
    return status;
}

/* The manifest entry of built-in set name, or NULL; *root receives the parsed manifest. */
static const cJSON *manifest_entry(const char *dir, const char *name, cJSON **root) {
    char path[1200];
    char *text;
    size_t n;
    const cJSON *set;
    FILE *f;
    *root = NULL;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (!(f = fopen(path, "rb"))) return NULL;
    fclose(f);
    text = cli_read_file(path, &n);
    if (!text) return NULL;
    *root = cJSON_ParseWithLength(text, n);
    free(text);
    cJSON_ArrayForEach(set, cJSON_GetObjectItemCaseSensitive(*root, "datasets")) {
        const cJSON *set_name = cJSON_GetObjectItemCaseSensitive(set, "name");
        if (cJSON_IsString(set_name) && strcmp(set_name->valuestring, name) == 0) return set;
    }
    return NULL;
}

/* Reads the experiment's data (see cli_open_session) into d: CSV bytes, or an IDX set's table
 * and fingerprint. No fingerprint check: the session makes it. *path_out names what was read. */
static int read_data(const lathe_experiment *exp, const char *experiment_path,
                     const char *data_override, cli_data *d, char *path, size_t path_cap) {
    char dir[1024];
    memset(d, 0, sizeof *d);
    d->layout.test_from = (size_t)-1;
    d->data.layout = &d->layout;
    d->data.skip_fingerprint = data_override != NULL;
    path[0] = '\0';
    if (exp->data_kind == LATHE_DATA_SYNTHETIC && !data_override) return CLI_OK;
    if (data_override) {
        snprintf(path, path_cap, "%s", data_override);
    } else if (exp->data_kind == LATHE_DATA_BUILTIN) {
        cli_data_dir(experiment_path, dir, sizeof dir);
        snprintf(path, path_cap, "%s/%s.csv", dir, exp->data_name);
        if (!exists(path)) {
            cJSON *manifest;
            const cJSON *set = manifest_entry(dir, exp->data_name, &manifest);
            const cJSON *format = cJSON_GetObjectItemCaseSensitive(set, "format");
            int status;
            if (cJSON_IsString(format) && strcmp(format->valuestring, "idx") == 0) {
                status = load_idx_builtin(experiment_path, dir, set, &d->data.table, &d->layout,
                                          d->sha256);
                cJSON_Delete(manifest);
                d->data.table_sha256 = d->sha256;
                snprintf(path, path_cap, "the files of '%s'", exp->data_name);
                return status;
            }
            cJSON_Delete(manifest);
            fprintf(stderr,
                    "lathe: %s: built-in data set '%s' not found at %s (run ./scripts/bootstrap.sh, "
                    "set LATHE_DATA_DIR, or pass --data FILE)\n",
                    experiment_path, exp->data_name, path);
            return CLI_USAGE;
        }
    } else if (exp->data_file[0] == '/') {
        snprintf(path, path_cap, "%s", exp->data_file);
    } else {
        parent_dir(experiment_path, dir, sizeof dir);
        snprintf(path, path_cap, "%s/%s", dir, exp->data_file);
    }
    d->bytes = cli_read_file(path, &d->data.csv_n);
    if (!d->bytes) return CLI_USAGE;
    d->data.csv = d->bytes;
    d->data.csv_name = path;
    return CLI_OK;
}

int cli_open_session(const char *experiment_path, const char *text, size_t n,
                     const char *data_override, lathe_session **out) {
    lathe_experiment *exp = NULL;
    lathe_error err;
    lathe_status st;
    cli_data d;
    char path[2048];
    int status;
    *out = NULL;
    if (lathe_experiment_parse(text, n, &exp, &err) != LATHE_OK) {
        cli_error(experiment_path, err.message);
        return CLI_USAGE;
    }
    status = read_data(exp, experiment_path, data_override, &d, path, sizeof path);
    if (status != CLI_OK) {
        lathe_table_destroy(d.data.table);
        free(d.bytes);
        lathe_experiment_destroy(exp);
        return status;
    }
    st = lathe_session_open(text, n, &d.data, out, &err);
    if (st == LATHE_ERR_MISMATCH) {
        char given[65];
        if (d.bytes) lathe_sha256_hex(d.bytes, d.data.csv_n, given);
        else snprintf(given, sizeof given, "%s", d.sha256);
        fprintf(stderr,
                "lathe: %s: the data does not match the experiment's fingerprint\n"
                "  data.sha256 %s\n  %s has %s\n"
                "  (pass --data FILE to train on this data anyway)\n",
                experiment_path, exp->data_sha256, path, given);
    } else if (st != LATHE_OK) {
        /* The CSV reader's errors begin with the file's path (csv_name). */
        size_t named = strlen(path);
        int in_csv = d.bytes && strncmp(err.message, path, named) == 0 && err.message[named] == ':';
        cli_error(in_csv ? "" : experiment_path, err.message);
    }
    free(d.bytes);
    lathe_experiment_destroy(exp);
    if (st == LATHE_OK) return CLI_OK;
    return st == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
}

int cli_write_file(const char *path, const void *data, size_t n) {
    char tmp[4096];
    FILE *f;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        cli_error(path, "the path is too long");
        return CLI_USAGE;
    }
    f = fopen(tmp, "wb");
    if (!f) {
        cli_error(path, strerror(errno));
        return CLI_FAILED;
    }
    if (fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        cli_error(path, "could not write the file (disk full?)");
        remove(tmp);
        return CLI_FAILED;
    }
    if (rename(tmp, path) != 0) {
        cli_error(path, strerror(errno));
        remove(tmp);
        return CLI_FAILED;
    }
    return CLI_OK;
}

int cli_read_csv(const char *path, lathe_table **table) {
    size_t n;
    char *text = cli_read_file(path, &n);
    lathe_error err;
    int status = CLI_OK;
    *table = NULL;
    if (!text) return CLI_USAGE;
    if (lathe_csv_read(text, n, NULL, table, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
    }
    free(text);
    return status;
}

int cli_load_model(const char *path, lathe_model **model) {
    size_t n;
    char *text = cli_read_file(path, &n);
    lathe_error err;
    int status = CLI_OK;
    *model = NULL;
    if (!text) return CLI_USAGE;
    if (lathe_model_load(text, n, model, &err) != LATHE_OK) {
        cli_error(path, err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
    }
    free(text);
    return status;
}
