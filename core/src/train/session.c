/* The session (lathe/session.h): an experiment's data, preparation and trainer owned
 * together, and the reports every front end prints of them. */
#include "lathe/checkpoint.h"
#include "lathe/session.h"

#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/json_hooks.h"
#include "lathe/metrics.h"
#include "lathe/model_file.h"
#include "lathe/sha256.h"
#include "eval/metrics_json.h"

struct lathe_session {
    char *text; /* the experiment as given:(n) */
    size_t n;
    lathe_experiment *exp;
    lathe_table *table;
    lathe_prepared *prep;
    lathe_trainer *trainer;
    char data_sha256[65];     /* "" for a synthetic set */
    lathe_data_layout layout; /* the data's own layout, when layout_given */
    int layout_given;
    uint8_t owner[32]; /* lathe_checkpoint_owner, set by lathe_session_build */
    lathe_model *teacher; /* train.distill's teacher (borrowed), or NULL */
};

void lathe_session_destroy(lathe_session *s) {
    if (!s) return;
    lathe_trainer_destroy(s->trainer);
    lathe_prepared_destroy(s->prep);
    lathe_table_destroy(s->table);
    lathe_experiment_destroy(s->exp);
    lathe_free(s->text);
    lathe_free(s);
}

/* The bytes a table of rows × cols takes with its prepared copy (about the same again). */
static size_t data_bytes(size_t rows, size_t cols) {
    return 2 * rows * cols * sizeof(float);
}

/* The refusal of data that would not fit: what (plural: "70000 images") needs need bytes. */
static lathe_status refuse_size(uint64_t need, size_t limit, const char *what, const char *hint,
                                lathe_error *err) {
    return lathe_error_set(err, LATHE_ERR_LIMIT,
                           "%s need %llu MiB once read and prepared; this engine has %zu MiB left "
                           "for data (%s)",
                           what, (unsigned long long)(need >> 20), limit >> 20, hint);
}

lathe_status lathe_session_images_fit(uint64_t rows, uint64_t table_bytes, uint64_t held,
                                      size_t limit, lathe_error *err) {
    /* the table and its prepared copy (saturated: the sizes may come from a file's header) */
    uint64_t copies = table_bytes > UINT64_MAX / 4 ? UINT64_MAX / 2 : 2 * table_bytes;
    uint64_t need = held > UINT64_MAX / 2 ? UINT64_MAX : held + copies;
    char what[96];
    if (!limit || need <= limit) return LATHE_OK;
    snprintf(what, sizeof what, "%llu images", (unsigned long long)rows);
    return refuse_size(need, limit, what, "use fewer or smaller images", err);
}

/* Reads exp's rows from data, or from the synthetic generator when data gives none, into
 * *table, their fingerprint into sha256:(65) ("" for a synthetic set) and the source's own
 * layout into *layout (*layout_given 1). Takes over data->table. */
static lathe_status read_rows(const lathe_experiment *exp, const lathe_session_data *data,
                              lathe_table **table, char sha256[65], lathe_data_layout *layout,
                              int *layout_given, lathe_error *err) {
    sha256[0] = '\0';
    if (data && data->images) {
        lathe_status st = lathe_session_images_fit(lathe_idx_set_rows(data->images),
                                                   lathe_idx_set_table_bytes(data->images), 0,
                                                   data->memory_limit, err);
        if (st != LATHE_OK) return st;
        lathe_idx_set_sha256(data->images, sha256);
        *layout_given = 1;
        return lathe_idx_set_table(data->images, table, layout->image, &layout->test_from, err);
    }
    if (data && data->layout) *layout = *data->layout, *layout_given = 1;
    if (data && data->table) {
        *table = data->table;
        snprintf(sha256, 65, "%s", data->table_sha256 ? data->table_sha256 : "");
        return LATHE_OK;
    }
    if (data && data->csv) {
        lathe_status st;
        lathe_sha256_hex(data->csv, data->csv_n, sha256);
        st = lathe_csv_read(data->csv, data->csv_n, NULL, table, err);
        if (st != LATHE_OK && data->csv_name && err) {
            char message[sizeof err->message];
            snprintf(message, sizeof message, "%s", err->message);
            lathe_error_set(err, st, "%s: %s", data->csv_name, message);
        }
        if (st == LATHE_OK && data->memory_limit &&
            data_bytes((*table)->rows, (*table)->cols) > data->memory_limit) {
            char what[96];
            snprintf(what, sizeof what, "%zu rows and %zu columns", (*table)->rows, (*table)->cols);
            st = refuse_size(data_bytes((*table)->rows, (*table)->cols), data->memory_limit, what,
                             "use fewer rows or columns", err);
            lathe_table_destroy(*table);
            *table = NULL;
        }
        return st;
    }
    if (exp->data_kind != LATHE_DATA_SYNTHETIC)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "data: no data was given for this experiment (only synthetic "
                               "sets are made without it)");
    return lathe_synthetic_table(exp->data_name, exp->synthetic_samples, exp->synthetic_noise,
                                 exp->synthetic_classes, exp->seed, table, err);
}

