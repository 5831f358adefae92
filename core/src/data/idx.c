#include "lathe/idx.h"

#include <stdio.h>
#include <string.h>

#include "lathe/alloc.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t element_size(int type) {
    switch (type) {
    case LATHE_IDX_U8:
    case LATHE_IDX_I8:
        return 1;
    case LATHE_IDX_I16:
        return 2;
    case LATHE_IDX_I32:
    case LATHE_IDX_F32:
        return 4;
    case LATHE_IDX_F64:
        return 8;
    default:
        return 0;
    }
}

void lathe_idx_destroy(lathe_idx *idx) {
    if (!idx) return;
    lathe_free(idx->bytes);
    lathe_free(idx->values);
    lathe_free(idx);
}

lathe_status lathe_idx_header_read(const uint8_t *bytes, size_t n, lathe_idx_header *out,
                                   lathe_error *err) {
    size_t d, ndims;
    int type;
    memset(out, 0, sizeof *out);
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
    if (element_size(type) == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "byte 2: unknown IDX element type 0x%02x (expected 08, 09, 0B, 0C, "
                               "0D or 0E)",
                               type);
    if (ndims == 0 || ndims > LATHE_IDX_MAX_DIMS)
        return lathe_error_set(err, LATHE_ERR_INVALID, "byte 3: %zu dimensions (expected 1 to %d)",
                               ndims, LATHE_IDX_MAX_DIMS);
    if (n < 4 + 4 * ndims)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the header needs %zu bytes for %zu dimensions, the file has %zu",
                               4 + 4 * ndims, ndims, n);
    out->count = 1;
    for (d = 0; d < ndims; d++) {
        uint32_t dim = be32(bytes + 4 + 4 * d);
        if (dim == 0)
            return lathe_error_set(err, LATHE_ERR_INVALID, "byte %zu: dimension %zu is 0",
                                   4 + 4 * d, d);
        if (out->count > UINT64_MAX / dim)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "byte %zu: the dimensions overflow the address space",
                                   4 + 4 * d);
        out->dims[d] = dim;
        out->count *= dim;
    }
    out->type = (lathe_idx_type)type;
    out->ndims = ndims;
    out->length = 4 + 4 * ndims;
    return LATHE_OK;
}

