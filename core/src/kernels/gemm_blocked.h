/* The blocked GEMM driver, shared by the twins that differ only in their micro-kernel:
 * gemm_simd128.c (a 4x8 tile in f32x4 halves) and gemm_avx2.c (an 8x8 tile in 256-bit rows,
 * native x86-64 only). Each of those files includes this one once, after defining
 *   GEMM_MR            rows per micro-tile (a divisor of MC),
 *   GEMM_TILE          the name of its micro-kernel, defined after the include, with the
 *                      contract of the declaration below,
 *   GEMM_TWIN(layout)  the name of its public entry point for nn, nt and tn,
 * and gets the packing, blocking, epilogue and one-row paths written once, in SIMDe's wasm
 * SIMD128 API. The design and the order of operations are explained in gemm_simd128.c; the
 * micro-kernel alone decides how many outputs are computed at once, never their order. */
#ifndef GEMM_MR
#error "define GEMM_MR, GEMM_TILE and GEMM_TWIN before including gemm_blocked.h"
#endif

#include "lathe/kernels.h"

#include <simde/wasm/simd128.h>

typedef simde_v128_t v128;

enum {
    MR = GEMM_MR,       /* rows per micro-tile */
    NR = 8,             /* columns per micro-tile, and of the packed panel */
    KC = 256,           /* steps of k per packed panel */
    MC = 512,           /* rows per block sharing one packed panel (a multiple of MR) */
    IN_PLACE_ROWS = 16, /* nn and tn with at most this many rows read B unpacked */
    NT_ROWS = 4         /* gemm_nt with fewer rows than this reads b in place, row by row */
};

/* SPLAT is wasm's one-instruction load32_splat; natively SIMDe gives movd+pshufd, which gcc
 * schedules better than f32x4_splat's movss+shufps (measured 20% faster with SSE2). */
#define LOAD(p) simde_wasm_v128_load(p)
#define STORE(p, v) simde_wasm_v128_store((p), (v))
#define SPLAT(p) simde_wasm_v128_load32_splat(p)
#define ADD(x, y) simde_wasm_f32x4_add((x), (y))
#define MUL(x, y) simde_wasm_f32x4_mul((x), (y))

/* The micro-kernel is kept out of line, and out of gcc's interprocedural analysis: analysed
 * with its caller, gcc 12 allocates the accumulators badly (a register copy per accumulator
 * per step, 20% slower). One call per tile costs nothing measurable. */
#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#elif defined(__GNUC__)
#define NOINLINE __attribute__((noipa))
#else
#define NOINLINE
#endif

/* sums:(MR,8) += A(r,k) * panel(k,c) for k < kc in increasing k (panel row k at
 * panel + k*p_ks), each product rounded and then added (no FMA), starting from 0 (first) or
 * from sums. Row r < mr of A starts at a + r*a_rs and advances by a_ks per step; rows
 * r >= mr re-read row 0 (their sums are never used), so no read leaves A. */
NOINLINE static void GEMM_TILE(size_t kc, const float *a, size_t a_rs, size_t a_ks, size_t mr,
                               const float *panel, size_t p_ks, int first, float *sums);

/* K == 0: every sum is the empty sum 0, then bias, then the old output. */
static void gemm_k0(size_t M, size_t N, const float *bias, float *out, size_t ldc, int accumulate) {
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            float s = 0.0f;
            if (bias) s = s + bias[j];
            out[i * ldc + j] = accumulate ? out[i * ldc + j] + s : s;
        }
    }
}

/* panel:(kc,8) = B(k, 0..7) for k < kc, where B(k,c) = b[k*ldb + c] and columns c >= nr
 * are zero. */
static void pack_b_rows(size_t kc, size_t nr, const float *b, size_t ldb, float *panel) {
    if (nr == NR) {
        for (size_t k = 0; k < kc; k++, b += ldb, panel += NR) {
            STORE(panel, LOAD(b));
            STORE(panel + 4, LOAD(b + 4));
        }
        return;
    }
    for (size_t k = 0; k < kc; k++, b += ldb, panel += NR)
        for (size_t c = 0; c < NR; c++)
            panel[c] = c < nr ? b[c] : 0.0f;
}

/* panel:(kc,8) = B(k, 0..7) for k < kc, where B(k,c) = b[c*ldb + k] (b holds the columns
 * of B as rows, as in gemm_nt) and columns c >= nr are zero. Four rows of b at k..k+3 are
 * transposed in registers into four panel half-rows. */
