/* libFuzzer target: image input (lathe_image_table in lathe/prepare.h) built from fuzzed IDX
 * parts, then prepared as image data and trained for one step with a small CNN.
 *
 * Input layout (all of it fuzzed):
 *   byte 0   bits 0-1: the number of parts (0 read as 1); bit 2: pass class names;
 *            bits 3-6: class names − 1 (1 to 16); bit 7: also prepare and train one step
 *   then per part: images, labels, each a big-endian u16 length and that many IDX bytes
 *   (the last blob takes what is left when the input is short).
 * With several parts, the last one is the source's own test split (as Fashion-MNIST's is).
 * A table that comes back must hold exactly the parts' pixels and labels. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/experiment.h"
#include "lathe/idx.h"
#include "lathe/prepare.h"
#include "lathe/table.h"
#include "lathe/trainer.h"

#define MAX_PARTS 3

static const char *const class_names[16] = {"c0", "c1", "c2",  "c3",  "c4",  "c5",  "c6",  "c7",
                                            "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15"};

/* One experiment for a single part (a seeded test split) and one for a source that brings
 * its own test split ("test" must then be absent). */
static const char experiment_split[] =
    "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 7,"
    " \"data\": {\"builtin\": \"fuzz\", \"target\": \"label\"},"
    " \"prepare\": [{\"op\": \"split\", \"test\": 0.25, \"stratify\": false},"
    "               {\"op\": \"minmax\", \"per\": \"all\"}],"
    " \"model\": {\"layers\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3,"
    "   \"padding\": \"same\"}, {\"type\": \"batch_norm\"}, {\"type\": \"relu\"},"
    "   {\"type\": \"max_pool\", \"size\": 2}, {\"type\": \"flatten\"},"
    "   {\"type\": \"dropout\", \"rate\": 0.1}, {\"type\": \"dense\"}]},"
    " \"train\": {\"optimizer\": \"adam\", \"batch_size\": 4, \"epochs\": 1}}";
static const char experiment_own_test[] =
    "{\"format\": \"lathe-experiment\", \"version\": 1, \"seed\": 7,"
    " \"data\": {\"builtin\": \"fuzz\", \"target\": \"label\"},"
    " \"prepare\": [{\"op\": \"split\", \"validation\": 0.2, \"stratify\": true},"
    "               {\"op\": \"standardize\", \"per\": \"all\"}],"
    " \"model\": {\"layers\": [{\"type\": \"avg_pool\", \"size\": 1}, {\"type\": \"flatten\"},"
    "   {\"type\": \"dense\", \"units\": 3}, {\"type\": \"tanh\"}, {\"type\": \"dense\"}]},"
    " \"train\": {\"optimizer\": \"sgd\", \"momentum\": 0.9, \"batch_size\": 2, \"epochs\": 1}}";

/* Parses the two fixed experiments once; they are valid, so a failure is a harness bug. */
static lathe_experiment *fixed_experiment(int own_test) {
    static lathe_experiment *exps[2];
    if (!exps[own_test]) {
        const char *text = own_test ? experiment_own_test : experiment_split;
        lathe_error err;
        lathe_status st = lathe_experiment_parse(text, strlen(text), &exps[own_test], &err);
        if (st != LATHE_OK) fprintf(stderr, "fixed experiment: %s\n", err.message);
        FUZZ_ASSERT(st == LATHE_OK, "a fixed experiment does not parse");
    }
    return exps[own_test];
}

/* Takes the next length-prefixed blob from *p (the rest when the input is short). */
static void next_blob(const uint8_t **p, const uint8_t *end, const uint8_t **blob, size_t *len) {
    size_t want;
    if (end - *p < 2) {
        *blob = *p, *len = (size_t)(end - *p), *p = end;
        return;
    }
    want = (size_t)(*p)[0] << 8 | (*p)[1];
    *p += 2;
    if (want > (size_t)(end - *p)) want = (size_t)(end - *p);
    *blob = *p, *len = want, *p += want;
}

/* Checks the table against its parts: shape, pixels, labels and the part boundaries. */
static void check_table(const lathe_table *t, const lathe_idx *const *images,
                        const lathe_idx *const *labels, size_t n_parts, int named, size_t n_classes,
                        const size_t image[3], const size_t *part_start) {
    size_t F = image[0] * image[1] * image[2], p, r, f, row0 = 0;
    FUZZ_ASSERT(t->cols == F + 1, "the table does not have one column per pixel plus label");
    for (p = 0; p < n_parts; p++) {
        size_t n = images[p]->dims[0];
        FUZZ_ASSERT(part_start[p] == row0, "a part starts at the wrong row");
        FUZZ_ASSERT(images[p]->count == n * F, "a part's image size differs from the table's");
        for (r = 0; r < n; r++) {
            for (f = 0; f < F; f++) {
                float want = lathe_idx_at(images[p], r * F + f),
                      got = lathe_column_at(&t->columns[f], row0 + r);
                FUZZ_ASSERT(memcmp(&want, &got, sizeof want) == 0, "a pixel moved");
            }
            FUZZ_ASSERT(t->columns[F].values[row0 + r] == lathe_idx_at(labels[p], r),
                        "a label moved");
        }
        row0 += n;
    }
    FUZZ_ASSERT(t->rows == row0, "the row count is not the sum of the parts");
    FUZZ_ASSERT(strcmp(t->columns[F].name, "label") == 0, "the label column is not 'label'");
    if (named) {
        FUZZ_ASSERT(t->columns[F].type == LATHE_COLUMN_CATEGORICAL &&
                        t->columns[F].n_categories == n_classes,
                    "the label column does not carry the class names");
        for (r = 0; r < t->rows; r++)
            FUZZ_ASSERT(t->columns[F].values[r] < (float)n_classes, "a label beyond the classes");
    }
}

