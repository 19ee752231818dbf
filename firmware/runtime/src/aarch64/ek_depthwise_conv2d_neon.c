/* DEPTHWISE_CONV_2D int8, depth multiplier 1, AArch64 NEON (Armv8.0-A and later; the dotprod tier
 * uses it too: SDOT sums 4 products into one lane, a depthwise channel has no such 4 in a row
 * without an interleave that costs as much as it saves). Bit-identical to ../ek_depthwise_conv2d.c.
 *
 * im2col-free: per output pixel a table of tap pointers into the input, a padding tap pointing at
 * a row of zero points (p->scratch), and in_offset * sum(w) folded into bias_fold by the code
 * generator, so the loop is sum w * x. 16 channels at a time: SMULL / SMULL2 (int8 -> int16, one
 * product per lane: exact for any weight) and SADDW / SADDW2 into 4 int32x4 accumulators. Weights
 * stay in TFLite's 1HWO layout ([tap][channel]), which is already contiguous per tap. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

static inline int32x4_t addw_lo(int32x4_t a, int16x8_t s) { return vaddw_s16(a, vget_low_s16(s)); }

void ek_depthwise_conv2d_s8_neon(const ek_conv_params *p, const int8_t *in, const int8_t *w,
                                 const int32_t *bias_fold, int8_t *out) {
    const int32_t ch = p->out_c, taps = p->k_h * p->k_w, ch16 = ch & ~15;
    const int32_t out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    int8_t *const zrow = (int8_t *)(void *)p->scratch;   /* ch bytes of the input zero point */
    const int8_t *tap[EK_DW_NEON_MAX_TAPS];
    int32_t acc[16];
    int32_t b, oy, ox, fy, fx, c, t, j;
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
                for (c = 0; c < ch; c += 16) {
                    const int32_t n = ek_min_i32(16, ch - c);
                    if (c < ch16) {
                        int32x4_t a0 = vld1q_s32(bias_fold + c), a1 = vld1q_s32(bias_fold + c + 4);
                        int32x4_t a2 = vld1q_s32(bias_fold + c + 8), a3 = vld1q_s32(bias_fold + c + 12);
                        for (t = 0; t < taps; ++t) {
                            const int8x16_t x = vld1q_s8(tap[t] + c), wk = vld1q_s8(w + (size_t)t * ch + c);
                            const int16x8_t s0 = vmull_s8(vget_low_s8(wk), vget_low_s8(x)), s1 = vmull_high_s8(wk, x);
                            a0 = addw_lo(a0, s0);
                            a1 = vaddw_high_s16(a1, s0);
                            a2 = addw_lo(a2, s1);
                            a3 = vaddw_high_s16(a3, s1);
                        }
                        vst1q_s32(acc, a0);
                        vst1q_s32(acc + 4, a1);
                        vst1q_s32(acc + 8, a2);
                        vst1q_s32(acc + 12, a3);
                    } else {   /* the last ch % 16 channels, without reading past a pixel */
                        for (j = 0; j < n; ++j) acc[j] = bias_fold[c + j];
                        for (t = 0; t < taps; ++t)
                            for (j = 0; j < n; ++j) acc[j] += (int32_t)w[(size_t)t * ch + c + j] * tap[t][c + j];
                    }
                    for (j = 0; j < n; ++j)
                        o[c + j] = (int8_t)ek_clamp_i32(ek_mbqm_nn(acc[j], p->mult[c + j], p->shift[c + j]) + out_offset, lo, hi);
                }
            }
        }
    }
}
#endif
