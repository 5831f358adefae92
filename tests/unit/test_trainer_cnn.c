/* The trainer with image layers (conv2d, pooling, flatten, batch norm, dropout): it learns a
 * tiny image task, stepping allocates nothing, evaluating never changes training, every
 * allocation of its creation can fail cleanly, and every invalid design is refused with the
 * layer's path and the reason. Also the image side of preparation: data.image, IDX tables
 * with a predefined test split, data.limit and scaling "per": "all". */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/experiment.h"
#include "lathe/idx.h"
#include "lathe/model_file.h"
#include "lathe/prepare.h"
#include "lathe/rng.h"
#include "lathe/trainer.h"

#define SIDE 6
#define ROWS 60

/* 6×6 images of a vertical (class 0) or horizontal (class 1) bar at a random place, plus
 * noise; columns px0..px35, label. */
static lathe_table *bars_table(void) {
    static char csv[ROWS * SIDE * SIDE * 8 + 4096];
    size_t used = 0;
    int r, i, j;
    lathe_rng rng;
    lathe_table *t = NULL;
    lathe_error err;
    lathe_rng_seed(&rng, 7, 0);
    for (i = 0; i < SIDE * SIDE; i++) used += (size_t)snprintf(csv + used, sizeof csv - used, "px%d,", i);
    used += (size_t)snprintf(csv + used, sizeof csv - used, "label\n");
    for (r = 0; r < ROWS; r++) {
        int cls = r % 2, at = (int)lathe_rng_below(&rng, SIDE);
        for (i = 0; i < SIDE; i++)
            for (j = 0; j < SIDE; j++) {
                float noise = lathe_rng_uniform(&rng);
                float v = ((cls == 0 && j == at) || (cls == 1 && i == at)) ? 8.0f : 0.0f;
                used += (size_t)snprintf(csv + used, sizeof csv - used, "%.3f,",
                                         (double)(v + 2.0f * noise));
            }
        used += (size_t)snprintf(csv + used, sizeof csv - used, "%s\n", cls ? "horizontal" : "vertical");
    }
    CHECK(lathe_csv_read(csv, used, NULL, &t, &err) == LATHE_OK, "bars table: %s", err.message);
    return t;
}

#define HEAD "{\"format\":\"lathe-experiment\",\"version\":1,\"seed\":5,"
#define DATA_IMAGE "\"data\":{\"file\":\"bars.csv\",\"target\":\"label\",\"image\":[1,6,6]},"
#define PREP "\"prepare\":[{\"op\":\"split\",\"test\":0.2},{\"op\":\"minmax\",\"per\":\"all\"}],"
#define TRAIN "\"train\":{\"optimizer\":\"adam\",\"learning_rate\":0.01,\"batch_size\":8,\"epochs\":12}}"

static const char *cnn_experiment =
    HEAD DATA_IMAGE PREP
    "\"model\":{\"layers\":["
    "{\"type\":\"conv2d\",\"filters\":4,\"kernel\":3,\"padding\":\"same\"},"
    "{\"type\":\"batch_norm\"},{\"type\":\"relu\"},"
    "{\"type\":\"max_pool\",\"size\":2,\"stride\":2},"
    "{\"type\":\"conv2d\",\"filters\":4,\"kernel\":2,\"stride\":1,\"padding\":0},"
    "{\"type\":\"avg_pool\",\"size\":2},"
    "{\"type\":\"flatten\"},{\"type\":\"dropout\",\"rate\":0.25},"
    "{\"type\":\"dense\",\"units\":8},{\"type\":\"batch_norm\"},{\"type\":\"tanh\"},"
    "{\"type\":\"dense\"}]}," TRAIN;

static lathe_experiment *parse(const char *json) {
    lathe_experiment *exp = NULL;
    lathe_error err;
    CHECK(lathe_experiment_parse(json, strlen(json), &exp, &err) == LATHE_OK, "parse: %s",
          err.message);
    return exp;
}

static void expect_parse_error(const char *json, const char *fragment) {
    lathe_experiment *exp = NULL;
    lathe_error err;
    lathe_status st = lathe_experiment_parse(json, strlen(json), &exp, &err);
    CHECK(st == LATHE_ERR_INVALID && exp == NULL, "expected a parse error about %s", fragment);
    if (st != LATHE_OK)
        CHECK(strstr(err.message, fragment) != NULL, "message '%s' lacks '%s'", err.message,
              fragment);
    lathe_experiment_destroy(exp);
}

