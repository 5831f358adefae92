/* IDX sets: the parts a front end reads become the same table as lathe_image_table makes of
 * them, a byte per pixel until then; the fingerprint is SHA-256 over the stored bytes in the
 * order added; swapped files, a mismatched count and a test part that is not last are named;
 * a session on a set too big for its memory limit is refused with the numbers, before any
 * table is made; byte pixels are prepared as they are read, to the float preparation's bits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/idx.h"
#include "lathe/prepare.h"
#include "lathe/profile.h"
#include "lathe/trainer.h"
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
    CHECK(lathe_idx_set_rows(set) == 49 && lathe_idx_set_table_bytes(set) == 49 * (12 + 4),
          "rows %zu, table bytes %llu", lathe_idx_set_rows(set),
          (unsigned long long)lathe_idx_set_table_bytes(set));
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
                if (!table->columns[f].bytes || lathe_column_at(&table->columns[f], r) != want_px) {
                    CHECK(0, "pixel %zu of row %zu is %g (bytes: %d), not %g", f, r,
                          (double)lathe_column_at(&table->columns[f], r),
                          table->columns[f].bytes != NULL, (double)want_px);
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
    data.memory_limit = 2 * 40 * (12 + 4) - 1; /* one byte short of the table and its copy */
    live = lathe_alloc_live();
    CHECK(lathe_session_open(experiment, sizeof experiment - 1, &data, &s, &err) ==
                  LATHE_ERR_LIMIT &&
              s == NULL && strstr(err.message, "40 images need"),
          "a set over the limit: %s", err.message);
    CHECK(lathe_alloc_live() == live, "the refusal left %ld blocks", lathe_alloc_live() - live);
    data.memory_limit = 2 * 40 * (12 + 4);
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

/* The table of set with its pixel columns as floats, as a CSV of the same images reads. */
static lathe_table *float_copy(const lathe_table *t) {
    lathe_table *c = lathe_calloc(1, sizeof *c);
    size_t j, r;
    if (!c || !(c->columns = lathe_calloc(t->cols, sizeof *c->columns))) return lathe_free(c), NULL;
    c->rows = t->rows, c->cols = t->cols;
    for (j = 0; j < t->cols; j++) {
        const lathe_column *from = &t->columns[j];
        lathe_column *to = &c->columns[j];
        *to = *from;
        to->bytes = NULL, to->categories = NULL, to->n_categories = 0;
        to->name = lathe_strdup(from->name);
        to->values = lathe_malloc(t->rows * sizeof *to->values);
        if (from->n_categories)
            to->categories = lathe_calloc(from->n_categories, sizeof *to->categories);
        if (!to->name || !to->values || (from->n_categories && !to->categories))
            return lathe_table_destroy(c), NULL;
        for (r = 0; r < from->n_categories; r++)
            if (!(to->categories[r] = lathe_strdup(from->categories[r])))
                return lathe_table_destroy(c), NULL;
            else
                to->n_categories = r + 1;
        for (r = 0; r < t->rows; r++)
            to->values[r] = lathe_column_at(from, r);
    }
    return c;
}

/* Byte rows are prepared as they are read to the bits the float preparation of the same
 * values gives: every split's rows, the prepared hash, the fitted steps, and the weights of
 * training on them (an oversampling step and a chain of two fitted steps included); augment
 * needs float rows at preparation and gets them. */
