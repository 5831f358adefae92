/* The preparation pipeline: row filters, the split, imputation fitted on the training rows
 * while the rows are encoded into matrices (categorical features one-hot expanded), then the
 * scaling steps as a chain in list order, each fitted on the training rows as the steps
 * before it left them. */
#include "lathe/prepare.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/augment.h"
#include "lathe/rng.h"
#include "lathe/sha256.h"

static int is_nan(float v) {
    return v != v;
}

/* One input column's contribution to the feature matrix. */
typedef struct feature_source {
    size_t column; /* table column */
    size_t width;  /* 1, or the number of training categories for one-hot */
    float fill;    /* imputed value (in the column's own units or category index) */
    int32_t *slot; /* categorical: (n_categories) feature offset of each category, or -1 for
                    * a category the training rows do not have */
} feature_source;

void lathe_prepared_destroy(lathe_prepared *prep) {
    size_t i;
    lathe_split_data *splits[3];
    if (!prep) return;
    splits[0] = &prep->train, splits[1] = &prep->validation, splits[2] = &prep->test;
    for (i = 0; i < 3; i++) {
        lathe_free(splits[i]->x);
        lathe_free(splits[i]->bytes);
        lathe_free(splits[i]->label);
        lathe_free(splits[i]->value);
        lathe_free(splits[i]->source_row);
    }
    for (i = 0; prep->inputs && i < prep->n_inputs; i++)
        lathe_free(prep->inputs[i].name);
    lathe_free(prep->inputs);
    lathe_free(prep->target);
    for (i = 0; prep->feature_names && i < prep->n_features; i++)
        lathe_free(prep->feature_names[i]);
    lathe_free(prep->feature_names);
    for (i = 0; prep->class_names && i < prep->n_classes; i++)
        lathe_free(prep->class_names[i]);
    lathe_free(prep->class_names);
    lathe_free(prep->fill);
    for (i = 0; prep->steps && i < prep->n_steps; i++) {
        lathe_free(prep->steps[i].shift);
        lathe_free(prep->steps[i].scale);
    }
    lathe_free(prep->steps);
    lathe_free(prep);
}

size_t lathe_prepared_scaling_steps(const lathe_prepared *prep) {
    size_t i, n = 0;
    for (i = 0; i < prep->n_steps; i++)
        n += prep->steps[i].kind != LATHE_PREP_IMPUTE;
    return n;
}

void lathe_prepared_apply_steps(const lathe_prepared *prep, float *x, size_t rows) {
    size_t k, i, f, F = prep->n_features;
    for (k = 0; k < prep->n_steps; k++) {
        const float *shift = prep->steps[k].shift, *scale = prep->steps[k].scale;
        if (prep->steps[k].kind == LATHE_PREP_IMPUTE) continue;
        for (i = 0; i < rows; i++)
            for (f = 0; f < F; f++)
                x[i * F + f] = (x[i * F + f] - shift[f]) * scale[f];
    }
}

/* 1 when text is a whole number literal (strtod consumes all of it). */
static int is_number_text(const char *text) {
    char *end;
    if (!text[0]) return 0;
    (void)strtod(text, &end);
    return *end == '\0';
}

static char *copy_string(const char *a, const char *b) {
    size_t na = strlen(a), nb = b ? strlen(b) : 0;
    char *s = lathe_malloc(na + nb + 2);
    if (!s) return NULL;
    memcpy(s, a, na);
    if (b) {
        s[na] = '=';
        memcpy(s + na + 1, b, nb + 1);
    } else {
        s[na] = '\0';
    }
    return s;
}

static int dropped(const lathe_experiment *exp, const char *name) {
    size_t i, j;
    for (i = 0; i < exp->n_ops; i++)
        if (exp->ops[i].kind == LATHE_PREP_DROP_COLUMNS)
            for (j = 0; j < exp->ops[i].n_columns; j++)
                if (strcmp(exp->ops[i].columns[j], name) == 0) return 1;
    return 0;
}

/* The op of a kind, or NULL: only for the kinds a list holds once (the parser and
 * lathe_experiment_check_chain see to it) or whose repeats change nothing (drop_missing). */
static const lathe_prep_op *find_op(const lathe_experiment *exp, lathe_prep_kind kind) {
    size_t i;
    for (i = 0; i < exp->n_ops; i++)
        if (exp->ops[i].kind == kind) return &exp->ops[i];
    return NULL;
}

/* Byte b of feature f as steps [0, n_steps) of prep leave it (impute steps skip), each as
 * (x − shift) · scale: the same operations, in the same order, as the preparation's passes
 * over the rows of a float split. */
static float prepared_value(const lathe_prepared *prep, size_t n_steps, uint8_t b, size_t f) {
    size_t k;
    float x = (float)b;
    for (k = 0; k < n_steps; k++)
        if (prep->steps[k].kind != LATHE_PREP_IMPUTE)
            x = (x - prep->steps[k].shift[f]) * prep->steps[k].scale[f];
    return x;
}

/* Row r of split s into out:(n_features): a float split's row as it is, a byte split's row
 * as the first n_steps steps leave it. */
