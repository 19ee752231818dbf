/* CONV_2D int8, per-channel requantization (TFLM reference_integer_ops::ConvPerChannel).
 * Fast path: a window fully inside the input with dilation 1 is a dot product over contiguous
 * rows of k_w*in_c values; the input offset is folded in through the precomputed weight sums. */
#include "ek_kernels.h"
#include "ek_quant.h"

static int32_t dot_s8(const int8_t *a, const int8_t *b, int32_t n) {
    int32_t acc = 0, i;
    for (i = 0; i < n; ++i) acc += (int32_t)a[i] * (int32_t)b[i];
    return acc;
}

void ek_conv2d_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out) {
    const int32_t groups = p->in_c / p->filter_in_c;
    const int32_t filt_c = p->filter_in_c;
    const int32_t oc_per_group = p->out_c / groups;
    const int32_t row = p->k_w * filt_c;
    int32_t b, oy, ox, oc, fy, fx, c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int inside = p->wsum && groups == 1 && p->dil_h == 1 && p->dil_w == 1 && iy0 >= 0 && ix0 >= 0
                                   && iy0 + p->k_h <= p->in_h && ix0 + p->k_w <= p->in_w;
                int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int8_t *wf = w + (size_t)oc * p->k_h * row;
                    const int32_t g = oc / oc_per_group;
                    int32_t acc = 0;
                    if (inside) {
                        for (fy = 0; fy < p->k_h; ++fy)
                            acc += dot_s8(wf + fy * row, in_b + ((size_t)(iy0 + fy) * p->in_w + ix0) * p->in_c, row);
                        acc += p->in_offset * p->wsum[oc];
                    } else {
                        for (fy = 0; fy < p->k_h; ++fy) {
                            const int32_t iy = iy0 + fy * p->dil_h;
                            if (iy < 0 || iy >= p->in_h) continue;
                            for (fx = 0; fx < p->k_w; ++fx) {
                                const int32_t ix = ix0 + fx * p->dil_w;
                                const int8_t *x, *wk;
                                if (ix < 0 || ix >= p->in_w) continue;
                                x = in_b + ((size_t)iy * p->in_w + ix) * p->in_c + g * filt_c;
                                wk = wf + (fy * p->k_w + fx) * filt_c;
                                for (c = 0; c < filt_c; ++c) acc += (int32_t)wk[c] * ((int32_t)x[c] + p->in_offset);
                            }
                        }
                    }
                    if (bias) acc += bias[oc];
                    acc = ek_mbqm(acc, p->mult[oc], p->shift[oc]) + p->out_offset;
                    o[oc] = (int8_t)ek_clamp_i32(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
