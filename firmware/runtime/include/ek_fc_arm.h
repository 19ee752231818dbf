/* The FULLY_CONNECTED loop both AArch64 tiers share (src/aarch64/ek_fully_connected_neon.c and
 * _dotprod.c): the input row is copied into p->scratch zero-padded to p->in_pad (a multiple of 16),
 * weight rows are padded likewise at compile time, four output rows share each input load, and
 * requantization runs in the output loop. The tiers differ only in `mac16`, their 16-product
 * multiply-accumulate into four int32 lanes; it is a constant at each call, so the compiler inlines it. */
#ifndef EK_FC_ARM_H
#define EK_FC_ARM_H
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>
#include "ek_kernels.h"
#include "ek_quant.h"

typedef int32x4_t (*ek_mac16_fn)(int32x4_t acc, int8x16_t w, int8x16_t x);

static inline void ek_fc_rows_arm(const ek_fc_params *p, const int8_t *in, const int8_t *w_rows,
                                  const int32_t *bias_fused, int8_t *out, ek_mac16_fn mac16) {
    const int32_t n_in = p->in_depth, len = p->in_pad, n_out = p->out_depth;
    int8_t *x = (int8_t *)(void *)p->scratch;
    int32_t b, o, k, j, sums[4];
    for (b = 0; b < p->batches; ++b) {
        int8_t *y = out + (size_t)b * n_out;
        memcpy(x, in + (size_t)b * n_in, (size_t)n_in);
        memset(x + n_in, 0, (size_t)(len - n_in));
        for (o = 0; o < n_out; o += 4) {
            const int32_t n = ek_min_i32(4, n_out - o);
            const int8_t *w[4];
            int32x4_t a[4];
            for (j = 0; j < 4; ++j) {
                w[j] = w_rows + (size_t)(o + ek_min_i32(j, n - 1)) * len;
                a[j] = vdupq_n_s32(0);
            }
            for (k = 0; k < len; k += 16) {
                const int8x16_t xv = vld1q_s8(x + k);
                for (j = 0; j < 4; ++j) a[j] = mac16(a[j], vld1q_s8(w[j] + k), xv);
            }
            vst1q_s32(sums, vpaddq_s32(vpaddq_s32(a[0], a[1]), vpaddq_s32(a[2], a[3])));
            for (j = 0; j < n; ++j) {
                const int32_t ch = p->per_channel ? o + j : 0;
                const int32_t v = ek_mbqm_nn(ek_wadd(sums[j], bias_fused[o + j]), p->mult[ch], p->shift[ch]) + p->out_offset;
                y[o + j] = (int8_t)ek_clamp_i32(v, p->act_min, p->act_max);
            }
        }
    }
}
#endif
#endif
