/* The IDX reader: every element type, big-endian decoding, and malformed headers, each with
 * its own message. (The real files, gzipped, are read by the CLI in tests/parity.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/idx.h"

static void expect_error(const uint8_t *bytes, size_t n, const char *fragment) {
    lathe_idx *idx = NULL;
    lathe_error err;
    lathe_status st = lathe_idx_read(bytes, n, &idx, &err);
    CHECK(st == LATHE_ERR_INVALID && idx == NULL, "expected an error containing '%s'", fragment);
    if (st != LATHE_OK)
        CHECK(strstr(err.message, fragment) != NULL, "message '%s' lacks '%s'", err.message,
              fragment);
    lathe_idx_destroy(idx);
}

int main(void) {
    long live = lathe_alloc_live();
    lathe_idx *idx = NULL;
    lathe_error err;
    /* 2×3 unsigned bytes */
    static const uint8_t u8[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 0, 255};
    /* 2 big-endian int16: -2, 300 */
    static const uint8_t i16[] = {0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x2C};
    /* 1 big-endian float32 1.5 and one float64 -0.25 */
    static const uint8_t f32[] = {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0};
    static const uint8_t f64[] = {0, 0, 0x0E, 1, 0, 0, 0, 1, 0xBF, 0xD0, 0, 0, 0, 0, 0, 0};
    static const uint8_t i8[] = {0, 0, 0x09, 1, 0, 0, 0, 2, 0x80, 0x7F};
    static const uint8_t i32[] = {0, 0, 0x0C, 1, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFD};

    CHECK(lathe_idx_read(u8, sizeof u8, &idx, &err) == LATHE_OK, "u8: %s", err.message);
    if (idx) {
        CHECK(idx->ndims == 2 && idx->dims[0] == 2 && idx->dims[1] == 3 && idx->count == 6,
              "u8 dims");
        CHECK(idx->bytes && !idx->values && lathe_idx_at(idx, 3) == 250.0f &&
                  lathe_idx_at(idx, 5) == 255.0f,
              "u8 values are kept as bytes");
    }
    lathe_idx_destroy(idx);
    CHECK(lathe_idx_read(i16, sizeof i16, &idx, &err) == LATHE_OK, "i16: %s", err.message);
    if (idx) CHECK(idx->values[0] == -2.0f && idx->values[1] == 300.0f, "i16 values");
    lathe_idx_destroy(idx);
    CHECK(lathe_idx_read(f32, sizeof f32, &idx, &err) == LATHE_OK, "f32: %s", err.message);
    if (idx) CHECK(idx->values[0] == 1.5f, "f32 value %g", (double)idx->values[0]);
    lathe_idx_destroy(idx);
    CHECK(lathe_idx_read(f64, sizeof f64, &idx, &err) == LATHE_OK, "f64: %s", err.message);
    if (idx) CHECK(idx->values[0] == -0.25f, "f64 value %g", (double)idx->values[0]);
    lathe_idx_destroy(idx);
    CHECK(lathe_idx_read(i8, sizeof i8, &idx, &err) == LATHE_OK, "i8: %s", err.message);
    if (idx) CHECK(idx->values[0] == -128.0f && idx->values[1] == 127.0f, "i8 values");
    lathe_idx_destroy(idx);
    CHECK(lathe_idx_read(i32, sizeof i32, &idx, &err) == LATHE_OK, "i32: %s", err.message);
    if (idx) CHECK(idx->values[0] == -3.0f, "i32 value");
    lathe_idx_destroy(idx);

    {
        uint8_t bad[sizeof u8];
        static const uint8_t gz[] = {0x1f, 0x8b, 8, 0};
        static const uint8_t huge[] = {0,    0,    8,    3,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                       0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1};
        expect_error(u8, 3, "shorter than the 4-byte header");
        expect_error(gz, sizeof gz, "gzip");
        expect_error(u8, 10, "the header needs 12 bytes");
        expect_error(u8, sizeof u8 - 1,
                     "the header says 6 elements of 1 byte (6 bytes of data), the file has 5");
        memcpy(bad, u8, sizeof u8);
        bad[2] = 0x0A;
        expect_error(bad, sizeof bad, "unknown IDX element type 0x0a");
        bad[2] = 8, bad[0] = 1;
        expect_error(bad, sizeof bad, "two zero bytes");
        bad[0] = 0, bad[3] = 0;
        expect_error(bad, sizeof bad, "0 dimensions");
        bad[3] = 2, bad[7] = 0;
        expect_error(bad, sizeof bad, "dimension 0 is 0");
        expect_error(huge, sizeof huge, "overflow");
    }

    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_idx");
}
