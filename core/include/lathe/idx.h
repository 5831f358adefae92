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
    size_t count;   /* product of dims */
    uint8_t *bytes; /* (count) the elements of a u8 file as they are (values is NULL), so
                     * an image set takes a byte per pixel until it becomes a table */
    float *values;  /* (count) the elements of any other type converted to float */
} lathe_idx;

/* Element i (< count) of idx as a float. */
static inline float lathe_idx_at(const lathe_idx *idx, size_t i) {
    return idx->bytes ? (float)idx->bytes[i] : idx->values[i];
}

/* An IDX file's header: its element type, dimensions, element count, and its length in
 * bytes (4 + 4 · ndims). */
typedef struct lathe_idx_header {
    lathe_idx_type type;
    size_t ndims;
    uint32_t dims[LATHE_IDX_MAX_DIMS];
    uint64_t count; /* product of dims */
    size_t length;
} lathe_idx_header;

/* Parses the header at the start of bytes:(n); the elements need not follow (a front end
 * checks the size of a gzipped file from its first bytes, before it inflates the rest). Errors
 * as lathe_idx_read's. */
lathe_status lathe_idx_header_read(const uint8_t *bytes, size_t n, lathe_idx_header *out,
                                   lathe_error *err);

/* Parses an IDX buffer. The caller owns *out (lathe_idx_destroy). Errors name the byte
 * offset and what was expected ("header says 60000×28×28 u8 = 47040000 bytes of data, the
 * file has 1000"). */
lathe_status lathe_idx_read(const uint8_t *bytes, size_t n, lathe_idx **out, lathe_error *err);
void lathe_idx_destroy(lathe_idx *idx);

/* A table from IDX parts: images[i] (n_i, H, W) or (n_i, C, H, W) and labels[i] (n_i), the
 * parts' rows one after another. Columns px0 … px{C·H·W − 1} (numeric, row-major pixels;
 * kept as bytes, lathe_column.bytes, when every part's pixels are u8) and "label": categorical with
 * class_names (n_classes, in label order) when given, else numeric. Writes the image shape (C, H,
 * W) to image and each part's first row to part_start (n_parts; may be NULL). Errors name the part
 * and what does not match. The caller owns *out (lathe_table_destroy). */
lathe_status lathe_image_table(const lathe_idx *const *images, const lathe_idx *const *labels,
                               size_t n_parts, const char *const *class_names, size_t n_classes,
                               lathe_table **out, size_t image[3], size_t *part_start,
                               lathe_error *err);

/* An IDX set as a front end read its files: parts of images and labels, at most one of them
 * the source's own test split, read into one table by lathe_idx_set_table. Its fingerprint is
 * the SHA-256 of every file's stored bytes (gzipped or not, as they were read), in the order
 * they were added: training parts first, so the test part must be added last. */
typedef struct lathe_idx_set lathe_idx_set;

/* An empty set. The caller owns *out (lathe_idx_set_destroy). */
lathe_status lathe_idx_set_create(lathe_idx_set **out, lathe_error *err);
void lathe_idx_set_destroy(lathe_idx_set *set);

/* One file of a part: its name (for errors), the stored bytes (hashed) and the IDX bytes
 * (gzip undone; the stored bytes themselves when they were not gzipped). */
typedef struct lathe_idx_file {
    const char *name;
    const uint8_t *stored;
    size_t stored_n;
    const uint8_t *idx;
    size_t idx_n;
} lathe_idx_file;

/* Reads and adds one part (is_test: the source's own test split, added last). Errors begin
 * with the file's name; a file of the wrong kind is named as such ("… holds labels, not
 * images: are the two files swapped?"). On an error the set is unchanged. */
lathe_status lathe_idx_set_add(lathe_idx_set *set, const lathe_idx_file *images,
                               const lathe_idx_file *labels, int is_test, lathe_error *err);

/* The class names of the labels (names[k] for label k), copied; without them the label
 * column is numeric. */
lathe_status lathe_idx_set_classes(lathe_idx_set *set, const char *const *names, size_t n,
                                   lathe_error *err);

/* The bytes a table of rows images of pixels values each takes (lathe_image_table): a byte
 * per pixel when u8, else a float, and a float label; UINT64_MAX / 4 when that overflows. */
uint64_t lathe_image_table_bytes(uint64_t rows, uint64_t pixels, int u8);

/* The images the set holds, and the bytes a table of them takes (lathe_image_table). */
size_t lathe_idx_set_rows(const lathe_idx_set *set);
uint64_t lathe_idx_set_table_bytes(const lathe_idx_set *set);

/* The image shape (C, H, W) of the first part (0s when the set is empty). */
void lathe_idx_set_image(const lathe_idx_set *set, size_t image[3]);

/* The hex SHA-256 of the stored bytes added so far into hex:(65). */
void lathe_idx_set_sha256(const lathe_idx_set *set, char hex[65]);

/* The set as a table (lathe_image_table of its parts) with its layout: the image shape and
 * test_from, the first row of the test part (rows when there is none). The caller owns
 * *out. */
lathe_status lathe_idx_set_table(const lathe_idx_set *set, lathe_table **out, size_t image[3],
                                 size_t *test_from, lathe_error *err);

#endif
