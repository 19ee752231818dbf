/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), AArch64 NEON dotprod tier (SDOT,
 * Armv8.2-A, e.g. Cortex-A76): bit-identical to ../ek_fully_connected.c (TFLM FullyConnected).
 *
 * The loop of ek_fc_arm.h (shared with ek_fully_connected_neon.c), with one SDOT per 16 products
 * and no weight-range condition. in_offset * sum(w) stays folded in bias_fused. */
#include "ek_kernels.h"
#include "ek_fc_arm.h"

#if defined(__aarch64__)
#if !defined(__ARM_FEATURE_DOTPROD)
#error "ek_fully_connected_dotprod.c needs SDOT: build with -mcpu=cortex-a76 or -march=armv8.2-a+dotprod"
#endif
static inline int32x4_t sdot16(int32x4_t acc, int8x16_t w, int8x16_t x) {
    return vdotq_s32(acc, w, x);
}

void ek_fully_connected_s8_dotprod(const ek_fc_params *p, const int8_t *in, const int8_t *w_rows,
                                   const int32_t *bias_fused, int8_t *out) {
    ek_fc_rows_arm(p, in, w_rows, bias_fused, out, sdot16);
}
#endif