/* Parses json, prepares table and creates a trainer: expects an error containing fragment. */
static void expect_design_error(const char *json, const lathe_table *table, const char *fragment) {
    lathe_experiment *exp = parse(json);
    lathe_prepared *prep = NULL;
    lathe_trainer *tr = NULL;
    lathe_error err;
    lathe_status st;
    if (!exp) return;
    st = lathe_prepare(exp, table, &prep, &err);
    if (st == LATHE_OK) st = lathe_trainer_create(exp, prep, &tr, &err);
    CHECK(st == LATHE_ERR_INVALID && tr == NULL, "expected a design error about %s", fragment);
    if (st != LATHE_OK)
        CHECK(strstr(err.message, fragment) != NULL, "message '%s' lacks '%s'", err.message,
              fragment);
    lathe_trainer_destroy(tr);
    lathe_prepared_destroy(prep);
    lathe_experiment_destroy(exp);
}

static void train_to_end(lathe_trainer *tr, int evaluate_between) {
    lathe_error err;
    while (!lathe_trainer_progress(tr).done) {
        CHECK(lathe_trainer_step(tr, 3, &err) == LATHE_OK, "step: %s", err.message);
        if (evaluate_between) {
            (void)lathe_trainer_evaluate(tr, LATHE_SPLIT_TEST);
            (void)lathe_trainer_evaluate(tr, LATHE_SPLIT_TRAIN);
        }
    }
}

static void test_cnn_trains(const lathe_table *table) {
    lathe_experiment *exp = parse(cnn_experiment);
    lathe_prepared *prep = NULL;
    lathe_trainer *a = NULL, *b = NULL;
    lathe_error err;
    char ha[65], hb[65];
    if (!exp) return;
    CHECK(lathe_prepare(exp, table, &prep, &err) == LATHE_OK, "prepare: %s", err.message);
    if (!prep) goto done;
    CHECK(prep->image[0] == 1 && prep->image[1] == 6 && prep->image[2] == 6, "prepared image shape");
    CHECK(lathe_trainer_create(exp, prep, &a, &err) == LATHE_OK, "create: %s", err.message);
    CHECK(lathe_trainer_create(exp, prep, &b, &err) == LATHE_OK, "create: %s", err.message);
    if (!a || !b) goto done;
    {
        /* conv 4·1·9 + 4, batch norm 4 + 4, conv 4·4·4 + 4, dense 8·4 + 8, batch norm 8 + 8,
         * dense 2·8 + 2 */
        size_t count;
        (void)lathe_trainer_params(a, &count);
        CHECK(count == 40 + 8 + 68 + 40 + 16 + 18, "parameter count %zu", count);
    }
    /* Stepping (and evaluating) allocates nothing. */
    lathe_alloc_fail_at(0);
    train_to_end(a, 0);
    (void)lathe_trainer_evaluate(a, LATHE_SPLIT_TEST);
    CHECK(lathe_alloc_count() == 0, "stepping a CNN allocated %lu times", lathe_alloc_count());
    /* Evaluating between steps (batch norm on running statistics, dropout off) changes
     * nothing in training: the same weights. */
    train_to_end(b, 1);
    lathe_trainer_weights_sha256(a, ha);
    lathe_trainer_weights_sha256(b, hb);
    CHECK(strcmp(ha, hb) == 0, "evaluating during training changed the weights");
    {
        lathe_metrics m = lathe_trainer_evaluate(a, LATHE_SPLIT_TEST);
        CHECK(m.rows == 12 && m.accuracy >= 0.9f, "test accuracy %g on %zu rows",
              (double)m.accuracy, m.rows);
    }
    {
        lathe_layer_info info;
        lathe_trainer_layer(a, 1, &info);
        CHECK(info.kind == LATHE_LAYER_BATCH_NORM && info.channels == 4 && info.running_mean &&
                  info.running_var && info.running_var[0] != 1.0f,
              "batch norm running statistics were not updated");
        lathe_trainer_layer(a, 6, &info);
        CHECK(info.kind == LATHE_LAYER_FLATTEN && info.in_c == 4 && info.in_h == 1 &&
                  info.in_w == 1 && info.out == 4,
              "flatten shape (%zu,%zu,%zu) -> %zu", info.in_c, info.in_h, info.in_w, info.out);
    }
    {
        char *model = NULL;
        CHECK(lathe_model_file_write(cnn_experiment, strlen(cnn_experiment), prep, a, NULL, &model,
                                     &err) == LATHE_OK,
              "model file: %s", err.message);
        CHECK(model && strstr(model, "\"conv2d\"") && strstr(model, "\"running_var\"") &&
                  strstr(model, "\"max_pool\"") && strstr(model, "\"dropout\""),
              "the model file lacks the image layers");
        lathe_free(model);
    }
    /* Out of memory at each allocation of the CNN trainer's creation: a clean failure. */
    {
        unsigned long n;
        for (n = 1; n < 200; n++) {
            lathe_trainer *tr = NULL;
            lathe_status st;
            long live = lathe_alloc_live();
            lathe_alloc_fail_at(n);
            st = lathe_trainer_create(exp, prep, &tr, &err);
            lathe_alloc_fail_at(0);
            lathe_trainer_destroy(tr);
            CHECK(lathe_alloc_live() == live, "allocation %lu: leaked %ld blocks", n,
                  lathe_alloc_live() - live);
            if (st == LATHE_OK) break;
            CHECK(st == LATHE_ERR_NOMEM, "allocation %lu: status %d (%s)", n, (int)st, err.message);
        }
        CHECK(n > 15 && n < 200, "the CNN out-of-memory sweep ended at %lu", n);
    }
done:
    lathe_trainer_destroy(a);
    lathe_trainer_destroy(b);
    lathe_prepared_destroy(prep);
    lathe_experiment_destroy(exp);
}