static void split_row(const lathe_prepared *prep, const lathe_split_data *s, size_t n_steps,
                      size_t r, float *out) {
    size_t f, F = prep->n_features;
    if (s->x) {
        memcpy(out, s->x + r * F, F * sizeof *out);
        return;
    }
    for (f = 0; f < F; f++)
        out[f] = prepared_value(prep, n_steps, s->bytes[r * F + f], f);
}

void lathe_prepared_rows(const lathe_prepared *prep, const lathe_split_data *s, size_t first,
                         size_t count, float *out) {
    size_t i;
    for (i = 0; i < count; i++)
        split_row(prep, s, prep->n_steps, first + i, out + i * prep->n_features);
}

void lathe_prepared_gather(const lathe_prepared *prep, const lathe_split_data *s,
                           const uint32_t *rows, size_t n, float *out) {
    size_t i;
    for (i = 0; i < n; i++)
        split_row(prep, s, prep->n_steps, rows[i], out + i * prep->n_features);
}

/* The rows one pass of fit_scaler reads at a time. */
#define FIT_CHUNK 64

/* Fits one scaling step on the first n_fit training rows of prep as the first n_done steps
 * left them: sums in double, per statistic in row order (rows are read FIT_CHUNK at a time,
 * which does not change any sum's order); "per": "all" fits one statistic over every value,
 * copied to each feature. A constant feature keeps scale 1. */
static lathe_status fit_scaler(const lathe_prep_op *op, const lathe_prepared *prep, size_t n_done,
                               size_t n_fit, float *shift, float *scale) {
    size_t F = prep->n_features, groups = op->per_all ? 1 : F, width = op->per_all ? F : 1;
    size_t g, i, c, i0, n, pass;
    double *lo = lathe_calloc(5 * groups, sizeof *lo), *hi = lo + groups, *sum = hi + groups;
    double *sq = sum + groups, *count = sq + groups;
    float *rows = lathe_malloc(FIT_CHUNK * F * sizeof *rows);
    if (!lo || !rows) {
        lathe_free(lo);
        lathe_free(rows);
        return LATHE_ERR_NOMEM;
    }
    /* Pass 0: range, sum and count; pass 1: squared deviations from the mean (then in sum). */
    for (pass = 0; pass < 2; pass++) {
        for (g = 0; pass == 1 && g < groups; g++)
            sum[g] /= count[g];
        for (i0 = 0; i0 < n_fit; i0 += n) {
            n = n_fit - i0 < FIT_CHUNK ? n_fit - i0 : FIT_CHUNK;
            for (i = 0; i < n; i++)
                split_row(prep, &prep->train, n_done, i0 + i, rows + i * F);
            for (i = 0; i < n; i++)
                for (g = 0; g < groups; g++)
                    for (c = 0; c < width; c++) {
                        double v = (double)rows[i * F + g + c];
                        if (pass == 1) {
                            double d = v - sum[g];
                            sq[g] += d * d;
                            continue;
                        }
                        if (count[g] == 0.0 || v < lo[g]) lo[g] = v;
                        if (count[g] == 0.0 || v > hi[g]) hi[g] = v;
                        sum[g] += v;
                        count[g] += 1.0;
                    }
        }
    }
    for (g = 0; g < groups; g++) {
        if (op->kind == LATHE_PREP_STANDARDIZE) {
            double sd = __builtin_sqrt(sq[g] / count[g]);
            shift[g] = (float)sum[g];
            scale[g] = sd > 0.0 ? (float)(1.0 / sd) : 1.0f;
        } else {
            shift[g] = (float)lo[g];
            scale[g] = hi[g] > lo[g] ? (float)(1.0 / (hi[g] - lo[g])) : 1.0f;
        }
    }
    for (g = groups; g < F; g++)
        shift[g] = shift[0], scale[g] = scale[0];
    lathe_free(lo);
    lathe_free(rows);
    return LATHE_OK;
}

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The imputed value of a column over the training rows (NaN when no row has a value). */
static lathe_status fit_fill(const lathe_column *col, const uint32_t *rows, size_t n,
                             const lathe_prep_op *op, float *fill) {
    size_t i, present = 0;
    float *values;
    if (op->strategy == LATHE_IMPUTE_CONSTANT) {
        *fill = op->constant;
        return LATHE_OK;
    }
    values = lathe_malloc((n ? n : 1) * sizeof *values);
    if (!values) return LATHE_ERR_NOMEM;
    for (i = 0; i < n; i++)
        if (!is_nan(lathe_column_at(col, rows[i])))
            values[present++] = lathe_column_at(col, rows[i]);
    *fill = __builtin_nanf("");
    if (present > 0) {
        qsort(values, present, sizeof *values, compare_floats);
        if (op->strategy == LATHE_IMPUTE_MEAN && col->type == LATHE_COLUMN_NUMERIC) {
            double sum = 0.0;
            for (i = 0; i < present; i++)
                sum += (double)values[i];
            *fill = (float)(sum / (double)present);
        } else if (op->strategy == LATHE_IMPUTE_MEDIAN && col->type == LATHE_COLUMN_NUMERIC) {
            *fill = present % 2
                        ? values[present / 2]
                        : (float)(((double)values[present / 2 - 1] + (double)values[present / 2]) /
                                  2.0);
        } else { /* most frequent (also for categories under mean/median); ties: smallest */
            size_t best = 0, run = 1, best_run = 0;
            for (i = 1; i <= present; i++) {
                if (i < present && values[i] == values[i - 1]) {
                    run++;
                    continue;
                }
                if (run > best_run) best_run = run, best = i - 1;
                run = 1;
            }
            *fill = values[best];
        }
    }
    lathe_free(values);
    return LATHE_OK;
}

