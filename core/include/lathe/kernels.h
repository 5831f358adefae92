/* Compute kernels. Each kernel has a plain scalar twin (__ref) and a SIMD twin (__simd128,
 * written against SIMDe's wasm SIMD128 API: native SIMD128 in wasm, SSE on x86, NEON on
 * ARM). Both are always compiled; lathe_kernels() returns the table in use. Native x86-64
 * builds also compile 256-bit twins of GEMM and Adam (__avx2, SIMDe's x86 API, defined only
 * when LATHE_KERNELS_AVX2 is), used when the CPU has AVX2.
 *
 * Canonical order (the parity contract): every output element is one reduction computed in
 * a fixed order, so the twins agree bit for bit. SIMD code vectorises across independent
 * outputs, never along a reduction. For GEMM, each out[i,j] is
 *     s = 0;  for k = 0..K-1:  s = s + a_ik * b_kj;   (products rounded, then added)
 *     if (bias)       s = s + bias[j];
 *     out[i,j] = accumulate ? out[i,j] + s : s;
 * Matrices are row-major with leading dimensions (row strides, in elements) lda, ldb, ldc.
 * The element-wise and pooling kernels below state their own order; elementwise_ref.c and
 * pool_ref.c are the definitions. No kernel allocates. */
#ifndef LATHE_KERNELS_H
#define LATHE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* out:(M,N) = a:(M,K) · b:(K,N) (+ bias:(N) or NULL) (+ out when accumulate != 0). */
typedef void (*lathe_gemm_fn)(size_t M, size_t N, size_t K, const float *a, size_t lda,
                              const float *b, size_t ldb, const float *bias, float *out,
                              size_t ldc, int accumulate);

void lathe_f32_gemm_nn__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out,
                            size_t ldc, int accumulate);
void lathe_f32_gemm_nn__simd128(size_t M, size_t N, size_t K, const float *a, size_t lda,
                                const float *b, size_t ldb, const float *bias, float *out,
                                size_t ldc, int accumulate);
/* out:(M,N) = a:(M,K) · bᵀ where b is (N,K) with row stride ldb. Same order as gemm_nn. */
void lathe_f32_gemm_nt__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out,
                            size_t ldc, int accumulate);
void lathe_f32_gemm_nt__simd128(size_t M, size_t N, size_t K, const float *a, size_t lda,
                                const float *b, size_t ldb, const float *bias, float *out,
                                size_t ldc, int accumulate);
/* out:(M,N) = aᵀ · b where a is (K,M) with row stride lda and b is (K,N). Same order. */
void lathe_f32_gemm_tn__ref(size_t M, size_t N, size_t K, const float *a, size_t lda,
                            const float *b, size_t ldb, const float *bias, float *out,
                            size_t ldc, int accumulate);
void lathe_f32_gemm_tn__simd128(size_t M, size_t N, size_t K, const float *a, size_t lda,
                                const float *b, size_t ldb, const float *bias, float *out,
                                size_t ldc, int accumulate);
/* The 256-bit twins of the three layouts (LATHE_KERNELS_AVX2 builds only; need AVX2). */
void lathe_f32_gemm_nn__avx2(size_t M, size_t N, size_t K, const float *a, size_t lda,
                             const float *b, size_t ldb, const float *bias, float *out, size_t ldc,
                             int accumulate);
void lathe_f32_gemm_nt__avx2(size_t M, size_t N, size_t K, const float *a, size_t lda,
                             const float *b, size_t ldb, const float *bias, float *out, size_t ldc,
                             int accumulate);
void lathe_f32_gemm_tn__avx2(size_t M, size_t N, size_t K, const float *a, size_t lda,
                             const float *b, size_t ldb, const float *bias, float *out, size_t ldc,
                             int accumulate);

/* ---- Integer GEMM ----------------------------------------------------------------------
 * out:(M,N) int32 = a:(M,K) · bᵀ with b (N,K), int16 operands and exact int32 sums, which
 * the caller keeps below 2^31 (int8 layers: quant.h). K is a multiple of 8 (pad both operands
 * with zeros); lda and ldb are multiples of 8 too. Integer addition is associative, so the
 * twins may sum in any order and still agree. */
