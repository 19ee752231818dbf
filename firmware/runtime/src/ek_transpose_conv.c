/* TRANSPOSE_CONV int8 (TFLM reference_integer_ops::TransposeConv): every input pixel scatters
 * its contribution over the output window into an int32 accumulator the size of the output
 * (static, from the generated code), then bias, per-channel requantization and clamp. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_transpose_conv_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                          int32_t *acc, int8_t *out) {
    const size_t total = (size_t)p->batches * p->out_h * p->out_w * p->out_c;
    int32_t b, iy, ix, ic, ky, kx, oc;
    size_t i;
    for (i = 0; i < total; ++i) acc[i] = 0;
    for (b = 0; b < p->batches; ++b)
        for (iy = 0; iy < p->in_h; ++iy)
            for (ix = 0; ix < p->in_w; ++ix)
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t oy = iy * p->stride_h - p->pad_h + ky;
                    if (oy < 0 || oy >= p->out_h) continue;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ox = ix * p->stride_w - p->pad_w + kx;
                        const int8_t *x;
                        int32_t *a;
                        if (ox < 0 || ox >= p->out_w) continue;
                        x = in + (((size_t)b * p->in_h + iy) * p->in_w + ix) * p->in_c;
                        a = acc + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                        for (oc = 0; oc < p->out_c; ++oc) {
                            /* filter OHWI */
                            const int8_t *f = w + (((size_t)oc * p->k_h + ky) * p->k_w + kx) * p->in_c;
                            int32_t s = 0;
                            for (ic = 0; ic < p->in_c; ++ic) s += ((int32_t)x[ic] + p->in_offset) * f[ic];
                            a[oc] += s;
                        }
                    }
                }
    for (i = 0; i < total; ++i) {
        const int32_t oc2 = (int32_t)(i % (size_t)p->out_c);
        int32_t v = acc[i] + (bias ? bias[oc2] : 0);
        v = ek_mbqm(v, p->mult[oc2], p->shift[oc2]) + p->out_offset;
        out[i] = (int8_t)ek_clamp_i32(v, p->act_min, p->act_max);
    }
}
