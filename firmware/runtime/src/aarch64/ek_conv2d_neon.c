/* CONV_2D int8, AArch64 NEON tier without dotprod (Armv8.0-A: Cortex-A53 / A72): bit-identical
 * to ../ek_conv2d.c (TFLM ConvPerChannel), for groups == 1.
 *
 * As in ek_conv2d_dotprod.c the im2col patch holds x itself and padding taps hold zp, and
 * in_offset * sum(w row) is folded into bias_fold by the code generator. The MACs are SMULL +
 * SMLAL2 (two int8 products summed in int16) and SADALP into int32 lanes: exact because the code
 * generator only picks this kernel when every weight is >= -127 (TFLite's symmetric int8 range),
 * so |w0 x0 + w1 x1| <= 2 * 127 * 128 < 2^15. Filter rows are the portable kernel's (OHWI,
 * zero-padded to k_len, a multiple of 16). Block: 2 output pixels x 4 channels. */
#include "ek_kernels.h"
#include "ek_quant.h"
#include "ek_im2col_arm.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

/* 16 products of one 16-byte chunk, pairwise summed into 4 int32 lanes of acc */
static inline int32x4_t mac16(int32x4_t acc, int8x16_t w, int8x16_t x) {
    int16x8_t s = vmull_s8(vget_low_s8(w), vget_low_s8(x));
    s = vmlal_high_s8(s, w, x);
    return vpadalq_s16(acc, s);
}

/* sums[pixel][4 channels] of rows w[0..3] against patches u0, u1 */
static void block_2x4(const int8_t *u0, const int8_t *u1, const int8_t *const *w, int32_t len, int32x4_t s[2]) {
    int32x4_t a[2][4];
    int32_t k, j;
    for (j = 0; j < 4; ++j) a[0][j] = a[1][j] = vdupq_n_s32(0);
    for (k = 0; k < len; k += 16) {
        const int8x16_t x0 = vld1q_s8(u0 + k), x1 = vld1q_s8(u1 + k);
        for (j = 0; j < 4; ++j) {
            const int8x16_t wj = vld1q_s8(w[j] + k);
            a[0][j] = mac16(a[0][j], wj, x0);
            a[1][j] = mac16(a[1][j], wj, x1);
        }
    }
    for (j = 0; j < 2; ++j) s[j] = vpaddq_s32(vpaddq_s32(a[j][0], a[j][1]), vpaddq_s32(a[j][2], a[j][3]));
}

void ek_conv2d_s8_neon(const ek_conv_params *p, const int8_t *in, const int8_t *w_rows,
                       const int32_t *bias_fold, int8_t *out) {
    const int32_t len = p->k_len, pixels = p->out_h * p->out_w, oc = p->out_c;
    const int32_t out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    int8_t *scratch = (int8_t *)(void *)p->scratch;   /* 2 * k_len bytes <= the 2 * k_len + 8 int16 */
    int32_t b, px, i, o, c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0; px < pixels; px += 2) {
            const int32_t np = ek_min_i32(2, pixels - px);
            for (i = 0; i < np; ++i) ek_im2col_s8(p, in_b, (px + i) / p->out_w, (px + i) % p->out_w, scratch + (size_t)i * len);
            for (o = 0; o < oc; o += 4) {
                const int32_t n = ek_min_i32(4, oc - o);
                const int8_t *w[4];
                int32x4_t s[2];
                int32_t acc[2][4];
                for (c = 0; c < 4; ++c) w[c] = w_rows + (size_t)(o + ek_min_i32(c, n - 1)) * len;
                block_2x4(scratch, scratch + (size_t)(np - 1) * len, w, len, s);
                vst1q_s32(acc[0], s[0]);
                vst1q_s32(acc[1], s[1]);
                for (i = 0; i < np; ++i) {
                    int8_t *d = out_b + (size_t)(px + i) * oc + o;
                    for (c = 0; c < n; ++c)
                        d[c] = (int8_t)ek_clamp_i32(ek_mbqm_nn(ek_wadd(acc[i][c], bias_fold[o + c]), p->mult[o + c], p->shift[o + c]) + out_offset, lo, hi);
                }
            }
        }
    }
}
#endif
