/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), Cortex-M DSP tier (SMLAD):
 * bit-identical to ../ek_fully_connected.c (TFLM FullyConnected / PerChannel).
 *
 * The input row is widened once into p->scratch (int16, zero past in_depth); the code generator
 * pads each weight row to p->in_pad (a multiple of 4) and stores each group of 4 bytes as
 * w0 w2 w1 w3, so SXTB16 / SXTB16(ROR 8) give the halfword pairs (w0, w1), (w2, w3): four rows
 * share each input load. The in_offset term stays folded in bias_fused, as in the portable kernel;
 * bias_fused starts the accumulators (SMLAD's accumulate wraps like the int32 add it replaces). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

#include "ek_dsp_m.h"

/* acc + row . x over len (a multiple of 4) for one packed weight row */
EK_INLINE int32_t dot(const int8_t *w, const int16_t *x, int32_t len, int32_t acc) {
    int32_t k;
    for (k = 0; k < len; k += 4) {
        const uint32_t u = ld32(w + k);
        acc = __smlad((int16x2_t)__sxtb16(u), (int16x2_t)ld32(x + k), acc);
        acc = __smlad((int16x2_t)sxtb16_ror8(u), (int16x2_t)ld32(x + k + 2), acc);
    }
    return acc;
}

EK_INLINE int8_t requant(const ek_fc_params *p, int32_t acc, int32_t o) {
    const int32_t ch = p->per_channel ? o : 0;
    return (int8_t)ek_clamp_i32(ek_mbqm_nn32(acc, p->mult[ch], p->shift[ch]) + p->out_offset, p->act_min, p->act_max);
}

void ek_fully_connected_s8_dsp(const ek_fc_params *p, const int8_t *in, const int8_t *w_packed,
                               const int32_t *bias_fused, int8_t *out) {
    const int32_t n_in = p->in_depth, len = p->in_pad, n_out = p->out_depth;
    int16_t *x = p->scratch;
    int32_t b, i, o, k;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *xb = in + (size_t)b * n_in;
        int8_t *y = out + (size_t)b * n_out;
        for (i = 0; i < n_in; ++i) x[i] = xb[i];
        for (; i < len; ++i) x[i] = 0;
        for (o = 0; o + 4 <= n_out; o += 4) {   /* four rows share each input load */
            const int8_t *w0 = w_packed + (size_t)o * len;
            int32_t a0 = bias_fused[o], a1 = bias_fused[o + 1], a2 = bias_fused[o + 2], a3 = bias_fused[o + 3];
            for (k = 0; k < len; k += 4) {
                const int16x2_t x0 = (int16x2_t)ld32(x + k), x1 = (int16x2_t)ld32(x + k + 2);
                const uint32_t u0 = ld32(w0 + k), u1 = ld32(w0 + len + k);
                const uint32_t u2 = ld32(w0 + 2 * len + k), u3 = ld32(w0 + 3 * len + k);
                a0 = __smlad((int16x2_t)__sxtb16(u0), x0, a0); a0 = __smlad((int16x2_t)sxtb16_ror8(u0), x1, a0);
                a1 = __smlad((int16x2_t)__sxtb16(u1), x0, a1); a1 = __smlad((int16x2_t)sxtb16_ror8(u1), x1, a1);
                a2 = __smlad((int16x2_t)__sxtb16(u2), x0, a2); a2 = __smlad((int16x2_t)sxtb16_ror8(u2), x1, a2);
                a3 = __smlad((int16x2_t)__sxtb16(u3), x0, a3); a3 = __smlad((int16x2_t)sxtb16_ror8(u3), x1, a3);
            }
            y[o] = requant(p, a0, o);
            y[o + 1] = requant(p, a1, o + 1);
            y[o + 2] = requant(p, a2, o + 2);
            y[o + 3] = requant(p, a3, o + 3);
        }
        for (; o < n_out; ++o) y[o] = requant(p, dot(w_packed + (size_t)o * len, x, len, bias_fused[o]), o);
    }
}
#endif