/* Stratified (or plain) seeded split of rows[0..n) into train / validation / test lists.
 * Per class, rows keep table order, are shuffled, then the first round(test·n_c) go to test
 * and the next round(validation·n_c) to validation. With k folds, the rest are dealt to the
 * folds in turn, the count continuing from class to class (so every fold's class counts and
 * sizes differ by at most 1); fold op->fold is validation. The shuffles do not depend on the
 * fold, so the k folds of one seed partition the rows. */
static lathe_status split_rows(const lathe_prep_op *op, const float *strata, size_t n_strata,
                               const uint32_t *rows, size_t n, uint64_t seed, uint32_t *assign) {
    lathe_rng rng;
    uint32_t *members = lathe_malloc((n ? n : 1) * sizeof *members);
    size_t s, i;
    if (!members) return LATHE_ERR_NOMEM;
    size_t dealt = 0; /* rows dealt to folds so far */
    lathe_rng_seed(&rng, seed, LATHE_STREAM_SPLIT);
    for (s = 0; s < (n_strata ? n_strata : 1); s++) {
        size_t count = 0, n_test, n_val;
        for (i = 0; i < n; i++)
            if (!n_strata || (size_t)strata[rows[i]] == s) members[count++] = (uint32_t)i;
        lathe_rng_shuffle_u32(&rng, members, count);
        n_test = (size_t)((double)op->test * (double)count + 0.5);
        n_val = (size_t)((double)op->validation * (double)count + 0.5);
        if (n_test + n_val > count) n_val = count - n_test;
        if (op->folds) {
            for (i = 0; i < count; i++)
                assign[members[i]] = i < n_test                                     ? 2u
                                     : (dealt + i - n_test) % op->folds == op->fold ? 1u
                                                                                    : 0u;
            dealt += count - n_test;
            continue;
        }
        for (i = 0; i < count; i++)
            assign[members[i]] = i < n_test ? 2u : i < n_test + n_val ? 1u : 0u;
    }
    lathe_free(members);
    return LATHE_OK;
}

/* data.limit: keeps a seeded random subset of limit[s] rows of each split s (stream 0x1117
 * of the seed; per split in order train, validation, test, a shuffle of its rows in table
 * order and the first limit[s] of them), then compacts rows/assign in table order. */
static lathe_status apply_limit(const lathe_experiment *exp, uint32_t *rows, uint32_t *assign,
                                size_t *n_rows) {
    lathe_rng rng;
    uint32_t *members = lathe_malloc((*n_rows ? *n_rows : 1) * sizeof *members);
    size_t s, i, count, kept;
    if (!members) return LATHE_ERR_NOMEM;
    lathe_rng_seed(&rng, exp->seed, LATHE_STREAM_LIMIT);
    for (s = 0; s < 3; s++) {
        if (!exp->limit[s]) continue;
        for (i = 0, count = 0; i < *n_rows; i++)
            if (assign[i] == s) members[count++] = (uint32_t)i;
        if (count <= exp->limit[s]) continue;
        lathe_rng_shuffle_u32(&rng, members, count);
        for (i = exp->limit[s]; i < count; i++)
            assign[members[i]] = 3u; /* dropped */
    }
    for (i = 0, kept = 0; i < *n_rows; i++)
        if (assign[i] != 3u) rows[kept] = rows[i], assign[kept] = assign[i], kept++;
    *n_rows = kept;
    lathe_free(members);
    return LATHE_OK;
}

/* One row's key for drop_duplicates: its hash and its position in rows[]. */
typedef struct row_key {
    uint64_t hash;
    uint32_t pos;
} row_key;

