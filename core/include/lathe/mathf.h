/* The core's own transcendental functions. No libm transcendental is used anywhere in the
 * core: glibc and Emscripten's libc differ in the last bit, and parity needs every target to
 * produce the same bits. Each function uses only IEEE-754 +, -, *, /, sqrt and conversions in
 * a fixed order (no FMA), so it gives identical results natively and in wasm.
 * Accuracy: within 2 ulp of the correctly rounded result over the whole float range (the
 * contract); in practice each float function evaluates in double and rounds once, so it is
 * below 0.501 ulp and was correctly rounded on every input tests/unit/test_mathf.c sweeps.
 * A NaN argument comes back unchanged; an invalid operation returns the quiet NaN 0x7fc00000. */
#ifndef LATHE_MATHF_H
#define LATHE_MATHF_H

float lathe_expf(float x);      /* e^x; x > 88.7228317 -> +inf; subnormal results are kept,
                                   x < -103.972 -> 0 (as correctly rounded) */
float lathe_logf(float x);      /* ln x; 0 -> -inf, x < 0 -> NaN, +inf -> +inf */
float lathe_log1pf(float x);    /* ln(1 + x), accurate near 0; -1 -> -inf, x < -1 -> NaN */
float lathe_tanhf(float x);     /* tanh x; ±large -> ±1, keeps the sign of zero */
float lathe_sigmoidf(float x);  /* 1 / (1 + e^-x), never NaN for non-NaN x */
float lathe_softplusf(float x); /* ln(1 + e^x), safe for large |x| */
float lathe_sqrtf(float x);     /* hardware sqrt: correctly rounded on every target */

double lathe_exp(double x); /* double e^x used by the above; ~1 ulp in double */
double lathe_log(double x); /* double ln x used by the above; ~1 ulp in double */

/* sin x in double by the core's own series: reduced to
 * [-π, π], then to [-π/2, π/2] by sin(π − x) = sin x, then the Taylor series to x^31.
 * Within 1e-15 of libm on |x| ≤ 100; identical on every target. */
double lathe_sin(double x);

/* cos x in double by range reduction and a Taylor series (error < 1e-15 for |x| < 2^20). */
double lathe_cos(double x);

#endif
