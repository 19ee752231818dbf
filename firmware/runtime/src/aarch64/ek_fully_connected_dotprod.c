/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), AArch64 NEON dotprod tier (SDOT,
 * Armv8.2-A, e.g. Cortex-A76): bit-identical to ../ek_fully_connected.c (TFLM FullyConnected).
 *
 * Same layout as ek_fully_connected_neon.c (input row copied into p->scratch zero-padded to
 * p->in_pad, a multiple of 16; weight rows padded at compile time), but one SDOT per 16 products
 * and no weight-range condition. in_offset * sum(w) stays folded in bias_fused. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__aarch64__)
#if !defined(__ARM_FEATURE_DOTPROD)
#error "ek_fully_connected_dotprod.c needs SDOT: build with -mcpu=cortex-a76 or -march=armv8.2-a+dotprod"
#endif
#include <arm_neon.h>
#include <string.h>

void ek_fully_connected_s8_dotprod(const ek_fc_params *p, const int8_t *in, const int8_t *w_rows,
                                   const int32_t *bias_fused, int8_t *out) {
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
                for (j = 0; j < 4; ++j) a[j] = vdotq_s32(a[j], vld1q_s8(w[j] + k), xv);
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
