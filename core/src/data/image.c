/* Image conversion: colour to the model's channels, then area-weighted resampling. */
#include "lathe/image.h"

#include <stdio.h>
#include <string.h>

#include "lathe/alloc.h"

/* Pixel (x, y) of channel k of the output colour space, from the source's interleaved bytes. */
static double source_value(const uint8_t *src, size_t w, size_t channels, size_t out_c,
                           size_t x, size_t y, size_t k) {
    const uint8_t *p = src + (y * w + x) * channels;
    double alpha = channels == 4 ? (double)p[3] / 255.0 : 1.0, r, g, b;
    if (channels == 1) return (double)p[0];
    if (channels == 2) return (double)p[0] * ((double)p[1] / 255.0); /* grey + alpha */
    r = (double)p[0] * alpha, g = (double)p[1] * alpha, b = (double)p[2] * alpha;
    if (out_c == 1) return 0.299 * r + 0.587 * g + 0.114 * b;
    return k == 0 ? r : k == 1 ? g : b;
}

/* The source interval [lo, hi) that output index i of n covers over a source length of len,
 * as a first index and its weights: calls weight(j, fraction) for each source index. */
typedef struct span {
    size_t first, last;   /* source indices first..last (inclusive) */
    double w_first, w_last, scale; /* edge coverage fractions; 1 / covered length */
} span;

static span cover(size_t i, size_t n, size_t len) {
    span s;
    double lo = (double)i * (double)len / (double)n, hi = (double)(i + 1) * (double)len / (double)n;
    s.first = (size_t)lo;
    s.last = (size_t)hi;
    if ((double)s.last == hi && s.last > s.first) s.last--; /* hi is an exact edge */
    if (s.last >= len) s.last = len - 1;
    s.w_first = (double)(s.first + 1) - lo;
    s.w_last = hi - (double)s.last;
    if (s.first == s.last) s.w_first = s.w_last = hi - lo;
    s.scale = 1.0 / (hi - lo);
    return s;
}

static double weight(const span *s, size_t j) {
    if (j == s->first) return s->w_first;
    if (j == s->last) return s->w_last;
    return 1.0;
}

lathe_status lathe_image_convert(const uint8_t *src, size_t w, size_t h, size_t channels,
                                 size_t out_c, size_t out_h, size_t out_w, float *out,
                                 lathe_error *err) {
    size_t k, oy, ox, y, x;
    if (w == 0 || h == 0 || w > LATHE_LIMIT_IMAGE_SIDE || h > LATHE_LIMIT_IMAGE_SIDE)
        return lathe_error_set(err, LATHE_ERR_LIMIT,
                               "an image of %zux%zu pixels: each side must be 1 to %u", w, h,
                               LATHE_LIMIT_IMAGE_SIDE);
    if (channels == 0 || channels > LATHE_LIMIT_IMAGE_CHANNELS)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "%zu channels per pixel: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 "
                               "(RGBA) expected",
                               channels);
    if ((out_c != 1 && out_c != 3) || out_h == 0 || out_w == 0 ||
        out_h > LATHE_LIMIT_IMAGE_SIDE || out_w > LATHE_LIMIT_IMAGE_SIDE)
        return lathe_error_set(err, LATHE_ERR_INVALID,
                               "the model's input [%zu, %zu, %zu] is not an image of 1 or 3 "
                               "channels",
                               out_c, out_h, out_w);
    for (k = 0; k < out_c; k++)
        for (oy = 0; oy < out_h; oy++) {
            span sy = cover(oy, out_h, h);
            for (ox = 0; ox < out_w; ox++) {
                span sx = cover(ox, out_w, w);
                double sum = 0.0;
                for (y = sy.first; y <= sy.last; y++) {
                    double row = 0.0;
                    for (x = sx.first; x <= sx.last; x++)
                        row += weight(&sx, x) * source_value(src, w, channels, out_c, x, y, k);
                    sum += weight(&sy, y) * row;
                }
                out[(k * out_h + oy) * out_w + ox] = (float)(sum * sx.scale * sy.scale);
            }
        }
    return LATHE_OK;
}

lathe_status lathe_image_set_table(size_t n, size_t c, size_t h, size_t w, const float *pixels,
                                   const uint32_t *labels, const char *const *class_names,
                                   size_t n_classes, lathe_table **out, lathe_error *err) {
    size_t F = c * h * w, f, r;
    lathe_table *t;
    *out = NULL;
    if (n == 0 || F == 0)
        return lathe_error_set(err, LATHE_ERR_INVALID, "an image set needs at least one image");
    for (r = 0; r < n; r++)
        if (labels[r] >= n_classes)
            return lathe_error_set(err, LATHE_ERR_INVALID,
                                   "image %zu: label %u, but there are %zu classes", r,
                                   labels[r], n_classes);
    t = lathe_calloc(1, sizeof *t);
    if (!t) goto nomem;
    t->columns = lathe_calloc(F + 1, sizeof *t->columns);
    if (!t->columns) goto nomem;
    t->rows = n, t->cols = F + 1;
    for (f = 0; f <= F; f++) {
        lathe_column *col = &t->columns[f];
        char name[32];
        if (f < F) snprintf(name, sizeof name, "px%zu", f);
        else snprintf(name, sizeof name, "label");
        col->name = lathe_strdup(name);
        col->values = lathe_malloc(n * sizeof *col->values);
        if (!col->name || !col->values) goto nomem;
        if (f < F)
            for (r = 0; r < n; r++) col->values[r] = pixels[r * F + f];
    }
    {
        lathe_column *col = &t->columns[F];
        col->type = LATHE_COLUMN_CATEGORICAL;
        col->categories = lathe_calloc(n_classes ? n_classes : 1, sizeof *col->categories);
        if (!col->categories) goto nomem;
        for (f = 0; f < n_classes; f++) {
            col->categories[f] = lathe_strdup(class_names[f]);
            if (!col->categories[f]) goto nomem;
            col->n_categories = f + 1;
        }
        for (r = 0; r < n; r++) col->values[r] = (float)labels[r];
    }
    *out = t;
    return LATHE_OK;
nomem:
    lathe_table_destroy(t);
    return lathe_error_set(err, LATHE_ERR_NOMEM, "out of memory building the image table");
}
