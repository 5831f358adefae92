/* The Adam / AdamW step, 256-bit twin for native x86-64 with AVX2 (SIMDe's x86 API). Same
 * bits as elementwise_ref.c: every parameter is independent, each lane runs the scalar
 * twin's operations in its order (mul and add separate: -mavx2 without -mfma), and vsqrtps
 * and vdivps are correctly rounded like sqrtf and '/'. Compiled only when CMake defines
 * LATHE_KERNELS_AVX2 (and adds -mavx2 to this file); empty elsewhere and in wasm. */
#ifdef LATHE_KERNELS_AVX2

#include "lathe/kernels.h"

#include <simde/x86/avx.h>

typedef simde__m256 v256;

/* Eight parameters at a time; the last n % 8 go to the SIMD128 twin (4, then scalar). */
void lathe_f32_adam__avx2(size_t n, float *p, const float *g, float *m, float *v,
                          const lathe_adam_step *s) {
    const v256 b1 = simde_mm256_set1_ps(s->b1), c1 = simde_mm256_set1_ps(s->one_minus_b1);
    const v256 b2 = simde_mm256_set1_ps(s->b2), c2 = simde_mm256_set1_ps(s->one_minus_b2);
    const v256 step = simde_mm256_set1_ps(s->step_size);
    const v256 bias = simde_mm256_set1_ps(s->bias2_sqrt), eps = simde_mm256_set1_ps(s->eps);
    const v256 l2 = simde_mm256_set1_ps(s->l2), decay = simde_mm256_set1_ps(s->decay);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v256 pv = simde_mm256_loadu_ps(p + i), gv = simde_mm256_loadu_ps(g + i), mv, vv, den;
        if (s->decoupled) pv = simde_mm256_mul_ps(pv, decay);
        else if (s->l2 != 0.0f) gv = simde_mm256_add_ps(gv, simde_mm256_mul_ps(l2, pv));
        mv = simde_mm256_add_ps(simde_mm256_mul_ps(b1, simde_mm256_loadu_ps(m + i)),
                                simde_mm256_mul_ps(c1, gv));
        vv = simde_mm256_add_ps(simde_mm256_mul_ps(b2, simde_mm256_loadu_ps(v + i)),
                                simde_mm256_mul_ps(c2, simde_mm256_mul_ps(gv, gv)));
        den = simde_mm256_add_ps(simde_mm256_div_ps(simde_mm256_sqrt_ps(vv), bias), eps);
        simde_mm256_storeu_ps(m + i, mv);
        simde_mm256_storeu_ps(v + i, vv);
        simde_mm256_storeu_ps(
            p + i, simde_mm256_sub_ps(pv, simde_mm256_mul_ps(step, simde_mm256_div_ps(mv, den))));
    }
    lathe_f32_adam__simd128(n - i, p + i, g + i, m + i, v + i, s);
}

#endif
