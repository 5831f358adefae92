#include "lathe/profile.h"

#include <stdlib.h>

#include "cJSON.h"
#include "lathe/alloc.h"
#include "lathe/json_hooks.h"

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Sorts values:(n) ascending: by counting when every value is an integer within a span of
 * 65,536 (pixels, counts, codes: the common case of wide tables, and linear), else qsort.
 * Both give the same array. */
static lathe_status sort_values(float *values, size_t n) {
    float lo = values[0], hi = values[0];
    size_t i, k, span, *counts;
    for (i = 0; i < n; i++) {
        float v = values[i];
        if (!(v >= -1e9f && v <= 1e9f) || v != (float)(long)v ||
            (v == 0.0f && __builtin_signbit(v))) {
            qsort(values, n, sizeof *values, compare_floats);
            return LATHE_OK;
        }
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (hi - lo >= 65536.0f) {
        qsort(values, n, sizeof *values, compare_floats);
        return LATHE_OK;
    }
    span = (size_t)(hi - lo) + 1;
    counts = lathe_calloc(span, sizeof *counts);
    if (!counts) return LATHE_ERR_NOMEM;
    for (i = 0; i < n; i++)
        counts[(size_t)(values[i] - lo)]++;
    for (k = 0, i = 0; k < span; k++) {
        float v = lo + (float)k;
        size_t c;
        for (c = counts[k]; c > 0; c--)
            values[i++] = v;
    }
    lathe_free(counts);
    return LATHE_OK;
}

/* numpy's default quantile: position q·(n−1) between the sorted neighbours. */
static double quantile(const float *sorted, size_t n, double q) {
    double pos = q * (double)(n - 1), frac;
    size_t lo = (size_t)pos;
    if (lo + 1 >= n) return (double)sorted[n - 1];
    frac = pos - (double)lo;
    return (double)sorted[lo] + frac * ((double)sorted[lo + 1] - (double)sorted[lo]);
}

/* Counts each level of a categorical or boolean column and keeps the most frequent. */
static lathe_status count_levels(const lathe_column *col, size_t rows, lathe_column_profile *p) {
    size_t levels = col->type == LATHE_COLUMN_BOOLEAN ? 2 : col->n_categories, r, k, t;
    size_t *counts = lathe_calloc(levels ? levels : 1, sizeof *counts);
    if (!counts) return LATHE_ERR_NOMEM;
    for (r = 0; r < rows; r++) {
        float v = lathe_column_at(col, r);
        if (v == v) counts[(size_t)v]++;
    }
    for (k = 0; k < levels; k++)
        p->distinct += counts[k] > 0;
    for (t = 0; t < LATHE_PROFILE_TOP; t++) {
        size_t best = levels;
        for (k = 0; k < levels; k++)
            if (counts[k] > 0 && (best == levels || counts[k] > counts[best])) best = k;
        if (best == levels) break;
        p->top_index[t] = best;
        p->top_count[t] = counts[best];
        counts[best] = 0;
        p->n_top = t + 1;
    }
    lathe_free(counts);
    return LATHE_OK;
}

/* The value at position i of the ascending order of a byte column's values, from their
 * counts:(256). */
static double byte_at(const size_t *counts, size_t i) {
    size_t k, seen = 0;
    for (k = 0; k < 256; k++) {
        seen += counts[k];
        if (i < seen) return (double)k;
    }
    return 255.0;
}

/* quantile() of a byte column from its counts: the same positions, the same arithmetic. */
static double byte_quantile(const size_t *counts, size_t n, double q) {
    double pos = q * (double)(n - 1), frac, lo_v;
    size_t lo = (size_t)pos;
    if (lo + 1 >= n) return byte_at(counts, n - 1);
    frac = pos - (double)lo;
    lo_v = byte_at(counts, lo);
    return lo_v + frac * (byte_at(counts, lo + 1) - lo_v);
}

/* The profile of a numeric column of bytes (an image's pixels; none missing) from its 256
 * counts: the same numbers as sorting its values, in the same float operations and order
 * (the squares are added value by value in ascending order), without the sort. */
static void profile_bytes(const lathe_column *col, size_t rows, lathe_column_profile *p) {
    size_t counts[256] = {0}, r, k, c, lo = 256, hi = 0;
    double sum = 0.0, sq = 0.0, mean;
    if (rows == 0) return;
    for (r = 0; r < rows; r++) counts[col->bytes[r]]++;
    p->distinct = 0;
    for (k = 0; k < 256; k++) {
        if (!counts[k]) continue;
        p->distinct++;
        if (lo == 256) lo = k;
        hi = k;
        sum += (double)counts[k] * (double)k; /* whole numbers: exact, as the sorted sum is */
    }
    mean = sum / (double)rows;
    for (k = lo; k <= hi; k++) {
        double d = ((double)k - mean) * ((double)k - mean);
        for (c = counts[k]; c > 0; c--) sq += d;
    }
    p->mean = mean;
    p->std = __builtin_sqrt(sq / (double)rows);
    p->min = (double)lo;
    p->max = (double)hi;
    p->q25 = byte_quantile(counts, rows, 0.25);
    p->q50 = byte_quantile(counts, rows, 0.5);
    p->q75 = byte_quantile(counts, rows, 0.75);
}

lathe_status lathe_profile_table(const lathe_table *table, lathe_column_profile *out,
                                 lathe_error *err) {
    float *sorted = lathe_malloc((table->rows ? table->rows : 1) * sizeof *sorted);
    size_t c, r;
    if (!sorted) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory profiling the data");
    for (c = 0; c < table->cols; c++) {
        const lathe_column *col = &table->columns[c];
        lathe_column_profile *p = &out[c];
        size_t n = 0;
        double nan = (double)__builtin_nanf("");
        p->count = table->rows;
        p->missing = col->missing;
        p->distinct = 0;
        p->n_top = 0;
        p->min = p->max = p->mean = p->std = p->q25 = p->q50 = p->q75 = nan;
        if (col->type != LATHE_COLUMN_NUMERIC && count_levels(col, table->rows, p) != LATHE_OK) {
            lathe_free(sorted);
            return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory profiling the data");
        }
        if (col->type == LATHE_COLUMN_CATEGORICAL) continue;
        if (col->bytes && col->type == LATHE_COLUMN_NUMERIC) {
            profile_bytes(col, table->rows, p);
            continue;
        }
        for (r = 0; r < table->rows; r++) {
            float v = lathe_column_at(col, r);
            if (v == v) sorted[n++] = v;
        }
        if (n == 0) continue;
        if (sort_values(sorted, n) != LATHE_OK) {
            lathe_free(sorted);
            return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory profiling the data");
        }
        {
            double sum = 0.0, sq = 0.0, mean;
            for (r = 0; r < n; r++)
                sum += (double)sorted[r];
            mean = sum / (double)n;
            for (r = 0; r < n; r++)
                sq += ((double)sorted[r] - mean) * ((double)sorted[r] - mean);
            p->mean = mean;
            p->std = __builtin_sqrt(sq / (double)n);
        }
        p->min = (double)sorted[0];
        p->max = (double)sorted[n - 1];
        p->q25 = quantile(sorted, n, 0.25);
        p->q50 = quantile(sorted, n, 0.5);
        p->q75 = quantile(sorted, n, 0.75);
        if (col->type == LATHE_COLUMN_NUMERIC) {
            p->distinct = 1;
            for (r = 1; r < n; r++)
                p->distinct += sorted[r] != sorted[r - 1];
        }
    }
    lathe_free(sorted);
    return LATHE_OK;
}

static int add_number_or_null(cJSON *o, const char *key, double v) {
    return (v == v ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key)) != NULL;
}

