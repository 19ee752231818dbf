/* CONV_2D int8, per-channel requantization (TFLM reference_integer_ops::ConvPerChannel).
 *
 * im2col + dot products. For two output pixels at a time, each pixel's input window is copied
 * into p->scratch as int16 (x + in_offset; padding taps as 0, which is exactly TFLM skipping
 * them), then every output channel is a dot product of that patch with the channel's filter
 * row. The code generator stores the filter OHWI with each row zero-padded to p->k_len (a
 * multiple of 16), so the dot loop has no scalar tail. int16 x int16 -> int32 sums are the
 * pattern compilers turn into pmaddwd / vpdpwssd (x86), smlal/sdot-like NEON sequences, or
 * SMLAD on Cortex-M. The 2 pixels x 4 channels block reuses each loaded weight twice and each
 * patch value four times. |w * (x + in_offset)| <= 128 * 255, and a row sum of up to 65536
 * such products fits int32 (the code generator checks k_len).
 *
 * Raster order is kept (ek_kernels.h): a pair's windows are read before either pixel is written. */
#include "ek_kernels.h"
#include "ek_quant.h"

#define EK_CONV_BLOCK 32   /* stack: 2 x 32 int32 accumulators, like depthwise's 64 */

/* acc[2][4]: patches x0, x1 (len each) against filter rows w[0..3] */
static void dot_2x4(const int16_t *x0, const int16_t *x1, const int8_t *const *w, int32_t len, int32_t acc[2][4]) {
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0, k;
    for (k = 0; k < len; ++k) {
        const int16_t u = x0[k], v = x1[k];
        const int16_t f0 = w0[k], f1 = w1[k], f2 = w2[k], f3 = w3[k];
        a0 += f0 * u; a1 += f1 * u; a2 += f2 * u; a3 += f3 * u;
        b0 += f0 * v; b1 += f1 * v; b2 += f2 * v; b3 += f3 * v;
    }
    acc[0][0] = a0; acc[0][1] = a1; acc[0][2] = a2; acc[0][3] = a3;
    acc[1][0] = b0; acc[1][1] = b1; acc[1][2] = b2; acc[1][3] = b3;
}

/* Copy the window of output pixel (oy, ox), channels [c0, c0 + filt_c), into patch as int16. */
static void im2col(const ek_conv_params *p, const int8_t *restrict in_b, int32_t oy, int32_t ox, int32_t c0,
                   int16_t *restrict patch) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t fc = p->filter_in_c, run = p->k_w * fc, off = p->in_offset;
    const size_t in_size = (size_t)p->in_h * p->in_w * p->in_c;
    /* a filter row inside the input is one contiguous run of k_w * in_c values */
    const int row_inside = fc == p->in_c && p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
    int32_t fy, fx, c, k = 0;
    for (fy = 0; fy < p->k_h; ++fy, k += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        int16_t *restrict dst = patch + k;
        if (iy < 0 || iy >= p->in_h) {
            for (c = 0; c < run; ++c) dst[c] = 0;
        } else if (row_inside) {
            const size_t at = ((size_t)iy * p->in_w + ix0) * p->in_c;
            const int8_t *x = in_b + at;
            if (at + (size_t)(run + 7) / 8 * 8 <= in_size) {
                /* whole blocks of 8, no scalar tail: up to 7 extra values are read from inside
                 * the input and written past the run, where the next row, the zero tail or the
                 * next patch overwrites them (scratch has 8 values of slack) */
                for (c = 0; c < run; c += 8)
                    for (fx = c; fx < c + 8; ++fx) dst[fx] = (int16_t)(x[fx] + off);
            } else {
                for (c = 0; c < run; ++c) dst[c] = (int16_t)(x[c] + off);
            }
        } else {
            for (fx = 0; fx < p->k_w; ++fx, dst += fc) {
                const int32_t ix = ix0 + fx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    for (c = 0; c < fc; ++c) dst[c] = 0;
                } else {
                    const int8_t *x = in_b + ((size_t)iy * p->in_w + ix) * p->in_c + c0;
                    for (c = 0; c < fc; ++c) dst[c] = (int16_t)(x[c] + off);
                }
            }
        }
    }
    for (; k < p->k_len; ++k) patch[k] = 0;
}

/* dst[o] for o in [o0, o0 + n): requantized acc[o - o0] + bias[o] */
static void requant(const ek_conv_params *p, const int32_t *acc, const int32_t *bias, int32_t o0, int32_t n, int8_t *dst) {
    /* locals, not p->...: the int8 stores could alias *p, which would stop vectorisation */
    const int32_t *mult = p->mult + o0, *shift = p->shift + o0;
    const int32_t out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    int8_t *restrict d = dst + o0;
    int32_t i;
    if (bias) bias += o0;
    for (i = 0; i < n; ++i) {
        const int32_t v = ek_mbqm_nn(acc[i] + (bias ? bias[i] : 0), mult[i], shift[i]) + out_offset;
        d[i] = (int8_t)ek_clamp_i32(v, lo, hi);
    }
}

void ek_conv2d_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out) {
    const int32_t groups = p->in_c / p->filter_in_c;
    const int32_t oc_per_group = p->out_c / groups;
    const int32_t len = p->k_len, pixels = p->out_h * p->out_w;
    int16_t *x0 = p->scratch, *x1 = p->scratch + len;
    int32_t acc[2][EK_CONV_BLOCK], a[2][4];
    int32_t b, px, g, o0, o, r;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * p->out_c;
        for (px = 0; px < pixels; px += 2) {
            const int pair = px + 1 < pixels;
            int8_t *d0 = out_b + (size_t)px * p->out_c, *d1 = d0 + p->out_c;
            for (g = 0; g < groups; ++g) {
                const int32_t o_end = (g + 1) * oc_per_group;
                im2col(p, in_b, px / p->out_w, px % p->out_w, g * p->filter_in_c, x0);
                if (pair) im2col(p, in_b, (px + 1) / p->out_w, (px + 1) % p->out_w, g * p->filter_in_c, x1);
                for (o0 = g * oc_per_group; o0 < o_end; o0 += EK_CONV_BLOCK) {
                    const int32_t nb = ek_min_i32(EK_CONV_BLOCK, o_end - o0);
                    for (o = 0; o < nb; o += 4) {
                        const int8_t *rows[4];
                        const int32_t n = ek_min_i32(4, nb - o);
                        /* a partial block repeats its last row; the extra results are dropped */
                        for (r = 0; r < 4; ++r) rows[r] = w + (size_t)(o0 + o + ek_min_i32(r, n - 1)) * len;
                        dot_2x4(x0, pair ? x1 : x0, rows, len, a);
                        for (r = 0; r < n; ++r) {
                            acc[0][o + r] = a[0][r];
                            acc[1][o + r] = a[1][r];
                        }
                    }
                    requant(p, acc[0], bias, o0, nb, d0);
                    if (pair) requant(p, acc[1], bias, o0, nb, d1);
                }
            }
        }
    }
}