static void test_byte_rows(void) {
    static const char *const preps[] = {
        "[{\"op\":\"split\",\"validation\":0.2,\"stratify\":true},{\"op\":\"standardize\"},"
        "{\"op\":\"minmax\",\"per\":\"all\"},{\"op\":\"balance_classes\"}]",
        "[{\"op\":\"split\",\"validation\":0.25},{\"op\":\"minmax\",\"per\":\"all\"}]",
        "[{\"op\":\"split\",\"validation\":0.25}]",
        "[{\"op\":\"split\",\"validation\":0.25},{\"op\":\"augment\",\"copies\":1,"
        "\"flip\":true},{\"op\":\"standardize\"}]"};
    size_t n_ti = idx_images(train_images, 40, 3, 4, 11), n_tl = idx_labels(train_labels, 40);
    size_t n_si = idx_images(test_images, 9, 3, 4, 200), n_sl = idx_labels(test_labels, 9);
    lathe_idx_file ti = file("train-images", train_images, n_ti);
    lathe_idx_file tl = file("train-labels", train_labels, n_tl);
    lathe_idx_file si = file("test-images", test_images, n_si);
    lathe_idx_file sl = file("test-labels", test_labels, n_sl);
    lathe_idx_set *set = NULL;
    lathe_table *bytes = NULL, *floats = NULL;
    lathe_data_layout layout;
    lathe_error err;
    size_t k;
    CHECK(lathe_idx_set_create(&set, &err) == LATHE_OK &&
              lathe_idx_set_add(set, &ti, &tl, 0, &err) == LATHE_OK &&
              lathe_idx_set_add(set, &si, &sl, 1, &err) == LATHE_OK &&
              lathe_idx_set_table(set, &bytes, layout.image, &layout.test_from, &err) == LATHE_OK,
          "the set's table: %s", err.message);
    floats = bytes ? float_copy(bytes) : NULL;
    CHECK(floats != NULL, "the float copy");
    if (floats) { /* the profile counts a byte column's values: the sort's numbers, bit for bit */
        lathe_column_profile *pb = calloc(bytes->cols, sizeof *pb);
        lathe_column_profile *pf = calloc(bytes->cols, sizeof *pf);
        CHECK(pb && pf && lathe_profile_table(bytes, pb, &err) == LATHE_OK &&
                  lathe_profile_table(floats, pf, &err) == LATHE_OK,
              "profiles");
        for (k = 0; pb && pf && k < bytes->cols; k++)
            CHECK(memcmp(&pb[k], &pf[k], sizeof pb[k]) == 0, "column %zu: the byte profile differs", k);
        free(pb), free(pf);
    }
    for (k = 0; floats && k < sizeof preps / sizeof *preps; k++) {
        char json[1024], hb[65], hf[65], wb[65], wf[65];
        lathe_experiment *exp = NULL;
        lathe_prepared *pb = NULL, *pf = NULL;
        lathe_trainer *tb = NULL, *tf = NULL;
        snprintf(json, sizeof json,
                 "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":3,"
                 "\"data\":{\"builtin\":\"set\"},\"prepare\":%s,\"model\":{\"template\":"
                 "\"mlp\",\"hidden\":[5]},\"train\":{\"epochs\":3,\"batch_size\":7}}",
                 preps[k]);
        CHECK(lathe_experiment_parse(json, strlen(json), &exp, &err) == LATHE_OK, "%zu: %s", k,
              err.message);
        if (!exp) continue;
        CHECK(lathe_prepare_layout(exp, bytes, &layout, &pb, &err) == LATHE_OK &&
                  lathe_prepare_layout(exp, floats, &layout, &pf, &err) == LATHE_OK,
              "%zu: prepare: %s", k, err.message);
        if (pb && pf) {
            size_t s, F = pf->n_features;
            const lathe_split_data *sb[3], *sf[3];
            int compact = k < 3; /* augment makes float rows */
            sb[0] = &pb->train, sb[1] = &pb->validation, sb[2] = &pb->test;
            sf[0] = &pf->train, sf[1] = &pf->validation, sf[2] = &pf->test;
            CHECK(pf->train.x && !pf->train.bytes, "%zu: float columns give float rows", k);
            CHECK(compact ? !pb->train.x && pb->train.bytes && !pb->test.x
                          : pb->train.x && !pb->train.bytes,
                  "%zu: byte columns give %s rows", k, compact ? "byte" : "float");
            for (s = 0; s < 3; s++) {
                float *rows = lathe_malloc((sb[s]->rows ? sb[s]->rows : 1) * F * sizeof *rows);
                CHECK(rows && sb[s]->rows == sf[s]->rows, "%zu: split %zu rows", k, s);
                if (!rows) continue;
                lathe_prepared_rows(pb, sb[s], 0, sb[s]->rows, rows);
                CHECK(memcmp(rows, sf[s]->x, sf[s]->rows * F * sizeof *rows) == 0 &&
                          memcmp(sb[s]->source_row, sf[s]->source_row,
                                 sf[s]->rows * sizeof *sf[s]->source_row) == 0,
                      "%zu: split %zu: the rows read differ from the float preparation", k, s);
                lathe_free(rows);
            }
            lathe_prepared_sha256(pb, hb), lathe_prepared_sha256(pf, hf);
            CHECK(strcmp(hb, hf) == 0, "%zu: prepared hash %s, floats give %s", k, hb, hf);
            CHECK(lathe_trainer_create(exp, pb, &tb, &err) == LATHE_OK &&
                      lathe_trainer_create(exp, pf, &tf, &err) == LATHE_OK &&
                      lathe_trainer_step(tb, (size_t)-1, &err) == LATHE_OK &&
                      lathe_trainer_step(tf, (size_t)-1, &err) == LATHE_OK,
                  "%zu: train: %s", k, err.message);
            if (tb && tf) {
                lathe_metrics mb = lathe_trainer_evaluate(tb, LATHE_SPLIT_TEST);
                lathe_metrics mf = lathe_trainer_evaluate(tf, LATHE_SPLIT_TEST);
                lathe_trainer_weights_sha256(tb, wb), lathe_trainer_weights_sha256(tf, wf);
                CHECK(strcmp(wb, wf) == 0, "%zu: weights %s, floats give %s", k, wb, wf);
                CHECK(memcmp(&mb.loss, &mf.loss, sizeof mb.loss) == 0,
                      "%zu: test loss %g, floats give %g", k, (double)mb.loss, (double)mf.loss);
            }
            lathe_trainer_destroy(tb), lathe_trainer_destroy(tf);
        }
        lathe_prepared_destroy(pb), lathe_prepared_destroy(pf);
        lathe_experiment_destroy(exp);
    }
    lathe_table_destroy(floats);
    lathe_table_destroy(bytes);
    lathe_idx_set_destroy(set);
}

