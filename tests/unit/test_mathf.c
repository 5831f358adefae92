/* The core's own transcendental functions (lathe/mathf.h) against libm's double functions,
 * which a test may use. Each float function is swept over (a) every STEP_ALL-th float bit
 * pattern of all 2^32 (with a varying low-bit offset), (b) every STEP_DENSE-th float in
 * [-20, 20] and an even grid of N_GRID points there, and (c) explicit special values. The
 * error is |got - ref| / ulp(float(ref)), computed in double; it must stay <= 2 ulp, and every
 * special value must be exact. The double helpers lathe_exp and lathe_log must stay within
 * 2 double ulp of libm's exp and log.
 *
 * Parity: the test prints "mathf digest: <hex>", a 64-bit FNV-1a hash of the output bits of
 * every function (the double helpers too) on a fixed input set of 2^20 values. No digest is
 * hard-coded: the native and wasm prints are compared by whoever runs both. */
#include "check.h"
#include "lathe/mathf.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* About 38M inputs per function natively (~6 s in all), 15M under node. */
#ifdef __EMSCRIPTEN__
#define STEP_ALL 1024u  /* 2^22 of the 2^32 patterns */
#define STEP_DENSE 256u /* 8.6M floats in [-20, 20] */
#define N_GRID (1u << 21)
#else
#define STEP_ALL 256u /* 2^24 patterns */
#define STEP_DENSE 128u
#define N_GRID (1u << 22)
#endif
#define MAX_ULP 2.0
#define INF_D ((double)INFINITY)