static void pack_b_cols(size_t kc, size_t nr, const float *b, size_t ldb, float *panel) {
    size_t k = 0;
    if (nr == NR) {
        for (; k + 4 <= kc; k += 4) {
            for (size_t g = 0; g < NR; g += 4) {
                const float *bg = b + g * ldb + k;
                v128 r0 = LOAD(bg), r1 = LOAD(bg + ldb);
                v128 r2 = LOAD(bg + 2 * ldb), r3 = LOAD(bg + 3 * ldb);
                v128 t0 = simde_wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
                v128 t1 = simde_wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
                v128 t2 = simde_wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
                v128 t3 = simde_wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
                float *p = panel + k * NR + g;
                STORE(p, simde_wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
                STORE(p + NR, simde_wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
                STORE(p + 2 * NR, simde_wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
                STORE(p + 3 * NR, simde_wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
            }
        }
    }
    for (; k < kc; k++)
        for (size_t c = 0; c < NR; c++)
            panel[k * NR + c] = c < nr ? b[c * ldb + k] : 0.0f;
}

/* out(r,c) = [out(r,c) +] (sums(r,c) [+ bias(c)]) for r < mr, c < nr: the canonical
 * epilogue, four columns at a time on a whole row of the tile, else one at a time. */
static void finish_tile(const float *sums, size_t mr, size_t nr, const float *bias, float *out,
                        size_t ldc, int accumulate) {
    for (size_t r = 0; r < mr; r++, sums += NR, out += ldc) {
        size_t c = 0;
        for (; c + 4 <= nr; c += 4) {
            v128 s = LOAD(sums + c);
            if (bias) s = ADD(s, LOAD(bias + c));
            if (accumulate) s = ADD(LOAD(out + c), s);
            STORE(out + c, s);
        }
        for (; c < nr; c++) {
            float s = sums[c];
            if (bias) s = s + bias[c];
            out[c] = accumulate ? out[c] + s : s;
        }
    }
}

/* The 4x4 transpose of rows r0..r3 into columns c0..c3 (c_q lane r = r_r lane q). */
#define TRANSPOSE4(r0, r1, r2, r3, c0, c1, c2, c3)                                     \
    do {                                                                               \
        v128 t0_ = simde_wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);                       \
        v128 t1_ = simde_wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);                       \
        v128 t2_ = simde_wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);                       \
        v128 t3_ = simde_wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);                       \
        c0 = simde_wasm_i32x4_shuffle(t0_, t1_, 0, 1, 4, 5);                           \
        c1 = simde_wasm_i32x4_shuffle(t0_, t1_, 2, 3, 6, 7);                           \
        c2 = simde_wasm_i32x4_shuffle(t2_, t3_, 0, 1, 4, 5);                           \
        c3 = simde_wasm_i32x4_shuffle(t2_, t3_, 2, 3, 6, 7);                           \
    } while (0)

/* One row of gemm_nt, the shape of a dense layer's forward pass on one sample:
 * out:(1,N) = a:(1,K) · bᵀ, b (N,K) with row stride ldb. Packing b would copy all of it for
 * one use, and the 4-row tile would compute three dummy rows, so this reads b in place and
 * transposes 4x4 blocks in registers: lane r of accumulator g is output j + 4g + r, and for
 * each k in increasing order it adds the rounded product a_k · B(k, j+4g+r), as gemm_ref.c
 * does. Sixteen outputs at a time keep four independent sums in flight. */
static void gemm_nt_row(size_t N, size_t K, const float *a, const float *b, size_t ldb,
                        const float *bias, float *out, int accumulate) {
    size_t j = 0;
    for (; j + 4 <= N; j += j + 16 <= N ? 16 : 4) {
        const size_t groups = j + 16 <= N ? 4 : 1;
        const float *bj = b + j * ldb;
        v128 acc[4];
        size_t k = 0;
        for (size_t g = 0; g < 4; g++) acc[g] = simde_wasm_f32x4_splat(0.0f);
        for (; k + 4 <= K; k += 4) {
            const v128 x0 = SPLAT(a + k), x1 = SPLAT(a + k + 1);
            const v128 x2 = SPLAT(a + k + 2), x3 = SPLAT(a + k + 3);
            for (size_t g = 0; g < groups; g++) {
                const float *r = bj + 4 * g * ldb + k;
                v128 c0, c1, c2, c3;
                v128 r0 = LOAD(r), r1 = LOAD(r + ldb), r2 = LOAD(r + 2 * ldb),
                     r3 = LOAD(r + 3 * ldb);
                TRANSPOSE4(r0, r1, r2, r3, c0, c1, c2, c3);
                acc[g] = ADD(acc[g], MUL(x0, c0));
                acc[g] = ADD(acc[g], MUL(x1, c1));
                acc[g] = ADD(acc[g], MUL(x2, c2));
                acc[g] = ADD(acc[g], MUL(x3, c3));
            }
        }
        for (; k < K; k++) {
            const v128 x = SPLAT(a + k);
            for (size_t g = 0; g < groups; g++) {
                const float *r = bj + 4 * g * ldb + k;
                v128 c = simde_wasm_f32x4_make(r[0], r[ldb], r[2 * ldb], r[3 * ldb]);
                acc[g] = ADD(acc[g], MUL(x, c));
            }
        }
        for (size_t g = 0; g < groups; g++) {
            v128 sum = acc[g];
            if (bias) sum = ADD(sum, LOAD(bias + j + 4 * g));
            if (accumulate) sum = ADD(LOAD(out + j + 4 * g), sum);
            STORE(out + j + 4 * g, sum);
        }
    }
    for (; j < N; j++) { /* the last N % 4 outputs, one at a time */
        float sum = 0.0f;
        for (size_t k = 0; k < K; k++) sum = sum + a[k] * b[j * ldb + k];
        if (bias) sum = sum + bias[j];
        out[j] = accumulate ? out[j] + sum : sum;
    }
}