lathe_status lathe_session_read_table(const char *experiment, size_t n,
                                      const lathe_session_data *data, lathe_table **out,
                                      lathe_error *err) {
    lathe_experiment *exp = NULL;
    char sha256[65];
    lathe_data_layout layout = {0, {0, 0, 0}};
    int layout_given = 0;
    lathe_status st = lathe_experiment_parse(experiment, n, &exp, err);
    *out = NULL;
    if (st == LATHE_OK)
        st = read_rows(exp, data, out, sha256, &layout, &layout_given, err);
    else if (data)
        lathe_table_destroy(data->table);
    lathe_experiment_destroy(exp);
    return st;
}

/* data.sha256, when the experiment has one and the data is not synthetic, must be the
 * data's fingerprint (unless the user chose other data: skip_fingerprint). */
static lathe_status check_fingerprint(const lathe_session *s, const lathe_session_data *data,
                                      lathe_error *err) {
    if (!s->exp->data_sha256[0] || !s->data_sha256[0] || (data && data->skip_fingerprint) ||
        strcmp(s->exp->data_sha256, s->data_sha256) == 0)
        return LATHE_OK;
    return lathe_error_set(err, LATHE_ERR_MISMATCH,
                           "data.sha256: the data does not match the experiment's fingerprint "
                           "(%.12s… expected, %.12s… given)",
                           s->exp->data_sha256, s->data_sha256);
}

lathe_status lathe_session_open(const char *experiment, size_t n, const lathe_session_data *data,
                                lathe_session **out, lathe_error *err) {
    lathe_session *s = lathe_calloc(1, sizeof *s);
    lathe_status st;
    *out = NULL;
    lathe_json_hooks_install(); /* the reports' text is freed with lathe_free */
    if (!s || !(s->text = lathe_malloc(n ? n : 1))) {
        if (data) lathe_table_destroy(data->table);
        lathe_free(s);
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory opening the experiment");
    }
    memcpy(s->text, experiment, n);
    s->n = n;
    st = lathe_experiment_parse(experiment, n, &s->exp, err);
    if (st == LATHE_OK)
        st = read_rows(s->exp, data, &s->table, s->data_sha256, &s->layout, &s->layout_given, err);
    else if (data)
        s->table = data->table; /* taken over on failure too */
    if (st == LATHE_OK) st = check_fingerprint(s, data, err);
    if (st == LATHE_OK)
        st = lathe_prepare_layout(s->exp, s->table, s->layout_given ? &s->layout : NULL, &s->prep,
                                  err);
    if (st != LATHE_OK) {
        lathe_session_destroy(s);
        return st;
    }
    *out = s;
    return LATHE_OK;
}

void lathe_session_set_teacher(lathe_session *s, lathe_model *teacher) { s->teacher = teacher; }

/* An int8 model's int8 form onto the trainer built from it (its first training step makes it
 * float again), so that evaluating the session evaluates the model as it is. */
static lathe_status copy_int8(lathe_trainer *t, const lathe_trainer *source, lathe_error *err) {
    lathe_int8_layer *q;
    size_t L = lathe_trainer_layer_count(source), l, any = 0;
    lathe_status st;
    if (L != lathe_trainer_layer_count(t)) return LATHE_OK;
    for (l = 0; l < L; l++) any += lathe_trainer_int8(source, l) != NULL;
    if (!any) return LATHE_OK;
    q = lathe_calloc(L, sizeof *q);
    if (!q) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory building the session");
    for (l = 0; l < L; l++)
        if (lathe_trainer_int8(source, l)) q[l] = *lathe_trainer_int8(source, l);
    st = lathe_trainer_set_int8(t, q, err);
    lathe_free(q);
    return st;
}

