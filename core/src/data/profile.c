#include "lathe/profile.h"

#include <stdlib.h>

#include "lathe/alloc.h"

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y ? 1 : 0;
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
        float v = col->values[r];
        if (v == v) counts[(size_t)v]++;
    }
    for (k = 0; k < levels; k++) p->distinct += counts[k] > 0;
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
        if (col->type != LATHE_COLUMN_NUMERIC &&
            count_levels(col, table->rows, p) != LATHE_OK) {
            lathe_free(sorted);
            return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory profiling the data");
        }
        if (col->type == LATHE_COLUMN_CATEGORICAL) continue;
        for (r = 0; r < table->rows; r++)
            if (col->values[r] == col->values[r]) sorted[n++] = col->values[r];
        if (n == 0) continue;
        qsort(sorted, n, sizeof *sorted, compare_floats);
        {
            double sum = 0.0, sq = 0.0, mean;
            for (r = 0; r < n; r++) sum += (double)sorted[r];
            mean = sum / (double)n;
            for (r = 0; r < n; r++) sq += ((double)sorted[r] - mean) * ((double)sorted[r] - mean);
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
            for (r = 1; r < n; r++) p->distinct += sorted[r] != sorted[r - 1];
        }
    }
    lathe_free(sorted);
    return LATHE_OK;
}
