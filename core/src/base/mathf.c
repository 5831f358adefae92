/* The core's own exp, log and friends (see lathe/mathf.h).
 *
 * Every float function widens its argument to double, evaluates a double-precision kernel
 * (a few ulp of double at worst, i.e. about 2^-50 relative) and rounds to float once. The
 * float result is therefore the correctly rounded one except when the exact value lies within
 * ~2^-26 float ulp of a rounding boundary: the error stays below 0.501 ulp. Double arithmetic
 * without FMA is IEEE-deterministic, so gcc x86-64 and emcc wasm give the same bits.
 *
 * Polynomials are truncated Taylor series (the coefficients are exact rationals rounded to
 * double), on reduced ranges small enough that the truncation error is below 2^-57.
 * Invalid operations return one fixed quiet NaN (bits 0x7fc00000); a NaN argument is returned
 * unchanged, before any arithmetic touches it, so no target-dependent NaN payload escapes. */
#include "lathe/mathf.h"

#include "base/mathf_internal.h"

#include <stdint.h>
#include <string.h>

static float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double f64_from_bits(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t f64_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static float quiet_nanf(void) {
    return f32_from_bits(0x7fc00000u);
}
static double quiet_nan(void) {
    return f64_from_bits(0x7ff8000000000000u);
}
static double inf_d(void) {
    return f64_from_bits(0x7ff0000000000000u);
}

/* 2^k as a double for -1022 <= k <= 1023. */
static double pow2i(int k) {
    return f64_from_bits((uint64_t)(k + 1023) << 52);
}

/* e^x for -746 <= x <= 710 (outside, the caller decides): x = k ln2 + r, |r| <= ln2/2 + tiny,
 * e^x = 2^k e^r. e^r = 1 + r + r^2 (1/2! + r/3! + ... + r^11/13!), with the rounding error of
 * r = hi - lo carried separately (err), so the result is within about 1 ulp of double. */
static double exp_kernel(double x) {
    double kd = (x * LATHE_INV_LN2 + LATHE_ROUND_MAGIC) - LATHE_ROUND_MAGIC;
    int k = (int)kd;
    double hi = x - kd * LATHE_LN2_HI; /* exact */
    double lo = kd * LATHE_LN2_LO;     /* |lo| < 2^-24, so its rounding error is below 2^-77 */
    double r = hi - lo;
    /* r + err == hi - lo exactly when |hi| >= |lo| (Fast2Sum); otherwise r is tiny and err
     * barely matters. */
    double err = (hi - r) - lo;
    double q = LATHE_EXP_C13; /* 1/13!, then down to 1/2! */
    q = LATHE_EXP_C12 + r * q;
    q = LATHE_EXP_C11 + r * q;
    q = LATHE_EXP_C10 + r * q;
    q = LATHE_EXP_C9 + r * q;
    q = LATHE_EXP_C8 + r * q;
    q = LATHE_EXP_C7 + r * q;
    q = LATHE_EXP_C6 + r * q;
    q = LATHE_EXP_C5 + r * q;
    q = LATHE_EXP_C4 + r * q;
    q = LATHE_EXP_C3 + r * q;
    q = LATHE_EXP_C2 + r * q;
    /* e^(r+err) ~= e^r (1 + err) ~= e^r + err, since |err| <= 2^-54 |r|. */
    double y = 1.0 + (r + ((r * r) * q + err));
    if (k > 1023) return (y * 2.0) * pow2i(k - 1);
    /* A subnormal result: scale exactly into the normal range first, so it rounds once. */
    if (k < -1021) return (y * pow2i(k + 200)) * 0x1p-200;
    return y * pow2i(k);
}

double lathe_exp(double x) {
    if (x != x) return x;
    if (x > 710.0) return inf_d(); /* e^709.7827... is DBL_MAX */
    if (x < -746.0) return 0.0;    /* below half the smallest subnormal */
    return exp_kernel(x);
}

/* ln x for finite x > 0. x = 2^e m with sqrt(1/2) <= m < sqrt(2), f = m - 1 (exact),
 * s = f / (2 + f), ln(1 + f) = 2 atanh s = 2s + s R, R = sum_{n>=1} 2 s^(2n) / (2n+1), and
 * ln x = e ln2 + f - (f^2/2 - s (f^2/2 + R)) written so that the large terms add last (the
 * arrangement of fdlibm's e_log.c). |s| <= 0.1716, so 10 terms leave a tail below 2^-57. */
static double log_kernel(double x) {
    uint64_t u = f64_bits(x);
    int e = 0;
    if (u < 0x0010000000000000u) { /* subnormal: scale by 2^54 into the normal range */
        u = f64_bits(x * 0x1p54);
        e = -54;
    }
    e += (int)(u >> 52) - 1023;
    u &= 0x000fffffffffffffu;
    if (u > 0x6a09e667f3bcdu) { /* m > sqrt 2: use m/2 and e+1 */
        u |= 0x3fe0000000000000u;
        e += 1;
    } else {
        u |= 0x3ff0000000000000u;
    }
    double f = f64_from_bits(u) - 1.0; /* exact (Sterbenz) */
    double s = f / (2.0 + f);
    double z = s * s;
    double R = 0.09523809523809523;  /* 2/21 */
    R = 0.10526315789473684 + z * R; /* 2/19 */
    R = 0.11764705882352941 + z * R; /* 2/17 */
    R = 0.13333333333333333 + z * R; /* 2/15 */
    R = 0.15384615384615385 + z * R;
    R = 0.18181818181818182 + z * R;
    R = 0.2222222222222222 + z * R;
    R = 0.2857142857142857 + z * R;
    R = 0.4 + z * R;
    R = 0.6666666666666666 + z * R; /* 2/3 */
    R = z * R;
    double hfsq = 0.5 * f * f;
    double dk = (double)e;
    return dk * LATHE_LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LATHE_LN2_LO)) - f);
}

