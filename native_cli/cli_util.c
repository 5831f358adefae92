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
    if (context && context[0])
        fprintf(stderr, "lathe: %s: %s\n", context, message);
    else
        fprintf(stderr, "lathe: %s\n", message);
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

/* Reads one IDX file (raw or gzipped) into file (its name is the path); the caller frees
 * *stored and *raw (raw may be stored itself). */
static int read_idx_file(const char *path, lathe_idx_file *file, char **stored,
                         unsigned char **raw) {
    size_t n, raw_n;
    *stored = cli_read_file(path, &n);
    *raw = NULL;
    if (!*stored) return CLI_USAGE;
    if (gunzip(path, (const unsigned char *)*stored, n, raw, &raw_n) != 0) return CLI_USAGE;
    file->name = path;
    file->stored = (const uint8_t *)*stored, file->stored_n = n;
    file->idx = *raw, file->idx_n = raw_n;
    return CLI_OK;
}

static void free_idx_file(char *stored, unsigned char *raw) {
    if (raw != (unsigned char *)stored) free(raw);
    free(stored);
}

/* Adds the part of files images and labels (paths) to set; prints what went wrong. */
static int add_idx_part(lathe_idx_set *set, const char *images, const char *labels, int is_test) {
    lathe_idx_file im, lb;
    char *im_stored = NULL, *lb_stored = NULL;
    unsigned char *im_raw = NULL, *lb_raw = NULL;
    lathe_error err;
    int status = read_idx_file(images, &im, &im_stored, &im_raw);
    if (status == CLI_OK) status = read_idx_file(labels, &lb, &lb_stored, &lb_raw);
    if (status == CLI_OK && lathe_idx_set_add(set, &im, &lb, is_test, &err) != LATHE_OK) {
        cli_error("", err.message);
        status = err.status == LATHE_ERR_NOMEM ? CLI_FAILED : CLI_USAGE;
    }
    free_idx_file(im_stored, im_raw);
    free_idx_file(lb_stored, lb_raw);
    return status;
}

/* An IDX set of n paths (images, labels, then optionally the test images and labels). */
static int load_idx_paths(const char *const *paths, size_t n, lathe_idx_set *set) {
    size_t p;
    int status = CLI_OK;
    for (p = 0; p + 1 < n && status == CLI_OK; p += 2)
        status = add_idx_part(set, paths[p], paths[p + 1], n == 4 && p == 2);
    return status;
}

#define CLI_MAX_CLASSES 256

/* A built-in IDX set described by dir/manifest.json: its splits' files ("train" and "all"
 * first, "test" last and predefined), its classes the label names. */
