/* CONV_2D int8, per-channel requantization (TFLM reference_integer_ops::ConvPerChannel).
 * The code generator stores the filter as [k_h][k_w][filter_in_c][out_c] (HWIO) so that the
 * innermost loop runs over a block of output channels: contiguous, vectorisable, and padding
 * taps are simply skipped as TFLM does. */
#include "ek_kernels.h"
#include "ek_quant.h"

#define EK_CONV_BLOCK 64
#define EK_CONV_LANES 16   /* a full block of 16 channels keeps its accumulators in registers */

/* acc[0..16) += w[c][0..16) * (x[c] + in_offset) over one tap's input channels */
static void tap16(int32_t *acc, const int8_t *x, const int8_t *w, int32_t filt_c, int32_t w_stride, int32_t in_offset) {
    int32_t a[EK_CONV_LANES], c, o;
    for (o = 0; o < EK_CONV_LANES; ++o) a[o] = acc[o];
    for (c = 0; c < filt_c; ++c) {
        const int16_t xv = (int16_t)((int32_t)x[c] + in_offset);
        const int8_t *wr = w + (size_t)c * w_stride;
        for (o = 0; o < EK_CONV_LANES; ++o) a[o] += (int16_t)((int16_t)wr[o] * xv);
    }
    for (o = 0; o < EK_CONV_LANES; ++o) acc[o] = a[o];
}

void ek_conv2d_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out) {
    const int32_t filt_c = p->filter_in_c;
    const int32_t groups = p->in_c / filt_c;
    const int32_t oc_per_group = p->out_c / groups;
    int32_t acc[EK_CONV_BLOCK];
    int32_t b, oy, ox, g, o0, fy, fx, c, o;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int8_t *dst = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (g = 0; g < groups; ++g) {
                    for (o0 = g * oc_per_group; o0 < (g + 1) * oc_per_group; o0 += EK_CONV_BLOCK) {
                        const int32_t n = ek_min_i32(EK_CONV_BLOCK, (g + 1) * oc_per_group - o0);
                        for (o = 0; o < n; ++o) acc[o] = 0;
                        for (fy = 0; fy < p->k_h; ++fy) {
                            const int32_t iy = iy0 + fy * p->dil_h;
                            if (iy < 0 || iy >= p->in_h) continue;
                            for (fx = 0; fx < p->k_w; ++fx) {
                                const int32_t ix = ix0 + fx * p->dil_w;
                                const int8_t *x, *wt;
                                if (ix < 0 || ix >= p->in_w) continue;
                                x = in_b + ((size_t)iy * p->in_w + ix) * p->in_c + (size_t)g * filt_c;
                                wt = w + ((size_t)(fy * p->k_w + fx) * filt_c) * p->out_c + o0;
                                for (o = 0; o + EK_CONV_LANES <= n; o += EK_CONV_LANES)
                                    tap16(acc + o, x, wt + o, filt_c, p->out_c, p->in_offset);
                                if (o == n) continue;
                                for (c = 0; c < filt_c; ++c) {
                                    /* |w * (x - zp)| <= 128 * 255 fits int16: lets compilers use 16-bit SIMD multiplies */
                                    const int16_t xv = (int16_t)((int32_t)x[c] + p->in_offset);
                                    const int8_t *wr = wt + (size_t)c * p->out_c;
                                    int32_t r;
                                    for (r = o; r < n; ++r) acc[r] += (int16_t)((int16_t)wr[r] * xv);
                                }
                            }
                        }
                        for (o = 0; o < n; ++o) {
                            const int32_t oc = o0 + o;
                            int32_t v = acc[o] + (bias ? bias[oc] : 0);
                            v = ek_mbqm(v, p->mult[oc], p->shift[oc]) + p->out_offset;
                            dst[oc] = (int8_t)ek_clamp_i32(v, p->act_min, p->act_max);
                        }
                    }
                }
            }
        }
    }
}