typedef void (*lathe_s16_gemm_fn)(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                                  const int16_t *b, size_t ldb, int32_t *out, size_t ldc);
void lathe_s16_gemm_nt__ref(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                            const int16_t *b, size_t ldb, int32_t *out, size_t ldc);
void lathe_s16_gemm_nt__simd128(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                                const int16_t *b, size_t ldb, int32_t *out, size_t ldc);
/* LATHE_KERNELS_AVX2 builds only; needs AVX2. */
void lathe_s16_gemm_nt__avx2(size_t M, size_t N, size_t K, const int16_t *a, size_t lda,
                             const int16_t *b, size_t ldb, int32_t *out, size_t ldc);

/* out:(n) = lathe_int8_quantize(x, scale, zero_point) − zero_point (quant.h), an int8 layer's
 * input less its zero point, in [−255, 255]. */
typedef void (*lathe_quantize_fn)(size_t n, const float *x, float scale, int32_t zero_point,
                                  int16_t *out);
void lathe_f32_quantize_s16__ref(size_t n, const float *x, float scale, int32_t zero_point,
                                 int16_t *out);
void lathe_f32_quantize_s16__simd128(size_t n, const float *x, float scale, int32_t zero_point,
                                     int16_t *out);

/* ---- Element-wise ----------------------------------------------------------------------
 * Each output element depends on the same index of the inputs only; y may be x (and dx may
 * be dy) for an in-place call, but no other overlap is allowed. "x > 0" is false for -0 and
 * NaN, so those take the negative branch. */

/* The slope of leaky ReLU where x > 0 is false (PyTorch's default negative_slope). */
#define LATHE_LEAKY_RELU_SLOPE 0.01f

/* y:(n) from x:(n), one output per input. */
typedef void (*lathe_unary_fn)(size_t n, const float *x, float *y);
/* dx:(n) from the forward input x:(n) and the upstream gradient dy:(n). */
typedef void (*lathe_unary_backward_fn)(size_t n, const float *x, const float *dy, float *dx);
/* out:(cols) = column sums of x:(rows,cols) with row stride ldx:
 * out[j] = 0; for i = 0..rows-1: out[j] = out[j] + x[i*ldx + j]. rows = 0 gives +0. */
typedef void (*lathe_colsum_fn)(size_t rows, size_t cols, const float *x, size_t ldx, float *out);

/* y = x > 0 ? x : +0. */
void lathe_f32_relu__ref(size_t n, const float *x, float *y);
void lathe_f32_relu__simd128(size_t n, const float *x, float *y);
/* dx = x > 0 ? dy : +0 (ReLU'(0) = 0). */
void lathe_f32_relu_backward__ref(size_t n, const float *x, const float *dy, float *dx);
void lathe_f32_relu_backward__simd128(size_t n, const float *x, const float *dy, float *dx);
/* y = x > 0 ? x : SLOPE·x. */
void lathe_f32_leaky_relu__ref(size_t n, const float *x, float *y);
void lathe_f32_leaky_relu__simd128(size_t n, const float *x, float *y);
/* dx = x > 0 ? dy : SLOPE·dy. */
void lathe_f32_leaky_relu_backward__ref(size_t n, const float *x, const float *dy, float *dx);
void lathe_f32_leaky_relu_backward__simd128(size_t n, const float *x, const float *dy, float *dx);
/* Sigmoid and tanh backward from the forward OUTPUT y (passed as the x argument):
 * dx = dy · (y · (1 − y)) and dx = dy · (1 − y · y), in that order of operations. */
void lathe_f32_sigmoid_backward__ref(size_t n, const float *y, const float *dy, float *dx);
void lathe_f32_sigmoid_backward__simd128(size_t n, const float *y, const float *dy, float *dx);
void lathe_f32_tanh_backward__ref(size_t n, const float *y, const float *dy, float *dx);
void lathe_f32_tanh_backward__simd128(size_t n, const float *y, const float *dy, float *dx);
/* Column sums, as lathe_colsum_fn. */
void lathe_f32_colsum__ref(size_t rows, size_t cols, const float *x, size_t ldx, float *out);
void lathe_f32_colsum__simd128(size_t rows, size_t cols, const float *x, size_t ldx, float *out);

/* ---- Transcendental element-wise and row-wise softmax ------------------------------------
 * The core's own functions (lathe/mathf.h) define the bits: transcendental_ref.c is the
 * definition. The softmaxes work on x:(n,c) row by row: m = z[0], then for j = 1..c-1
 * m = z[j] > m ? z[j] : m; s = +0, then for j = 0..c-1 s = s + lathe_expf(z[j] − m); so the max
 * and the sum are sequential in j. y may be x; c = 0 does nothing. */

