/* DEPTHWISE_CONV_2D int8, depth multiplier 1, Cortex-M DSP tier (Armv7E-M: M4/M7): bit-identical
 * to ../ek_depthwise_conv2d.c (TFLM DepthwiseConvPerChannel).
 *
 * im2col-free: per output pixel a table of k_h * k_w tap pointers into the input (a padding tap
 * points at a row of zero points in p->scratch). Four channels at a time: one word load of the
 * input gives SXTB16 = (x0, x2) and SXTB16 ROR 8 = (x1, x3); the code generator widens the
 * weights to int16 and packs them [ceil(c/4)][taps][w0 w2 w1 w3], so SMLABB / SMLATT take both
 * operands straight from registers. The accumulators hold sum w * x; in_offset * sum(w) is folded
 * into bias_fold at compile time (padding taps hold zp = -in_offset, so their w * (zp + in_offset)
 * is 0 as in TFLM, which skips them). |sum| <= 128 * 128 * taps fits int32. The 3x3 case (most
 * depthwise layers) gets its own fully unrolled tap loop. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

#include "ek_dsp_m.h"

typedef struct {
    int32_t a[4];
} acc4;

/* sum over taps of 4 channels at byte offset c, each tap's 4 weights at w + 4 * t */
#define EK_DW_MAC4(t)                                                                     \
    do {                                                                                  \
        const uint32_t x_ = ld32(tap[t] + c);                                             \
        const int32_t xe_ = (int32_t)__sxtb16(x_), xo_ = (int32_t)sxtb16_ror8(x_);        \
        const int32_t w02_ = (int32_t)ld32(w + 4 * (t)), w13_ = (int32_t)ld32(w + 4 * (t) + 2); \
        a0 = __smlabb(w02_, xe_, a0);                                                     \
        a2 = __smlatt(w02_, xe_, a2);                                                     \
        a1 = __smlabb(w13_, xo_, a1);                                                     \
        a3 = __smlatt(w13_, xo_, a3);                                                     \
    } while (0)

static acc4 mac_3x3(const int8_t *const *tap, int32_t c, const int16_t *w, const int32_t *bias) {
    int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3], t;
    acc4 r;
#pragma GCC unroll 9
    for (t = 0; t < 9; ++t) EK_DW_MAC4(t);
    r.a[0] = a0, r.a[1] = a1, r.a[2] = a2, r.a[3] = a3;
    return r;
}

static acc4 mac_any(const int8_t *const *tap, int32_t c, const int16_t *w, int32_t taps, const int32_t *bias) {
    int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3], t;
    acc4 r;
    for (t = 0; t < taps; ++t) EK_DW_MAC4(t);
    r.a[0] = a0, r.a[1] = a1, r.a[2] = a2, r.a[3] = a3;
    return r;
}

void ek_depthwise_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int16_t *w_packed,
                                const int32_t *bias_fold, int8_t *out) {
    /* locals, not p->...: the int8 output stores could alias *p and force reloads */
    const int32_t ch = p->out_c, taps = p->k_h * p->k_w, ch4 = ch & ~3;
    const int32_t out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    const int32_t *const mult = p->mult, *const shift = p->shift;
    int8_t *const zrow = (int8_t *)(void *)p->scratch;   /* ch bytes of the input zero point */
    const int8_t *tap[EK_DW_DSP_MAX_TAPS];
    int32_t b, oy, ox, fy, fx, c, t, j;
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    int32_t off[EK_DW_DSP_MAX_TAPS];   /* tap offsets from the window's top-left input pixel */
    memset(zrow, (int8_t)(-p->in_offset), (size_t)ch);
    for (fy = 0, t = 0; fy < p->k_h; ++fy)
        for (fx = 0; fx < p->k_w; ++fx, ++t) off[t] = (fy * p->dil_h * p->in_w + fx * p->dil_w) * ch;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * ch;
        int8_t *o = out + (size_t)b * p->out_h * p->out_w * ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox, o += ch) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
                if (iy0 >= 0 && iy0 + span_h < p->in_h && ix0 >= 0 && ix0 + span_w < p->in_w) {
                    const int8_t *base = in_b + ((size_t)iy0 * p->in_w + ix0) * ch;   /* no padding tap */
                    for (t = 0; t < taps; ++t) tap[t] = base + off[t];
                } else {
                    for (fy = 0, t = 0; fy < p->k_h; ++fy) {
                        const int32_t iy = iy0 + fy * p->dil_h;
                        for (fx = 0; fx < p->k_w; ++fx, ++t) {
                            const int32_t ix = ix0 + fx * p->dil_w;
                            tap[t] = (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
                                         ? zrow : in_b + ((size_t)iy * p->in_w + ix) * ch;
                        }
                    }
                }
                for (c = 0; c < ch4; c += 4) {
                    const int16_t *wk = w_packed + (size_t)c * taps;
                    const acc4 s = taps == 9 ? mac_3x3(tap, c, wk, bias_fold + c) : mac_any(tap, c, wk, taps, bias_fold + c);
                    for (j = 0; j < 4; ++j)
                        o[c + j] = (int8_t)ek_clamp_i32(ek_mbqm_nn32(s.a[j], mult[c + j], shift[c + j]) + out_offset, lo, hi);
                }
                for (; c < ch; ++c) {   /* last ch % 4 channels: their slots in the final packed group */
                    static const int8_t slot[4] = {0, 2, 1, 3};
                    const int16_t *wk = w_packed + (size_t)ch4 * taps + slot[c & 3];
                    int32_t a = bias_fold[c];
                    for (t = 0; t < taps; ++t, wk += 4) a += (int32_t)*wk * tap[t][c];
                    o[c] = (int8_t)ek_clamp_i32(ek_mbqm_nn32(a, mult[c], shift[c]) + out_offset, lo, hi);
                }
            }
        }
    }
}
#endif
