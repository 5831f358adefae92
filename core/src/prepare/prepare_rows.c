/* Applying a fitted preparation to raw rows: what a model does with a CSV it has never seen.
 * The fitted preparation names its input columns, their types and (through the feature
 * names "column=category") their categories; the rows are encoded, imputed and put through
 * the fitted steps in order, exactly as the training rows were. */
#include <stdio.h>
#include <string.h>

#include "lathe/alloc.h"
#include "lathe/prepare.h"

static int is_nan(float v) { return v != v; }

void lathe_split_data_free(lathe_split_data *s) {
    if (!s) return;
    lathe_free(s->x);
    lathe_free(s->bytes);
    lathe_free(s->label);
    lathe_free(s->value);
    lathe_free(s->source_row);
    memset(s, 0, sizeof *s);
}

const char *lathe_prepared_category(const lathe_prepared *p, size_t input, size_t k) {
    const lathe_prepared_input *in = &p->inputs[input];
    return p->feature_names[in->first + k] + strlen(in->name) + 1;
}

/* The text of cell r of a column: its category's name, or a number printed as the CSV
 * reader would have kept it when a column of categories arrives as numbers. */
static const char *cell_text(const lathe_column *col, size_t r, char buf[32]) {
    float v = lathe_column_at(col, r);
    if (col->type == LATHE_COLUMN_CATEGORICAL) return col->categories[(size_t)v];
    if (col->type == LATHE_COLUMN_BOOLEAN) return v != 0.0f ? "true" : "false";
    snprintf(buf, 32, "%.9g", (double)v);
    return buf;
}

/* Maps each category of a raw column to the fitted feature offset of input in (-1: unseen). */
static void map_categories(const lathe_prepared *p, const lathe_prepared_input *in,
                           const lathe_column *col, int32_t *slot) {
    size_t c, k;
    for (c = 0; c < col->n_categories; c++) {
        slot[c] = -1;
        for (k = 0; k < in->width; k++)
            if (strcmp(lathe_prepared_category(p, (size_t)(in - p->inputs), k),
                       col->categories[c]) == 0)
                slot[c] = (int32_t)k;
    }
}

