/* Image conversion: area resampling keeps a constant image constant and averages exact
 * blocks when shrinking by a whole factor, weights fractional edges (3 → 2 pixels), repeats
 * pixels when enlarging; the luma is BT.601's (PIL's convert("L") weights); alpha composites
 * over black; RGB keeps channels apart (NCHW); bad sizes and channel counts are refused with
 * the numbers; an image set becomes a table that prepares like IDX data. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/image.h"
#include "lathe/table.h"

int main(void) {
    lathe_error err;
    float out[64];
    size_t i;
    long live = lathe_alloc_live();

    { /* constant 5x7 grey to 3x2 stays constant */
        uint8_t src[35];
        memset(src, 77, sizeof src);
        CHECK(lathe_image_convert(src, 5, 7, 1, 1, 3, 2, out, &err) == LATHE_OK, "%s", err.message);
        for (i = 0; i < 6; i++) CHECK(check_close((double)out[i], 77.0, 1e-4, 0), "constant: [%zu] = %g", i, (double)out[i]);
    }
    { /* 4x4 to 2x2: exact block means */
        const uint8_t src[16] = {0, 10, 100, 110, 20, 30, 120, 130, 1, 2, 3, 4, 5, 6, 7, 8};
        const double want[4] = {15.0, 115.0, 3.5, 5.5};
        CHECK(lathe_image_convert(src, 4, 4, 1, 1, 2, 2, out, &err) == LATHE_OK, "%s", err.message);
        for (i = 0; i < 4; i++) CHECK(check_close((double)out[i], want[i], 1e-5, 0), "2x2 block [%zu] = %g, want %g", i, (double)out[i], want[i]);
    }
    { /* a row of 3 to 2: (p0 + p1/2)/1.5 and (p1/2 + p2)/1.5 */
        const uint8_t src[3] = {30, 60, 90};
        CHECK(lathe_image_convert(src, 3, 1, 1, 1, 1, 2, out, &err) == LATHE_OK, "%s", err.message);
        CHECK(check_close((double)out[0], 40.0, 1e-5, 0) && check_close((double)out[1], 80.0, 1e-5, 0),
              "3 -> 2: %g %g, want 40 80", (double)out[0], (double)out[1]);
    }
    { /* 2x1 to 4x1: each pixel twice */
        const uint8_t src[2] = {10, 200};
        CHECK(lathe_image_convert(src, 2, 1, 1, 1, 1, 4, out, &err) == LATHE_OK, "%s", err.message);
        CHECK(out[0] == 10.0f && out[1] == 10.0f && out[2] == 200.0f && out[3] == 200.0f,
              "enlarging: %g %g %g %g", (double)out[0], (double)out[1], (double)out[2], (double)out[3]);
    }
    { /* RGBA: luma with BT.601 weights, alpha over black; RGB planes in NCHW order */
        const uint8_t src[8] = {255, 0, 0, 255, 10, 20, 30, 128};
        CHECK(lathe_image_convert(src, 2, 1, 4, 1, 1, 2, out, &err) == LATHE_OK, "%s", err.message);
        CHECK(check_close((double)out[0], 0.299 * 255, 1e-4, 0), "luma of red %g", (double)out[0]);
        CHECK(check_close((double)out[1], (0.299 * 10 + 0.587 * 20 + 0.114 * 30) * 128.0 / 255.0, 1e-4, 0),
              "luma at alpha 128: %g", (double)out[1]);
        CHECK(lathe_image_convert(src, 2, 1, 4, 3, 1, 2, out, &err) == LATHE_OK, "%s", err.message);
        CHECK(out[0] == 255.0f && out[1] == (float)(10.0 * (128.0 / 255.0)) && out[2] == 0.0f &&
                  check_close((double)out[5], 30.0 * 128.0 / 255.0, 1e-4, 0),
              "RGB planes: %g %g %g … %g", (double)out[0], (double)out[1], (double)out[2], (double)out[5]);
    }
    { /* refusals */
        const uint8_t src[4] = {0};
        CHECK(lathe_image_convert(src, 0, 3, 1, 1, 2, 2, out, &err) == LATHE_ERR_LIMIT && strstr(err.message, "0x3"),
              "zero width: %s", err.message);
        CHECK(lathe_image_convert(src, 20000, 1, 1, 1, 2, 2, out, &err) == LATHE_ERR_LIMIT && strstr(err.message, "16384"),
              "too wide: %s", err.message);
        CHECK(lathe_image_convert(src, 2, 2, 5, 1, 2, 2, out, &err) == LATHE_ERR_INVALID && strstr(err.message, "5 channels"),
              "5 channels: %s", err.message);
        CHECK(lathe_image_convert(src, 2, 2, 1, 2, 2, 2, out, &err) == LATHE_ERR_INVALID && strstr(err.message, "[2, 2, 2]"),
              "2 output channels: %s", err.message);
    }
    { /* an image set as a table */
        const float px[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        const uint32_t labels[3] = {1, 0, 1};
        const char *names[2] = {"cat", "dog"};
        lathe_table *t = NULL;
        CHECK(lathe_image_set_table(3, 1, 2, 2, px, labels, names, 2, &t, &err) == LATHE_OK, "%s", err.message);
        if (t) {
            CHECK(t->rows == 3 && t->cols == 5 && strcmp(t->columns[4].name, "label") == 0 &&
                      t->columns[2].values[1] == 7.0f && t->columns[4].values[2] == 1.0f &&
                      strcmp(t->columns[4].categories[1], "dog") == 0,
                  "table layout");
        }
        lathe_table_destroy(t);
        CHECK(lathe_image_set_table(3, 1, 2, 2, px, labels, names, 1, &t, &err) == LATHE_ERR_INVALID &&
                  strstr(err.message, "image 0: label 1"),
              "a label past the classes: %s", err.message);
    }
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_image");
}
