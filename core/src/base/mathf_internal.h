/* Constants of the core's scalar transcendentals (mathf.c), shared with their SIMD twins
 * (kernels/transcendental_simd128.c), which must evaluate the same double operations on the
 * same values to give the same bits. Private to the core; see mathf.c for the derivations. */
#ifndef LATHE_MATHF_INTERNAL_H
#define LATHE_MATHF_INTERNAL_H

/* ln 2 = LATHE_LN2_HI + LATHE_LN2_LO. LN2_HI has 31 significant bits, so k*LN2_HI is exact for
 * |k| < 2^22 and x - k*LN2_HI is exact (Sterbenz) when k is the nearest integer to x/ln 2. */
#define LATHE_LN2_HI 0x1.62e42ffp-1
#define LATHE_LN2_LO -0x1.718432a1b0e26p-35
#define LATHE_INV_LN2 0x1.71547652b82fep+0
/* Adding then subtracting 1.5*2^52 rounds a double of magnitude < 2^51 to the nearest integer
 * (ties to even) in IEEE round-to-nearest; the sum's low bits then hold that integer. */
#define LATHE_ROUND_MAGIC 0x1.8p52

/* e^r's Taylor coefficients 1/n!, n = 13 down to 2, rounded to double (exp_kernel). */
#define LATHE_EXP_C13 1.6059043836821613e-10
#define LATHE_EXP_C12 2.08767569878681e-09
#define LATHE_EXP_C11 2.505210838544172e-08
#define LATHE_EXP_C10 2.755731922398589e-07
#define LATHE_EXP_C9 2.7557319223985893e-06
#define LATHE_EXP_C8 2.48015873015873e-05
#define LATHE_EXP_C7 0.0001984126984126984
#define LATHE_EXP_C6 0.001388888888888889
#define LATHE_EXP_C5 0.008333333333333333
#define LATHE_EXP_C4 0.041666666666666664
#define LATHE_EXP_C3 0.16666666666666666
#define LATHE_EXP_C2 0.5

/* lathe_expf: above EXPF_MAX (0x1.62e42ep+6 = 88.7228317, the last float with
 * e^x < FLT_MAX + ulp/2) the result is +inf, below EXPF_MIN it is +0. */
#define LATHE_EXPF_MAX 0x1.62e42ep+6f
#define LATHE_EXPF_MIN -150.0f
/* lathe_sigmoidf: 1 above SIGMOIDF_MAX, +0 below SIGMOIDF_MIN. */
#define LATHE_SIGMOIDF_MAX 40.0f
#define LATHE_SIGMOIDF_MIN -150.0f
/* lathe_tanhf on a = |x|: a Taylor polynomial below TANHF_SMALL, 1 above TANHF_BIG, else
 * 1 - 2/(e^2a + 1). */
#define LATHE_TANHF_SMALL 0x1p-12
#define LATHE_TANHF_BIG 10.0

#endif