static int compare_keys(const void *a, const void *b) {
    const row_key *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Equal as pandas compares cells: the same number, or both missing. */
static int same_cell(float a, float b) {
    return a == b || (is_nan(a) && is_nan(b));
}

static int same_row(const lathe_table *table, const feature_source *sources, size_t n_sources,
                    const lathe_column *target, uint32_t a, uint32_t b) {
    size_t j;
    if (!same_cell(target->values[a], target->values[b])) return 0;
    for (j = 0; j < n_sources; j++) {
        const lathe_column *col = &table->columns[sources[j].column];
        if (!same_cell(lathe_column_at(col, a), lathe_column_at(col, b))) return 0;
    }
    return 1;
}

/* FNV-1a over one cell's bits, with every NaN one pattern and −0 as +0 (they compare equal). */
static uint64_t hash_cell(uint64_t h, float v) {
    uint32_t bits;
    int k;
    if (is_nan(v))
        bits = 0x7fc00000u;
    else if (v == 0.0f)
        bits = 0u;
    else
        memcpy(&bits, &v, 4);
    for (k = 0; k < 4; k++, bits >>= 8)
        h = (h ^ (bits & 0xffu)) * 0x100000001b3ull;
    return h;
}

/* drop_duplicates: keeps the first of rows[0..*n_rows) (table order) among those with equal
 * feature cells and target, as pandas' DataFrame.drop_duplicates(keep="first") over the
 * feature and target columns; compacts rows in order. Sorting (hash, position) pairs finds
 * the candidates; a full comparison decides. */
static lathe_status drop_duplicate_rows(const lathe_table *table, const feature_source *sources,
                                        size_t n_sources, const lathe_column *target,
                                        uint32_t *rows, size_t *n_rows) {
    size_t n = *n_rows, i, j, start, kept;
    row_key *keys = lathe_malloc((n ? n : 1) * sizeof *keys);
    uint8_t *drop = lathe_calloc(n ? n : 1, 1);
    if (!keys || !drop) {
        lathe_free(keys);
        lathe_free(drop);
        return LATHE_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (j = 0; j < n_sources; j++)
            h = hash_cell(h, lathe_column_at(&table->columns[sources[j].column], rows[i]));
        keys[i].hash = hash_cell(h, target->values[rows[i]]);
        keys[i].pos = (uint32_t)i;
    }
    qsort(keys, n, sizeof *keys, compare_keys);
    for (start = 0; start < n; start = i) {
        for (i = start + 1; i < n && keys[i].hash == keys[start].hash; i++) {
            /* compare with the earlier kept rows of this hash (positions ascend in a run) */
            for (j = start; j < i; j++)
                if (!drop[keys[j].pos] && same_row(table, sources, n_sources, target,
                                                   rows[keys[j].pos], rows[keys[i].pos])) {
                    drop[keys[i].pos] = 1;
                    break;
                }
        }
    }
    for (i = 0, kept = 0; i < n; i++)
        if (!drop[i]) rows[kept++] = rows[i];
    *n_rows = kept;
    lathe_free(keys);
    lathe_free(drop);
    return LATHE_OK;
}

/* balance_classes: appends to rows/assign (reallocated) training rows drawn uniformly with
 * replacement from each class's training rows (table order; stream 0xBA1A of the seed; class
 * by class in label order, one lathe_rng_below each) until every class with training rows has
 * as many as the largest class. The appended rows are training rows (assign 0). */
static lathe_status oversample_rows(uint64_t seed, const lathe_column *target, size_t n_classes,
                                    uint32_t **rows, uint32_t **assign, size_t *n_rows) {
    lathe_rng rng;
    size_t *count = lathe_calloc(n_classes, sizeof *count);
    size_t *first = lathe_calloc(n_classes + 1, sizeof *first);
    uint32_t *members = NULL, *grown;
    size_t i, c, top = 0, extra = 0, n = *n_rows, at;
    lathe_status st = LATHE_ERR_NOMEM;
    if (!count || !first) goto done;
    for (i = 0; i < n; i++)
        if ((*assign)[i] == 0u) count[(size_t)target->values[(*rows)[i]]]++;
    for (c = 0; c < n_classes; c++)
        top = count[c] > top ? count[c] : top;
    for (c = 0; c < n_classes; c++) {
        if (count[c]) extra += top - count[c];
        first[c + 1] = first[c] + count[c];
    }
    st = LATHE_OK;
    if (extra == 0) goto done;
    st = LATHE_ERR_NOMEM;
    members = lathe_malloc(first[n_classes] * sizeof *members);
    if (!members) goto done;
    memset(count, 0, n_classes * sizeof *count);
    for (i = 0; i < n; i++)
        if ((*assign)[i] == 0u) {
            c = (size_t)target->values[(*rows)[i]];
            members[first[c] + count[c]++] = (*rows)[i];
        }
    grown = lathe_realloc(*rows, (n + extra) * sizeof *grown);
    if (!grown) goto done;
    *rows = grown;
    grown = lathe_realloc(*assign, (n + extra) * sizeof *grown);
    if (!grown) goto done;
    *assign = grown;
    lathe_rng_seed(&rng, seed, LATHE_STREAM_BALANCE);
    for (c = 0, at = n; c < n_classes; c++) {
        if (!count[c]) continue;
        for (i = count[c]; i < top; i++, at++) {
            uint32_t pick = lathe_rng_below(&rng, (uint32_t)count[c]);
            (*rows)[at] = members[first[c] + pick];
            (*assign)[at] = 0u;
        }
    }
    *n_rows = n + extra;
    st = LATHE_OK;
done:
    lathe_free(count);
    lathe_free(first);
    lathe_free(members);
    return st;
}

lathe_status lathe_prepare(const lathe_experiment *exp, const lathe_table *table,
                           lathe_prepared **out, lathe_error *err) {
    return lathe_prepare_layout(exp, table, NULL, out, err);
}

lathe_status lathe_prepare_layout(const lathe_experiment *exp, const lathe_table *table,
                                  const lathe_data_layout *layout, lathe_prepared **out,
                                  lathe_error *err) {
    lathe_prepared *prep = NULL;
    feature_source *sources = NULL;
    uint32_t *rows = NULL, *assign = NULL;
    size_t n_rows = 0, n_sources = 0, i, j, c, f;
    long target_index;
    const lathe_column *target;
    const lathe_prep_op *split = find_op(exp, LATHE_PREP_SPLIT);
    const lathe_prep_op *impute = find_op(exp, LATHE_PREP_IMPUTE);
    const lathe_prep_op *augment = find_op(exp, LATHE_PREP_AUGMENT);
    int compact;       /* the splits hold bytes (lathe_split_data.bytes), not floats */
    size_t n_fit = 0;  /* training rows before oversampling and augmentation: the fitted rows */
    size_t n_base = 0; /* training rows augment copies (after oversampling) */
    size_t n_steps = 0;
    int drop_missing = find_op(exp, LATHE_PREP_DROP_MISSING) != NULL;
    lathe_split_data *splits[3];
    lathe_status st = LATHE_OK;
    /* An empty data.target means "label" (synthetic and IDX sets name their target so). */
    const char *target_name = exp->target[0] ? exp->target : "label";
    size_t test_from = layout && layout->test_from < table->rows ? layout->test_from : table->rows;
    const size_t *image = exp->image[0]                ? exp->image
                          : layout && layout->image[0] ? layout->image
                                                       : NULL;

    *out = NULL;
    st = lathe_experiment_check_chain(exp, err);
    if (st != LATHE_OK) return st;
    for (i = 0; i < exp->n_ops; i++)
        n_steps += exp->ops[i].kind == LATHE_PREP_IMPUTE ||
                   exp->ops[i].kind == LATHE_PREP_STANDARDIZE ||
                   exp->ops[i].kind == LATHE_PREP_MINMAX;
    target_index = lathe_table_find(table, target_name);
    if (target_index < 0 && !exp->target[0])
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "data.target: missing (name the column to predict; the data has "
                               "no column named 'label')");
    if (target_index < 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "data.target: the data has no column named '%s'", target_name);
    if (test_from < table->rows && split->test_given)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "prepare[%zu].test: the data comes with its own test split (%zu "
                               "rows); remove \"test\" (\"validation\" is carved from the "
                               "training rows)",
                               (size_t)(split - exp->ops), table->rows - test_from);
    target = &table->columns[target_index];
    if (target->bytes)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "data.target: '%s' is a pixel column of the images; an image "
                               "set's target is 'label'",
                               target_name);
    if (exp->task == LATHE_TASK_REGRESSION && target->type != LATHE_COLUMN_NUMERIC) {
        size_t first = 0;
        /* The first cell that is not a number names the problem. */
        while (first < table->rows &&
               (is_nan(target->values[first]) || target->type != LATHE_COLUMN_CATEGORICAL ||
                is_number_text(target->categories[(size_t)target->values[first]])))
            first++;
        if (first < table->rows && target->type == LATHE_COLUMN_CATEGORICAL)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "data.target: column '%s' holds text (data row %zu: '%.60s'), "
                                   "but a regression target must be numeric",
                                   target_name, first + 1,
                                   target->categories[(size_t)target->values[first]]);
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "data.target: column '%s' holds %s, but a regression target "
                               "must be numeric",
                               target_name,
                               target->type == LATHE_COLUMN_BOOLEAN ? "true/false values" : "text");
    }
    if (exp->task == LATHE_TASK_CLASSIFICATION && target->type == LATHE_COLUMN_NUMERIC) {
        for (i = 0; i < table->rows; i++) {
            float v = target->values[i];
            if (!is_nan(v) && (v < 0.0f || v > 65535.0f || v != (float)(long)v))
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "data.target: column '%s' has the value %g (data row "
                                       "%zu); numeric class labels must be whole numbers in "
                                       "[0, 65535] (or choose task regression)",
                                       target_name, (double)v, i + 1);
        }
    }

    prep = lathe_calloc(1, sizeof *prep);
    sources = lathe_calloc(table->cols, sizeof *sources);
    rows = lathe_malloc(table->rows * sizeof *rows);
    assign = lathe_malloc(table->rows * sizeof *assign);
    if (!prep || !sources || !rows || !assign) goto nomem;
    prep->task = exp->task;

    /* Feature columns: every column but the target and the dropped ones. */
    for (c = 0; c < table->cols; c++)
        if ((long)c != target_index && !dropped(exp, table->columns[c].name))
            sources[n_sources++].column = c;
    if (n_sources == 0) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "prepare: no feature columns are left besides the target");
        goto fail;
    }

    /* Rows: with drop_missing, only complete rows; a missing target is never trainable. */
    for (i = 0; i < table->rows; i++) {
        int complete = !is_nan(target->values[i]);
        for (j = 0; j < n_sources && complete && drop_missing; j++)
            complete = !is_nan(lathe_column_at(&table->columns[sources[j].column], i));
        if (complete)
            rows[n_rows++] = (uint32_t)i;
        else if (!drop_missing) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "data row %zu: the target '%s' is missing; add "
                                 "{\"op\": \"drop_missing\"} before the split",
                                 i + 1, target_name);
            goto fail;
        }
    }
    if (find_op(exp, LATHE_PREP_DROP_DUPLICATES) &&
        drop_duplicate_rows(table, sources, n_sources, target, rows, &n_rows) != LATHE_OK)
        goto nomem;
    if (n_rows < 2) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "prepare: fewer than 2 usable rows remain");
        goto fail;
    }

    /* Classes. */
    if (exp->task == LATHE_TASK_CLASSIFICATION) {
        if (target->type == LATHE_COLUMN_CATEGORICAL) {
            prep->n_classes = target->n_categories;
        } else if (target->type == LATHE_COLUMN_BOOLEAN) {
            prep->n_classes = 2;
        } else {
            float top = 0.0f;
            for (i = 0; i < n_rows; i++)
                if (target->values[rows[i]] > top) top = target->values[rows[i]];
            prep->n_classes = (size_t)top + 1;
        }
        if (prep->n_classes < 2) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "data.target: column '%s' has only one class", target_name);
            goto fail;
        }
        prep->class_names = lathe_calloc(prep->n_classes, sizeof *prep->class_names);
        if (!prep->class_names) goto nomem;
        for (i = 0; i < prep->n_classes; i++) {
            char number[24];
            const char *name = number;
            if (target->type == LATHE_COLUMN_CATEGORICAL)
                name = target->categories[i];
            else if (target->type == LATHE_COLUMN_BOOLEAN)
                name = i ? "true" : "false";
            else
                snprintf(number, sizeof number, "%zu", i);
            prep->class_names[i] = copy_string(name, NULL);
            if (!prep->class_names[i]) goto nomem;
        }
    }

    /* Split. Rows of a predefined test split (table rows from test_from on; rows[] is in
     * table order) are test rows; the seeded split carves validation from the others. */
    {
        lathe_prep_op head = *split;
        size_t n_head = 0;
        while (n_head < n_rows && rows[n_head] < test_from)
            n_head++;
        if (n_head < n_rows) head.test = 0.0f;
        st = split_rows(
            &head,
            split->stratify && exp->task == LATHE_TASK_CLASSIFICATION ? target->values : NULL,
            split->stratify && exp->task == LATHE_TASK_CLASSIFICATION ? prep->n_classes : 0, rows,
            n_head, exp->seed, assign);
        if (st != LATHE_OK) goto nomem;
        for (i = n_head; i < n_rows; i++)
            assign[i] = 2u;
    }
    if (exp->limit[0] || exp->limit[1] || exp->limit[2]) {
        if (apply_limit(exp, rows, assign, &n_rows) != LATHE_OK) goto nomem;
    }

    /* Fit the imputation on the training rows and size the features. */
    {
        uint32_t *train_rows = lathe_malloc(n_rows * sizeof *train_rows);
        size_t n_train = 0;
        if (!train_rows) goto nomem;
        for (i = 0; i < n_rows; i++)
            if (assign[i] == 0) train_rows[n_train++] = rows[i];
        for (j = 0; j < n_sources && st == LATHE_OK; j++) {
            const lathe_column *col = &table->columns[sources[j].column];
            size_t missing = 0;
            sources[j].width = 1;
            sources[j].fill = __builtin_nanf("");
            if (col->type == LATHE_COLUMN_CATEGORICAL) {
                /* The vocabulary is the training rows' categories, in the column's order. */
                int32_t *slot =
                    lathe_malloc((col->n_categories ? col->n_categories : 1) * sizeof *slot);
                if (!slot) {
                    st = LATHE_ERR_NOMEM;
                    break;
                }
                sources[j].slot = slot;
                for (c = 0; c < col->n_categories; c++)
                    slot[c] = -1;
                for (i = 0; i < n_train; i++) {
                    float v = lathe_column_at(col, train_rows[i]);
                    if (!is_nan(v)) slot[(size_t)v] = 0;
                }
                sources[j].width = 0;
                for (c = 0; c < col->n_categories; c++)
                    if (slot[c] == 0) slot[c] = (int32_t)sources[j].width++;
            }
            for (i = 0; i < n_rows; i++)
                missing += is_nan(lathe_column_at(col, rows[i]));
            if (missing == 0) continue;
            if (!impute) {
                st = lathe_error_set(err, LATHE_ERR_INVALID,
                                     "column '%s' has %zu missing value%s: add an impute step "
                                     "after the split, or drop_missing before it",
                                     col->name, missing, missing == 1 ? "" : "s");
            } else if (fit_fill(col, train_rows, n_train, impute, &sources[j].fill) != LATHE_OK) {
                st = LATHE_ERR_NOMEM;
            }
        }
        lathe_free(train_rows);
        if (st == LATHE_ERR_NOMEM) goto nomem;
        if (st != LATHE_OK) goto fail;
    }
    for (j = 0; j < n_sources; j++)
        prep->n_features += sources[j].width;
    if (prep->n_features == 0) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "prepare: the feature columns have no values in the training rows");
        goto fail;
    }
    if (image) {
        if (image[0] * image[1] * image[2] != prep->n_features) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "data.image: [%zu, %zu, %zu] holds %zu values per row, but the "
                                 "prepared data has %zu features",
                                 image[0], image[1], image[2], image[0] * image[1] * image[2],
                                 prep->n_features);
            goto fail;
        }
        memcpy(prep->image, image, sizeof prep->image);
    }
    if (augment && !image) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "prepare[%zu]: augment transforms images, but the data has no image "
                             "shape (declare data.image [C, H, W])",
                             (size_t)(augment - exp->ops));
        goto fail;
    }
    prep->feature_names = lathe_calloc(prep->n_features, sizeof *prep->feature_names);
    prep->fill = lathe_malloc(prep->n_features * sizeof *prep->fill);
    prep->steps = lathe_calloc(n_steps ? n_steps : 1, sizeof *prep->steps);
    prep->inputs = lathe_calloc(n_sources, sizeof *prep->inputs);
    prep->target = copy_string(target->name, NULL);
    if (!prep->feature_names || !prep->fill || !prep->steps || !prep->inputs || !prep->target)
        goto nomem;
    for (j = 0, f = 0; j < n_sources; j++) {
        const lathe_column *col = &table->columns[sources[j].column];
        lathe_prepared_input *input = &prep->inputs[j];
        input->name = copy_string(col->name, NULL);
        if (!input->name) goto nomem;
        input->type = col->type, input->first = f, input->width = sources[j].width;
        prep->n_inputs = j + 1;
        if (col->type != LATHE_COLUMN_CATEGORICAL) {
            prep->feature_names[f] = copy_string(col->name, NULL);
            if (!prep->feature_names[f]) goto nomem;
            prep->fill[f] = sources[j].fill;
            f++;
            continue;
        }
        /* One-hot: the imputed category's feature is 1 in a missing cell, the others 0. */
        for (c = 0; c < col->n_categories; c++) {
            if (sources[j].slot[c] < 0) continue;
            prep->feature_names[f] = copy_string(col->name, col->categories[c]);
            if (!prep->feature_names[f]) goto nomem;
            prep->fill[f] = !is_nan(sources[j].fill) && sources[j].fill == (float)c ? 1.0f : 0.0f;
            f++;
        }
    }

    for (i = 0; i < n_rows; i++)
        n_fit += assign[i] == 0u;
    if (find_op(exp, LATHE_PREP_BALANCE_CLASSES) &&
        oversample_rows(exp->seed, target, prep->n_classes, &rows, &assign, &n_rows) != LATHE_OK)
        goto nomem;

    /* Rows made only of byte columns (an image set's pixels) stay bytes when no step needs
     * them as floats at preparation (augment makes float copies): the splits keep the raw
     * bytes and the fitted steps, and lathe_prepared_rows prepares rows as they are read. */
    compact = !augment;
    for (j = 0; j < n_sources; j++)
        compact = compact && table->columns[sources[j].column].bytes;

    /* Build the matrices (one-hot expanding categories, imputing missing cells); the training
     * matrix has room for augment's copies after its rows. */
    splits[0] = &prep->train, splits[1] = &prep->validation, splits[2] = &prep->test;
    for (i = 0; i < n_rows; i++)
        splits[assign[i]]->rows++;
    n_base = prep->train.rows;
    if (augment) {
        if (n_base > (SIZE_MAX / sizeof(float) / prep->n_features) / (augment->copies + 1)) {
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "prepare[%zu].copies: %zu copies of %zu training images need "
                                 "more memory than this target can address",
                                 (size_t)(augment - exp->ops), augment->copies, n_base);
            goto fail;
        }
        prep->train.rows = n_base * (augment->copies + 1);
    }
    for (c = 0; c < 3; c++) {
        lathe_split_data *s = splits[c];
        size_t count = s->rows ? s->rows : 1;
        if (compact)
            s->bytes = lathe_malloc(count * prep->n_features);
        else
            s->x = lathe_malloc(count * prep->n_features * sizeof *s->x);
        s->source_row = lathe_malloc(count * sizeof *s->source_row);
        if (exp->task == LATHE_TASK_CLASSIFICATION)
            s->label = lathe_malloc(count * sizeof *s->label);
        else
            s->value = lathe_malloc(count * sizeof *s->value);
        if ((!s->x && !s->bytes) || !s->source_row || (!s->label && !s->value)) goto nomem;
        s->rows = 0;
    }
    for (i = 0; i < n_rows; i++) {
        lathe_split_data *s = splits[assign[i]];
        uint32_t r = rows[i];
        float *x = compact ? NULL : s->x + s->rows * prep->n_features;
        if (compact) {
            uint8_t *b = s->bytes + s->rows * prep->n_features;
            for (j = 0; j < n_sources; j++)
                b[j] = table->columns[sources[j].column].bytes[r];
        }
        for (j = 0, f = 0; x && j < n_sources; j++) {
            const lathe_column *col = &table->columns[sources[j].column];
            float v = lathe_column_at(col, r);
            if (col->type == LATHE_COLUMN_CATEGORICAL) {
                int32_t slot = is_nan(v) ? -1 : sources[j].slot[(size_t)v];
                for (c = 0; c < sources[j].width; c++, f++)
                    x[f] = is_nan(v) ? prep->fill[f] : ((int32_t)c == slot ? 1.0f : 0.0f);
            } else {
                x[f] = is_nan(v) ? sources[j].fill : v;
                f++;
            }
        }
        if (s->label)
            s->label[s->rows] = (uint32_t)target->values[r];
        else
            s->value[s->rows] = target->values[r];
        s->source_row[s->rows] = r;
        s->rows++;
    }
    if (prep->train.rows == 0) {
        st = lathe_error_set(err, LATHE_ERR_INVALID, "prepare: the split leaves no training rows");
        goto fail;
    }

    /* augment: copies k = 1..copies of every training row, each from the raw (imputed,
     * unscaled) row, appended after them (stream 0xA06 of the seed, copy by copy, row by
     * row). The scaler below is fitted on the first n_fit rows only, so neither the copies nor
     * the oversampled rows change the fitted preparation. */
    if (augment) {
        size_t F = prep->n_features, k;
        float *tmp = lathe_malloc(F * sizeof *tmp);
        lathe_augment_config cfg;
        lathe_rng rng;
        lathe_split_data *t = &prep->train;
        if (!tmp) goto nomem;
        cfg.shift = augment->shift, cfg.flip = augment->flip;
        cfg.rotate = augment->rotate, cfg.noise = augment->noise;
        lathe_rng_seed(&rng, exp->seed, LATHE_STREAM_AUGMENT);
        for (k = 1; k <= augment->copies; k++)
            for (i = 0; i < n_base; i++) {
                size_t to = k * n_base + i;
                lathe_augment_image(t->x + i * F, t->x + to * F, tmp, prep->image[0],
                                    prep->image[1], prep->image[2], &cfg, &rng);
                if (t->label)
                    t->label[to] = t->label[i];
                else
                    t->value[to] = t->value[i];
                t->source_row[to] = t->source_row[i];
            }
        t->rows = n_base * (augment->copies + 1);
        lathe_free(tmp);
    }

    /* The fitted feature steps in list order. Imputation happened while encoding; each scaling
     * step is fitted on the first n_fit training rows as the steps before it left them, then
     * applied to every row of every split (augment's copies and oversampled rows included) as
     * its own pass, so one scaling step gives the same bits as a lone scaler always did. */
    for (i = 0; i < exp->n_ops; i++) {
        const lathe_prep_op *op = &exp->ops[i];
        lathe_prepared_step *step = &prep->steps[prep->n_steps];
        size_t F = prep->n_features, r;
        if (op->kind != LATHE_PREP_IMPUTE && op->kind != LATHE_PREP_STANDARDIZE &&
            op->kind != LATHE_PREP_MINMAX)
            continue;
        step->kind = op->kind;
        prep->n_steps++;
        if (op->kind == LATHE_PREP_IMPUTE) continue;
        step->shift = lathe_malloc(F * sizeof *step->shift);
        step->scale = lathe_malloc(F * sizeof *step->scale);
        if (!step->shift || !step->scale) goto nomem;
        if (fit_scaler(op, prep, prep->n_steps - 1, n_fit, step->shift, step->scale) != LATHE_OK)
            goto nomem;
        for (c = 0; !compact && c < 3; c++)
            for (r = 0; r < splits[c]->rows; r++) {
                float *x = splits[c]->x + r * F;
                for (f = 0; f < F; f++)
                    x[f] = (x[f] - step->shift[f]) * step->scale[f];
            }
    }
    goto done;

