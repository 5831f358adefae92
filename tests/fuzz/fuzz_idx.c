/* libFuzzer target: the IDX reader and IDX sets (lathe/idx.h). A tensor that comes back must
 * match its header: the type code, the dimensions and the element count, and each value must
 * be the element the bytes hold (checked again here from the big-endian bytes). The input cut
 * in two (at a place its first byte gives) is also an images file and a labels file for an
 * IDX set: a set that takes them makes a table of one row per image and a column per pixel
 * and the label. A failure must carry a message; nothing may leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "lathe/idx.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Element i of the data after the header, converted to float independently of the reader. */
static float element(const uint8_t *p, int type, size_t i) {
    switch (type) {
    case LATHE_IDX_U8:
        return (float)p[i];
    case LATHE_IDX_I8:
        return (float)(int8_t)p[i];
    case LATHE_IDX_I16: {
        int16_t v = (int16_t)(uint16_t)((unsigned)p[2 * i] << 8 | p[2 * i + 1]);
        return (float)v;
    }
    case LATHE_IDX_I32:
        return (float)(int32_t)be32(p + 4 * i);
    case LATHE_IDX_F32: {
        uint32_t bits = be32(p + 4 * i);
        float v;
        memcpy(&v, &bits, 4);
        return v;
    }
    default: {
        uint64_t bits = (uint64_t)be32(p + 8 * i) << 32 | be32(p + 8 * i + 4);
        double v;
        memcpy(&v, &bits, 8);
        return (float)v;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lathe_idx *idx = (lathe_idx *)&idx; /* must be overwritten */
    lathe_error err;
    long live = lathe_alloc_live();
    lathe_status st = lathe_idx_read(data, size, &idx, &err);
    fuzz_check_status(st, &err);
    if (st == LATHE_OK) {
        size_t d, i, count = 1, header;
        const uint8_t *body;
        FUZZ_ASSERT(idx != NULL, "success without a tensor");
        FUZZ_ASSERT(size >= 4 && data[0] == 0 && data[1] == 0, "accepted a bad magic number");
        FUZZ_ASSERT((int)idx->type == data[2], "the type differs from the header");
        FUZZ_ASSERT(idx->ndims == data[3] && idx->ndims >= 1 && idx->ndims <= LATHE_IDX_MAX_DIMS,
                    "the dimension count differs from the header");
        header = 4 + 4 * idx->ndims;
        for (d = 0; d < idx->ndims; d++) {
            FUZZ_ASSERT(idx->dims[d] == be32(data + 4 + 4 * d), "a dimension differs");
            count *= idx->dims[d];
        }
        FUZZ_ASSERT(idx->count == count, "count is not the product of the dimensions");
        body = data + header;
        for (i = 0; i < count; i++) {
            float want = element(body, data[2], i), got = lathe_idx_at(idx, i);
            FUZZ_ASSERT(memcmp(&want, &got, sizeof want) == 0 || (want != want && got != got),
                        "an element differs from its bytes");
        }
    } else {
        FUZZ_ASSERT(idx == NULL, "a failed read returned a tensor");
    }
    lathe_idx_destroy(idx);
    if (size > 1) {
        size_t cut = 1 + (size - 1) * data[0] / 255;
        lathe_idx_file images = {"images", data + 1, cut - 1, data + 1, cut - 1};
        lathe_idx_file labels = {"labels", data + cut, size - cut, data + cut, size - cut};
        lathe_idx_set *set = NULL;
        lathe_table *table = NULL;
        size_t image[3], test_from = 0;
        FUZZ_ASSERT(lathe_idx_set_create(&set, &err) == LATHE_OK, "no image set");
        st = fuzz_check_status(lathe_idx_set_add(set, &images, &labels, data[0] & 1, &err), &err);
        FUZZ_ASSERT(st == LATHE_OK || lathe_idx_set_rows(set) == 0, "a failed add kept a part");
        /* a table only when it is small: the fuzzer's memory is not the point */
        if (st == LATHE_OK && lathe_idx_set_table_bytes(set) < (64u << 20)) {
            st = fuzz_check_status(lathe_idx_set_table(set, &table, image, &test_from, &err), &err);
            if (st == LATHE_OK) {
                FUZZ_ASSERT(table->rows == lathe_idx_set_rows(set),
                            "table rows differ from the set's");
                FUZZ_ASSERT(table->cols == image[0] * image[1] * image[2] + 1,
                            "table columns are not the pixels and the label");
                FUZZ_ASSERT(test_from == ((data[0] & 1) ? 0 : table->rows),
                            "the test part does not start where it was added");
            }
        }
        lathe_table_destroy(table);
        lathe_idx_set_destroy(set);
    }
    fuzz_check_no_leak(live);
    return 0;
}
