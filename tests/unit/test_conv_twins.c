/* conv2d forward, backward-data and backward-weights give the same bits with the ref and the
 * simd128 kernel tables (the twins' contract carried through im2col), on shapes around the
 * GEMM tile: channels, kernels, strides and paddings that leave ragged edges. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/conv.h"
#include "lathe/kernels.h"

static uint32_t lcg = 12345u;
static float next_value(void) {
    lcg = lcg * 1664525u + 1013904223u;
    /* mixed signs and magnitudes so that a different summation order changes bits */
    return ((float)(lcg >> 9) * 0x1.0p-23f - 0.5f) * (float)(1u << ((lcg >> 5) & 7u));
}

static float *random_buffer(size_t n) {
    float *v = malloc((n ? n : 1) * sizeof *v);
    size_t i;
    for (i = 0; v && i < n; i++) v[i] = next_value();
    return v;
}

int main(void) {
    static const size_t shapes[][9] = {
        /* n, in_ch, h, w, out_ch, kh, kw, stride, pad */
        {1, 1, 5, 5, 1, 3, 3, 1, 0},   {2, 2, 5, 5, 3, 3, 3, 2, 1},  {3, 3, 9, 7, 5, 3, 3, 1, 1},
        {2, 1, 28, 28, 8, 5, 5, 1, 2}, {2, 8, 14, 14, 16, 5, 5, 1, 2}, {1, 4, 11, 13, 9, 2, 4, 3, 0},
        {4, 5, 8, 8, 17, 1, 1, 1, 0},  {1, 7, 6, 10, 4, 3, 5, 2, 2},
    };
    const lathe_kernel_table *ref = lathe_kernels_for(LATHE_ISA_REF);
    const lathe_kernel_table *simd = lathe_kernels_for(LATHE_ISA_SIMD128);
    size_t t;
    CHECK(ref != simd && ref->isa == LATHE_ISA_REF && simd->isa == LATHE_ISA_SIMD128,
          "the two tables are not distinct");
    for (t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        lathe_conv2d_shape s;
        size_t ho, wo, nx, nw, ny, work_n;
        lathe_error err;
        float *x, *w, *b, *dy, *work, *y1, *y2, *dx1, *dx2, *dw1, *dw2, *db1, *db2;
        char what[64];
        s.n = shapes[t][0], s.in_ch = shapes[t][1], s.h = shapes[t][2], s.w = shapes[t][3];
        s.out_ch = shapes[t][4], s.kh = shapes[t][5], s.kw = shapes[t][6];
        s.stride = shapes[t][7], s.pad = shapes[t][8];
        if (lathe_conv2d_output_size(&s, &ho, &wo, &err) != LATHE_OK) {
            CHECK(0, "shape %zu: %s", t, err.message);
            continue;
        }
        nx = s.n * s.in_ch * s.h * s.w, nw = s.out_ch * s.in_ch * s.kh * s.kw;
        ny = s.n * s.out_ch * ho * wo, work_n = lathe_conv2d_workspace_size(&s);
        x = random_buffer(nx), w = random_buffer(nw), b = random_buffer(s.out_ch);
        dy = random_buffer(ny), work = random_buffer(work_n);
        y1 = malloc(ny * 4), y2 = malloc(ny * 4), dx1 = malloc(nx * 4), dx2 = malloc(nx * 4);
        dw1 = malloc(nw * 4), dw2 = malloc(nw * 4), db1 = malloc(s.out_ch * 4), db2 = malloc(s.out_ch * 4);
        lathe_conv2d_forward(ref, &s, x, w, b, y1, work);
        lathe_conv2d_forward(simd, &s, x, w, b, y2, work);
        snprintf(what, sizeof what, "shape %zu forward", t);
        CHECK_SAME_BITS(what, y2, y1, ny);
        lathe_conv2d_backward_data(ref, &s, w, dy, dx1, work);
        lathe_conv2d_backward_data(simd, &s, w, dy, dx2, work);
        snprintf(what, sizeof what, "shape %zu backward data", t);
        CHECK_SAME_BITS(what, dx2, dx1, nx);
        lathe_conv2d_backward_weights(ref, &s, x, dy, dw1, db1, work);
        lathe_conv2d_backward_weights(simd, &s, x, dy, dw2, db2, work);
        snprintf(what, sizeof what, "shape %zu backward weights", t);
        CHECK_SAME_BITS(what, dw2, dw1, nw);
        CHECK_SAME_BITS(what, db2, db1, s.out_ch);
        free(x), free(w), free(b), free(dy), free(work), free(y1), free(y2);
        free(dx1), free(dx2), free(dw1), free(dw2), free(db1), free(db2);
    }
    return check_finish("test_conv_twins");
}
