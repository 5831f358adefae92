/* RFC 4180 CSV reader over a memory buffer, in two passes: the first checks the structure
 * and infers column types, the second fills the columns. Memory: 4 bytes per cell plus the
 * distinct category strings, never a copy of the whole file. */
#include "lathe/table.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lathe/alloc.h"

typedef struct cursor {
    const char *p, *end;
    size_t line; /* 1-based physical line of p */
    char delim;
    size_t column;           /* 1-based column of the field read next, for messages */
    const lathe_table *names; /* the columns named so far (NULL while reading the header) */
} cursor;

typedef struct field {
    const char *start; /* raw bytes, quotes included when quoted */
    size_t len;
    int quoted;
} field;

typedef struct scratch {
    char *buf;
    size_t cap;
} scratch;

/* "column 2 ('b')" for the cursor's column, or "column 2" while the header is read. */
static void column_label(const cursor *c, char *out, size_t cap) {
    if (c->names && c->column >= 1 && c->column <= c->names->cols)
        snprintf(out, cap, "column %zu ('%.100s')", c->column,
                 c->names->columns[c->column - 1].name);
    else
        snprintf(out, cap, "column %zu", c->column);
}

/* Reads one field at c->p. *end_record is set when the field ends its record (newline or
 * end of input). Returns LATHE_OK or an error naming the line and column. */
static lathe_status read_field(cursor *c, field *f, int *end_record, lathe_error *err) {
    const char *p = c->p;
    char where[160];
    f->quoted = 0;
    if (p < c->end && *p == '"') {
        size_t open_line = c->line;
        f->quoted = 1;
        f->start = p;
        p++;
        for (;;) {
            if (p >= c->end) {
                column_label(c, where, sizeof where);
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "line %zu, %s: a quoted field opens here and is never "
                                       "closed (the file ends on line %zu)",
                                       open_line, where, c->line);
            }
            if (*p == '"') {
                if (p + 1 < c->end && p[1] == '"') {
                    p += 2;
                    continue;
                }
                p++;
                break;
            }
            if (*p == '\n') c->line++;
            p++;
        }
        f->len = (size_t)(p - f->start);
        if (p < c->end && *p != c->delim && *p != '\n' && *p != '\r') {
            char what[16];
            unsigned char ch = (unsigned char)*p;
            if (ch > 0x20 && ch < 0x7F) snprintf(what, sizeof what, "'%c'", ch);
            else if (ch == ' ') snprintf(what, sizeof what, "a space");
            else snprintf(what, sizeof what, "byte 0x%02x", ch);
            column_label(c, where, sizeof where);
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "line %zu, %s: unexpected %s after a closing quote (a quote "
                                   "inside a quoted field is written \"\")",
                                   c->line, where, what);
        }
    } else {
        f->start = p;
        while (p < c->end && *p != c->delim && *p != '\n' && *p != '\r') p++;
        f->len = (size_t)(p - f->start);
    }
    if (p >= c->end) {
        *end_record = 1;
        c->column = 1;
    } else if (*p == c->delim) {
        *end_record = 0;
        c->column++;
        p++;
    } else {
        *end_record = 1;
        c->column = 1;
        if (*p == '\r') p++;
        if (p < c->end && *p == '\n') p++;
        c->line++;
    }
    c->p = p;
    return LATHE_OK;
}

/* The field's text without quotes and with "" unescaped, NUL-terminated in s. */
static lathe_status field_text(const field *f, scratch *s, const char **text, size_t *len) {
    size_t need = f->len + 1, i, o = 0;
    if (need > s->cap) {
        char *grown = lathe_realloc(s->buf, need);
        if (!grown) return LATHE_ERR_NOMEM;
        s->buf = grown;
        s->cap = need;
    }
    if (!f->quoted) {
        memcpy(s->buf, f->start, f->len);
        o = f->len;
    } else {
        for (i = 1; i + 1 < f->len; i++) {
            s->buf[o++] = f->start[i];
            if (f->start[i] == '"') i++; /* "" -> " */
        }
    }
    s->buf[o] = '\0';
    *text = s->buf;
    *len = o;
    return LATHE_OK;
}

static int lower(int ch) { return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch; }