static uint64_t bits64(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double f64(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Double references: libm, and the stable forms of sigmoid and softplus. */
static double ref_sigmoid(double x) {
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

static double ref_softplus(double x) {
    if (x > 0.0) return x + log1p(exp(-x));
    return log1p(exp(x));
}

typedef struct {
    const char *name;
    float (*f)(float);
    double (*ref)(double);
    double max_err; /* float ulps */
    float max_x;
    uint64_t n, n_inexact; /* inputs measured, results not the correctly rounded float */
    uint64_t digest;
} fn_case;

static fn_case cases[] = {
    {"expf", lathe_expf, exp, 0, 0, 0, 0, 0},
    {"logf", lathe_logf, log, 0, 0, 0, 0, 0},
    {"log1pf", lathe_log1pf, log1p, 0, 0, 0, 0, 0},
    {"tanhf", lathe_tanhf, tanh, 0, 0, 0, 0, 0},
    {"sigmoidf", lathe_sigmoidf, ref_sigmoid, 0, 0, 0, 0, 0},
    {"softplusf", lathe_softplusf, ref_softplus, 0, 0, 0, 0, 0},
    {"sqrtf", lathe_sqrtf, sqrt, 0, 0, 0, 0, 0},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The spacing of floats at |y| (for a power of two, the spacing above it). */
static double ulp_of(float y) {
    double a = fabs((double)y);
    if (a < (double)FLT_MIN) return 0x1p-149;
    int e;
    frexp(a, &e); /* a = m 2^e, 0.5 <= m < 1 */
    return ldexp(1.0, e - 24);
}

/* Error of got in float ulps of the correctly rounded reference; INFINITY for a wrong NaN or
 * a wrong infinity. */
static double ulp_err(float got, double ref) {
    if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got) ? 0.0 : INF_D;
    float rf = (float)ref;
    if (isinf(rf) || isinf(got)) return rf == got ? 0.0 : INF_D;
    return fabs((double)got - ref) / ulp_of(rf);
}

static void measure(fn_case *c, float x) {
    float got = c->f(x);
    double ref = c->ref((double)x);
    double err = ulp_err(got, ref);
    c->n++;
    if (!isnan(got) && bits32(got) != bits32((float)ref)) c->n_inexact++;
    if (err > c->max_err) {
        c->max_err = err;
        c->max_x = x;
    }
}

static void sweep_all(fn_case *c) {
    for (uint64_t i = 0; i < (1ull << 32) / STEP_ALL; i++) {
        /* A different low-bit offset in each block, so mantissas are not all round. */
        uint32_t off = (uint32_t)(i * 2654435761u) & (STEP_ALL - 1u);
        measure(c, f32((uint32_t)(i * STEP_ALL) + off));
    }
}

static void sweep_dense(fn_case *c) {
    uint32_t top = bits32(20.0f);
    for (uint32_t b = 0; b <= top; b += STEP_DENSE) {
        measure(c, f32(b));
        measure(c, f32(b | 0x80000000u));
    }
    /* An evenly spaced grid, which the bit-pattern sweep leaves sparse away from 0. */
    for (uint32_t i = 0; i <= N_GRID; i++)
        measure(c, (float)((double)i * (40.0 / (double)N_GRID) - 20.0));
}

/* Special values: got must have exactly the bits of want (any NaN matches any NaN). */
static void expect_bits(const char *name, float got, float want, float x) {
    int ok = isnan(want) ? isnan(got) : bits32(got) == bits32(want);
    CHECK(ok, "%s(%a = %.9g) = %a (bits %08" PRIx32 "), want %a (bits %08" PRIx32 ")", name,
          (double)x, (double)x, (double)got, bits32(got), (double)want, bits32(want));
}

/* A special value whose wanted result is the correctly rounded reference. */
static void expect_rounded(const fn_case *c, float x) {
    expect_bits(c->name, c->f(x), (float)c->ref((double)x), x);
}

static void test_specials(void) {
    const float inf = INFINITY, nan = NAN;
    const float tiny = f32(1u), max_sub = f32(0x007fffffu);
    fn_case *expf_c = &cases[0], *logf_c = &cases[1], *log1pf_c = &cases[2], *tanhf_c = &cases[3],
            *sig_c = &cases[4], *sp_c = &cases[5], *sqrt_c = &cases[6];

    /* Every function: NaN in, NaN out; the smallest and largest magnitudes are correctly
     * rounded. */
    const float common[] = {tiny, -tiny, max_sub, -max_sub, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX,
                            1.0f, -1.0f, 0.5f,    -0.5f,    2.0f,    10.0f,    -10.0f};
    for (size_t i = 0; i < N_CASES; i++) {
        expect_bits(cases[i].name, cases[i].f(nan), nan, nan);
        expect_bits(cases[i].name, cases[i].f(-nan), nan, -nan);
        for (size_t j = 0; j < sizeof common / sizeof common[0]; j++)
            expect_rounded(&cases[i], common[j]);
    }

    /* expf */
    expect_bits("expf", lathe_expf(0.0f), 1.0f, 0.0f);
    expect_bits("expf", lathe_expf(-0.0f), 1.0f, -0.0f);
    expect_bits("expf", lathe_expf(inf), inf, inf);
    expect_bits("expf", lathe_expf(-inf), 0.0f, -inf);
    expect_bits("expf", lathe_expf(1.0f), 2.71828175f, 1.0f);
    /* Overflow: e^x rounds to inf above ln(FLT_MAX + ulp/2) = 88.72283908. The last float
     * below is 0x42b17217 = 88.7228317; the next, 0x42b17218 = 88.7228394 (which is also what
     * the literal 88.72284f rounds to), overflows, as it does with glibc's expf. */
    float ovf = f32(0x42b17217u);
    CHECK(isfinite(lathe_expf(ovf)), "expf(%a) must be finite", (double)ovf);
    CHECK(isinf(lathe_expf(nextafterf(ovf, inf))), "expf(%a) must overflow",
          (double)nextafterf(ovf, inf));
    CHECK(isfinite(lathe_expf(88.72283f)) && isinf(lathe_expf(88.7229f)), "expf overflow edge");
    for (int d = -3; d <= 3; d++)
        expect_rounded(expf_c, f32((uint32_t)((int)0x42b17217 + d)));
    /* Underflow: e^x < 2^-126 below x = -87.34 (subnormal results, not flushed), and e^x
     * rounds to 0 below ln 2^-150 = -103.972077. So e^-103 is a subnormal and e^-104 (which
     * is 2^-150.04) correctly rounds to 0. */
    float sub = lathe_expf(-103.0f);
    CHECK(sub > 0.0f && sub < FLT_MIN, "expf(-103) = %a must be a subnormal", (double)sub);
    sub = lathe_expf(-100.0f);
    CHECK(sub > 0.0f && sub < FLT_MIN, "expf(-100) = %a must be a subnormal", (double)sub);
    expect_rounded(expf_c, -103.0f);
    expect_rounded(expf_c, -104.0f);
    expect_rounded(expf_c, -87.33654f);
    float unf = (float)-103.97207708399179; /* ln 2^-150 */
    for (int d = -3; d <= 3; d++)
        expect_rounded(expf_c, f32((uint32_t)((int)bits32(unf) + d)));
    CHECK(lathe_expf(nextafterf(unf, 0.0f)) == f32(1u) || lathe_expf(unf) == f32(1u),
          "expf near ln 2^-150 must give the smallest subnormal");

    /* logf */
    expect_bits("logf", lathe_logf(0.0f), -inf, 0.0f);
    expect_bits("logf", lathe_logf(-0.0f), -inf, -0.0f);
    expect_bits("logf", lathe_logf(1.0f), 0.0f, 1.0f);
    expect_bits("logf", lathe_logf(-1.0f), nan, -1.0f);
    expect_bits("logf", lathe_logf(-tiny), nan, -tiny);
    expect_bits("logf", lathe_logf(-inf), nan, -inf);
    expect_bits("logf", lathe_logf(inf), inf, inf);
    expect_rounded(logf_c, nextafterf(1.0f, 2.0f));
    expect_rounded(logf_c, nextafterf(1.0f, 0.0f));
    expect_rounded(logf_c, 2.71828175f);

    /* log1pf */
    expect_bits("log1pf", lathe_log1pf(0.0f), 0.0f, 0.0f);
    expect_bits("log1pf", lathe_log1pf(-0.0f), -0.0f, -0.0f);
    expect_bits("log1pf", lathe_log1pf(-1.0f), -inf, -1.0f);
    expect_bits("log1pf", lathe_log1pf(nextafterf(-1.0f, -2.0f)), nan, nextafterf(-1.0f, -2.0f));
    expect_bits("log1pf", lathe_log1pf(-inf), nan, -inf);
    expect_bits("log1pf", lathe_log1pf(inf), inf, inf);
    for (int d = 1; d <= 4; d++)
        expect_rounded(log1pf_c, f32(0xbf800000u - (uint32_t)d));
    expect_rounded(log1pf_c, 0x1p-20f);
    expect_rounded(log1pf_c, -0x1p-20f);
    expect_rounded(log1pf_c, nextafterf(0x1p-20f, 0.0f));
    expect_rounded(log1pf_c, 1e-30f);
    expect_rounded(log1pf_c, -1e-30f);

    /* tanhf */
    expect_bits("tanhf", lathe_tanhf(0.0f), 0.0f, 0.0f);
    expect_bits("tanhf", lathe_tanhf(-0.0f), -0.0f, -0.0f);
    expect_bits("tanhf", lathe_tanhf(inf), 1.0f, inf);
    expect_bits("tanhf", lathe_tanhf(-inf), -1.0f, -inf);
    expect_bits("tanhf", lathe_tanhf(20.0f), 1.0f, 20.0f);
    expect_bits("tanhf", lathe_tanhf(-20.0f), -1.0f, -20.0f);
    expect_bits("tanhf", lathe_tanhf(1000.0f), 1.0f, 1000.0f);
    expect_bits("tanhf", lathe_tanhf(-1000.0f), -1.0f, -1000.0f);
    expect_bits("tanhf", lathe_tanhf(tiny), tiny, tiny);
    expect_bits("tanhf", lathe_tanhf(-tiny), -tiny, -tiny);
    expect_rounded(tanhf_c, 0x1p-12f);
    expect_rounded(tanhf_c, nextafterf(0x1p-12f, 0.0f));
    expect_rounded(tanhf_c, 9.0f);
    expect_rounded(tanhf_c, -9.5f);

    /* sigmoidf */
    expect_bits("sigmoidf", lathe_sigmoidf(0.0f), 0.5f, 0.0f);
    expect_bits("sigmoidf", lathe_sigmoidf(-0.0f), 0.5f, -0.0f);
    expect_bits("sigmoidf", lathe_sigmoidf(1000.0f), 1.0f, 1000.0f);
    expect_bits("sigmoidf", lathe_sigmoidf(-1000.0f), 0.0f, -1000.0f);
    expect_bits("sigmoidf", lathe_sigmoidf(inf), 1.0f, inf);
    expect_bits("sigmoidf", lathe_sigmoidf(-inf), 0.0f, -inf);
    expect_rounded(sig_c, -100.0f);
    expect_rounded(sig_c, -103.0f);
    expect_rounded(sig_c, 17.0f);
    expect_rounded(sig_c, 18.0f);
    CHECK(lathe_sigmoidf(-100.0f) > 0.0f, "sigmoidf(-100) must be a subnormal, not 0");

    /* softplusf */
    expect_bits("softplusf", lathe_softplusf(1000.0f), 1000.0f, 1000.0f);
    expect_bits("softplusf", lathe_softplusf(inf), inf, inf);
    expect_bits("softplusf", lathe_softplusf(-inf), 0.0f, -inf);
    expect_bits("softplusf", lathe_softplusf(0.0f), 0.693147182f, 0.0f);
    float spn = lathe_softplusf(-1000.0f);
    CHECK(spn >= 0.0f && spn < 1e-30f, "softplusf(-1000) = %a must be 0 or tiny", (double)spn);
    expect_rounded(sp_c, -100.0f);
    expect_rounded(sp_c, -30.0f);
    expect_rounded(sp_c, 15.99f);
    expect_rounded(sp_c, 16.0f);
    expect_rounded(sp_c, 88.0f);

    /* sqrtf */
    expect_bits("sqrtf", lathe_sqrtf(0.0f), 0.0f, 0.0f);
    expect_bits("sqrtf", lathe_sqrtf(-0.0f), -0.0f, -0.0f);
    expect_bits("sqrtf", lathe_sqrtf(inf), inf, inf);
    expect_bits("sqrtf", lathe_sqrtf(-inf), nan, -inf);
    expect_bits("sqrtf", lathe_sqrtf(-tiny), nan, -tiny);
    expect_bits("sqrtf", lathe_sqrtf(4.0f), 2.0f, 4.0f);
    expect_rounded(sqrt_c, 2.0f);
}

/* The double helpers, in double ulps against libm. */
static double ulp_err_d(double got, double ref) {
    if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got) ? 0.0 : INF_D;
    if (isinf(ref) || isinf(got)) return ref == got ? 0.0 : INF_D;
    double a = fabs(ref);
    double u = a < DBL_MIN ? 0x1p-1074 : ldexp(1.0, ilogb(a) - 52);
    return fabs(got - ref) / u;
}

static void test_double_helpers(void) {
    double max_exp = 0, max_log = 0, at_exp = 0, at_log = 0;
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (uint32_t i = 0; i < (1u << 20); i++) {
        s = s * 6364136223846793005u + 1442695040888963407u; /* a fixed LCG */
        double u01 = (double)(s >> 11) * 0x1p-53;
        double xe = u01 * 1500.0 - 750.0;
        double ee = ulp_err_d(lathe_exp(xe), exp(xe));
        if (ee > max_exp) max_exp = ee, at_exp = xe;
        /* log over every double exponent: random bits with the sign cleared. */
        double xl = f64((s >> 1) | 1u);
        if (isnan(xl) || isinf(xl)) continue;
        double el = ulp_err_d(lathe_log(xl), log(xl));
        if (el > max_log) max_log = el, at_log = xl;
        double xn = 1.0 + (u01 - 0.5) * 0x1p-10; /* near 1, where ln x is small */
        el = ulp_err_d(lathe_log(xn), log(xn));
        if (el > max_log) max_log = el, at_log = xn;
    }
    printf("  %-10s max %.6f double ulp at %a\n", "exp", max_exp, at_exp);
    printf("  %-10s max %.6f double ulp at %a\n", "log", max_log, at_log);
    CHECK(max_exp <= 2.0, "lathe_exp: %.3f double ulp at %a", max_exp, at_exp);
    CHECK(max_log <= 2.0, "lathe_log: %.3f double ulp at %a", max_log, at_log);

    CHECK(isfinite(lathe_exp(709.78)) && isinf(lathe_exp(709.79)), "lathe_exp overflow edge");
    CHECK(isinf(lathe_exp(INF_D)) && lathe_exp(-INF_D) == 0.0, "lathe_exp(+-inf)");
    CHECK(lathe_exp(-745.0) == 0x1p-1074, "lathe_exp(-745) = %a, want 0x1p-1074",
          lathe_exp(-745.0));
    CHECK(lathe_exp(-746.0) == 0.0 && lathe_exp(0.0) == 1.0, "lathe_exp(-746), lathe_exp(0)");
    CHECK(isnan(lathe_exp((double)NAN)) && isnan(lathe_log((double)NAN)), "NaN propagates");
    CHECK(isnan(lathe_log(-1.0)) && isnan(lathe_log(-INF_D)), "lathe_log(<0) is NaN");
    CHECK(lathe_log(0.0) == -INF_D && lathe_log(-0.0) == -INF_D, "lathe_log(0)");
    CHECK(lathe_log(INF_D) == INF_D && bits64(lathe_log(1.0)) == 0, "lathe_log(inf, 1)");
    CHECK(ulp_err_d(lathe_log(0x1p-1074), log(0x1p-1074)) <= 1.0, "lathe_log(min subnormal)");
    CHECK(ulp_err_d(lathe_log(DBL_MAX), log(DBL_MAX)) <= 1.0, "lathe_log(DBL_MAX)");
}

/* 64-bit FNV-1a over bytes, little-endian. */
static uint64_t fnv1a(uint64_t h, uint64_t v, int nbytes) {
    for (int i = 0; i < nbytes; i++) {
        h ^= (v >> (8 * i)) & 0xffu;
        h *= 0x100000001b3u;
    }
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325u
#define N_DIGEST (1u << 20)

/* Input i of the digest set: half every 8192nd bit pattern (with an offset), half an even
 * grid over [-20, 20]. */
static float digest_input(uint32_t i) {
    if (i < N_DIGEST / 2) return f32(i * 8192u + ((i * 2654435761u) & 8191u));
    uint32_t j = i - N_DIGEST / 2;
    return (float)((double)j * (40.0 / (double)(N_DIGEST / 2)) - 20.0);
}

static void print_digest(void) {
    uint64_t all = FNV_OFFSET;
    for (size_t c = 0; c < N_CASES; c++) {
        uint64_t h = FNV_OFFSET;
        for (uint32_t i = 0; i < N_DIGEST; i++)
            h = fnv1a(h, bits32(cases[c].f(digest_input(i))), 4);
        cases[c].digest = h;
        all = fnv1a(all, h, 8);
    }
    uint64_t he = FNV_OFFSET, hl = FNV_OFFSET;
    for (uint32_t i = 0; i < N_DIGEST; i++) {
        double x = (double)i * (1500.0 / (double)N_DIGEST) - 750.0 + (double)i * 0x1.23456789p-40;
        he = fnv1a(he, bits64(lathe_exp(x)), 8);
        hl = fnv1a(hl, bits64(lathe_log(f64((uint64_t)i * (0x7ff0000000000000u / N_DIGEST) + i))),
                   8);
    }
    all = fnv1a(all, he, 8);
    all = fnv1a(all, hl, 8);
    for (size_t c = 0; c < N_CASES; c++)
        printf("  %-10s digest %016" PRIx64 "\n", cases[c].name, cases[c].digest);
    printf("  %-10s digest %016" PRIx64 "\n", "exp", he);
    printf("  %-10s digest %016" PRIx64 "\n", "log", hl);
    printf("mathf digest: %016" PRIx64 "\n", all);
}

int main(void) {
    test_specials();

    for (size_t c = 0; c < N_CASES; c++) {
        sweep_all(&cases[c]);
        sweep_dense(&cases[c]);
        printf("  %-10s max %.6f ulp at %a (%.9g); %" PRIu64 " of %" PRIu64
               " not correctly rounded\n",
               cases[c].name, cases[c].max_err, (double)cases[c].max_x, (double)cases[c].max_x,
               cases[c].n_inexact, cases[c].n);
        CHECK(cases[c].max_err <= MAX_ULP, "%s: %.4f ulp at %a exceeds %.1f", cases[c].name,
              cases[c].max_err, (double)cases[c].max_x, MAX_ULP);
    }
    test_double_helpers();
    print_digest();
    return check_finish("test_mathf");
}