/* The blocked driver shared by the three layouts. A(i,k) = a[i*a_rs + k*a_ks]; B(k,j) is
 * b[k*ldb + j] (b_cols == 0) or b[j*ldb + k] (b_cols != 0). */
static void gemm_blocked(size_t M, size_t N, size_t K, const float *a, size_t a_rs, size_t a_ks,
                         const float *b, size_t ldb, int b_cols, const float *bias, float *out,
                         size_t ldc, int accumulate) {
    /* Alignment is not needed for correctness (all loads are unaligned), only kind to the
     * cache: 32 bytes keeps each 8-float panel row (one 256-bit load) inside a cache line. */
    _Alignas(32) float panel[KC * NR];   /* (KC,8) */
    _Alignas(32) float partial[MC * NR]; /* (MC,8) sums parked between K chunks */
    if (M == 0 || N == 0) return;
    if (K == 0) {
        gemm_k0(M, N, bias, out, ldc, accumulate);
        return;
    }
    for (size_t i0 = 0; i0 < M; i0 += MC) {
        const size_t i_end = M - i0 < MC ? M : i0 + MC;
        for (size_t j = 0; j < N; j += NR) {
            const size_t nr = N - j < NR ? N - j : NR;
            const float *bias_j = bias ? bias + j : NULL;
            for (size_t k0 = 0; k0 < K; k0 += KC) {
                const size_t kc = K - k0 < KC ? K - k0 : KC;
                const int first = k0 == 0, last = k0 + kc == K;
                const float *p = panel;
                size_t p_ks = NR;
                if (!b_cols && nr == NR && M <= IN_PLACE_ROWS && ldb % 1024 != 0)
                    p = b + k0 * ldb + j, p_ks = ldb; /* few rows: B read in place */
                else if (b_cols)
                    pack_b_cols(kc, nr, b + j * ldb + k0, ldb, panel);
                else
                    pack_b_rows(kc, nr, b + k0 * ldb + j, ldb, panel);
                for (size_t i = i0; i < i_end; i += MR) {
                    const size_t mr = i_end - i < MR ? i_end - i : MR;
                    float *sums = partial + (i - i0) * NR;
                    GEMM_TILE(kc, a + i * a_rs + k0 * a_ks, a_rs, a_ks, mr, p, p_ks, first, sums);
                    if (last) finish_tile(sums, mr, nr, bias_j, out + i * ldc + j, ldc, accumulate);
                }
            }
        }
    }
}

void GEMM_TWIN(nn)(size_t M, size_t N, size_t K, const float *a, size_t lda, const float *b,
                   size_t ldb, const float *bias, float *out, size_t ldc, int accumulate) {
    gemm_blocked(M, N, K, a, lda, 1, b, ldb, 0, bias, out, ldc, accumulate);
}

void GEMM_TWIN(nt)(size_t M, size_t N, size_t K, const float *a, size_t lda, const float *b,
                   size_t ldb, const float *bias, float *out, size_t ldc, int accumulate) {
    if (M < NT_ROWS && K > 0) { /* a few rows: one at a time, b read in place */
        for (size_t i = 0; i < M; i++)
            gemm_nt_row(N, K, a + i * lda, b, ldb, bias, out + i * ldc, accumulate);
        return;
    }
    gemm_blocked(M, N, K, a, lda, 1, b, ldb, 1, bias, out, ldc, accumulate);
}

void GEMM_TWIN(tn)(size_t M, size_t N, size_t K, const float *a, size_t lda, const float *b,
                   size_t ldb, const float *bias, float *out, size_t ldc, int accumulate) {
    gemm_blocked(M, N, K, a, 1, lda, b, ldb, 0, bias, out, ldc, accumulate);
}
