/* The kernel tables: one static const table per ISA, and the choice of the table in use.
 * A new kernel adds a field to lathe_kernel_table (kernels.h) and one entry per table
 * below; designated initialisers keep the entries readable as the tables grow. */
#include "lathe/kernels.h"

static const lathe_kernel_table table_ref = {
    .isa = LATHE_ISA_REF,
    .name = "ref",
    .gemm_nn = lathe_f32_gemm_nn__ref,
    .gemm_nt = lathe_f32_gemm_nt__ref,
    .gemm_tn = lathe_f32_gemm_tn__ref,
    .relu = lathe_f32_relu__ref,
    .relu_backward = lathe_f32_relu_backward__ref,
    .leaky_relu = lathe_f32_leaky_relu__ref,
    .leaky_relu_backward = lathe_f32_leaky_relu_backward__ref,
    .sigmoid_backward = lathe_f32_sigmoid_backward__ref,
    .adam = lathe_f32_adam__ref,
    .tanh_backward = lathe_f32_tanh_backward__ref,
    .colsum = lathe_f32_colsum__ref,
    .exp_each = lathe_f32_exp__ref,
    .sigmoid = lathe_f32_sigmoid__ref,
    .tanh_each = lathe_f32_tanh__ref,
    .softmax = lathe_f32_softmax__ref,
    .log_softmax = lathe_f32_log_softmax__ref,
    .max_pool2d = lathe_f32_max_pool2d__ref,
    .max_pool2d_backward = lathe_f32_max_pool2d_backward__ref,
    .avg_pool2d = lathe_f32_avg_pool2d__ref,
    .avg_pool2d_backward = lathe_f32_avg_pool2d_backward__ref,
    .s16_gemm_nt = lathe_s16_gemm_nt__ref,
    .quantize_s16 = lathe_f32_quantize_s16__ref,
};

/* The simd128 twins of every kernel but GEMM, the integer GEMM and Adam, which the avx2 table
 * replaces. */
#define SIMD128_SHARED_ENTRIES                                                                  \
    .relu = lathe_f32_relu__simd128, .relu_backward = lathe_f32_relu_backward__simd128,         \
    .leaky_relu = lathe_f32_leaky_relu__simd128,                                                \
    .leaky_relu_backward = lathe_f32_leaky_relu_backward__simd128,                              \
    .sigmoid_backward = lathe_f32_sigmoid_backward__simd128,                                    \
    .tanh_backward = lathe_f32_tanh_backward__simd128, .colsum = lathe_f32_colsum__simd128,     \
    .exp_each = lathe_f32_exp__simd128, .sigmoid = lathe_f32_sigmoid__simd128,                  \
    .tanh_each = lathe_f32_tanh__simd128, .softmax = lathe_f32_softmax__simd128,                \
    .log_softmax = lathe_f32_log_softmax__simd128, .max_pool2d = lathe_f32_max_pool2d__simd128, \
    .max_pool2d_backward = lathe_f32_max_pool2d_backward__simd128,                              \
    .avg_pool2d = lathe_f32_avg_pool2d__simd128,                                                \
    .avg_pool2d_backward = lathe_f32_avg_pool2d_backward__simd128,                              \
    .quantize_s16 = lathe_f32_quantize_s16__simd128

static const lathe_kernel_table table_simd128 = {
    .isa = LATHE_ISA_SIMD128,
    .name = "simd128",
    .gemm_nn = lathe_f32_gemm_nn__simd128,
    .gemm_nt = lathe_f32_gemm_nt__simd128,
    .gemm_tn = lathe_f32_gemm_tn__simd128,
    .adam = lathe_f32_adam__simd128,
    .s16_gemm_nt = lathe_s16_gemm_nt__simd128,
    SIMD128_SHARED_ENTRIES,
};

#ifdef LATHE_KERNELS_AVX2
/* simd128 with the 256-bit twins where they pay: GEMM, the integer GEMM and the Adam step. */
static const lathe_kernel_table table_avx2 = {
    .isa = LATHE_ISA_AVX2,
    .name = "avx2",
    .gemm_nn = lathe_f32_gemm_nn__avx2,
    .gemm_nt = lathe_f32_gemm_nt__avx2,
    .gemm_tn = lathe_f32_gemm_tn__avx2,
    .adam = lathe_f32_adam__avx2,
    .s16_gemm_nt = lathe_s16_gemm_nt__avx2,
    SIMD128_SHARED_ENTRIES,
};
#endif

/* The avx2 table when it is compiled in and the CPU (and the OS, which must save the ymm
 * registers: libgcc's check includes it) runs AVX2, else the simd128 table. */
static const lathe_kernel_table *widest_simd_table(void) {
#ifdef LATHE_KERNELS_AVX2
    if (__builtin_cpu_supports("avx2")) return &table_avx2;
#endif
    return &table_simd128;
}

/* The table chosen by lathe_kernels_select; NULL until then, meaning the widest SIMD table.
 * All tables give identical bits, so switching only changes speed. */
static const lathe_kernel_table *table_in_use = NULL;

const lathe_kernel_table *lathe_kernels_for(lathe_isa isa) {
    /* An unknown value (a cast from an integer) gets the reference table, never NULL. */
    switch (isa) {
    case LATHE_ISA_SIMD128:
        return &table_simd128;
    case LATHE_ISA_AVX2:
        return widest_simd_table();
    default:
        return &table_ref;
    }
}

const lathe_kernel_table *lathe_kernels(void) {
    return table_in_use ? table_in_use : widest_simd_table();
}

void lathe_kernels_select(lathe_isa isa) {
    table_in_use = lathe_kernels_for(isa);
}