lathe_status lathe_prepare_rows(const lathe_prepared *p, const lathe_table *table,
                                int want_target, lathe_split_data *out, size_t *unseen,
                                lathe_error *err) {
    size_t F = p->n_features, rows = table->rows, r, j, k, n_unseen = 0;
    const lathe_column **cols = NULL;
    const lathe_column *target = NULL;
    int32_t **slots = NULL;
    int32_t *class_slot = NULL;
    lathe_status st = LATHE_OK;
    memset(out, 0, sizeof *out);
    if (unseen) *unseen = 0;
    if (p->n_inputs == 0 || !p->target)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the preparation names no input columns (a model file of an "
                               "older version?)");
    if (want_target) {
        long t = lathe_table_find(table, p->target);
        if (t < 0)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "the data has no column '%s' (the target the model was "
                                   "trained to predict)",
                                   p->target);
        target = &table->columns[t];
        if (target->bytes)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "column '%s', the model's target, is a pixel column of the "
                                   "images",
                                   p->target);
        if (p->task == LATHE_TASK_REGRESSION && target->type != LATHE_COLUMN_NUMERIC)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "column '%s': the target of a regression model must be "
                                   "numeric; this one holds text",
                                   p->target);
    }
    /* Find every input column before allocating anything. */
    for (j = 0; j < p->n_inputs; j++) {
        const lathe_prepared_input *in = &p->inputs[j];
        long c = lathe_table_find(table, in->name);
        if (c < 0)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "the data has no column '%s' (input %zu of %zu the model "
                                   "needs)",
                                   in->name, j + 1, p->n_inputs);
        if (in->type != LATHE_COLUMN_CATEGORICAL &&
            table->columns[c].type == LATHE_COLUMN_CATEGORICAL)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "column '%s' holds text (e.g. '%s'), but the model was "
                                   "trained on numbers in it",
                                   in->name, table->columns[c].categories[0]);
    }
    cols = lathe_calloc(p->n_inputs, sizeof *cols);
    slots = lathe_calloc(p->n_inputs, sizeof *slots);
    out->x = lathe_malloc((rows ? rows : 1) * F * sizeof *out->x);
    out->source_row = lathe_malloc((rows ? rows : 1) * sizeof *out->source_row);
    if (!cols || !slots || !out->x || !out->source_row) goto nomem;
    if (want_target && p->task == LATHE_TASK_CLASSIFICATION) {
        out->label = lathe_malloc((rows ? rows : 1) * sizeof *out->label);
        if (!out->label) goto nomem;
    } else if (want_target) {
        out->value = lathe_malloc((rows ? rows : 1) * sizeof *out->value);
        if (!out->value) goto nomem;
    }
    for (j = 0; j < p->n_inputs; j++) {
        const lathe_prepared_input *in = &p->inputs[j];
        cols[j] = &table->columns[lathe_table_find(table, in->name)];
        if (in->type == LATHE_COLUMN_CATEGORICAL && cols[j]->type == LATHE_COLUMN_CATEGORICAL) {
            slots[j] = lathe_malloc((cols[j]->n_categories ? cols[j]->n_categories : 1) *
                                    sizeof *slots[j]);
            if (!slots[j]) goto nomem;
            map_categories(p, in, cols[j], slots[j]);
        }
    }
    if (target && p->task == LATHE_TASK_CLASSIFICATION &&
        target->type == LATHE_COLUMN_CATEGORICAL) {
        class_slot = lathe_malloc((target->n_categories ? target->n_categories : 1) *
                                  sizeof *class_slot);
        if (!class_slot) goto nomem;
        for (k = 0; k < target->n_categories; k++) {
            size_t c;
            class_slot[k] = -1;
            for (c = 0; c < p->n_classes; c++)
                if (strcmp(p->class_names[c], target->categories[k]) == 0) class_slot[k] = (int32_t)c;
        }
    }

    for (r = 0; r < rows; r++) {
        float *x = out->x + r * F;
        out->source_row[r] = (uint32_t)r;
        for (j = 0; j < p->n_inputs; j++) {
            const lathe_prepared_input *in = &p->inputs[j];
            const lathe_column *col = cols[j];
            float v = lathe_column_at(col, r);
            if (is_nan(v)) {
                for (k = 0; k < in->width; k++) x[in->first + k] = p->fill[in->first + k];
                if (in->type != LATHE_COLUMN_CATEGORICAL && is_nan(p->fill[in->first])) {
                    st = lathe_error_set(err, LATHE_ERR_INVALID,
                                         "data row %zu, column '%s': the value is missing and "
                                         "the model has no imputation for it",
                                         r + 1, in->name);
                    goto fail;
                }
                continue;
            }
            if (in->type != LATHE_COLUMN_CATEGORICAL) {
                x[in->first] = v;
                continue;
            }
            {
                int32_t slot = -1;
                if (slots[j]) {
                    slot = slots[j][(size_t)v];
                } else { /* categories that arrived as numbers or booleans */
                    char buf[32];
                    const char *text = cell_text(col, r, buf);
                    for (k = 0; k < in->width; k++)
                        if (strcmp(lathe_prepared_category(p, (size_t)(in - p->inputs), k),
                                   text) == 0)
                            slot = (int32_t)k;
                }
                n_unseen += slot < 0;
                for (k = 0; k < in->width; k++) x[in->first + k] = (int32_t)k == slot ? 1.0f : 0.0f;
            }
        }
        lathe_prepared_apply_steps(p, x, 1);
        if (target) {
            float v = target->values[r];
            if (is_nan(v)) {
                st = lathe_error_set(err, LATHE_ERR_INVALID,
                                     "data row %zu, column '%s': the target is missing", r + 1,
                                     p->target);
                goto fail;
            }
            if (out->value) {
                out->value[r] = v;
            } else {
                long c = -1;
                char buf[32];
                if (class_slot) {
                    c = class_slot[(size_t)v];
                } else {
                    const char *text = cell_text(target, r, buf);
                    for (k = 0; k < p->n_classes; k++)
                        if (strcmp(p->class_names[k], text) == 0) c = (long)k;
                }
                if (c < 0) {
                    st = lathe_error_set(err, LATHE_ERR_INVALID,
                                         "data row %zu, column '%s': '%s' is not one of the "
                                         "model's %zu classes",
                                         r + 1, p->target, cell_text(target, r, buf),
                                         p->n_classes);
                    goto fail;
                }
                out->label[r] = (uint32_t)c;
            }
        }
    }
    out->rows = rows;
    if (unseen) *unseen = n_unseen;
    goto done;
