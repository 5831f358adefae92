/* IDX files (the MNIST family): a big-endian header of magic 0x0000TTDD (T the element type,
 * D the number of dimensions), D big-endian uint32 sizes, then the elements in row-major
 * order. Gzip is undone before this reader (the browser's DecompressionStream, zlib in the
 * CLI). Every size is checked against the buffer before anything is allocated. */
#ifndef LATHE_IDX_H
#define LATHE_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"
#include "lathe/table.h"

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

/* A table from IDX parts: images[i] (n_i, H, W) or (n_i, C, H, W) and labels[i] (n_i), the
 * parts' rows one after another. Columns px0 … px{C·H·W − 1} (numeric, row-major pixels)
 * and "label": categorical with class_names (n_classes, in label order) when given, else
 * numeric. Writes the image shape (C, H, W) to image and each part's first row to
 * part_start (n_parts; may be NULL). Errors name the part and what does not match. The
 * caller owns *out (lathe_table_destroy). */
lathe_status lathe_image_table(const lathe_idx *const *images, const lathe_idx *const *labels,
                               size_t n_parts, const char *const *class_names, size_t n_classes,
                               lathe_table **out, size_t image[3], size_t *part_start,
                               lathe_error *err);

#endif
