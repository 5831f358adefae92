/* The CSV reader on well-formed and malformed inputs: each malformed input gets its own
 * specific message naming the line (and column where there is one). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/table.h"

static lathe_table *read_ok(const char *text) {
    lathe_table *t = NULL;
    lathe_error err;
    lathe_status st = lathe_csv_read(text, strlen(text), NULL, &t, &err);
    CHECK(st == LATHE_OK, "expected OK for [%s], got: %s", text, err.message);
    return t;
}

static void expect_error(const char *text, size_t n, const char *fragment) {
    lathe_table *t = NULL;
    lathe_error err;
    lathe_status st = lathe_csv_read(text, n, NULL, &t, &err);
    CHECK(st == LATHE_ERR_INVALID, "expected an error containing '%s'", fragment);
    CHECK(t == NULL, "a failed read returned a table");
    if (st != LATHE_OK)
        CHECK(strstr(err.message, fragment) != NULL, "message '%s' lacks '%s'", err.message,
              fragment);
    lathe_table_destroy(t);
}

int main(void) {
    lathe_table *t;
    long live = lathe_alloc_live();

    t = read_ok("\xEF\xBB\xBF" "a,b,c\r\n1,\"x, \"\"quoted\"\"\nline\",true\r\n2.5e1,y,no\r\n");
    if (t) {
        CHECK(t->rows == 2 && t->cols == 3, "shape %zux%zu", t->rows, t->cols);
        CHECK(strcmp(t->columns[0].name, "a") == 0, "BOM not stripped: '%s'", t->columns[0].name);
        CHECK(t->columns[0].type == LATHE_COLUMN_NUMERIC && t->columns[0].values[1] == 25.0f,
              "numeric column");
        CHECK(t->columns[1].type == LATHE_COLUMN_CATEGORICAL && t->columns[1].n_categories == 2,
              "categorical column");
        CHECK(strcmp(t->columns[1].categories[0], "x, \"quoted\"\nline") == 0,
              "quoted field: '%s'", t->columns[1].categories[0]);
        CHECK(t->columns[2].type == LATHE_COLUMN_BOOLEAN && t->columns[2].values[0] == 1.0f &&
                  t->columns[2].values[1] == 0.0f,
              "boolean column");
    }
    lathe_table_destroy(t);

    t = read_ok("x;y\n1;NA\n2;\n3;?\n4;5\n"); /* semicolons, missing markers */
    if (t) {
        CHECK(t->columns[1].missing == 3 && isnan(t->columns[1].values[0]), "missing count %zu",
              t->columns[1].missing);
        CHECK(t->columns[1].values[3] == 5.0f, "value after missing");
    }
    lathe_table_destroy(t);

    t = read_ok("p\tq\n1\t2\n\n3\t4"); /* tabs, blank line, no final newline */
    if (t) CHECK(t->rows == 2 && t->cols == 2, "tab file shape %zux%zu", t->rows, t->cols);
    lathe_table_destroy(t);

    t = read_ok("s\nb\na\nc\na\n"); /* categories sorted like scikit-learn */
    if (t) {
        CHECK(strcmp(t->columns[0].categories[0], "a") == 0 && t->columns[0].values[0] == 1.0f,
              "categories are not sorted");
    }
    lathe_table_destroy(t);

    expect_error("", 0, "empty");
    expect_error("\n\n", 2, "empty");
    expect_error("a,b\n", 4, "no data rows");
    expect_error("a,b\n1,2\n3\n", 10, "line 3: 1 field, but the header has 2 columns");
    expect_error("a,b\n1,2,3\n", 10, "line 2: 3 fields");
    expect_error("a,b\n1,\"open\n2,3\n", 16, "never closed");
    expect_error("a,b\n1,\"x\"y\n", 11, "after a closing quote");
    expect_error("a,b\n1,\xff\n", 7, "line 2, character 3: invalid UTF-8");
    expect_error("a,b\n1,\xc3\n", 7, "invalid UTF-8");
    expect_error("a,b\n1,\xed\xa0\x80\n", 9, "invalid UTF-8"); /* a UTF-16 surrogate */
    expect_error("a,a\n1,2\n", 8, "both named 'a'");
    expect_error("a\n1e39\n", 7, "too large for a 32-bit float");

    /* Out of memory at every allocation: a clean error, nothing leaked. */
    {
        const char *text = "a,b,c\n1,x,true\n2,y,false\n3,z,true\n";
        unsigned long n;
        for (n = 1; n < 200; n++) {
            lathe_error err;
            lathe_status st;
            lathe_alloc_fail_at(n);
            st = lathe_csv_read(text, strlen(text), NULL, &t, &err);
            lathe_alloc_fail_at(0);
            if (st == LATHE_OK) {
                lathe_table_destroy(t);
                break;
            }
            CHECK(st == LATHE_ERR_NOMEM && t == NULL, "allocation %lu: status %d", n, (int)st);
        }
        CHECK(n > 5 && n < 200, "the out-of-memory sweep ended at %lu", n);
    }
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_csv");
}
