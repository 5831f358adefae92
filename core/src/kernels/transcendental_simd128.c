/* Transcendental element-wise kernels and the row-wise softmaxes, SIMD twins (SIMDe's wasm
 * SIMD128 API). Same bits as transcendental_ref.c: each float is widened to double and goes
 * through the very operation sequence of mathf.c's exp_kernel (and of lathe_sigmoidf and
 * lathe_tanhf around it), two lanes per f64x2, then rounded to float once.
 *
 * Only mathf.c's common path is vectorised. In that range exp_kernel's k lies in
 * [-217, 128], so its overflow and subnormal branches are never taken and 2^k is built
 * directly from the bits of x/ln2 + 1.5*2^52, whose low bits hold k: the bits of 2^k are
 * (bits + 1023) << 52 (the magic number's own bits vanish in the shift). A group of four
 * floats with any lane outside the range (NaN, the overflow/underflow ends) is computed by
 * the scalar functions instead, so those branches stay in one place. The row max and the row
 * sum of the softmaxes are sequential, in the order of the _ref twin. */
#include "lathe/kernels.h"
#include "lathe/mathf.h"
#include "base/mathf_internal.h"

#include <simde/wasm/simd128.h>

typedef simde_v128_t v128;

#define LOAD(p) simde_wasm_v128_load(p)
#define STORE(p, v) simde_wasm_v128_store((p), (v))
#define F64(c) simde_wasm_f64x2_splat(c)
#define ADD simde_wasm_f64x2_add
#define SUB simde_wasm_f64x2_sub
#define MUL simde_wasm_f64x2_mul
#define DIV simde_wasm_f64x2_div

/* mathf.c's exp_kernel on two doubles whose k = round(x/ln2) is in [-1021, 1023]. */
static inline v128 exp_kernel_f64x2(v128 x) {
    const v128 magic = F64(LATHE_ROUND_MAGIC);
    v128 t = ADD(MUL(x, F64(LATHE_INV_LN2)), magic);
    v128 kd = SUB(t, magic);
    v128 hi = SUB(x, MUL(kd, F64(LATHE_LN2_HI)));
    v128 lo = MUL(kd, F64(LATHE_LN2_LO));
    v128 r = SUB(hi, lo);
    v128 err = SUB(SUB(hi, r), lo);
    v128 q = F64(LATHE_EXP_C13);
    q = ADD(F64(LATHE_EXP_C12), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C11), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C10), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C9), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C8), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C7), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C6), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C5), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C4), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C3), MUL(r, q));
    q = ADD(F64(LATHE_EXP_C2), MUL(r, q));
    v128 y = ADD(F64(1.0), ADD(r, ADD(MUL(MUL(r, r), q), err)));
    v128 pow2k = simde_wasm_i64x2_shl(simde_wasm_i64x2_add(t, simde_wasm_i64x2_splat(1023)), 52);
    return MUL(y, pow2k);
}

/* Lanes 2 and 3 of a float vector, widened. */
static inline v128 promote_high(v128 v) {
    return simde_wasm_f64x2_promote_low_f32x4(simde_wasm_i32x4_shuffle(v, v, 2, 3, 2, 3));
}

/* Four floats from two double vectors (lo: lanes 0-1, hi: lanes 2-3), each rounded once. */
static inline v128 demote_pair(v128 lo, v128 hi) {
    return simde_wasm_i64x2_shuffle(simde_wasm_f32x4_demote_f64x2_zero(lo),
                                    simde_wasm_f32x4_demote_f64x2_zero(hi), 0, 2);
}

/* 1 when every lane of v is in [lo, hi] (so not NaN). */
static inline int all_within(v128 v, float lo, float hi) {
    v128 ok = simde_wasm_v128_and(simde_wasm_f32x4_ge(v, simde_wasm_f32x4_splat(lo)),
                                  simde_wasm_f32x4_le(v, simde_wasm_f32x4_splat(hi)));
    return simde_wasm_i32x4_all_true(ok);
}

/* lathe_expf of four floats in [EXPF_MIN, EXPF_MAX]. */
static inline v128 expf_f32x4(v128 v) {
    return demote_pair(exp_kernel_f64x2(simde_wasm_f64x2_promote_low_f32x4(v)),
                       exp_kernel_f64x2(promote_high(v)));
}

/* lathe_sigmoidf on two doubles in [SIGMOIDF_MIN, SIGMOIDF_MAX]: with e = e^-|d|, both of its
 * branches are num / (1 + e), num = 1 for d >= 0 and e otherwise (exp_kernel(-d) for d = -0
 * and exp_kernel(-0) for +0 both give exactly 1). */
static inline v128 sigmoid_f64x2(v128 d) {
    v128 e = exp_kernel_f64x2(simde_wasm_f64x2_neg(simde_wasm_f64x2_abs(d)));
    v128 num = simde_wasm_v128_bitselect(F64(1.0), e, simde_wasm_f64x2_ge(d, F64(0.0)));
    return DIV(num, ADD(F64(1.0), e));
}

/* lathe_tanhf's t on two doubles a = |x| (not NaN): the three branches, then a select. The
 * scalar a of x = -0 is -0, which gives the same t (+0) as +0 here. Lanes of the other
 * branches compute garbage (even from inf) that the selects drop. */