lathe_status lathe_idx_read(const uint8_t *bytes, size_t n, lathe_idx **out, lathe_error *err) {
    lathe_idx *idx;
    lathe_idx_header head;
    size_t d, ndims, size, count, header, i;
    int type;
    lathe_status st;
    *out = NULL;
    if ((st = lathe_idx_header_read(bytes, n, &head, err)) != LATHE_OK) return st;
    type = head.type;
    ndims = head.ndims;
    size = element_size(type);
    header = head.length;
    if (head.count > (size_t)-1 / size)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the dimensions overflow the address space (%llu elements)",
                               (unsigned long long)head.count);
    count = (size_t)head.count;
    if ((n - header) / size != count || (n - header) % size != 0)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the header says %zu elements of %zu byte%s (%zu bytes of data), "
                               "the file has %zu bytes of data",
                               count, size, size == 1 ? "" : "s", count * size, n - header);
    idx = lathe_calloc(1, sizeof *idx);
    if (!idx) return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory reading the IDX file");
    if (type == LATHE_IDX_U8)
        idx->bytes = lathe_malloc(count);
    else
        idx->values = lathe_malloc(count * sizeof *idx->values);
    if (!idx->bytes && !idx->values) {
        lathe_free(idx);
        return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory: %zu elements need %zu MB",
                               count, (type == LATHE_IDX_U8 ? count : count * sizeof(float)) >> 20);
    }
    idx->type = (lathe_idx_type)type;
    idx->ndims = ndims;
    idx->count = count;
    for (d = 0; d < ndims; d++)
        idx->dims[d] = be32(bytes + 4 + 4 * d);
    bytes += header;
    if (idx->bytes) {
        memcpy(idx->bytes, bytes, count);
        *out = idx;
        return LATHE_OK;
    }
    for (i = 0; i < count; i++) {
        const uint8_t *p = bytes + i * size;
        switch (type) {
        case LATHE_IDX_I8:
            idx->values[i] = (float)(int8_t)p[0];
            break;
        case LATHE_IDX_I16:
            idx->values[i] = (float)(int16_t)(uint16_t)(p[0] << 8 | p[1]);
            break;
        case LATHE_IDX_I32:
            idx->values[i] = (float)(int32_t)be32(p);
            break;
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

lathe_status lathe_image_table(const lathe_idx *const *images, const lathe_idx *const *labels,
                               size_t n_parts, const char *const *class_names, size_t n_classes,
                               lathe_table **out, size_t image[3], size_t *part_start,
                               lathe_error *err) {
    lathe_table *table = NULL;
    size_t p, f, r, rows = 0, F = 0, row0;
    int bytes = 1; /* every part's pixels are bytes: the pixel columns keep them as bytes */
    *out = NULL;
    for (p = 0; p < n_parts; p++) {
        const lathe_idx *im = images[p], *lb = labels[p];
        size_t shape[3];
        if (im->ndims != 3 && im->ndims != 4)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "part %zu: an images file holds (n, H, W) or (n, C, H, W), "
                                   "this one has %zu dimensions",
                                   p, im->ndims);
        if (lb->ndims != 1)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "part %zu: a labels file holds (n), this one has %zu "
                                   "dimensions",
                                   p, lb->ndims);
        if (lb->dims[0] != im->dims[0])
            return lathe_error_set(err, LATHE_ERR_INVALID, "part %zu: %u images but %u labels", p,
                                   im->dims[0], lb->dims[0]);
        shape[0] = im->ndims == 4 ? im->dims[1] : 1;
        shape[1] = im->dims[im->ndims - 2];
        shape[2] = im->dims[im->ndims - 1];
        if (p == 0) {
            memcpy(image, shape, sizeof shape);
        } else if (memcmp(image, shape, sizeof shape) != 0) {
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "part %zu: images are %zux%zux%zu, part 0's are %zux%zux%zu", p,
                                   shape[0], shape[1], shape[2], image[0], image[1], image[2]);
        }
        for (r = 0; r < lb->count; r++) {
            float v = lathe_idx_at(lb, r);
            if (!(v >= 0.0f && v <= 65535.0f && v == (float)(long)v) ||
                (class_names && (size_t)v >= n_classes))
                return lathe_error_set(err, LATHE_ERR_INVALID,
                                       "part %zu, label %zu: %g is not a class index%s", p, r,
                                       (double)v, class_names ? " of the data set's classes" : "");
        }
        bytes = bytes && im->bytes;
        if (part_start) part_start[p] = rows;
        rows += im->dims[0];
    }
    if (n_parts == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "an image table needs at least one part");
    F = image[0] * image[1] * image[2];
    table = lathe_calloc(1, sizeof *table);
    if (!table) goto nomem;
    table->columns = lathe_calloc(F + 1, sizeof *table->columns);
    if (!table->columns) goto nomem;
    table->cols = F + 1, table->rows = rows;
    for (f = 0; f <= F; f++) {
        lathe_column *col = &table->columns[f];
        char name[32];
        if (f < F)
            snprintf(name, sizeof name, "px%zu", f);
        else
            snprintf(name, sizeof name, "label");
        col->name = lathe_strdup(name);
        if (f < F && bytes)
            col->bytes = lathe_malloc(rows ? rows : 1);
        else
            col->values = lathe_malloc((rows ? rows : 1) * sizeof *col->values);
        if (!col->name || (!col->values && !col->bytes)) goto nomem;
        col->type = LATHE_COLUMN_NUMERIC;
    }
    /* Pixels: column f of row row0 + r is element r·F + f of the part's images (a transpose,
     * done 64 rows at a time so that the rows read stay in cache). */
    for (p = 0, row0 = 0; p < n_parts; row0 += images[p]->dims[0], p++) {
        size_t n = images[p]->dims[0], r0, end;
        for (r0 = 0; r0 < n; r0 += 64) {
            end = r0 + 64 < n ? r0 + 64 : n;
            for (f = 0; f < F; f++) {
                if (bytes) {
                    uint8_t *dst = table->columns[f].bytes + row0;
                    const uint8_t *src = images[p]->bytes + f;
                    for (r = r0; r < end; r++)
                        dst[r] = src[r * F];
                } else { /* float columns: a part may still be u8 when another is not */
                    float *dst = table->columns[f].values + row0;
                    for (r = r0; r < end; r++)
                        dst[r] = lathe_idx_at(images[p], r * F + f);
                }
            }
        }
    }
    for (p = 0, row0 = 0; p < n_parts; row0 += labels[p]->dims[0], p++)
        for (r = 0; r < labels[p]->dims[0]; r++)
            table->columns[F].values[row0 + r] = lathe_idx_at(labels[p], r);
    if (class_names) {
        lathe_column *col = &table->columns[F];
        col->type = LATHE_COLUMN_CATEGORICAL;
        col->categories = lathe_calloc(n_classes, sizeof *col->categories);
        if (!col->categories) goto nomem;
        for (f = 0; f < n_classes; f++) {
            col->categories[f] = lathe_strdup(class_names[f]);
            if (!col->categories[f]) goto nomem;
            col->n_categories = f + 1;
        }
    }
    *out = table;
    return LATHE_OK;
nomem:
    lathe_table_destroy(table);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory building the image table");
}