nomem:
    st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory preparing the data");
fail:
    lathe_prepared_destroy(prep);
    prep = NULL;
done:
    for (j = 0; sources && j < n_sources; j++)
        lathe_free(sources[j].slot);
    lathe_free(sources);
    lathe_free(rows);
    lathe_free(assign);
    *out = prep;
    return st;
}

/* Hashes n 32-bit words as little-endian bytes, whatever the host order, a block at a time. */
static void hash_words(lathe_sha256 *ctx, const void *words, size_t n, int is_float) {
    uint8_t le[4096];
    size_t i, used = 0;
    for (i = 0; i < n; i++) {
        uint32_t bits;
        if (is_float)
            memcpy(&bits, (const float *)words + i, 4);
        else
            bits = ((const uint32_t *)words)[i];
        le[used] = (uint8_t)bits, le[used + 1] = (uint8_t)(bits >> 8);
        le[used + 2] = (uint8_t)(bits >> 16), le[used + 3] = (uint8_t)(bits >> 24);
        used += 4;
        if (used == sizeof le) {
            lathe_sha256_update(ctx, le, used);
            used = 0;
        }
    }
    lathe_sha256_update(ctx, le, used);
}

/* Hashes split s of prep: its prepared rows (a byte split's prepared as they are read),
 * then its labels or values. */
static void hash_split(lathe_sha256 *ctx, const lathe_prepared *prep, const lathe_split_data *s) {
    size_t F = prep->n_features;
    if (s->x) {
        hash_words(ctx, s->x, s->rows * F, 1);
    } else {
        float block[1024];
        size_t i, n = s->rows * F, used = 0;
        for (i = 0; i < n; i++) {
            block[used++] = prepared_value(prep, prep->n_steps, s->bytes[i], i % F);
            if (used == 1024 || i + 1 == n) hash_words(ctx, block, used, 1), used = 0;
        }
    }
    if (s->label)
        hash_words(ctx, s->label, s->rows, 0);
    else
        hash_words(ctx, s->value, s->rows, 1);
}

void lathe_prepared_sha256(const lathe_prepared *prep, char hex[65]) {
    lathe_sha256 ctx;
    uint8_t digest[32];
    lathe_sha256_init(&ctx);
    hash_split(&ctx, prep, &prep->train);
    hash_split(&ctx, prep, &prep->validation);
    hash_split(&ctx, prep, &prep->test);
    lathe_sha256_final(&ctx, digest);
    lathe_sha256_to_hex(digest, hex);
}
