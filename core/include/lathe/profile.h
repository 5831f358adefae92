/* Column profiles of a table: what a user needs to see before preparing data. */
#ifndef LATHE_PROFILE_H
#define LATHE_PROFILE_H

#include <stddef.h>

#include "lathe/status.h"
#include "lathe/table.h"

#define LATHE_PROFILE_TOP 5

typedef struct lathe_column_profile {
    size_t count, missing, distinct;
    /* numeric and boolean: statistics of the present values (NaN when none) */
    double min, max, mean, std; /* std: population (÷n), as numpy's default */
    double q25, q50, q75;       /* linear interpolation, as numpy's default */
    /* categorical and boolean: the most frequent values, most frequent first (ties: table
     * category order); also the class balance when the column is the target */
    size_t n_top;
    size_t top_index[LATHE_PROFILE_TOP]; /* category index (boolean: 0 false, 1 true) */
    size_t top_count[LATHE_PROFILE_TOP];
} lathe_column_profile;

/* Profiles every column into out[table->cols] (caller-provided). Allocates scratch only. */
lathe_status lathe_profile_table(const lathe_table *table, lathe_column_profile *out,
                                 lathe_error *err);

/* The table's columns and their profiles (lathe/profile.h) as JSON text in *out (free with
 * lathe_free): {"rows", "columns": [{"name", "type" ("numeric", "categorical",
 * "boolean"), "categories": […], "count", "missing", "distinct", "min", "max", "mean", "std",
 * "q25", "q50", "q75", "top": [[index, count], …]}]}. */
lathe_status lathe_profile_table_json(const lathe_table *table, char **out, lathe_error *err);

#endif
