/* Runs an exported model (lathe export --format c) on every row of a CSV file and prints what
 * `lathe predict MODEL FILE` prints, without its header: "row,prediction,p(class)..." with
 * %.9g (one text per float), or "row,value". Built by tests/deploy/c_export.mjs with
 * -DMODEL=NAME beside NAME.h and NAME.c. Reads plain CSV (no quoted fields; the examples have
 * none) with the core's missing-cell spellings and booleans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#include STR(MODEL.h)

#define N_INPUTS CAT(MODEL, _N_INPUTS)
#define N_OUTPUTS CAT(MODEL, _N_OUTPUTS)

static int same_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        if (x != *b) return 0;
    }
    return *a == *b;
}

static int missing(const char *t) {
    return !*t || same_ci(t, "na") || same_ci(t, "n/a") || same_ci(t, "nan") || same_ci(t, "null") ||
           strcmp(t, "?") == 0;
}

/* Splits line (its newline removed) at commas into fields (at most cap); returns the count. */
static size_t split(char *line, char **fields, size_t cap) {
    size_t n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    for (;;) {
        char *comma = strchr(p, ',');
        if (n < cap) fields[n] = p;
        n++;
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

int main(int argc, char **argv) {
    static char line[1 << 20];
    static char *fields[1 << 14];
    long column[N_INPUTS];
    float raw[N_INPUTS], out[N_OUTPUTS];
    size_t n, j, row = 0;
    FILE *f = argc == 2 ? fopen(argv[1], "r") : NULL;
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "usage: harness FILE.csv (a readable CSV with a header)\n");
        return 2;
    }
    n = split(line, fields, sizeof fields / sizeof *fields);
    for (j = 0; j < N_INPUTS; j++) {
        size_t c;
        column[j] = -1;
        for (c = 0; c < n; c++)
            if (strcmp(fields[c], CAT(MODEL, _input_names)[j]) == 0) column[j] = (long)c;
        if (column[j] < 0) {
            fprintf(stderr, "no column '%s'\n", CAT(MODEL, _input_names)[j]);
            return 2;
        }
    }
    while (fgets(line, sizeof line, f)) {
        int status;
        if (line[0] == '\n' || line[0] == '\r') continue;
        n = split(line, fields, sizeof fields / sizeof *fields);
        if (strchr(line, '"')) {
            fprintf(stderr, "row %zu: quoted fields are not read here\n", row + 1);
            return 2;
        }
        for (j = 0; j < N_INPUTS; j++) {
            const char *t = (size_t)column[j] < n ? fields[column[j]] : "";
            unsigned char kind = CAT(MODEL, _input_kinds)[j];
            if (missing(t)) raw[j] = strtof("nan", NULL);
            else if (kind == 2) raw[j] = (float)CAT(MODEL, _category)((int)j, t);
            else if (kind == 1) raw[j] = same_ci(t, "true") || same_ci(t, "yes") ? 1.0f : 0.0f;
            else raw[j] = (float)strtod(t, NULL); /* as the core's CSV reader */
        }
        row++;
        if ((status = CAT(MODEL, _predict)(raw, out)) != 0) {
            fprintf(stderr, "row %zu: input %d is missing and has no fill\n", row, status - 1);
            return 1;
        }
        if (CAT(MODEL, _CLASSIFIER)) {
            size_t best = 0, c;
            for (c = 1; c < N_OUTPUTS; c++)
                if (out[c] > out[best]) best = c;
            printf("%zu,%s", row, CAT(MODEL, _output_names)[best]);
            for (c = 0; c < N_OUTPUTS; c++) printf(",%.9g", (double)out[c]);
            printf("\n");
        } else {
            printf("%zu,%.9g\n", row, (double)out[0]);
        }
    }
    fclose(f);
    return 0;
}