nomem:
    st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory preparing the rows");
fail:
    lathe_split_data_free(out);
done:
    for (j = 0; slots && j < p->n_inputs; j++) lathe_free(slots[j]);
    lathe_free(slots);
    lathe_free(cols);
    lathe_free(class_slot);
    return st;
}

lathe_status lathe_prepared_adopt(lathe_prepared *prep, const lathe_prepared *fitted,
                                  const lathe_table *table, lathe_error *err) {
    lathe_split_data all, *splits[3];
    size_t F = fitted->n_features, s, i, k;
    float *x[3] = {NULL, NULL, NULL};
    char **names = NULL;
    lathe_prepared_input *inputs = NULL;
    float *fill = NULL;
    lathe_prepared_step *steps = NULL;
    uint32_t *class_map = NULL; /* the data's class k is the model's class class_map[k] */
    char **class_names = NULL;  /* a copy of the model's, for prep */
    lathe_status st;
    if (prep->task != fitted->task)
        return lathe_error_set(err, LATHE_ERR_MISMATCH, "the data is for %s, the model for %s",
                               prep->task == LATHE_TASK_CLASSIFICATION ? "classification" : "regression",
                               fitted->task == LATHE_TASK_CLASSIFICATION ? "classification" : "regression");
    if (!!prep->image[0] != !!fitted->image[0] ||
        memcmp(prep->image, fitted->image, sizeof prep->image) != 0)
        return lathe_error_set(err, LATHE_ERR_MISMATCH,
                               "the data's image shape differs from the model's");
    st = lathe_prepare_rows(fitted, table, 0, &all, NULL, err); /* names a missing column */
    if (st != LATHE_OK) return st;
    for (k = 0; k < prep->n_classes; k++) {
        size_t c = 0;
        while (c < fitted->n_classes && strcmp(prep->class_names[k], fitted->class_names[c]) != 0) c++;
        if (c == fitted->n_classes) {
            lathe_split_data_free(&all);
            return lathe_error_set(err, LATHE_ERR_MISMATCH,
                                   "the class '%s' of the data is not one of the model's %zu "
                                   "classes: fine-tuning keeps the model's output layer, so it "
                                   "cannot learn a new class",
                                   prep->class_names[k], fitted->n_classes);
        }
    }
    splits[0] = &prep->train, splits[1] = &prep->validation, splits[2] = &prep->test;
    names = lathe_calloc(F, sizeof *names);
    inputs = lathe_calloc(fitted->n_inputs, sizeof *inputs);
    fill = lathe_malloc(F * sizeof *fill);
    steps = lathe_calloc(fitted->n_steps ? fitted->n_steps : 1, sizeof *steps);
    if (!names || !inputs || !fill || !steps) goto nomem;
    for (k = 0; k < fitted->n_steps; k++) {
        steps[k].kind = fitted->steps[k].kind;
        if (!fitted->steps[k].shift) continue;
        steps[k].shift = lathe_malloc(F * sizeof *steps[k].shift);
        steps[k].scale = lathe_malloc(F * sizeof *steps[k].scale);
        if (!steps[k].shift || !steps[k].scale) goto nomem;
        memcpy(steps[k].shift, fitted->steps[k].shift, F * sizeof *steps[k].shift);
        memcpy(steps[k].scale, fitted->steps[k].scale, F * sizeof *steps[k].scale);
    }
    if (fitted->n_classes) {
        class_map = lathe_malloc(prep->n_classes * sizeof *class_map + 1);
        class_names = lathe_calloc(fitted->n_classes, sizeof *class_names);
        if (!class_map || !class_names) goto nomem;
        for (k = 0; k < fitted->n_classes; k++)
            if (!(class_names[k] = lathe_strdup(fitted->class_names[k]))) goto nomem;
        for (k = 0; k < prep->n_classes; k++) {
            uint32_t c = 0;
            while (strcmp(prep->class_names[k], fitted->class_names[c]) != 0) c++;
            class_map[k] = c;
        }
    }
    for (s = 0; s < 3; s++) {
        x[s] = lathe_malloc((splits[s]->rows ? splits[s]->rows : 1) * F * sizeof(float));
        if (!x[s]) goto nomem;
        for (i = 0; i < splits[s]->rows; i++)
            memcpy(x[s] + i * F, all.x + (size_t)splits[s]->source_row[i] * F, F * sizeof(float));
    }
    for (k = 0; k < F; k++)
        if (!(names[k] = lathe_strdup(fitted->feature_names[k]))) goto nomem;
    for (k = 0; k < fitted->n_inputs; k++) {
        inputs[k] = fitted->inputs[k];
        if (!(inputs[k].name = lathe_strdup(fitted->inputs[k].name))) goto nomem;
    }
    memcpy(fill, fitted->fill, F * sizeof *fill);
    /* Commit: swap the new encoding in, free the old one. */
    for (s = 0; s < 3; s++) {
        lathe_free(splits[s]->x), splits[s]->x = x[s];
        lathe_free(splits[s]->bytes), splits[s]->bytes = NULL; /* now prepared floats */
    }
    for (k = 0; k < prep->n_features; k++) lathe_free(prep->feature_names[k]);
    lathe_free(prep->feature_names);
    for (k = 0; k < prep->n_inputs; k++) lathe_free(prep->inputs[k].name);
    lathe_free(prep->inputs);
    lathe_free(prep->fill);
    for (k = 0; k < prep->n_steps; k++) lathe_free(prep->steps[k].shift), lathe_free(prep->steps[k].scale);
    lathe_free(prep->steps);
    prep->n_features = F, prep->feature_names = names;
    prep->n_inputs = fitted->n_inputs, prep->inputs = inputs;
    prep->fill = fill, prep->n_steps = fitted->n_steps, prep->steps = steps;
    if (class_map) { /* the labels and class list become the model's */
        for (s = 0; s < 3; s++)
            for (i = 0; i < splits[s]->rows; i++) splits[s]->label[i] = class_map[splits[s]->label[i]];
        for (k = 0; k < prep->n_classes; k++) lathe_free(prep->class_names[k]);
        lathe_free(prep->class_names);
        prep->n_classes = fitted->n_classes, prep->class_names = class_names;
        lathe_free(class_map);
    }
    lathe_split_data_free(&all);
    return LATHE_OK;
nomem:
    for (s = 0; s < 3; s++) lathe_free(x[s]);
    for (k = 0; names && k < F; k++) lathe_free(names[k]);
    lathe_free(names);
    for (k = 0; inputs && k < fitted->n_inputs; k++) lathe_free(inputs[k].name);
    lathe_free(inputs);
    lathe_free(fill);
    for (k = 0; steps && k < fitted->n_steps; k++) lathe_free(steps[k].shift), lathe_free(steps[k].scale);
    lathe_free(steps);
    for (k = 0; class_names && k < fitted->n_classes; k++) lathe_free(class_names[k]);
    lathe_free(class_names);
    lathe_free(class_map);
    lathe_split_data_free(&all);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory re-encoding the data");
}