double lathe_log(double x) {
    if (x != x) return x;
    if (x < 0.0) return quiet_nan();
    if (x == 0.0) return -inf_d();
    if (x == inf_d()) return x;
    return log_kernel(x);
}

/* ln(1 + u) for finite u >= 0, a few ulp of double: Kahan's w = 1 + u,
 * ln(1 + u) = ln(w) * u / (w - 1), which cancels the rounding error of w to first order. */
static double log1p_pos(double u) {
    double w = 1.0 + u;
    if (w == 1.0) return u;
    return log_kernel(w) * (u / (w - 1.0));
}

float lathe_expf(float x) {
    if (x != x) return x;
    /* 0x1.62e42ep+6 = 88.7228317 is the last float with e^x < FLT_MAX + ulp/2 (the next one,
     * 88.7228394, is what the literal 88.72284f means): above, e^x rounds to inf. */
    if (x > LATHE_EXPF_MAX) return f32_from_bits(0x7f800000u);
    if (x < LATHE_EXPF_MIN) return 0.0f; /* e^-103.98 is already below 2^-150 */
    return (float)exp_kernel((double)x); /* subnormal results round here, once */
}

float lathe_logf(float x) {
    if (x != x) return x;
    if (x < 0.0f) return quiet_nanf();
    if (x == 0.0f) return f32_from_bits(0xff800000u);
    if (x == f32_from_bits(0x7f800000u)) return x;
    return (float)log_kernel((double)x); /* subnormal x is normal in double */
}

float lathe_log1pf(float x) {
    if (x != x) return x;
    if (x < -1.0f) return quiet_nanf();
    if (x == -1.0f) return f32_from_bits(0xff800000u);
    if (x == f32_from_bits(0x7f800000u)) return x;
    double d = (double)x;
    /* |x| < 2^-20: ln(1+x) = x - x^2/2 + x^3/3 - ..., the x^4 term is below 2^-62 |x|. The
     * sum keeps -0 (x == 0 returns x itself). */
    if (d > -0x1p-20 && d < 0x1p-20) {
        if (x == 0.0f) return x;
        return (float)(d + d * d * (d * (1.0 / 3.0) - 0.5));
    }
    /* Otherwise 1 + x is exact in double for |x| < 2^53 (it spans at most 45 bits, since the
     * last bit of a float x with |x| >= 2^-20 is >= 2^-43), and correctly rounded above, where
     * ln is insensitive to it. */
    return (float)log_kernel(1.0 + d);
}

