/* CONV_2D int8, AArch64 NEON dotprod tier (SDOT, Armv8.2-A, e.g. Cortex-A76): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel), for groups == 1.
 *
 * SDOT multiplies signed bytes, so the im2col patch holds x itself and padding taps hold zp
 * (-in_offset): sum w * (x + in_offset) = sum w * x + in_offset * sum w, the second term folded
 * into bias_packed by the code generator, where it also cancels the w * zp of padding taps.
 * |sum w * x| <= 128 * 128 * k_len fits int32. Weights are packed at compile time exactly as
 * for x86_64/ek_conv2d_vnni.c: [oc / 16][k_len / 4][16 channels][4 bytes]. Block: 4 output
 * pixels x 16 channels = 16 accumulators. Raster order as in ../ek_conv2d.c. */
#include "ek_kernels.h"
#include "ek_quant.h"
#include "ek_im2col_arm.h"

#if defined(__aarch64__)
#if !defined(__ARM_FEATURE_DOTPROD)
#error "ek_conv2d_dotprod.c needs SDOT: build with -mcpu=cortex-a76 or -march=armv8.2-a+dotprod"
#endif
#include <arm_neon.h>
#include <string.h>

/* acc[pixel][16] for patches u[0..3] against the 16-channel block wb */
static void block_4x16(const int8_t *const *u, const int8_t *wb, int32_t k4, int32_t acc[4][16]) {
    int32x4_t a[4][4];
    int32_t g, i, j;
    for (i = 0; i < 4; ++i)
        for (j = 0; j < 4; ++j) a[i][j] = vdupq_n_s32(0);
    for (g = 0; g < k4; ++g, wb += 64) {
        const int8x16_t w0 = vld1q_s8(wb), w1 = vld1q_s8(wb + 16), w2 = vld1q_s8(wb + 32), w3 = vld1q_s8(wb + 48);
        for (i = 0; i < 4; ++i) {
            int32_t v;
            int8x16_t x;
            memcpy(&v, u[i] + 4 * g, 4);
            x = vreinterpretq_s8_s32(vdupq_n_s32(v));
            a[i][0] = vdotq_s32(a[i][0], w0, x);
            a[i][1] = vdotq_s32(a[i][1], w1, x);
            a[i][2] = vdotq_s32(a[i][2], w2, x);
            a[i][3] = vdotq_s32(a[i][3], w3, x);
        }
    }
    for (i = 0; i < 4; ++i)
        for (j = 0; j < 4; ++j) vst1q_s32(&acc[i][4 * j], a[i][j]);
}

void ek_conv2d_s8_dotprod(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                          const int32_t *bias_packed, int8_t *out) {
    const int32_t len = p->k_len, k4 = len / 4, pixels = p->out_h * p->out_w, oc = p->out_c;
    const int32_t out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    int8_t *scratch = (int8_t *)(void *)p->scratch;   /* 4 * k_len bytes <= the 2 * k_len + 8 int16 */
    int32_t acc[4][16];
    int32_t b, px, i, ob, c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0; px < pixels; px += 4) {
            const int32_t np = ek_min_i32(4, pixels - px);
            const int8_t *u[4];
            for (i = 0; i < np; ++i) ek_im2col_s8(p, in_b, (px + i) / p->out_w, (px + i) % p->out_w, scratch + (size_t)i * len);
            for (i = 0; i < 4; ++i) u[i] = scratch + (size_t)ek_min_i32(i, np - 1) * len;
            for (ob = 0; ob < oc; ob += 16) {
                const int32_t n = ek_min_i32(16, oc - ob);
                block_4x16(u, w_packed + (size_t)ob * len, k4, acc);
                for (i = 0; i < np; ++i) {
                    int8_t *restrict d = out_b + (size_t)(px + i) * oc + ob;
                    const int32_t *restrict mult = p->mult + ob, *restrict shift = p->shift + ob;
                    const int32_t *restrict bias = bias_packed + ob, *restrict a = acc[i];
                    for (c = 0; c < n; ++c)
                        d[c] = (int8_t)ek_clamp_i32(ek_mbqm_nn(ek_wadd(a[c], bias[c]), mult[c], shift[c]) + out_offset, lo, hi);
                }
            }
        }
    }
}
#endif