static void test_design_errors(const lathe_table *table) {
    char json[2048];
#define MODEL(layers) HEAD DATA_IMAGE PREP "\"model\":{\"layers\":[" layers "]}," TRAIN
    expect_design_error(HEAD "\"data\":{\"file\":\"bars.csv\",\"target\":\"label\"}," PREP
                             "\"model\":{\"layers\":[{\"type\":\"conv2d\",\"filters\":2,"
                             "\"kernel\":3},{\"type\":\"dense\"}]}," TRAIN,
                        table,
                        "model.layers[0]: conv2d needs an image input (C, H, W); the data has 36 "
                        "feature columns");
    expect_design_error(MODEL("{\"type\":\"conv2d\",\"filters\":2,\"kernel\":7},{\"type\":\"dense\"}"),
                        table, "model.layers[0]: the conv2d kernel 7x7 is larger than its input 6x6");
    expect_design_error(MODEL("{\"type\":\"dense\",\"units\":4},{\"type\":\"max_pool\"},{\"type\":\"dense\"}"),
                        table, "model.layers[1]: max_pool needs an image input (C, H, W), but the "
                               "layer before it (dense) gives 4 flat features; image layers "
                               "come before any dense or flatten layer");
    expect_design_error(MODEL("{\"type\":\"max_pool\",\"size\":4},{\"type\":\"avg_pool\",\"size\":2},{\"type\":\"dense\"}"),
                        table, "model.layers[1]: the avg_pool window 2x2 is larger than its input 1x1");
    /* 48 training rows in batches of 47: the last batch has one row. */
    snprintf(json, sizeof json, "%s",
             HEAD DATA_IMAGE PREP "\"model\":{\"layers\":[{\"type\":\"dense\",\"units\":4},"
             "{\"type\":\"batch_norm\"},{\"type\":\"dense\"}]},"
             "\"train\":{\"batch_size\":47}}");
    expect_design_error(json, table, "model.layers[1]: batch_norm needs at least 2 values per feature");
    expect_design_error(HEAD "\"data\":{\"file\":\"bars.csv\",\"target\":\"label\",\"image\":[1,5,5]},"
                             PREP "\"model\":{\"template\":\"cnn\"}," TRAIN,
                        table, "data.image: [1, 5, 5] holds 25 values per row, but the prepared "
                               "data has 36 features");
    /* 4×3×3 images: the template's second pooling meets a 1×1 input. */
    expect_design_error(HEAD "\"data\":{\"file\":\"bars.csv\",\"target\":\"label\",\"image\":[4,3,3]},"
                             PREP "\"model\":{\"template\":\"cnn\"}," TRAIN,
                        table, "model.template 'cnn', layer 5: the max_pool window 2x2 is larger "
                               "than its input 1x1");
    expect_parse_error(MODEL("{\"type\":\"conv2d\",\"filters\":2,\"kernel\":4,\"padding\":\"same\"},{\"type\":\"dense\"}"),
                       "model.layers[0].padding: \"same\" needs an odd kernel and stride 1");
    expect_parse_error(MODEL("{\"type\":\"conv2d\",\"filter\":2,\"kernel\":3},{\"type\":\"dense\"}"),
                       "model.layers[0].filter: unknown key");
    expect_parse_error(MODEL("{\"type\":\"dropout\"},{\"type\":\"dense\"}"),
                       "model.layers[0]: dropout needs a \"rate\"");
    expect_parse_error(MODEL("{\"type\":\"dropout\",\"rate\":1},{\"type\":\"dense\"}"),
                       "model.layers[0].rate: must be a number in [0, 0.99]");
    expect_parse_error(MODEL("{\"type\":\"conv2d\",\"filters\":2,\"kernel\":3}"),
                       "model.layers: the last layer must be dense");
    expect_parse_error(HEAD "\"data\":{\"file\":\"x.csv\",\"image\":[8,8]}," PREP
                            "\"model\":{\"template\":\"cnn\"}," TRAIN,
                       "data.image: must be [channels, height, width]");
    expect_parse_error(HEAD "\"data\":{\"file\":\"x.csv\",\"limit\":{\"train\":0}}," PREP
                            "\"model\":{\"template\":\"cnn\"}," TRAIN,
                       "data.limit.train: must be a number in [1, 1e+09]");
#undef MODEL
}

