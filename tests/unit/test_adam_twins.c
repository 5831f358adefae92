/* The Adam / AdamW step kernel: its scalar twin follows the definition in kernels.h to the
 * bit, and the SIMD128 twin and (when this build has it and the CPU runs AVX2, else a skip
 * note) the avx2 twin agree with it bit for bit on sizes around their 4- and 8-wide tiles
 * (0 to 17, and 1000), for Adam, Adam with L2 weight decay and AdamW, over several steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lathe/kernels.h"

static unsigned long long state = 88172645463325252ull;
static float random_value(void) { /* xorshift64: deterministic values in [-2, 2) */
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return (float)((double)(state >> 11) / 9007199254740992.0 * 4.0 - 2.0);
}

static void definition(size_t n, float *p, const float *g, float *m, float *v, const lathe_adam_step *s) {
    for (size_t i = 0; i < n; i++) {
        float grad = g[i];
        if (s->decoupled) p[i] = p[i] * s->decay;
        else if (s->l2 != 0.0f) grad = grad + s->l2 * p[i];
        m[i] = s->b1 * m[i] + s->one_minus_b1 * grad;
        v[i] = s->b2 * v[i] + s->one_minus_b2 * (grad * grad);
        p[i] = p[i] - s->step_size * (m[i] / (__builtin_sqrtf(v[i]) / s->bias2_sqrt + s->eps));
    }
}

int main(void) {
    const size_t sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17, 1000};
    const lathe_kernel_table *r = lathe_kernels_for(LATHE_ISA_REF), *x = lathe_kernels_for(LATHE_ISA_SIMD128);
    const lathe_kernel_table *w = lathe_kernels_for(LATHE_ISA_AVX2);
    const int wide = w->isa == LATHE_ISA_AVX2; /* else w is x, tested twice */
    if (!wide && check_cpu_has_avx2())
        check_skip_part("test_adam_twins: the avx2 twin", "this CPU has AVX2 but the build lacks it");
    else if (!wide)
        printf("test_adam_twins: no avx2 twin to test (not an x86 CPU with AVX2)\n");
    for (int mode = 0; mode < 3; mode++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k], bytes = (n ? n : 1) * sizeof(float);
            float *p[4], *m[4], *v[4], *g = malloc(bytes);
            lathe_adam_step s = {0.9f, 0.1f, 0.999f, 0.001f, 0.0f, 0.0f, 1e-8f, 0.0f, 1.0f, 0};
            char what[64];
            for (int c = 0; c < 4; c++) p[c] = malloc(bytes), m[c] = calloc(n ? n : 1, 4), v[c] = calloc(n ? n : 1, 4);
            for (size_t i = 0; i < n; i++) p[0][i] = p[1][i] = p[2][i] = p[3][i] = random_value();
            s.decoupled = mode == 2, s.l2 = mode == 1 ? 0.01f : 0.0f, s.decay = mode == 2 ? 1.0f - 0.001f * 0.05f : 1.0f;
            for (unsigned t = 1; t <= 5; t++) {
                for (size_t i = 0; i < n; i++) g[i] = random_value();
                s.step_size = 0.001f / (1.0f - (t == 1 ? 0.9f : 0.9f * (float)t / 10.0f));
                s.bias2_sqrt = __builtin_sqrtf(0.001f * (float)t);
                definition(n, p[0], g, m[0], v[0], &s);
                r->adam(n, p[1], g, m[1], v[1], &s);
                x->adam(n, p[2], g, m[2], v[2], &s);
                w->adam(n, p[3], g, m[3], v[3], &s);
            }
            snprintf(what, sizeof what, "adam mode %d n=%zu ref", mode, n);
            CHECK_SAME_BITS(what, p[1], p[0], n);
            CHECK_SAME_BITS(what, v[1], v[0], n);
            snprintf(what, sizeof what, "adam mode %d n=%zu simd128", mode, n);
            CHECK_SAME_BITS(what, p[2], p[1], n);
            CHECK_SAME_BITS(what, m[2], m[1], n);
            CHECK_SAME_BITS(what, v[2], v[1], n);
            snprintf(what, sizeof what, "adam mode %d n=%zu %s", mode, n, w->name);
            CHECK_SAME_BITS(what, p[3], p[1], n);
            CHECK_SAME_BITS(what, m[3], m[1], n);
            CHECK_SAME_BITS(what, v[3], v[1], n);
            for (int c = 0; c < 4; c++) free(p[c]), free(m[c]), free(v[c]);
            free(g);
        }
    CHECK(r->adam == lathe_f32_adam__ref && x->adam == lathe_f32_adam__simd128, "table entries");
#ifdef LATHE_KERNELS_AVX2
    CHECK(!wide || w->adam == lathe_f32_adam__avx2, "avx2 table entry");
#endif
    return check_finish("test_adam_twins");
}