/* Row-wise x:(n,c) -> y:(n,c). */
typedef void (*lathe_softmax_fn)(size_t n, size_t c, const float *x, float *y);

/* y = lathe_expf(x). */
void lathe_f32_exp__ref(size_t n, const float *x, float *y);
void lathe_f32_exp__simd128(size_t n, const float *x, float *y);
/* y = lathe_sigmoidf(x). */
void lathe_f32_sigmoid__ref(size_t n, const float *x, float *y);
void lathe_f32_sigmoid__simd128(size_t n, const float *x, float *y);
/* y = lathe_tanhf(x). */
void lathe_f32_tanh__ref(size_t n, const float *x, float *y);
void lathe_f32_tanh__simd128(size_t n, const float *x, float *y);
/* y[i,j] = lathe_expf(x[i,j] − m) / s, each exponential rounded to float before the sum. */
void lathe_f32_softmax__ref(size_t n, size_t c, const float *x, float *y);
void lathe_f32_softmax__simd128(size_t n, size_t c, const float *x, float *y);
/* y[i,j] = (x[i,j] − m) − lathe_logf(s). */
void lathe_f32_log_softmax__ref(size_t n, size_t c, const float *x, float *y);
void lathe_f32_log_softmax__simd128(size_t n, size_t c, const float *x, float *y);

/* ---- 2-D pooling ------------------------------------------------------------------------
 * On `planes` contiguous h×w planes (NCHW with planes = n·c), a k×k window moved by stride,
 * no padding, floor mode: ho = (h − k)/stride + 1, wo likewise. The caller guarantees
 * 1 <= k <= min(h, w), stride >= 1 and h·w <= UINT32_MAX (lathe_pool2d_output_size checks
 * these). Window (i,j) covers rows i·stride .. i·stride+k−1 and columns j·stride ..
 * j·stride+k−1 of its plane. The order of every operation is the one lathe/conv.h documents
 * (the PyTorch-verified reference):
 *   max forward   m = the window's first element; for ki, for kj (row-major): v replaces m
 *                 when v > m, or when v is NaN and m is not. argmax = r·w + c, the index
 *                 of that v (row r, column c) in its plane.
 *   max backward  dx = 0; for each output in row-major order: dx[argmax] = dx[argmax] + dy
 *                 (argmax values >= h·w are skipped).
 *   avg forward   s = 0; for ki, for kj: s = s + x; y = s / (float)(k·k).
 *   avg backward  dx = 0; for each output in row-major order: g = dy / (float)(k·k); for ki,
 *                 for kj: dx[...] = dx[...] + g.
 * So each dx element is 0 plus its contributions in the row-major order of the outputs they
 * come from. Outputs are written, never accumulated; inputs and outputs must not overlap. */

/* y:(planes,ho,wo) = window maxima of x:(planes,h,w); argmax:(planes,ho,wo) or NULL. */
typedef void (*lathe_max_pool_fn)(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                  const float *x, float *y, uint32_t *argmax);
/* dx:(planes,h,w) from argmax and dy:(planes,ho,wo). */
typedef void (*lathe_max_pool_backward_fn)(size_t planes, size_t h, size_t w, size_t k,
                                           size_t stride, const uint32_t *argmax, const float *dy,
                                           float *dx);
/* y:(planes,ho,wo) = window means of x:(planes,h,w). */
typedef void (*lathe_avg_pool_fn)(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                  const float *x, float *y);
/* dx:(planes,h,w) from dy:(planes,ho,wo). */
typedef void (*lathe_avg_pool_backward_fn)(size_t planes, size_t h, size_t w, size_t k,
                                           size_t stride, const float *dy, float *dx);

void lathe_f32_max_pool2d__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                               const float *x, float *y, uint32_t *argmax);
void lathe_f32_max_pool2d__simd128(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                   const float *x, float *y, uint32_t *argmax);
void lathe_f32_max_pool2d_backward__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                        const uint32_t *argmax, const float *dy, float *dx);
void lathe_f32_max_pool2d_backward__simd128(size_t planes, size_t h, size_t w, size_t k,
                                            size_t stride, const uint32_t *argmax, const float *dy,
                                            float *dx);
