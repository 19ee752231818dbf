/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), AArch64 NEON without dotprod
 * (Cortex-A53 / A72): bit-identical to ../ek_fully_connected.c (TFLM FullyConnected).
 *
 * The input row is copied into p->scratch zero-padded to p->in_pad (a multiple of 16), weight rows
 * are padded likewise at compile time. SMULL + SMLAL2 + SADALP as in ek_conv2d_neon.c (exact: the
 * code generator picks this kernel only for weights >= -127). in_offset * sum(w) stays folded in
 * bias_fused, as in the portable kernel. The loop is ek_fc_arm.h's, shared with the dotprod tier. */
#include "ek_kernels.h"
#include "ek_fc_arm.h"

#if defined(__aarch64__)
static inline int32x4_t mac16(int32x4_t acc, int8x16_t w, int8x16_t x) {
    return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(x)), w, x));
}

void ek_fully_connected_s8_neon(const ek_fc_params *p, const int8_t *in, const int8_t *w_rows,
                                const int32_t *bias_fused, int8_t *out) {
    ek_fc_rows_arm(p, in, w_rows, bias_fused, out, mac16);
}
#endif