static int equals_ci(const char *a, size_t n, const char *b) {
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] == '\0' || lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return b[n] == '\0';
}

static void trim(const char **text, size_t *len) {
    while (*len > 0 && (**text == ' ' || **text == '\t')) (*text)++, (*len)--;
    while (*len > 0 && ((*text)[*len - 1] == ' ' || (*text)[*len - 1] == '\t')) (*len)--;
}

static int is_missing(const char *t, size_t n) {
    trim(&t, &n);
    return n == 0 || equals_ci(t, n, "na") || equals_ci(t, n, "n/a") || equals_ci(t, n, "nan") ||
           equals_ci(t, n, "null") || (n == 1 && t[0] == '?');
}

/* A decimal number: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)? */
static int is_number(const char *t, size_t n) {
    size_t i = 0, digits = 0;
    trim(&t, &n);
    if (i < n && (t[i] == '+' || t[i] == '-')) i++;
    while (i < n && t[i] >= '0' && t[i] <= '9') i++, digits++;
    if (i < n && t[i] == '.') {
        i++;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++, digits++;
    }
    if (digits == 0) return 0;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        size_t exp_digits = 0;
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-')) i++;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++, exp_digits++;
        if (exp_digits == 0) return 0;
    }
    return i == n;
}

/* 1 true, 0 false, -1 neither. */
static int boolean_value(const char *t, size_t n) {
    trim(&t, &n);
    if (equals_ci(t, n, "true") || equals_ci(t, n, "yes")) return 1;
    if (equals_ci(t, n, "false") || equals_ci(t, n, "no")) return 0;
    return -1;
}

/* Returns the byte offset of the first invalid UTF-8 sequence or NUL byte (text never holds
 * one; a category with a NUL inside could not be compared as a C string), or n when neither. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        size_t extra, k;
        uint32_t cp;
        if (ch < 0x80) {
            if (ch == 0) return i;
            i++;
            continue;
        }
        if (ch >= 0xC2 && ch <= 0xDF) extra = 1, cp = ch & 0x1Fu;
        else if (ch >= 0xE0 && ch <= 0xEF) extra = 2, cp = ch & 0x0Fu;
        else if (ch >= 0xF0 && ch <= 0xF4) extra = 3, cp = ch & 0x07u;
        else return i;
        for (k = 1; k <= extra; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += extra + 1;
    }
    return n;
}

static char detect_delimiter(const char *p, const char *end) {
    size_t counts[3] = {0, 0, 0};
    const char candidates[3] = {',', ';', '\t'};
    int quoted = 0, best = 0, k;
    for (; p < end; p++) {
        if (*p == '"') quoted = !quoted;
        else if (!quoted && (*p == '\n' || *p == '\r')) break;
        else if (!quoted)
            for (k = 0; k < 3; k++)
                if (*p == candidates[k]) counts[k]++;
    }
    for (k = 1; k < 3; k++)
        if (counts[k] > counts[best]) best = k;
    return candidates[best];
}

/* Interning of category strings: open addressing on an FNV-1a hash. */
typedef struct category_set {
    char **names;   /* (count) in first-seen order */
    size_t count, cap_names;
    uint32_t *slots; /* index+1 into names, 0 empty */
    size_t n_slots;
} category_set;

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static lathe_status category_intern(category_set *set, const char *s, size_t n, size_t *index) {
    size_t mask, slot;
    if (set->count + 1 > set->n_slots / 2) {
        size_t new_n = set->n_slots ? set->n_slots * 2 : 64, i;
        uint32_t *slots = lathe_calloc(new_n, sizeof *slots);
        if (!slots) return LATHE_ERR_NOMEM;
        for (i = 0; i < set->count; i++) {
            size_t j = fnv1a(set->names[i], strlen(set->names[i])) & (new_n - 1);
            while (slots[j]) j = (j + 1) & (new_n - 1);
            slots[j] = (uint32_t)(i + 1);
        }
        lathe_free(set->slots);
        set->slots = slots;
        set->n_slots = new_n;
    }
    mask = set->n_slots - 1;
    slot = fnv1a(s, n) & mask;
    while (set->slots[slot]) {
        const char *name = set->names[set->slots[slot] - 1];
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            *index = set->slots[slot] - 1;
            return LATHE_OK;
        }
        slot = (slot + 1) & mask;
    }
    if (set->count == set->cap_names) {
        size_t cap = set->cap_names ? set->cap_names * 2 : 16;
        char **names = lathe_realloc(set->names, cap * sizeof *names);
        if (!names) return LATHE_ERR_NOMEM;
        set->names = names;
        set->cap_names = cap;
    }
    set->names[set->count] = lathe_malloc(n + 1);
    if (!set->names[set->count]) return LATHE_ERR_NOMEM;
    memcpy(set->names[set->count], s, n);
    set->names[set->count][n] = '\0';
    set->slots[slot] = (uint32_t)(set->count + 1);
    *index = set->count++;
    return LATHE_OK;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Per-column facts gathered in pass one. */