float lathe_tanhf(float x) {
    if (x != x) return x;
    double a = x < 0.0f ? -(double)x : (double)x;
    double t;
    if (a < LATHE_TANHF_SMALL) {
        /* tanh a = a - a^3/3 + 2a^5/15 - ..., the a^7 term is below 2^-88 a. */
        double a2 = a * a;
        t = a + a * a2 * (a2 * (2.0 / 15.0) - (1.0 / 3.0));
    } else if (a > LATHE_TANHF_BIG) {
        t = 1.0; /* 1 - tanh 9.02 < 2^-25: rounds to 1 in float already */
    } else {
        /* tanh a = 1 - 2/(e^2a + 1). The subtraction is exact (Sterbenz for 2/(e+1) in
         * [0.5, 1]); it loses at most 12 bits near a = 2^-12, leaving > 2^-40 relative. */
        double e = exp_kernel(2.0 * a);
        t = 1.0 - 2.0 / (e + 1.0);
    }
    float r = (float)t;
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (bits >> 31) ? -r : r; /* odd function; -0 -> -0 */
}

float lathe_sigmoidf(float x) {
    if (x != x) return x;
    if (x > LATHE_SIGMOIDF_MAX) return 1.0f; /* 1 - sigmoid(18) < 2^-25 already */
    if (x < LATHE_SIGMOIDF_MIN) return 0.0f; /* sigmoid(-104) < 2^-150 already */
    double d = (double)x;
    if (d >= 0.0) return (float)(1.0 / (1.0 + exp_kernel(-d)));
    double e = exp_kernel(d); /* sigmoid(x) = e^x / (1 + e^x): no cancellation for x < 0 */
    return (float)(e / (1.0 + e));
}

float lathe_softplusf(float x) {
    if (x != x) return x;
    /* ln(1 + e^x) = x + ln(1 + e^-x), and e^-x < 2^-23 < ulp(x)/2 for x >= 16: exactly x. */
    if (x >= 16.0f) return x;
    if (x < -150.0f) return 0.0f; /* softplus(x) < e^x < 2^-150 */
    double d = (double)x;
    if (d >= 0.0) return (float)(d + log1p_pos(exp_kernel(-d)));
    return (float)log1p_pos(exp_kernel(d));
}

float lathe_sqrtf(float x) {
    if (x != x) return x;
    if (x < 0.0f) return quiet_nanf();
    return __builtin_sqrtf(x); /* x >= 0 or +inf: IEEE sqrt, correctly rounded, -0 -> -0 */
}

/* ---- sin and cos in double (schedules, rotations) ------------------------------------- */

static const double pi = 3.14159265358979323846;

double lathe_sin(double x) {
    /* reduce to [-π, π], then to [-π/2, π/2] (sin(π − x) = sin x), then the series to x^31 */
    double k = (double)(long long)(x / (2.0 * pi)), x2, term, sum;
    int i;
    x = x - k * (2.0 * pi);
    if (x > pi) x -= 2.0 * pi;
    if (x < -pi) x += 2.0 * pi;
    if (x > pi / 2.0) x = pi - x;
    if (x < -pi / 2.0) x = -pi - x;
    x2 = x * x;
    term = x, sum = x;
    for (i = 1; i <= 15; i++) {
        term = -term * x2 / (double)((2 * i) * (2 * i + 1));
        sum += term;
    }
    return sum;
}

double lathe_cos(double x) {
    /* reduce to [-π, π], then to [0, π] (cos is even), then the series to x^30 */
    double k = (double)(long long)(x / (2.0 * pi)), x2, term = 1.0, sum = 1.0;
    int i;
    x = x - k * (2.0 * pi);
    if (x > pi) x -= 2.0 * pi;
    if (x < -pi) x += 2.0 * pi;
    if (x < 0.0) x = -x;
    x2 = x * x;
    for (i = 1; i <= 15; i++) {
        term = -term * x2 / (double)((2 * i - 1) * (2 * i));
        sum += term;
    }
    return sum;
}