lathe_status lathe_session_build(lathe_session *s, lathe_model *init, lathe_error *err) {
    char prepared_hex[65], data_tag[160];
    lathe_status st;
    if (s->trainer)
        return lathe_error_set(err, LATHE_ERR_INVALID, "the session's trainer is already built");
    /* From a model (evaluating, quantising, deploying it) no teacher is needed; training it
     * without one would use the labels alone. */
    if (s->exp->distill && !s->teacher && !init)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "train.distill.teacher: no teacher model was loaded (distillation "
                               "runs in the CLI, which reads the teacher's model file '%s')",
                               s->exp->distill_teacher);
    if (!s->exp->distill && s->teacher)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "train.distill: a teacher was given but the experiment has no "
                               "train.distill section");
    if (init) {
        st = lathe_prepared_adopt(s->prep, lathe_model_preparation(init), s->table, err);
        if (st != LATHE_OK) return st;
    }
    st = lathe_trainer_create(s->exp, s->prep, &s->trainer, err);
    if (st != LATHE_OK) return st;
    if (init) {
        size_t mine, theirs, s_mine, s_theirs;
        const lathe_trainer *source = lathe_model_network(init);
        const float *params = lathe_trainer_params(source, &theirs);
        const float *stats = lathe_trainer_stats(source, &s_theirs);
        (void)lathe_trainer_params(s->trainer, &mine);
        (void)lathe_trainer_stats(s->trainer, &s_mine);
        if (mine != theirs || s_mine != s_theirs) {
            lathe_trainer_destroy(s->trainer);
            s->trainer = NULL;
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "the model has %zu parameters, the experiment's network %zu: "
                                   "fine-tuning needs the same layers",
                                   theirs, mine);
        }
        lathe_trainer_set_weights(s->trainer, params, stats);
        if ((st = copy_int8(s->trainer, source, err)) != LATHE_OK) {
            lathe_trainer_destroy(s->trainer);
            s->trainer = NULL;
            return st;
        }
    }
    if (s->teacher &&
        (st = lathe_trainer_set_teacher(s->trainer, lathe_model_network(s->teacher), err)) !=
            LATHE_OK) {
        lathe_trainer_destroy(s->trainer);
        s->trainer = NULL;
        return st;
    }
    /* The owner tag: a checkpoint never resumes another experiment, other data or (with
     * train.distill) another teacher. */
    lathe_prepared_sha256(s->prep, prepared_hex);
    snprintf(data_tag, sizeof data_tag, "%s%s%s", s->data_sha256, s->teacher ? " teacher " : "",
             s->teacher ? lathe_model_weights_sha256(s->teacher) : "");
    lathe_checkpoint_owner(s->text, s->n, data_tag, prepared_hex, s->owner);
    return LATHE_OK;
}

/* The experiment's split step, or NULL. */
static lathe_prep_op *split_op(const lathe_session *s) {
    size_t i;
    for (i = 0; i < s->exp->n_ops; i++)
        if (s->exp->ops[i].kind == LATHE_PREP_SPLIT) return &s->exp->ops[i];
    return NULL;
}

size_t lathe_session_folds(const lathe_session *s) {
    const lathe_prep_op *split = split_op(s);
    return split ? split->folds : 0;
}

lathe_status lathe_session_select_fold(lathe_session *s, size_t fold, lathe_error *err) {
    lathe_prep_op *split = split_op(s);
    lathe_prepared *prep = NULL;
    lathe_status st;
    if (!split || fold >= split->folds)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "prepare: fold %zu of a split with %zu folds", fold,
                               split ? split->folds : 0);
    split->fold = fold;
    st = lathe_prepare_layout(s->exp, s->table, s->layout_given ? &s->layout : NULL, &prep, err);
    if (st != LATHE_OK) return st;
    lathe_trainer_destroy(s->trainer);
    s->trainer = NULL;
    lathe_prepared_destroy(s->prep);
    s->prep = prep;
    return LATHE_OK;
}

const lathe_experiment *lathe_session_experiment(const lathe_session *s) {
    return s->exp;
}
const lathe_table *lathe_session_table(const lathe_session *s) {
    return s->table;
}
const lathe_prepared *lathe_session_prepared(const lathe_session *s) {
    return s->prep;
}
lathe_trainer *lathe_session_trainer(const lathe_session *s) {
    return s->trainer;
}
const char *lathe_session_data_sha256(const lathe_session *s) {
    return s->data_sha256;
}

void lathe_session_prepared_sha256(const lathe_session *s, char hex[65]) {
    lathe_prepared_sha256(s->prep, hex);
}

const lathe_split_data *lathe_session_split(const lathe_session *s, lathe_split split) {
    return split == LATHE_SPLIT_TRAIN        ? &s->prep->train
           : split == LATHE_SPLIT_VALIDATION ? &s->prep->validation
                                             : &s->prep->test;
}

void lathe_session_rows(const lathe_session *s, lathe_split split, size_t first, size_t count,
                        float *x, float *y, double *source) {
    const lathe_split_data *d = lathe_session_split(s, split);
    size_t i;
    lathe_prepared_rows(s->prep, d, first, count, x);
    for (i = 0; i < count; i++) {
        y[i] = d->label ? (float)d->label[first + i] : d->value[first + i];
        if (source) source[i] = (double)d->source_row[first + i];
    }
}

lathe_status lathe_session_model_file(const lathe_session *s, const char *metrics_json, char **out,
                                      lathe_error *err) {
    return lathe_model_file_write(s->text, s->n, s->prep, s->trainer, metrics_json, out, err);
}

size_t lathe_session_checkpoint_size(const lathe_session *s) {
    return lathe_trainer_checkpoint_size(s->trainer);
}

void lathe_session_checkpoint_save(const lathe_session *s, void *out) {
    lathe_trainer_checkpoint_save(s->trainer, s->owner, out);
}

lathe_status lathe_session_checkpoint_restore(lathe_session *s, const void *data, size_t n,
                                              lathe_error *err) {
    return lathe_trainer_checkpoint_restore(s->trainer, s->owner, data, n, err);
}
