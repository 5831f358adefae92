/* IDX sets: the parts a front end reads become the same table as lathe_image_table makes of
 * them, a byte per pixel until then; the fingerprint is SHA-256 over the stored bytes in the
 * order added; swapped files, a mismatched count and a test part that is not last are named;
 * a session on a set too big for its memory limit is refused with the numbers, before any
 * table is made. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/idx.h"
#include "lathe/session.h"
#include "lathe/sha256.h"

/* IDX bytes of u8 images (n, h, w), pixel i of image r = (base + 7·r + i) mod 256. */
static size_t idx_images(uint8_t *out, uint32_t n, uint32_t h, uint32_t w, unsigned base) {
    size_t i, r, used = 16;
    uint32_t dims[3];
    dims[0] = n, dims[1] = h, dims[2] = w;
    out[0] = 0, out[1] = 0, out[2] = 8, out[3] = 3;
    for (i = 0; i < 3; i++) {
        out[4 + 4 * i] = (uint8_t)(dims[i] >> 24), out[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        out[6 + 4 * i] = (uint8_t)(dims[i] >> 8), out[7 + 4 * i] = (uint8_t)dims[i];
    }
    for (r = 0; r < n; r++)
        for (i = 0; i < (size_t)h * w; i++)
            out[used++] = (uint8_t)((base + 7 * r + i) % 256);
    return used;
}

/* IDX bytes of n u8 labels, label r = r mod 3. */
static size_t idx_labels(uint8_t *out, uint32_t n) {
    size_t i;
    out[0] = 0, out[1] = 0, out[2] = 8, out[3] = 1;
    out[4] = (uint8_t)(n >> 24), out[5] = (uint8_t)(n >> 16), out[6] = (uint8_t)(n >> 8);
    out[7] = (uint8_t)n;
    for (i = 0; i < n; i++)
        out[8 + i] = (uint8_t)(i % 3);
    return 8 + n;
}

static lathe_idx_file file(const char *name, const uint8_t *bytes, size_t n) {
    lathe_idx_file f = {name, bytes, n, bytes, n};
    return f;
}

static uint8_t train_images[16 + 40 * 12], train_labels[8 + 40], test_images[16 + 9 * 12],
    test_labels[8 + 9];

static void test_table_and_fingerprint(void) {
    static const char *const classes[] = {"zero", "one", "two"};
    size_t n_ti = idx_images(train_images, 40, 3, 4, 11), n_tl = idx_labels(train_labels, 40);
    size_t n_si = idx_images(test_images, 9, 3, 4, 200), n_sl = idx_labels(test_labels, 9);
    lathe_idx_file ti = file("train-images", train_images, n_ti);
    lathe_idx_file tl = file("train-labels", train_labels, n_tl);
    lathe_idx_file si = file("test-images", test_images, n_si);
    lathe_idx_file sl = file("test-labels", test_labels, n_sl);
    lathe_idx_set *set = NULL;
    lathe_table *table = NULL;
    lathe_error err;
    size_t image[3], test_from = 0, r, f;
    char hex[65], want[65];
    lathe_sha256 ctx;
    uint8_t digest[32];
    CHECK(lathe_idx_set_create(&set, &err) == LATHE_OK, "create: %s", err.message);
    if (!set) return;
    /* swapped files are named as such, and leave the set unchanged */
    CHECK(lathe_idx_set_add(set, &tl, &ti, 0, &err) == LATHE_ERR_INVALID &&
              strstr(err.message, "train-labels: holds labels") && strstr(err.message, "swapped"),
          "swapped files: %s", err.message);
    CHECK(lathe_idx_set_add(set, &ti, &sl, 0, &err) == LATHE_ERR_INVALID &&
              strstr(err.message, "train-images has 40 images but test-labels has 9 labels"),
          "a count mismatch: %s", err.message);
    CHECK(lathe_idx_set_rows(set) == 0, "a failed add changed the set");
    CHECK(lathe_idx_set_add(set, &ti, &tl, 0, &err) == LATHE_OK, "train: %s", err.message);
    CHECK(lathe_idx_set_add(set, &si, &sl, 1, &err) == LATHE_OK, "test: %s", err.message);
    CHECK(lathe_idx_set_add(set, &ti, &tl, 0, &err) == LATHE_ERR_INVALID &&
              strstr(err.message, "last"),
          "a part after the test part: %s", err.message);
    CHECK(lathe_idx_set_classes(set, classes, 3, &err) == LATHE_OK, "classes: %s", err.message);
    CHECK(lathe_idx_set_rows(set) == 49 && lathe_idx_set_table_bytes(set) == 49 * 13 * 4,
          "rows %zu, table bytes %zu", lathe_idx_set_rows(set), lathe_idx_set_table_bytes(set));
    /* the fingerprint: the stored bytes in the order added */
    lathe_sha256_init(&ctx);
    lathe_sha256_update(&ctx, train_images, n_ti);
    lathe_sha256_update(&ctx, train_labels, n_tl);
    lathe_sha256_update(&ctx, test_images, n_si);
    lathe_sha256_update(&ctx, test_labels, n_sl);
    lathe_sha256_final(&ctx, digest);
    lathe_sha256_to_hex(digest, want);
    lathe_idx_set_sha256(set, hex);
    CHECK(strcmp(hex, want) == 0, "fingerprint %s, expected %s", hex, want);
    CHECK(lathe_idx_set_table(set, &table, image, &test_from, &err) == LATHE_OK, "table: %s",
          err.message);
    if (table) {
        CHECK(table->rows == 49 && table->cols == 13 && test_from == 40, "table %zux%zu from %zu",
              table->rows, table->cols, test_from);
        CHECK(image[0] == 1 && image[1] == 3 && image[2] == 4, "image %zux%zux%zu", image[0],
              image[1], image[2]);
        for (r = 0; r < 49; r++)
            for (f = 0; f < 12; f++) {
                unsigned base = r < 40 ? 11 : 200;
                size_t row = r < 40 ? r : r - 40;
                float want_px = (float)((base + 7 * row + f) % 256);
                if (table->columns[f].values[r] != want_px) {
                    CHECK(0, "pixel %zu of row %zu is %g, not %g", f, r,
                          (double)table->columns[f].values[r], (double)want_px);
                    r = 49;
                    break;
                }
            }
        CHECK(table->columns[12].type == LATHE_COLUMN_CATEGORICAL &&
                  table->columns[12].values[41] == 1.0f &&
                  strcmp(table->columns[12].categories[1], "one") == 0,
              "the label column");
    }
    lathe_table_destroy(table);
    lathe_idx_set_destroy(set);
}

static void test_session_limit(void) {
    static const char experiment[] =
        "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":1,"
        "\"data\":{\"files\":[\"a\",\"b\"]},\"prepare\":[{\"op\":\"split\",\"test\":0.2}],"
        "\"model\":{\"template\":\"mlp\",\"hidden\":[4]},\"train\":{\"epochs\":1}}";
    size_t n_ti = idx_images(train_images, 40, 3, 4, 11), n_tl = idx_labels(train_labels, 40);
    lathe_idx_file ti = file("train-images", train_images, n_ti);
    lathe_idx_file tl = file("train-labels", train_labels, n_tl);
    lathe_idx_set *set = NULL;
    lathe_session *s = NULL;
    lathe_session_data data;
    lathe_error err;
    long live;
    char hex[65];
    CHECK(lathe_idx_set_create(&set, &err) == LATHE_OK, "create: %s", err.message);
    if (!set) return;
    CHECK(lathe_idx_set_add(set, &ti, &tl, 0, &err) == LATHE_OK, "add: %s", err.message);
    memset(&data, 0, sizeof data);
    data.images = set;
    data.memory_limit = 2 * 40 * 13 * 4 - 1; /* one byte short of the table and its copy */
    live = lathe_alloc_live();
    CHECK(lathe_session_open(experiment, sizeof experiment - 1, &data, &s, &err) ==
                  LATHE_ERR_LIMIT &&
              s == NULL && strstr(err.message, "40 images need"),
          "a set over the limit: %s", err.message);
    CHECK(lathe_alloc_live() == live, "the refusal left %ld blocks", lathe_alloc_live() - live);
    data.memory_limit = 2 * 40 * 13 * 4;
    CHECK(lathe_session_open(experiment, sizeof experiment - 1, &data, &s, &err) == LATHE_OK,
          "a set within the limit: %s", err.message);
    if (s) {
        lathe_idx_set_sha256(set, hex);
        CHECK(strcmp(lathe_session_data_sha256(s), hex) == 0, "the session's fingerprint");
        CHECK(lathe_session_prepared(s)->image[1] == 3 && lathe_session_prepared(s)->image[2] == 4,
              "the session's image shape comes from the files");
    }
    lathe_session_destroy(s);
    lathe_idx_set_destroy(set);
}

int main(void) {
    long live = lathe_alloc_live();
    test_table_and_fingerprint();
    test_session_limit();
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_idx_set");
}