/* Prepares the table as image data and trains one step: errors are fine, crashes are not. */
static void prepare_and_step(const lathe_table *t, const size_t image[3], const size_t *part_start,
                             size_t n_parts) {
    lathe_data_layout layout;
    lathe_prepared *prep = NULL;
    lathe_trainer *trainer = NULL;
    lathe_error err;
    lathe_status st;
    int own_test = n_parts > 1;
    const lathe_experiment *exp = fixed_experiment(own_test);
    memset(&layout, 0, sizeof layout);
    layout.test_from = own_test ? part_start[n_parts - 1] : t->rows;
    memcpy(layout.image, image, sizeof layout.image);
    st = fuzz_check_status(lathe_prepare_layout(exp, t, &layout, &prep, &err), &err);
    if (st != LATHE_OK) {
        FUZZ_ASSERT(prep == NULL, "a failed preparation returned data");
        return;
    }
    FUZZ_ASSERT(prep->image[0] * prep->image[1] * prep->image[2] == prep->n_features,
                "the prepared image shape does not match the feature count");
    st = fuzz_check_status(lathe_trainer_create(exp, prep, &trainer, &err), &err);
    if (st == LATHE_OK) {
        st = fuzz_check_status(lathe_trainer_step(trainer, 1, &err), &err);
        FUZZ_ASSERT(st == LATHE_OK || st == LATHE_ERR_DIVERGED || st == LATHE_ERR_STATE,
                    "one training step failed for a reason other than divergence");
        (void)lathe_trainer_evaluate(trainer, LATHE_SPLIT_TEST);
    } else {
        FUZZ_ASSERT(trainer == NULL, "a failed create returned a trainer");
    }
    lathe_trainer_destroy(trainer);
    lathe_prepared_destroy(prep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lathe_idx *images[MAX_PARTS] = {NULL}, *labels[MAX_PARTS] = {NULL};
    lathe_table *table = NULL;
    size_t image[3] = {0, 0, 0}, part_start[MAX_PARTS], n_parts, p, n_classes;
    const uint8_t *cursor = data + 1, *end = data + size;
    int named, train;
    long live;
    lathe_error err;
    lathe_status st = LATHE_OK;

    fixed_experiment(0), fixed_experiment(1); /* parsed once, outside the leak count */
    live = lathe_alloc_live();
    if (size < 1) return 0;
    n_parts = (size_t)(data[0] & 3u);
    n_parts = n_parts == 0 ? 1 : n_parts;
    named = (data[0] >> 2) & 1;
    n_classes = (size_t)((data[0] >> 3) & 15u) + 1;
    train = data[0] >> 7;
    for (p = 0; p < n_parts && st == LATHE_OK; p++) {
        const uint8_t *blob;
        size_t len;
        next_blob(&cursor, end, &blob, &len);
        st = fuzz_check_status(lathe_idx_read(blob, len, &images[p], &err), &err);
        if (st != LATHE_OK) break;
        next_blob(&cursor, end, &blob, &len);
        st = fuzz_check_status(lathe_idx_read(blob, len, &labels[p], &err), &err);
    }
    if (st == LATHE_OK) {
        st = lathe_image_table((const lathe_idx *const *)images, (const lathe_idx *const *)labels,
                               n_parts, named ? class_names : NULL, n_classes, &table, image,
                               part_start, &err);
        fuzz_check_status(st, &err);
        if (st == LATHE_OK) {
            FUZZ_ASSERT(table != NULL, "success without a table");
            check_table(table, (const lathe_idx *const *)images, (const lathe_idx *const *)labels,
                        n_parts, named, n_classes, image, part_start);
            if (train) prepare_and_step(table, image, part_start, n_parts);
        } else {
            FUZZ_ASSERT(table == NULL, "a failed image table was returned");
        }
    }
    lathe_table_destroy(table);
    for (p = 0; p < MAX_PARTS; p++) {
        lathe_idx_destroy(images[p]);
        lathe_idx_destroy(labels[p]);
    }
    fuzz_check_no_leak(live);
    return 0;
}
