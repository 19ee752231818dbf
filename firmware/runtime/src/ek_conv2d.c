/* CONV_2D int8, per-channel requantization (TFLM reference_integer_ops::ConvPerChannel).
 * The code generator stores the filter as [k_h][k_w][filter_in_c][out_c] (HWIO) so that the
 * innermost loop runs over a block of output channels: contiguous, vectorisable, and padding
 * taps are simply skipped as TFLM does. When a filter row lies fully inside the input (no
 * groups, no dilation) its k_w taps are one contiguous run of k_w*in_c values. */
#include "ek_kernels.h"
#include "ek_quant.h"

#define EK_CONV_BLOCK 64

/* |w * (x - zp)| <= 128 * 255 fits int16: lets compilers use 16-bit SIMD multiplies. */
#define EK_TAP(N)                                                                                   \
    static void tap##N(int32_t *acc, const int8_t *x, const int8_t *w, int32_t len, int32_t w_stride, \
                       int32_t in_offset) {                                                         \
        int32_t a[N], c, o;                                                                         \
        for (o = 0; o < N; ++o) a[o] = acc[o];                                                      \
        for (c = 0; c < len; ++c) {                                                                 \
            const int16_t xv = (int16_t)((int32_t)x[c] + in_offset);                                \
            const int8_t *wr = w + (size_t)c * w_stride;                                            \
            for (o = 0; o < N; ++o) a[o] += (int16_t)((int16_t)wr[o] * xv);                         \
        }                                                                                           \
        for (o = 0; o < N; ++o) acc[o] = a[o];                                                      \
    }
EK_TAP(16)
EK_TAP(8)

/* acc[0..n) += sum over `len` consecutive (tap, channel) rows of w[row][o] * (x[row] + in_offset) */
static void taps(int32_t *acc, int32_t n, const int8_t *x, const int8_t *w, int32_t len, int32_t w_stride,
                 int32_t in_offset) {
    int32_t o = 0, c, r;
    for (; o + 16 <= n; o += 16) tap16(acc + o, x, w + o, len, w_stride, in_offset);
    for (; o + 8 <= n; o += 8) tap8(acc + o, x, w + o, len, w_stride, in_offset);
    if (o == n) return;
    for (c = 0; c < len; ++c) {
        const int16_t xv = (int16_t)((int32_t)x[c] + in_offset);
        const int8_t *wr = w + (size_t)c * w_stride;
        for (r = o; r < n; ++r) acc[r] += (int16_t)((int16_t)wr[r] * xv);
    }
}

void ek_conv2d_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out) {
    const int32_t filt_c = p->filter_in_c;
    const int32_t groups = p->in_c / filt_c;
    const int32_t oc_per_group = p->out_c / groups;
    int32_t acc[EK_CONV_BLOCK];
    int32_t b, oy, ox, g, o0, fy, fx, o;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int row_inside = groups == 1 && p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
                int8_t *dst = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (g = 0; g < groups; ++g) {
                    for (o0 = g * oc_per_group; o0 < (g + 1) * oc_per_group; o0 += EK_CONV_BLOCK) {
                        const int32_t n = ek_min_i32(EK_CONV_BLOCK, (g + 1) * oc_per_group - o0);
                        for (o = 0; o < n; ++o) acc[o] = 0;
                        for (fy = 0; fy < p->k_h; ++fy) {
                            const int32_t iy = iy0 + fy * p->dil_h;
                            const int8_t *wrow = w + (size_t)fy * p->k_w * filt_c * p->out_c + o0;
                            if (iy < 0 || iy >= p->in_h) continue;
                            if (row_inside) {
                                taps(acc, n, in_b + ((size_t)iy * p->in_w + ix0) * p->in_c, wrow,
                                     p->k_w * filt_c, p->out_c, p->in_offset);
                                continue;
                            }
                            for (fx = 0; fx < p->k_w; ++fx) {
                                const int32_t ix = ix0 + fx * p->dil_w;
                                if (ix < 0 || ix >= p->in_w) continue;
                                taps(acc, n, in_b + ((size_t)iy * p->in_w + ix) * p->in_c + (size_t)g * filt_c,
                                     wrow + (size_t)fx * filt_c * p->out_c, filt_c, p->out_c, p->in_offset);
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
