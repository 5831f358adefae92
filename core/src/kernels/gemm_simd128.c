/* GEMM, SIMD twins (SIMDe's wasm SIMD128 API). Same bits as gemm_ref.c.
 *
 * Design. Every layout is reduced to one micro-kernel that computes a 4x8 tile of outputs
 * (rows i..i+3, columns j..j+7) in eight f32x4 accumulators, one per (row, 4 columns). Each
 * step k broadcasts A(i+r,k) for the 4 rows and multiplies it by the 8 values B(k,j..j+7),
 * so each lane is one output's own sum, built in increasing k exactly like the scalar twin:
 * the reduction is never split across lanes. 4x8 fits the 16 SIMD registers of x86-64 (and
 * of V8's wasm code there) with 8 accumulators, 2 B vectors and a broadcast; 6x8, 8x8 and
 * 4x16 were measured slower under V8 and no faster natively.
 *
 * B is first packed into a stack panel of KC steps x 8 columns (a plain copy for nn and tn,
 * a 4x4-transposing copy for nt), which makes every micro-kernel load contiguous, pads a
 * short last strip with zeros, and avoids cache-set conflicts when ldb is a power of two.
 * A is read in place through two strides, so nn (row-major A) and tn (A stored transposed)
 * share the micro-kernel. (tn still meets set conflicts on A when lda is a multiple of 1024
 * floats: packing A too would need a bigger buffer than the stack should hold.)
 *
 * K is split into chunks of KC steps so the panel stays small. A sum that spans chunks is
 * parked as a float in a stack buffer of MC x 8 partial sums and resumed by the next chunk:
 * the float round trip is exact, so the order of operations is unchanged. Bias and the old
 * output are added only after the last chunk. Stack use is (KC + MC) * 8 floats = 24 KiB.
 *
 * A GEMM of at most 16 rows (a convolution's forward pass per sample: M = output channels)
 * skips the packing when B's rows are whole 8-column strips: the micro-kernel reads B in
 * place, row k of the strip at b + k*ldb, since a panel would serve only two to four tiles
 * (cnn_train +4-6%, cnn_infer_256 +8%, natively and in node). A row stride that is a multiple
 * of 1024 floats still packs (those rows share cache sets).
 *
 * Each panel serves a block of up to MC = 512 rows, so B is packed once per 512 rows of A.
 * With blocks of 64 rows, B was re-read (and re-packed) M/64 times: at n = 1024, 16 passes
 * over a 4 MiB B, strided reads that miss the 1 MiB L2 each time. Measured in the same run
 * (node, wasm): n = 1024 35 -> 44-46 GFLOPS, n = 512 +8%, n = 256 +4%, natively (AVX2)
 * n = 1024 55 -> 66; blocks of 1024 rows and panels of 128 or 512 steps measured no better.
 *
 * gemm_nt with fewer than 4 rows (a dense layer's forward pass on one sample, as in batch-1
 * inference) skips all that: packing would copy the whole of b for one use and the tile would
 * compute dummy rows, so gemm_nt_row reads b in place, transposing 4x4 blocks in registers
 * (2.3-3x faster for 1x784 . 784x128, measured).
 *
 * Everything but the micro-kernel (packing, blocking, the epilogue, the one-row path) is in
 * gemm_blocked.h, shared with the 256-bit twin of native x86-64 builds (gemm_avx2.c). */
#define GEMM_MR 4
#define GEMM_TILE tile_4x8
#define GEMM_TWIN(layout) lathe_f32_gemm_##layout##__simd128
#include "gemm_blocked.h"

/* The micro-kernel, as declared in gemm_blocked.h, on a 4x8 tile in eight f32x4. The sums go
 * back to memory at the end, which keeps the loop's register allocation independent of the
 * epilogue; that costs 8 stores per kc steps. */
static void tile_4x8(size_t kc, const float *a, size_t a_rs, size_t a_ks, size_t mr,
                     const float *panel, size_t p_ks, int first, float *sums) {
    const float *a0 = a;
    const float *a1 = mr > 1 ? a + a_rs : a;
    const float *a2 = mr > 2 ? a + 2 * a_rs : a;
    const float *a3 = mr > 3 ? a + 3 * a_rs : a;
    v128 c00, c01, c10, c11, c20, c21, c30, c31;
    if (first) {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = simde_wasm_f32x4_splat(0.0f);
    } else {
        c00 = LOAD(sums), c01 = LOAD(sums + 4);
        c10 = LOAD(sums + 8), c11 = LOAD(sums + 12);
        c20 = LOAD(sums + 16), c21 = LOAD(sums + 20);
        c30 = LOAD(sums + 24), c31 = LOAD(sums + 28);
    }
    for (size_t k = 0, off = 0; k < kc; k++, off += a_ks, panel += p_ks) {
        const v128 b0 = LOAD(panel), b1 = LOAD(panel + 4);
        v128 x = SPLAT(a0 + off);
        c00 = ADD(c00, MUL(x, b0));
        c01 = ADD(c01, MUL(x, b1));
        x = SPLAT(a1 + off);
        c10 = ADD(c10, MUL(x, b0));
        c11 = ADD(c11, MUL(x, b1));
        x = SPLAT(a2 + off);
        c20 = ADD(c20, MUL(x, b0));
        c21 = ADD(c21, MUL(x, b1));
        x = SPLAT(a3 + off);
        c30 = ADD(c30, MUL(x, b0));
        c31 = ADD(c31, MUL(x, b1));
    }
    STORE(sums, c00), STORE(sums + 4, c01);
    STORE(sums + 8, c10), STORE(sums + 12, c11);
    STORE(sums + 16, c20), STORE(sums + 20, c21);
    STORE(sums + 24, c30), STORE(sums + 28, c31);
}