/* The check a front end makes from an images file's header, before it inflates the file: the
 * set's own pixels and the table with its prepared copy, in 64 bits (a wasm32 size_t would
 * wrap), saturated for the sizes a damaged header gives. */
static void test_fit_from_header(void) {
    /* 150,000 colour images of 64 × 64 with only the first 20 bytes of the file */
    static const uint8_t head[20] = {0, 0, 8, 4, 0, 0x02, 0x49, 0xF0, 0, 0, 0, 3,
                                     0, 0, 0, 64, 0, 0, 0, 64};
    lathe_idx_header h;
    lathe_error err;
    uint64_t rows, pixels, table;
    CHECK(lathe_idx_header_read(head, sizeof head, &h, &err) == LATHE_OK, "header: %s",
          err.message);
    CHECK(h.type == LATHE_IDX_U8 && h.ndims == 4 && h.dims[0] == 150000 && h.length == 20 &&
              h.count == 150000ull * 3 * 64 * 64,
          "header: type %d, %zu dims, %u rows, length %zu", (int)h.type, h.ndims, h.dims[0],
          h.length);
    rows = h.dims[0], pixels = h.count / rows;
    table = lathe_image_table_bytes(rows, pixels, 1);
    CHECK(table == rows * (pixels + 4), "table bytes %llu", (unsigned long long)table);
    CHECK(lathe_image_table_bytes(rows, pixels, 0) == rows * (4 * pixels + 4), "float table bytes");
    CHECK(lathe_session_images_fit(100, lathe_image_table_bytes(100, pixels, 1), 100 * pixels,
                                   (size_t)4 << 20, &err) == LATHE_OK,
          "100 of them (3.5 MiB) do not fit 4 MiB: %s", err.message);
    CHECK(lathe_session_images_fit(rows, table, h.count, (size_t)4 << 20, &err) == LATHE_ERR_LIMIT &&
              strcmp(err.message, "150000 images need 5274 MiB once read and prepared; this "
                                  "engine has 4 MiB left for data (use fewer or smaller images)") ==
                  0,
          "the refusal: %s", err.message);
    CHECK(lathe_session_images_fit(rows, table, h.count, 0, &err) == LATHE_OK, "0: no limit");
    CHECK(lathe_image_table_bytes(UINT64_MAX / 2, 1000, 0) == UINT64_MAX >> 2 &&
              lathe_image_table_bytes(10, UINT64_MAX / 4, 1) == UINT64_MAX >> 2,
          "an overflowing size saturates");
    CHECK(lathe_session_images_fit(UINT64_MAX / 2, UINT64_MAX >> 2, UINT64_MAX - 1, 1u << 30,
                                   &err) == LATHE_ERR_LIMIT,
          "saturated sizes are refused");
}

int main(void) {
    long live = lathe_alloc_live();
    test_table_and_fingerprint();
    test_session_limit();
    test_fit_from_header();
    test_byte_rows();
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_idx_set");
}