typedef struct column_scan {
    int numeric, boolean;
    size_t present;
} column_scan;

static lathe_status oom(lathe_error *err) {
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory while reading the CSV");
}

/* Sorts a categorical column's names and renumbers its values to that order. */
static lathe_status finish_categories(lathe_column *col, category_set *set, size_t rows) {
    size_t *rank = NULL, r, k;
    char **sorted = NULL;
    if (set->count == 0) return LATHE_OK;
    rank = lathe_malloc(set->count * sizeof *rank);
    sorted = lathe_malloc(set->count * sizeof *sorted);
    if (!rank || !sorted) {
        lathe_free(rank);
        lathe_free(sorted);
        return LATHE_ERR_NOMEM;
    }
    memcpy(sorted, set->names, set->count * sizeof *sorted);
    qsort(sorted, set->count, sizeof *sorted, compare_names);
    for (k = 0; k < set->count; k++) {
        /* names are unique, so a binary search finds each one's rank */
        char **hit = bsearch(&set->names[k], sorted, set->count, sizeof *sorted, compare_names);
        rank[k] = (size_t)(hit - sorted);
    }
    for (r = 0; r < rows; r++)
        if (col->values[r] == col->values[r]) col->values[r] = (float)rank[(size_t)col->values[r]];
    col->categories = sorted;
    col->n_categories = set->count;
    lathe_free(set->names);
    set->names = NULL;
    set->count = 0;
    lathe_free(rank);
    return LATHE_OK;
}

