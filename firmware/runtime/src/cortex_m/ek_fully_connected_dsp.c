/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), Cortex-M DSP tier (SMLAD):
 * bit-identical to ../ek_fully_connected.c (TFLM FullyConnected / PerChannel).
 *
 * The input row is widened once into p->scratch (int16, zero past in_depth); the code generator
 * pads each weight row to p->in_pad (a multiple of 4) and stores each group of 4 bytes as
 * w0 w2 w1 w3, so SXTB16 / SXTB16(ROR 8) give the halfword pairs (w0, w1), (w2, w3): two rows
 * share each input load. The in_offset term stays folded in bias_fused, as in the portable kernel. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

static uint32_t ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint32_t ror8(uint32_t v) { return (v >> 8) | (v << 24); }

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
        for (o = 0; o < n_out; o += 2) {
            const int two = o + 1 < n_out;
            const int8_t *wa = w_packed + (size_t)o * len, *wb = two ? wa + len : wa;
            int32_t a0 = 0, a1 = 0;
            for (k = 0; k < len; k += 4) {
                const uint32_t ua = ld32(wa + k), ub = ld32(wb + k);
                const int16x2_t x0 = (int16x2_t)ld32(x + k), x1 = (int16x2_t)ld32(x + k + 2);
                a0 = __smlad(__sxtb16(ua), x0, a0); a0 = __smlad(__sxtb16(ror8(ua)), x1, a0);
                a1 = __smlad(__sxtb16(ub), x0, a1); a1 = __smlad(__sxtb16(ror8(ub)), x1, a1);
            }
            y[o] = requant(p, ek_wadd(a0, bias_fused[o]), o);
            if (two) y[o + 1] = requant(p, ek_wadd(a1, bias_fused[o + 1]), o + 1);
        }
    }
}
#endif