void lathe_f32_avg_pool2d__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                               const float *x, float *y);
void lathe_f32_avg_pool2d__simd128(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                   const float *x, float *y);
void lathe_f32_avg_pool2d_backward__ref(size_t planes, size_t h, size_t w, size_t k, size_t stride,
                                        const float *dy, float *dx);
void lathe_f32_avg_pool2d_backward__simd128(size_t planes, size_t h, size_t w, size_t k,
                                            size_t stride, const float *dy, float *dx);

/* One Adam / AdamW step's constants (computed once per step by optim.c). */
typedef struct lathe_adam_step {
    float b1, one_minus_b1, b2, one_minus_b2;
    float step_size;   /* lr / (1 − β1^t) */
    float bias2_sqrt;  /* sqrt(1 − β2^t) */
    float eps;
    float l2;          /* Adam: weight decay added to the gradient (0: none) */
    float decay;       /* AdamW: p ← p · decay first, decay = 1 − lr·wd (1: none) */
    int decoupled;     /* 1 for AdamW */
} lathe_adam_step;
/* For each i, in this order of operations (no FMA):
 *   AdamW: p = p · decay;  Adam with l2: g = g + l2 · p
 *   m = b1·m + (1−b1)·g;  v = b2·v + (1−b2)·(g·g)
 *   p = p − step_size · (m / (sqrt(v) / bias2_sqrt + eps))
 * Element-wise with correctly rounded sqrt and division: the twins agree bit for bit. */
typedef void (*lathe_adam_fn)(size_t n, float *p, const float *g, float *m, float *v,
                              const lathe_adam_step *s);
void lathe_f32_adam__ref(size_t n, float *p, const float *g, float *m, float *v,
                         const lathe_adam_step *s);
void lathe_f32_adam__simd128(size_t n, float *p, const float *g, float *m, float *v,
                             const lathe_adam_step *s);
/* LATHE_KERNELS_AVX2 builds only; needs AVX2. */
void lathe_f32_adam__avx2(size_t n, float *p, const float *g, float *m, float *v,
                          const lathe_adam_step *s);

/* LATHE_ISA_AVX2: the simd128 table with the __avx2 GEMM, integer GEMM and Adam twins. */
typedef enum lathe_isa { LATHE_ISA_REF = 0, LATHE_ISA_SIMD128 = 1, LATHE_ISA_AVX2 = 2 } lathe_isa;

typedef struct lathe_kernel_table {
    lathe_isa isa;
    const char *name; /* "ref", "simd128" or "avx2" */
    lathe_gemm_fn gemm_nn;
    lathe_gemm_fn gemm_nt;
    lathe_gemm_fn gemm_tn;
    lathe_unary_fn relu;
    lathe_unary_backward_fn relu_backward;
    lathe_unary_fn leaky_relu;
    lathe_unary_backward_fn leaky_relu_backward;
    lathe_unary_backward_fn sigmoid_backward; /* from the forward output y */
    lathe_unary_backward_fn tanh_backward;    /* from the forward output y */
    lathe_colsum_fn colsum;
    lathe_adam_fn adam;
    lathe_unary_fn exp_each;  /* element-wise e^x */
    lathe_unary_fn sigmoid;
    lathe_unary_fn tanh_each; /* element-wise tanh */
    lathe_softmax_fn softmax;
    lathe_softmax_fn log_softmax;
    lathe_max_pool_fn max_pool2d;
    lathe_max_pool_backward_fn max_pool2d_backward;
    lathe_avg_pool_fn avg_pool2d;
    lathe_avg_pool_backward_fn avg_pool2d_backward;
    lathe_s16_gemm_fn s16_gemm_nt; /* int8 layers */
    lathe_quantize_fn quantize_s16;
} lathe_kernel_table;

/* The table for isa (a static object; never NULL). LATHE_ISA_AVX2 gives the simd128 table
 * when the avx2 twins are not compiled in or the CPU lacks AVX2: check the result's isa. */
const lathe_kernel_table *lathe_kernels_for(lathe_isa isa);
/* The table in use: the fastest this build and CPU run (lathe_kernels_for(LATHE_ISA_AVX2))
 * unless lathe_kernels_select chose otherwise. */
const lathe_kernel_table *lathe_kernels(void);
/* Chooses the table in use. All give identical bits; ref is for tests and debugging. */
void lathe_kernels_select(lathe_isa isa);

#endif
