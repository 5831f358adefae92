/* Tables: columns of numbers or categories read from CSV bytes in memory. */
#ifndef LATHE_TABLE_H
#define LATHE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"

typedef enum lathe_column_type {
    LATHE_COLUMN_NUMERIC = 0,     /* values[r] is the number, NaN when missing */
    LATHE_COLUMN_CATEGORICAL = 1, /* values[r] is the category index, NaN when missing */
    LATHE_COLUMN_BOOLEAN = 2      /* values[r] is 0 or 1, NaN when missing */
} lathe_column_type;

typedef struct lathe_column {
    char *name;
    lathe_column_type type;
    float *values;      /* (rows), or NULL when the column holds bytes */
    uint8_t *bytes;     /* (rows) numeric 0..255 values kept as bytes (image pixels), or NULL */
    size_t missing;     /* count of missing cells */
    char **categories;  /* categorical: names sorted by byte order (as scikit-learn sorts) */
    size_t n_categories;
} lathe_column;

typedef struct lathe_table {
    size_t rows, cols;
    lathe_column *columns; /* (cols) */
} lathe_table;

typedef struct lathe_csv_options {
    char delimiter; /* 0: detect among ',', ';', '\t' from the first record */
    int has_header; /* 1: the first record names the columns; 0: columns are col1..colN */
} lathe_csv_options;

/* Parses CSV bytes (RFC 4180: quotes, embedded delimiters/quotes/newlines, CRLF or LF, a
 * UTF-8 BOM) into a table. Column types are inferred: numeric when every present cell is a
 * number, boolean when every present cell is true/false/yes/no, else categorical. Missing
 * markers: empty, NA, N/A, NaN, null, ? (case-insensitive). opts may be NULL (detect the
 * delimiter, header on). Errors name the line and column. The caller owns *out. */
lathe_status lathe_csv_read(const char *bytes, size_t n, const lathe_csv_options *opts,
                            lathe_table **out, lathe_error *err);

/* Row r of col as a number: the value, or the byte as a float (exact). */
static inline float lathe_column_at(const lathe_column *col, size_t r) {
    return col->bytes ? (float)col->bytes[r] : col->values[r];
}

/* Frees the table; NULL is a no-op. */
void lathe_table_destroy(lathe_table *table);

/* Index of the column named name, or -1. */
long lathe_table_find(const lathe_table *table, const char *name);

#endif
