/* Images from the page or a folder: decoded pixels (8-bit grey, RGB or RGBA, any size) become
 * the float pixels of a model's input, and a set of them with labels becomes a table the
 * preparation pipeline reads like an IDX set. Decoding PNG/JPEG is the browser's job (or the
 * caller's); the core only converts. Values stay in 0…255, as IDX pixels do: the experiment's
 * scaling step normalises them. */
#ifndef LATHE_IMAGE_H
#define LATHE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lathe/status.h"
#include "lathe/table.h"

#define LATHE_LIMIT_IMAGE_SIDE 16384u /* widest or tallest image accepted, in pixels */
#define LATHE_LIMIT_IMAGE_CHANNELS 4u

/* Converts src (h rows of w pixels, `channels` interleaved 8-bit values each: 1 grey, 3 RGB,
 * 4 RGBA) into out:(out_c, out_h, out_w) floats in 0…255, channel-major (NCHW).
 * Colour: out_c 1 takes the luma 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as PIL's
 * convert("L")); out_c 3 takes R, G, B (grey is repeated); alpha composites over black.
 * Size: area-weighted resampling — each output pixel is the mean of the source area it covers,
 * with fractional edge weights (OpenCV's INTER_AREA when shrinking; enlarging repeats pixels
 * proportionally). Sums in double in a fixed order: the same bits on every target. Errors
 * (sizes over the limits, zero sizes, bad channel counts) name the value. No allocation. */
lathe_status lathe_image_convert(const uint8_t *src, size_t w, size_t h, size_t channels,
                                 size_t out_c, size_t out_h, size_t out_w, float *out,
                                 lathe_error *err);

/* A table of n images already converted to (c, h, w) floats (pixels:(n, c·h·w)) with their
 * labels (< n_classes): columns px0 … px{c·h·w − 1} and "label", categorical with class_names.
 * Use lathe_prepare_layout with layout image (c, h, w). The caller owns *out. */
lathe_status lathe_image_set_table(size_t n, size_t c, size_t h, size_t w, const float *pixels,
                                   const uint32_t *labels, const char *const *class_names,
                                   size_t n_classes, lathe_table **out, lathe_error *err);

#endif