static int load_idx_builtin(const char *experiment_path, const char *dir, const cJSON *set,
                            lathe_idx_set *images) {
    const cJSON *splits = cJSON_GetObjectItemCaseSensitive(set, "splits");
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(set, "classes"), *split, *c;
    const char *class_names[CLI_MAX_CLASSES];
    size_t n_classes = 0, pass, n_parts = 0;
    int status = CLI_OK;
    lathe_error err;
    cJSON_ArrayForEach(c, classes) {
        if (!cJSON_IsString(c) || n_classes == CLI_MAX_CLASSES) break;
        class_names[n_classes++] = c->valuestring;
    }
    if (n_classes && lathe_idx_set_classes(images, class_names, n_classes, &err) != LATHE_OK) {
        cli_error(experiment_path, err.message);
        return CLI_FAILED;
    }
    /* Two passes: every split but "test", then "test". */
    for (pass = 0; pass < 2 && status == CLI_OK; pass++)
        cJSON_ArrayForEach(split, splits) {
            const cJSON *im = cJSON_GetObjectItemCaseSensitive(split, "images");
            const cJSON *lb = cJSON_GetObjectItemCaseSensitive(split, "labels");
            char image_path[2048], label_path[2048];
            int is_test = split->string && strcmp(split->string, "test") == 0;
            if (is_test != (pass == 1)) continue;
            if (!cJSON_IsString(im) || !cJSON_IsString(lb)) {
                cli_error(experiment_path, "data/builtin/manifest.json: a split needs \"images\" "
                                           "and \"labels\" files");
                status = CLI_USAGE;
                break;
            }
            snprintf(image_path, sizeof image_path, "%s/%s", dir, im->valuestring);
            snprintf(label_path, sizeof label_path, "%s/%s", dir, lb->valuestring);
            status = add_idx_part(images, image_path, label_path, is_test);
            n_parts++;
            if (status != CLI_OK) break;
        }
    if (status == CLI_OK && n_parts == 0) {
        cli_error(experiment_path, "data/builtin/manifest.json: the data set lists no splits");
        status = CLI_USAGE;
    }
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

/* A path of the experiment's data: absolute, or relative to the experiment's folder. */
static void data_path(const char *experiment_path, const char *file, char *path, size_t cap) {
    char dir[1024];
    if (file[0] == '/') {
        snprintf(path, cap, "%s", file);
    } else {
        parent_dir(experiment_path, dir, sizeof dir);
        snprintf(path, cap, "%s/%s", dir, file);
    }
}

/* Reads an IDX set into d (d->images, the session's data). */
static int read_idx_data(const char *const *paths, size_t n, cli_data *d, const char *dir,
                         const cJSON *builtin, const char *experiment_path) {
    lathe_error err;
    if (lathe_idx_set_create(&d->images, &err) != LATHE_OK) {
        cli_error(experiment_path, err.message);
        return CLI_FAILED;
    }
    d->data.images = d->images;
    return builtin ? load_idx_builtin(experiment_path, dir, builtin, d->images)
                   : load_idx_paths(paths, n, d->images);
}

/* Reads the experiment's data (see cli_open_session) into d: CSV bytes or an IDX set. No
 * fingerprint check: the session makes it. path names what was read. */
static int read_data(const lathe_experiment *exp, const char *experiment_path,
                     const cli_data_files *override, cli_data *d, char *path, size_t path_cap) {
    char dir[1024];
    memset(d, 0, sizeof *d);
    d->data.skip_fingerprint = override && override->n > 0;
    path[0] = '\0';
    if (d->data.skip_fingerprint && override->n > 1) {
        snprintf(path, path_cap, "%s and %s", override->paths[0], override->paths[1]);
        return read_idx_data(override->paths, override->n, d, NULL, NULL, experiment_path);
    }
    if (exp->data_kind == LATHE_DATA_SYNTHETIC && !d->data.skip_fingerprint) return CLI_OK;
    if (d->data.skip_fingerprint) {
        snprintf(path, path_cap, "%s", override->paths[0]);
    } else if (exp->data_kind == LATHE_DATA_IDX_FILES) {
        char paths[4][2048];
        const char *list[4];
        size_t i;
        for (i = 0; i < exp->n_data_files; i++) {
            data_path(experiment_path, exp->data_files[i], paths[i], sizeof paths[i]);
            list[i] = paths[i];
        }
        snprintf(path, path_cap, "%s and %s", list[0], list[1]);
        return read_idx_data(list, exp->n_data_files, d, NULL, NULL, experiment_path);
    } else if (exp->data_kind == LATHE_DATA_BUILTIN) {
        cli_data_dir(experiment_path, dir, sizeof dir);
        snprintf(path, path_cap, "%s/%s.csv", dir, exp->data_name);
        if (!exists(path)) {
            cJSON *manifest;
            const cJSON *set = manifest_entry(dir, exp->data_name, &manifest);
            const cJSON *format = cJSON_GetObjectItemCaseSensitive(set, "format");
            int status;
            if (cJSON_IsString(format) && strcmp(format->valuestring, "idx") == 0) {
                status = read_idx_data(NULL, 0, d, dir, set, experiment_path);
                cJSON_Delete(manifest);
                snprintf(path, path_cap, "the files of '%s'", exp->data_name);
                return status;
            }
            cJSON_Delete(manifest);
            fprintf(
                stderr,
                "lathe: %s: built-in data set '%s' not found at %s (run ./scripts/bootstrap.sh, "
                "set LATHE_DATA_DIR, or pass --data FILE)\n",
                experiment_path, exp->data_name, path);
            return CLI_USAGE;
        }
    } else {
        data_path(experiment_path, exp->data_file, path, path_cap);
    }
    d->bytes = cli_read_file(path, &d->data.csv_n);
    if (!d->bytes) return CLI_USAGE;
    d->data.csv = d->bytes;
    d->data.csv_name = path;
    return CLI_OK;
}

int cli_data_files_add(cli_data_files *files, const char *path, const char *command) {
    if (files->n == 4) {
        fprintf(stderr,
                "lathe %s: --data takes one CSV file, or an IDX set's images and labels files "
                "(twice: --data IMAGES --data LABELS), then optionally its test files: not a "
                "fifth ('%s')\n",
                command, path);
        return CLI_USAGE;
    }
    files->paths[files->n++] = path;
    return CLI_OK;
}

int cli_open_session(const char *experiment_path, const char *text, size_t n,
                     const cli_data_files *data_override, lathe_session **out) {
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
    if (data_override && data_override->n == 3) {
        fprintf(stderr, "lathe: --data: an IDX set is 2 files (images, labels) or 4 (then the "
                        "test images and labels), not 3\n");
        lathe_experiment_destroy(exp);
        return CLI_USAGE;
    }
    status = read_data(exp, experiment_path, data_override, &d, path, sizeof path);
    if (status != CLI_OK) {
        lathe_idx_set_destroy(d.images);
        free(d.bytes);
        lathe_experiment_destroy(exp);
        return status;
    }
    st = lathe_session_open(text, n, &d.data, out, &err);
    if (st == LATHE_ERR_MISMATCH) {
        char given[65];
        if (d.bytes)
            lathe_sha256_hex(d.bytes, d.data.csv_n, given);
        else
            lathe_idx_set_sha256(d.images, given);
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
    lathe_idx_set_destroy(d.images); /* the session has made its table */
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

int cli_load_teacher(const char *experiment_path, lathe_session *session, lathe_model **teacher) {
    const lathe_experiment *exp = lathe_session_experiment(session);
    char path[2048];
    int status;
    *teacher = NULL;
    if (!exp->distill) return CLI_OK;
    data_path(experiment_path, exp->distill_teacher, path, sizeof path);
    if ((status = cli_load_model(path, teacher)) != CLI_OK) {
        fprintf(stderr, "lathe: %s: train.distill.teacher: could not load the teacher (above)\n",
                experiment_path);
        return status;
    }
    lathe_session_set_teacher(session, *teacher);
    return CLI_OK;
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
