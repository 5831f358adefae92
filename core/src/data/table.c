/* The table every data source produces (lathe/table.h): freeing it and finding a column. */
#include "lathe/table.h"

#include <string.h>

#include "lathe/alloc.h"

void lathe_table_destroy(lathe_table *table) {
    size_t c, k;
    if (!table) return;
    for (c = 0; c < table->cols && table->columns; c++) {
        lathe_column *col = &table->columns[c];
        lathe_free(col->name);
        lathe_free(col->values);
        lathe_free(col->bytes);
        for (k = 0; k < col->n_categories; k++) lathe_free(col->categories[k]);
        lathe_free(col->categories);
    }
    lathe_free(table->columns);
    lathe_free(table);
}

long lathe_table_find(const lathe_table *table, const char *name) {
    size_t c;
    for (c = 0; c < table->cols; c++)
        if (strcmp(table->columns[c].name, name) == 0) return (long)c;
    return -1;
}
