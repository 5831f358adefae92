/* GEMM, 256-bit twins for native x86-64 with AVX2 (SIMDe's x86 API: simde_mm256_*). Same
 * bits as gemm_ref.c. Compiled only when CMake defines LATHE_KERNELS_AVX2 and adds -mavx2
 * (not -mfma) to this file; kernel_table.c selects these twins at run time when the CPU has
 * AVX2. Elsewhere, and in wasm, this file is empty.
 *
 * The micro-kernel computes an 8x8 tile in eight 256-bit accumulators, one per row: each
 * step k broadcasts A(i+r,k) and multiplies it by the panel's 8 values B(k,j..j+7), then adds
 * the product, so each lane is one output's own sum in increasing k, exactly as in the
 * scalar and SIMD128 twins: the register width only changes how many outputs are in flight.
 * 8x8 rather than 4x16 keeps the (KC,8) panel and the partial sums of gemm_blocked.h, so the
 * driver and its 24 KiB of stack are shared unchanged; eight independent add chains cover
 * the add latency, and the 16 ymm registers hold them with one B row, a broadcast and a
 * product. The driver's packing, epilogue and one-row path stay 128-bit. */
#ifdef LATHE_KERNELS_AVX2

#define GEMM_MR 8
#define GEMM_TILE tile_8x8
#define GEMM_TWIN(layout) lathe_f32_gemm_##layout##__avx2
#include "gemm_blocked.h"

#include <simde/x86/avx.h>

typedef simde__m256 v256;

#define LOAD8(p) simde_mm256_loadu_ps(p)
#define STORE8(p, v) simde_mm256_storeu_ps((p), (v))

/* acc + A(row, k) * b: the product rounded, then added. */
#define STEP8(acc, row, b)                                                                     \
    acc = simde_mm256_add_ps(acc, simde_mm256_mul_ps(simde_mm256_broadcast_ss(row), b))

/* The micro-kernel, as declared in gemm_blocked.h, on an 8x8 tile in eight 256-bit rows.
 * The sums go back to memory at the end, as in tile_4x8. */
static void tile_8x8(size_t kc, const float *a, size_t a_rs, size_t a_ks, size_t mr,
                     const float *panel, size_t p_ks, int first, float *sums) {
    const float *a0 = a;
    const float *a1 = mr > 1 ? a + a_rs : a;
    const float *a2 = mr > 2 ? a + 2 * a_rs : a;
    const float *a3 = mr > 3 ? a + 3 * a_rs : a;
    const float *a4 = mr > 4 ? a + 4 * a_rs : a;
    const float *a5 = mr > 5 ? a + 5 * a_rs : a;
    const float *a6 = mr > 6 ? a + 6 * a_rs : a;
    const float *a7 = mr > 7 ? a + 7 * a_rs : a;
    v256 c0, c1, c2, c3, c4, c5, c6, c7;
    if (first) {
        c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = simde_mm256_setzero_ps();
    } else {
        c0 = LOAD8(sums), c1 = LOAD8(sums + 8), c2 = LOAD8(sums + 16), c3 = LOAD8(sums + 24);
        c4 = LOAD8(sums + 32), c5 = LOAD8(sums + 40), c6 = LOAD8(sums + 48), c7 = LOAD8(sums + 56);
    }
    for (size_t k = 0, off = 0; k < kc; k++, off += a_ks, panel += p_ks) {
        const v256 b = LOAD8(panel);
        STEP8(c0, a0 + off, b);
        STEP8(c1, a1 + off, b);
        STEP8(c2, a2 + off, b);
        STEP8(c3, a3 + off, b);
        STEP8(c4, a4 + off, b);
        STEP8(c5, a5 + off, b);
        STEP8(c6, a6 + off, b);
        STEP8(c7, a7 + off, b);
    }
    STORE8(sums, c0), STORE8(sums + 8, c1), STORE8(sums + 16, c2), STORE8(sums + 24, c3);
    STORE8(sums + 32, c4), STORE8(sums + 40, c5), STORE8(sums + 48, c6), STORE8(sums + 56, c7);
}

#endif
