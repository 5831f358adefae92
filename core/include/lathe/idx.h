/* IDX files (the MNIST family): a big-endian header of magic 0x0000TTDD (T the element type,
 * D the number of dimensions), D big-endian uint32 sizes, then the elements in row-major
 * order. Gzip is undone before this reader (the browser's DecompressionStream, zlib in the
 * CLI). Every size is checked against the buffer before anything is allocated. */
#ifndef LATHE_IDX_H
#define LATHE_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"

#define LATHE_IDX_MAX_DIMS 8

typedef enum lathe_idx_type {
    LATHE_IDX_U8 = 0x08,
    LATHE_IDX_I8 = 0x09,
    LATHE_IDX_I16 = 0x0B,
    LATHE_IDX_I32 = 0x0C,
    LATHE_IDX_F32 = 0x0D,
    LATHE_IDX_F64 = 0x0E
} lathe_idx_type;

typedef struct lathe_idx {
    lathe_idx_type type;
    size_t ndims;
    uint32_t dims[LATHE_IDX_MAX_DIMS];
    size_t count;  /* product of dims */
    float *values; /* (count) every element converted to float */
} lathe_idx;

/* Parses an IDX buffer. The caller owns *out (lathe_idx_destroy). Errors name the byte
 * offset and what was expected ("header says 60000×28×28 u8 = 47040000 bytes of data, the
 * file has 1000"). */
lathe_status lathe_idx_read(const uint8_t *bytes, size_t n, lathe_idx **out, lathe_error *err);
void lathe_idx_destroy(lathe_idx *idx);

#endif
