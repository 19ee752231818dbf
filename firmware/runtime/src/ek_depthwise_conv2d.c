/* DEPTHWISE_CONV_2D int8, per-channel (TFLM reference_integer_ops::DepthwiseConvPerChannel).
 * Accumulates a block of output channels at once so the channel loop is contiguous. */
#include "ek_kernels.h"
#include "ek_quant.h"

#define EK_DW_BLOCK 64

void ek_depthwise_conv2d_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out) {
    /* locals, not p->...: stores to acc / out could alias *p, which would stop vectorisation */
    const int32_t m = p->depth_mult, in_offset = p->in_offset, out_offset = p->out_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *mult = p->mult, *shift = p->shift;
    int32_t acc[EK_DW_BLOCK];
    int32_t b, oy, ox, c0, fy, fx, c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (c0 = 0; c0 < p->out_c; c0 += EK_DW_BLOCK) {
                    const int32_t n = p->out_c - c0 < EK_DW_BLOCK ? p->out_c - c0 : EK_DW_BLOCK;
                    for (c = 0; c < n; ++c) acc[c] = 0;
                    for (fy = 0; fy < p->k_h; ++fy) {
                        const int32_t iy = iy0 + fy * p->dil_h;
                        if (iy < 0 || iy >= p->in_h) continue;
                        for (fx = 0; fx < p->k_w; ++fx) {
                            const int32_t ix = ix0 + fx * p->dil_w;
                            const int8_t *x, *wk;
                            if (ix < 0 || ix >= p->in_w) continue;
                            x = in_b + ((size_t)iy * p->in_w + ix) * p->in_c;
                            wk = w + (size_t)(fy * p->k_w + fx) * p->out_c + c0;
                            if (m == 1) {
                                const int8_t *xc = x + c0;
                                /* |w * (x + in_offset)| <= 128 * 255 fits int16 */
                                for (c = 0; c < n; ++c) acc[c] += (int16_t)((int16_t)wk[c] * (int16_t)(xc[c] + in_offset));
                            } else {
                                for (c = 0; c < n; ++c) acc[c] += (int32_t)wk[c] * ((int32_t)x[(c0 + c) / m] + in_offset);
                            }
                        }
                    }
                    for (c = 0; c < n; ++c) {
                        const int32_t oc = c0 + c;
                        int32_t v = acc[c] + (bias ? bias[oc] : 0);
                        v = ek_mbqm_nn(v, mult[oc], shift[oc]) + out_offset;
                        o[oc] = (int8_t)ek_clamp_i32(v, lo, hi);
                    }
                }
            }
        }
    }
}
