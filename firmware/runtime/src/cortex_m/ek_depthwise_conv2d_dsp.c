/* DEPTHWISE_CONV_2D int8, depth multiplier 1, Cortex-M DSP tier (Armv7E-M: M4/M7): bit-identical
 * to ../ek_depthwise_conv2d.c (TFLM DepthwiseConvPerChannel).
 *
 * im2col-free: per output pixel a table of k_h * k_w tap pointers into the input (a padding tap
 * points at a row of zero points in p->scratch). Four channels at a time: one word load of the
 * input gives SXTB16 = (x0, x2) and SXTB16(ROR 8) = (x1, x3); the code generator widens the
 * weights to int16 and packs them [ceil(c/4)][taps][w0 w2 w1 w3], so SMLABB / SMLATT take both
 * operands straight from registers. The accumulators hold sum w * x; in_offset * sum(w) is folded
 * into bias_fold at compile time (padding taps hold zp = -in_offset, so their w * (zp + in_offset)
 * is 0 as in TFLM, which skips them). |sum| <= 128 * 128 * taps fits int32. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

static uint32_t ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);   /* one LDR: Armv7E-M allows unaligned word loads */
    return v;
}

static uint32_t ror8(uint32_t v) { return (v >> 8) | (v << 24); }   /* folded into SXTB16 */

EK_INLINE int8_t requant(const ek_conv_params *p, int32_t acc, int32_t c) {
    return (int8_t)ek_clamp_i32(ek_mbqm_nn32(acc, p->mult[c], p->shift[c]) + p->out_offset, p->act_min, p->act_max);
}

void ek_depthwise_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int16_t *w_packed,
                                const int32_t *bias_fold, int8_t *out) {
    const int32_t ch = p->out_c, taps = p->k_h * p->k_w, ch4 = ch & ~3;
    int8_t *const zrow = (int8_t *)(void *)p->scratch;   /* ch bytes of the input zero point */
    const int8_t *tap[EK_DW_DSP_MAX_TAPS];
    int32_t b, oy, ox, fy, fx, c, t;
    memset(zrow, (int8_t)(-p->in_offset), (size_t)ch);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * ch;
        int8_t *o = out + (size_t)b * p->out_h * p->out_w * ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox, o += ch) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
                for (fy = 0, t = 0; fy < p->k_h; ++fy) {
                    const int32_t iy = iy0 + fy * p->dil_h;
                    for (fx = 0; fx < p->k_w; ++fx, ++t) {
                        const int32_t ix = ix0 + fx * p->dil_w;
                        tap[t] = (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
                                     ? zrow : in_b + ((size_t)iy * p->in_w + ix) * ch;
                    }
                }
                for (c = 0; c < ch4; c += 4) {
                    const int16_t *wk = w_packed + (size_t)c * taps;
                    int32_t a0 = bias_fold[c], a1 = bias_fold[c + 1], a2 = bias_fold[c + 2], a3 = bias_fold[c + 3];
                    for (t = 0; t < taps; ++t, wk += 4) {
                        const uint32_t x = ld32(tap[t] + c);
                        const int32_t xe = (int32_t)__sxtb16(x), xo = (int32_t)__sxtb16(ror8(x));
                        const int32_t w02 = (int32_t)ld32(wk), w13 = (int32_t)ld32(wk + 2);
                        a0 = __smlabb(w02, xe, a0);
                        a2 = __smlatt(w02, xe, a2);
                        a1 = __smlabb(w13, xo, a1);
                        a3 = __smlatt(w13, xo, a3);
                    }
                    o[c] = requant(p, a0, c);
                    o[c + 1] = requant(p, a1, c + 1);
                    o[c + 2] = requant(p, a2, c + 2);
                    o[c + 3] = requant(p, a3, c + 3);
                }
                for (; c < ch; ++c) {   /* last ch % 4 channels: their slots in the final packed group */
                    static const int8_t slot[4] = {0, 2, 1, 3};
                    const int16_t *wk = w_packed + (size_t)ch4 * taps + slot[c & 3];
                    int32_t a = bias_fold[c];
                    for (t = 0; t < taps; ++t, wk += 4) a += (int32_t)*wk * tap[t][c];
                    o[c] = requant(p, a, c);
                }
            }
        }
    }
}
#endif