lathe_status lathe_csv_read(const char *bytes, size_t n, const lathe_csv_options *opts,
                            lathe_table **out, lathe_error *err) {
    lathe_status st = LATHE_OK;
    lathe_table *table = NULL;
    column_scan *scan = NULL;
    category_set *sets = NULL;
    scratch s = {NULL, 0};
    cursor c;
    field f;
    size_t cols = 0, rows = 0, col, row, bad, header_line = 1;
    int end_record, has_header = opts ? opts->has_header : 1;
    const char *data_start;
    size_t data_line;

    *out = NULL;
    if (n >= 3 && (unsigned char)bytes[0] == 0xEF && (unsigned char)bytes[1] == 0xBB &&
        (unsigned char)bytes[2] == 0xBF)
        bytes += 3, n -= 3;
    else if (n >= 2 && (((unsigned char)bytes[0] == 0xFF && (unsigned char)bytes[1] == 0xFE) ||
                        ((unsigned char)bytes[0] == 0xFE && (unsigned char)bytes[1] == 0xFF)))
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "line 1: the file is UTF-16 (it starts with a UTF-16 byte-order "
                               "mark); save it as UTF-8");
    bad = utf8_invalid_at((const unsigned char *)bytes, n);
    if (bad < n) {
        size_t line = 1, i, column = 1;
        for (i = 0; i < bad; i++) { /* the bytes before bad are valid: count characters */
            if (bytes[i] == '\n' || (bytes[i] == '\r' && (i + 1 == n || bytes[i + 1] != '\n')))
                line++, column = 1;
            else if (((unsigned char)bytes[i] & 0xC0) != 0x80) column++;
        }
        if (bytes[bad] == '\0')
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "line %zu, character %zu: a NUL byte (0x00); this is a "
                                   "binary file or UTF-16 text, not a UTF-8 CSV",
                                   line, column);
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "line %zu, character %zu: invalid UTF-8 (byte 0x%02x); save the "
                               "file as UTF-8",
                               line, column, (unsigned char)bytes[bad]);
    }
    c.p = bytes, c.end = bytes + n, c.line = 1, c.column = 1, c.names = NULL;
    /* skip blank lines before the first record (CRLF, LF or a lone CR each end a line) */
    while (c.p < c.end && (*c.p == '\n' || *c.p == '\r')) {
        if (*c.p == '\n' || c.p + 1 == c.end || c.p[1] != '\n') c.line++;
        c.p++;
    }
    if (c.p >= c.end) return lathe_error_set(err, LATHE_ERR_INVALID, "the file is empty");
    c.delim = opts && opts->delimiter ? opts->delimiter : detect_delimiter(c.p, c.end);

    /* Pass one: the header (or the first record's width), then every record's width and the
     * kinds of value in each column. */
    header_line = c.line;
    {
        cursor probe = c;
        do {
            if ((st = read_field(&probe, &f, &end_record, err)) != LATHE_OK) return st;
            cols++;
        } while (!end_record);
    }
    table = lathe_calloc(1, sizeof *table);
    if (!table) return oom(err);
    table->columns = lathe_calloc(cols, sizeof *table->columns);
    scan = lathe_calloc(cols, sizeof *scan);
    sets = lathe_calloc(cols, sizeof *sets);
    if (!table->columns || !scan || !sets) goto nomem;
    table->cols = cols;
    for (col = 0; col < cols; col++) {
        const char *text;
        size_t len;
        scan[col].numeric = scan[col].boolean = 1;
        if (has_header) {
            (void)read_field(&c, &f, &end_record, err);
            if (field_text(&f, &s, &text, &len) != LATHE_OK) goto nomem;
            trim(&text, &len);
        } else {
            len = 0;
        }
        table->columns[col].name = lathe_malloc(len > 0 ? len + 1 : 24);
        if (!table->columns[col].name) goto nomem;
        if (len > 0) {
            memcpy(table->columns[col].name, text, len);
            table->columns[col].name[len] = '\0';
        } else {
            char *name = table->columns[col].name;
            size_t v = col + 1, digits = 0, tmp;
            for (tmp = v; tmp; tmp /= 10) digits++;
            memcpy(name, "col", 3);
            for (tmp = 0; tmp < digits; tmp++, v /= 10) name[3 + digits - 1 - tmp] = (char)('0' + v % 10);
            name[3 + digits] = '\0';
        }
    }
    for (col = 0; col < cols; col++)
        for (row = 0; row < col; row++)
            if (strcmp(table->columns[col].name, table->columns[row].name) == 0) {
                st = lathe_error_set(err, LATHE_ERR_INVALID,
                                     "line %zu: columns %zu and %zu are both named '%s'",
                                     header_line, row + 1, col + 1, table->columns[col].name);
                goto fail;
            }
    data_start = c.p;
    data_line = c.line;
    c.names = table; /* from here on, messages name the column */
    while (c.p < c.end) {
        size_t record_line = c.line, fields = 0;
        if (*c.p == '\n' || *c.p == '\r') { /* blank line */
            if (*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n') c.p++;
            c.p++, c.line++;
            continue;
        }
        do {
            const char *text;
            size_t len;
            if ((st = read_field(&c, &f, &end_record, err)) != LATHE_OK) goto fail;
            if (fields < cols) {
                if (field_text(&f, &s, &text, &len) != LATHE_OK) goto nomem;
                if (!is_missing(text, len)) {
                    column_scan *cs = &scan[fields];
                    cs->present++;
                    if (cs->numeric && !is_number(text, len)) cs->numeric = 0;
                    if (cs->boolean && boolean_value(text, len) < 0) cs->boolean = 0;
                }
            }
            fields++;
        } while (!end_record);
        if (fields != cols) {
            char detail[200], delim[16];
            unsigned char d = (unsigned char)c.delim;
            if (d == '\t') snprintf(delim, sizeof delim, "a tab");
            else if (d > 0x20 && d < 0x7F) snprintf(delim, sizeof delim, "'%c'", d);
            else snprintf(delim, sizeof delim, "byte 0x%02x", d);
            if (fields < cols)
                snprintf(detail, sizeof detail, "column %zu ('%.100s') is missing", fields + 1,
                         table->columns[fields].name);
            else
                snprintf(detail, sizeof detail, "field %zu has no column", cols + 1);
            st = lathe_error_set(err, LATHE_ERR_INVALID,
                                 "line %zu: %zu field%s, but the %s has %zu column%s (%s; the "
                                 "delimiter is %s)",
                                 record_line, fields, fields == 1 ? "" : "s",
                                 has_header ? "header" : "first row", cols, cols == 1 ? "" : "s",
                                 detail, delim);
            goto fail;
        }
        rows++;
    }
    if (rows == 0) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             has_header ? "the file has a header but no data rows"
                                        : "the file has no data rows");
        goto fail;
    }
    for (col = 0; col < cols && scan[col].present == 0; col++) continue;
    if (col == cols) {
        st = lathe_error_set(err, LATHE_ERR_INVALID,
                             "lines %zu to %zu: every data cell is empty or a missing marker "
                             "(NA, ?, ...); the file holds no values",
                             data_line, bytes[n - 1] == '\n' || bytes[n - 1] == '\r' ? c.line - 1
                                                                                  : c.line);
        goto fail;
    }
    table->rows = rows;
    for (col = 0; col < cols; col++) {
        lathe_column *cl = &table->columns[col];
        cl->type = scan[col].present == 0 || scan[col].numeric ? LATHE_COLUMN_NUMERIC
                   : scan[col].boolean                        ? LATHE_COLUMN_BOOLEAN
                                                              : LATHE_COLUMN_CATEGORICAL;
        cl->values = lathe_malloc(rows * sizeof *cl->values);
        if (!cl->values) goto nomem;
    }

    /* Pass two: fill the columns (the structure is known to be valid). */
    c.p = data_start, c.line = data_line, row = 0;
    while (c.p < c.end) {
        if (*c.p == '\n' || *c.p == '\r') {
            if (*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n') c.p++;
            c.p++, c.line++;
            continue;
        }
        col = 0;
        do {
            const char *text;
            size_t len, index;
            size_t line = c.line;
            lathe_column *cl = &table->columns[col];
            (void)read_field(&c, &f, &end_record, err);
            if (field_text(&f, &s, &text, &len) != LATHE_OK) goto nomem;
            if (is_missing(text, len)) {
                cl->values[row] = __builtin_nanf("");
                cl->missing++;
            } else if (cl->type == LATHE_COLUMN_NUMERIC) {
                double v;
                trim(&text, &len);
                ((char *)text)[len] = '\0';
                v = strtod(text, NULL);
                if (v > 3.4028234663852886e38 || v < -3.4028234663852886e38) {
                    st = lathe_error_set(err, LATHE_ERR_INVALID,
                                         "line %zu, column '%s': %s is too large for a "
                                         "32-bit float",
                                         line, cl->name, text);
                    goto fail;
                }
                cl->values[row] = (float)v;
            } else if (cl->type == LATHE_COLUMN_BOOLEAN) {
                cl->values[row] = (float)boolean_value(text, len);
            } else {
                trim(&text, &len);
                if (category_intern(&sets[col], text, len, &index) != LATHE_OK) goto nomem;
                cl->values[row] = (float)index;
            }
            col++;
        } while (!end_record);
        row++;
    }
    for (col = 0; col < cols; col++)
        if (table->columns[col].type == LATHE_COLUMN_CATEGORICAL &&
            finish_categories(&table->columns[col], &sets[col], rows) != LATHE_OK)
            goto nomem;
    goto done;

nomem:
    st = oom(err);
fail:
    lathe_table_destroy(table);
    table = NULL;
done:
    if (sets) {
        for (col = 0; col < cols; col++) {
            size_t k;
            for (k = 0; k < sets[col].count; k++) lathe_free(sets[col].names[k]);
            lathe_free(sets[col].names);
            lathe_free(sets[col].slots);
        }
    }
    lathe_free(sets);
    lathe_free(scan);
    lathe_free(s.buf);
    *out = table;
    return st;
}