/* IDX bytes of u8 images (n, h, w) with pixel value base + row, and of labels row % 3. */
static size_t idx_images(uint8_t *out, uint32_t n, uint32_t h, uint32_t w, uint8_t base) {
    size_t i, used = 16;
    uint32_t dims[3];
    dims[0] = n, dims[1] = h, dims[2] = w;
    out[0] = 0, out[1] = 0, out[2] = 8, out[3] = 3;
    for (i = 0; i < 3; i++) {
        out[4 + 4 * i] = (uint8_t)(dims[i] >> 24), out[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        out[6 + 4 * i] = (uint8_t)(dims[i] >> 8), out[7 + 4 * i] = (uint8_t)dims[i];
    }
    for (i = 0; i < (size_t)n * h * w; i++) out[used++] = (uint8_t)(base + i / (h * w));
    return used;
}

static size_t idx_labels(uint8_t *out, uint32_t n) {
    size_t i;
    out[0] = 0, out[1] = 0, out[2] = 8, out[3] = 1;
    out[4] = (uint8_t)(n >> 24), out[5] = (uint8_t)(n >> 16), out[6] = (uint8_t)(n >> 8);
    out[7] = (uint8_t)n;
    for (i = 0; i < n; i++) out[8 + i] = (uint8_t)(i % 3);
    return 8 + n;
}

static void test_idx_preparation(void) {
    static uint8_t bytes[4][4096];
    static const char *const classes[] = {"zero", "one", "two"};
    lathe_idx *images[2] = {NULL, NULL}, *labels[2] = {NULL, NULL};
    lathe_table *table = NULL;
    lathe_data_layout layout;
    size_t starts[2], n;
    lathe_error err;
    lathe_experiment *exp;
    lathe_prepared *prep = NULL;
    memset(&layout, 0, sizeof layout);
    /* train part: 30 images 2×3 with pixels 10 + row; test part: 9 images with 100 + row */
    n = idx_images(bytes[0], 30, 2, 3, 10);
    CHECK(lathe_idx_read(bytes[0], n, &images[0], &err) == LATHE_OK, "idx: %s", err.message);
    n = idx_labels(bytes[1], 30);
    CHECK(lathe_idx_read(bytes[1], n, &labels[0], &err) == LATHE_OK, "idx: %s", err.message);
    n = idx_images(bytes[2], 9, 2, 3, 100);
    CHECK(lathe_idx_read(bytes[2], n, &images[1], &err) == LATHE_OK, "idx: %s", err.message);
    n = idx_labels(bytes[3], 9);
    CHECK(lathe_idx_read(bytes[3], n, &labels[1], &err) == LATHE_OK, "idx: %s", err.message);
    if (!images[0] || !labels[0] || !images[1] || !labels[1]) goto done;
    CHECK(lathe_image_table((const lathe_idx *const *)images, (const lathe_idx *const *)labels, 2,
                            classes, 3, &table, layout.image, starts, &err) == LATHE_OK,
          "image table: %s", err.message);
    if (!table) goto done;
    CHECK(table->rows == 39 && table->cols == 7 && starts[1] == 30, "table %zux%zu", table->rows,
          table->cols);
    CHECK(layout.image[0] == 1 && layout.image[1] == 2 && layout.image[2] == 3, "image shape");
    CHECK(table->columns[6].type == LATHE_COLUMN_CATEGORICAL &&
              strcmp(table->columns[6].categories[2], "two") == 0,
          "label column with class names");
    CHECK(lathe_column_at(&table->columns[4], 31) == 101.0f, "pixel of test row 1");
    layout.test_from = starts[1];

    /* The predefined test split: "test" in the split step is refused. */
    exp = parse(HEAD "\"data\":{\"builtin\":\"set\"},\"prepare\":[{\"op\":\"split\",\"test\":0.2}],"
                     "\"model\":{\"template\":\"logistic\"}," TRAIN);
    if (exp) {
        CHECK(lathe_prepare_layout(exp, table, &layout, &prep, &err) == LATHE_ERR_INVALID &&
                  strstr(err.message, "prepare[0].test: the data comes with its own test split (9 rows)"),
              "a split test fraction on predefined data: %s", err.message);
        lathe_experiment_destroy(exp);
    }
    /* Validation carved from the training part, limits, one min-max over every pixel. */
    exp = parse(HEAD "\"data\":{\"builtin\":\"set\",\"limit\":{\"train\":10,\"test\":4}},"
                     "\"prepare\":[{\"op\":\"split\",\"validation\":0.2},{\"op\":\"minmax\",\"per\":\"all\"}],"
                     "\"model\":{\"template\":\"cnn\"}," TRAIN);
    if (exp) {
        CHECK(lathe_prepare_layout(exp, table, &layout, &prep, &err) == LATHE_OK, "prepare: %s",
              err.message);
        if (prep) {
            size_t i;
            float lo = 1e9f, hi = -1e9f;
            CHECK(prep->train.rows == 10 && prep->validation.rows == 6 && prep->test.rows == 4,
                  "rows %zu/%zu/%zu", prep->train.rows, prep->validation.rows, prep->test.rows);
            for (i = 0; i < prep->test.rows; i++)
                CHECK(prep->test.source_row[i] >= 30, "test row %u is not from the test part",
                      prep->test.source_row[i]);
            for (i = 0; i < prep->validation.rows; i++)
                CHECK(prep->validation.source_row[i] < 30, "validation row from the test part");
            for (i = 1; i < prep->train.rows; i++)
                CHECK(prep->train.source_row[i] > prep->train.source_row[i - 1],
                      "training rows are not in table order");
            for (i = 0; i < prep->train.rows; i++) {
                float v = (float)(prep->train.source_row[i] + 10u); /* pixel of that row */
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            CHECK(prep->steps[0].shift[0] == lo && prep->steps[0].shift[5] == lo &&
                      prep->steps[0].scale[3] == (float)(1.0 / ((double)hi - (double)lo)),
                  "per-all minmax: shift %g scale %g, want %g and 1/%g", (double)prep->steps[0].shift[0],
                  (double)prep->steps[0].scale[3], (double)lo, (double)(hi - lo));
            CHECK(prep->image[1] == 2 && prep->image[2] == 3 && prep->n_classes == 3 &&
                      strcmp(prep->class_names[1], "one") == 0,
                  "image shape and classes from the layout");
            lathe_prepared_destroy(prep);
        }
        /* Out of memory at each allocation of the image table and this preparation. */
        {
            unsigned long k;
            for (k = 1; k < 300; k++) {
                lathe_table *t2 = NULL;
                lathe_prepared *p2 = NULL;
                lathe_data_layout l2;
                lathe_status st;
                long live = lathe_alloc_live();
                l2 = layout;
                lathe_alloc_fail_at(k);
                st = lathe_image_table((const lathe_idx *const *)images,
                                       (const lathe_idx *const *)labels, 2, classes, 3, &t2,
                                       l2.image, NULL, &err);
                if (st == LATHE_OK) st = lathe_prepare_layout(exp, t2, &l2, &p2, &err);
                lathe_alloc_fail_at(0);
                lathe_prepared_destroy(p2);
                lathe_table_destroy(t2);
                CHECK(lathe_alloc_live() == live, "allocation %lu: leaked %ld blocks", k,
                      lathe_alloc_live() - live);
                if (st == LATHE_OK) break;
                CHECK(st == LATHE_ERR_NOMEM, "allocation %lu: status %d (%s)", k, (int)st,
                      err.message);
            }
            CHECK(k > 10 && k < 300, "the image-table out-of-memory sweep ended at %lu", k);
        }
        lathe_experiment_destroy(exp);
    }
done:
    lathe_table_destroy(table);
    lathe_idx_destroy(images[0]);
    lathe_idx_destroy(images[1]);
    lathe_idx_destroy(labels[0]);
    lathe_idx_destroy(labels[1]);
}

int main(void) {
    long live = lathe_alloc_live();
    lathe_table *table = bars_table();
    if (table) {
        test_cnn_trains(table);
        test_design_errors(table);
    }
    test_idx_preparation();
    lathe_table_destroy(table);
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_trainer_cnn");
}
