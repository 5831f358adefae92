#include "lathe/idx.h"

#include <string.h>

#include "lathe/alloc.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t element_size(int type) {
    switch (type) {
    case LATHE_IDX_U8:
    case LATHE_IDX_I8: return 1;
    case LATHE_IDX_I16: return 2;
    case LATHE_IDX_I32:
    case LATHE_IDX_F32: return 4;
    case LATHE_IDX_F64: return 8;
    default: return 0;
    }
}

void lathe_idx_destroy(lathe_idx *idx) {
    if (!idx) return;
    lathe_free(idx->values);
    lathe_free(idx);
}

lathe_status lathe_idx_read(const uint8_t *bytes, size_t n, lathe_idx **out, lathe_error *err) {
    lathe_idx *idx;
    size_t d, ndims, size, count = 1, header, i;
    int type;
    *out = NULL;
    if (n >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "this is a gzip file: decompress it first (the IDX reader takes "
                               "the raw bytes)");
    if (n < 4)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "not an IDX file: %zu bytes is shorter than the 4-byte header", n);
    if (bytes[0] != 0 || bytes[1] != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "not an IDX file: the magic number must start with two zero bytes "
                               "(found 0x%02x%02x)",
                               bytes[0], bytes[1]);
    type = bytes[2];
    ndims = bytes[3];
    size = element_size(type);
    if (size == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "byte 2: unknown IDX element type 0x%02x (expected 08, 09, 0B, 0C, "
                               "0D or 0E)",
                               type);
    if (ndims == 0 || ndims > LATHE_IDX_MAX_DIMS)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "byte 3: %zu dimensions (expected 1 to %d)", ndims,
                               LATHE_IDX_MAX_DIMS);
    header = 4 + 4 * ndims;
    if (n < header)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the header needs %zu bytes for %zu dimensions, the file has %zu",
                               header, ndims, n);
    for (d = 0; d < ndims; d++) {
        uint32_t dim = be32(bytes + 4 + 4 * d);
        if (dim == 0)
            return lathe_error_set(err, LATHE_ERR_INVALID, "byte %zu: dimension %zu is 0",
                                   4 + 4 * d, d);
        if (count > (size_t)-1 / dim / size)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "byte %zu: the dimensions overflow the address space", 4 + 4 * d);
        count *= dim;
    }
    if ((n - header) / size != count || (n - header) % size != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the header says %zu elements of %zu byte%s (%zu bytes of data), "
                               "the file has %zu bytes of data",
                               count, size, size == 1 ? "" : "s", count * size, n - header);
    idx = lathe_calloc(1, sizeof *idx);
    if (!idx) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the IDX file");
    idx->values = lathe_malloc(count * sizeof *idx->values);
    if (!idx->values) {
        lathe_free(idx);
        return lathe_error_set(err, LATHE_ERR_NOMEM,
                               "out of memory: %zu elements need %zu MB", count,
                               count * sizeof(float) >> 20);
    }
    idx->type = (lathe_idx_type)type;
    idx->ndims = ndims;
    idx->count = count;
    for (d = 0; d < ndims; d++) idx->dims[d] = be32(bytes + 4 + 4 * d);
    bytes += header;
    for (i = 0; i < count; i++) {
        const uint8_t *p = bytes + i * size;
        switch (type) {
        case LATHE_IDX_U8: idx->values[i] = (float)p[0]; break;
        case LATHE_IDX_I8: idx->values[i] = (float)(int8_t)p[0]; break;
        case LATHE_IDX_I16: idx->values[i] = (float)(int16_t)(uint16_t)(p[0] << 8 | p[1]); break;
        case LATHE_IDX_I32: idx->values[i] = (float)(int32_t)be32(p); break;
        case LATHE_IDX_F32: {
            uint32_t bits = be32(p);
            memcpy(&idx->values[i], &bits, 4);
            break;
        }
        default: {
            uint64_t bits = (uint64_t)be32(p) << 32 | be32(p + 4);
            double v;
            memcpy(&v, &bits, 8);
            idx->values[i] = (float)v;
            break;
        }
        }
    }
    *out = idx;
    return LATHE_OK;
}