static inline v128 tanh_f64x2(v128 a) {
    v128 a2 = MUL(a, a);
    v128 small = ADD(a, MUL(MUL(a, a2), SUB(MUL(a2, F64(2.0 / 15.0)), F64(1.0 / 3.0))));
    v128 e = exp_kernel_f64x2(MUL(F64(2.0), a));
    v128 mid = SUB(F64(1.0), DIV(F64(2.0), ADD(e, F64(1.0))));
    v128 t = simde_wasm_v128_bitselect(F64(1.0), mid, simde_wasm_f64x2_gt(a, F64(LATHE_TANHF_BIG)));
    return simde_wasm_v128_bitselect(small, t, simde_wasm_f64x2_lt(a, F64(LATHE_TANHF_SMALL)));
}

void lathe_f32_exp__simd128(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 v = LOAD(x + i);
        if (all_within(v, LATHE_EXPF_MIN, LATHE_EXPF_MAX)) {
            STORE(y + i, expf_f32x4(v));
        } else {
            for (size_t k = i; k < i + 4; k++)
                y[k] = lathe_expf(x[k]);
        }
    }
    for (; i < n; i++)
        y[i] = lathe_expf(x[i]);
}

void lathe_f32_sigmoid__simd128(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 v = LOAD(x + i);
        if (all_within(v, LATHE_SIGMOIDF_MIN, LATHE_SIGMOIDF_MAX)) {
            STORE(y + i, demote_pair(sigmoid_f64x2(simde_wasm_f64x2_promote_low_f32x4(v)),
                                     sigmoid_f64x2(promote_high(v))));
        } else {
            for (size_t k = i; k < i + 4; k++)
                y[k] = lathe_sigmoidf(x[k]);
        }
    }
    for (; i < n; i++)
        y[i] = lathe_sigmoidf(x[i]);
}

/* tanh is odd: the float result of |x| gets x's sign bit (-0 -> -0), as in lathe_tanhf. */
void lathe_f32_tanh__simd128(size_t n, const float *x, float *y) {
    const v128 sign_bit = simde_wasm_i32x4_splat(INT32_MIN);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128 v = LOAD(x + i);
        if (simde_wasm_i32x4_all_true(simde_wasm_f32x4_eq(v, v))) {
            v128 a = simde_wasm_f32x4_abs(v);
            v128 t = demote_pair(tanh_f64x2(simde_wasm_f64x2_promote_low_f32x4(a)),
                                 tanh_f64x2(promote_high(a)));
            STORE(y + i, simde_wasm_v128_xor(t, simde_wasm_v128_and(v, sign_bit)));
        } else {
            for (size_t k = i; k < i + 4; k++)
                y[k] = lathe_tanhf(x[k]);
        }
    }
    for (; i < n; i++)
        y[i] = lathe_tanhf(x[i]);
}

/* As in the _ref twin. */
static float row_max(size_t c, const float *z) {
    float m = z[0];
    for (size_t j = 1; j < c; j++)
        if (z[j] > m) m = z[j];
    return m;
}

/* out[j] = lathe_expf(z[j] - m) for j < c (the difference rounded to float first, as in the
 * _ref twins); out may be z. */
static void shifted_expf(size_t c, const float *z, float m, float *out) {
    const v128 mv = simde_wasm_f32x4_splat(m);
    size_t j = 0;
    for (; j + 4 <= c; j += 4) {
        v128 d = simde_wasm_f32x4_sub(LOAD(z + j), mv);
        if (all_within(d, LATHE_EXPF_MIN, LATHE_EXPF_MAX)) {
            STORE(out + j, expf_f32x4(d));
        } else {
            for (size_t k = j; k < j + 4; k++)
                out[k] = lathe_expf(z[k] - m);
        }
    }
    for (; j < c; j++)
        out[j] = lathe_expf(z[j] - m);
}

void lathe_f32_softmax__simd128(size_t n, size_t c, const float *x, float *y) {
    if (c == 0) return;
    for (size_t i = 0; i < n; i++) {
        const float *z = x + i * c;
        float *out = y + i * c, m = row_max(c, z), sum = 0.0f;
        size_t j = 0;
        shifted_expf(c, z, m, out);
        for (j = 0; j < c; j++)
            sum += out[j];
        const v128 sv = simde_wasm_f32x4_splat(sum);
        for (j = 0; j + 4 <= c; j += 4)
            STORE(out + j, simde_wasm_f32x4_div(LOAD(out + j), sv));
        for (; j < c; j++)
            out[j] = out[j] / sum;
    }
}

/* The exponentials go through a small buffer (y may be x, and z is needed again after). */
void lathe_f32_log_softmax__simd128(size_t n, size_t c, const float *x, float *y) {
    enum { CHUNK = 64 };
    float e[CHUNK];
    if (c == 0) return;
    for (size_t i = 0; i < n; i++) {
        const float *z = x + i * c;
        float *out = y + i * c, m = row_max(c, z), sum = 0.0f, log_sum;
        size_t j;
        for (size_t j0 = 0; j0 < c; j0 += CHUNK) {
            const size_t len = c - j0 < CHUNK ? c - j0 : CHUNK;
            shifted_expf(len, z + j0, m, e);
            for (j = 0; j < len; j++)
                sum += e[j];
        }
        log_sum = lathe_logf(sum);
        const v128 mv = simde_wasm_f32x4_splat(m), lv = simde_wasm_f32x4_splat(log_sum);
        for (j = 0; j + 4 <= c; j += 4)
            STORE(out + j, simde_wasm_f32x4_sub(simde_wasm_f32x4_sub(LOAD(z + j), mv), lv));
        for (; j < c; j++)
            out[j] = (z[j] - m) - log_sum;
    }
}