/* The table's columns and their profiles (lathe/profile.h) as JSON text in *out (free with
 * lathe_free): {"rows", "columns": [{"name", "type" ("numeric", "categorical",
 * "boolean"), "categories": […], "count", "missing", "distinct", "min", "max", "mean", "std",
 * "q25", "q50", "q75", "top": [[index, count], …]}]}. */
lathe_status lathe_profile_table_json(const lathe_table *t, char **out, lathe_error *err) {
    static const char *const types[] = {"numeric", "categorical", "boolean"};
    lathe_column_profile *prof = lathe_calloc(t->cols ? t->cols : 1, sizeof *prof);
    cJSON *o = cJSON_CreateObject(), *cols;
    size_t j, k;
    lathe_status st = LATHE_OK;
    int ok = prof && o;
    *out = NULL;
    if (ok) st = lathe_profile_table(t, prof, err);
    if (st != LATHE_OK) goto done;
    ok = ok && cJSON_AddNumberToObject(o, "rows", (double)t->rows);
    cols = ok ? cJSON_AddArrayToObject(o, "columns") : NULL;
    ok = cols != NULL;
    for (j = 0; ok && j < t->cols; j++) {
        const lathe_column *c = &t->columns[j];
        const lathe_column_profile *p = &prof[j];
        cJSON *col = cJSON_CreateObject(), *top;
        ok = col && cJSON_AddItemToArray(cols, col);
        if (!ok) {
            cJSON_Delete(col);
            break;
        }
        ok = cJSON_AddStringToObject(col, "name", c->name) != NULL;
        ok = ok && cJSON_AddStringToObject(col, "type", types[c->type]);
        ok = ok && cJSON_AddItemToObject(
                       col, "categories",
                       c->n_categories ? cJSON_CreateStringArray((const char *const *)c->categories,
                                                                 (int)c->n_categories)
                                       : cJSON_CreateArray());
        ok = ok && cJSON_AddNumberToObject(col, "count", (double)p->count);
        ok = ok && cJSON_AddNumberToObject(col, "missing", (double)p->missing);
        ok = ok && cJSON_AddNumberToObject(col, "distinct", (double)p->distinct);
        ok = ok && add_number_or_null(col, "min", p->min) && add_number_or_null(col, "max", p->max);
        ok = ok && add_number_or_null(col, "mean", p->mean) &&
             add_number_or_null(col, "std", p->std);
        ok = ok && add_number_or_null(col, "q25", p->q25) && add_number_or_null(col, "q50", p->q50);
        ok = ok && add_number_or_null(col, "q75", p->q75);
        top = ok ? cJSON_AddArrayToObject(col, "top") : NULL;
        ok = top != NULL;
        for (k = 0; ok && k < p->n_top; k++) {
            double pair[2];
            pair[0] = (double)p->top_index[k], pair[1] = (double)p->top_count[k];
            ok = cJSON_AddItemToArray(top, cJSON_CreateDoubleArray(pair, 2));
        }
    }
    if (ok) *out = cJSON_PrintUnformatted(o);
    if (!*out) st = lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory profiling the data");
done:
    cJSON_Delete(o);
    lathe_free(prof);
    return st;
}
