/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), Cortex-M DSP tier (SMLAD):
 * bit-identical to ../ek_fully_connected.c (TFLM FullyConnected / PerChannel).
 *
 * The input row is widened once into p->scratch (int16, zero past in_depth). The code generator
 * pads each weight row to p->in_pad (a multiple of 4), stores each group of 4 bytes as
 * w0 w2 w1 w3 (SXTB16 / SXTB16 ROR 8 give the halfword pairs (w0, w1), (w2, w3)) and interleaves
 * blocks of 4 rows: [ceil(out/4)][in_pad/4][4 rows][4 bytes], so one pointer walks a block with
 * LDRD, and the four rows share each input load. The last block is padded with zero rows. The
 * in_offset term stays folded in bias_fused, as in the portable kernel; bias_fused starts the
 * accumulators (SMLAD's accumulate wraps like the int32 add it replaces). Requantization:
 * ek_rq_dsp, constants derived once per call after the input row in p->scratch. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

#include "ek_dsp_m.h"

/* 4 inputs (x0, x1), (x2, x3) by LDRD from xp into the 4 rows' accumulators, weights by two
 * LDRD from w. In asm: with intrinsics GCC hoists the loads and spills. */
#define EK_FC_ROW(a, u)                                                            \
    "sxtb16 %[t], %[" u "]\n\t"                                                    \
    "smlad %[" a "], %[t], %[x01], %[" a "]\n\t"                                   \
    "sxtb16 %[" u "], %[" u "], ror #8\n\t"                                        \
    "smlad %[" a "], %[" u "], %[x23], %[" a "]\n\t"
#define EK_FC_STEP()                                                               \
    do {                                                                           \
        uint32_t x01, x23, u0, u1, t;                                              \
        __asm__("ldrd %[x01], %[x23], [%[xp]], #8\n\t"                             \
                "ldrd %[u0], %[u1], [%[w]], #8\n\t"                                \
                EK_FC_ROW("a0", "u0") EK_FC_ROW("a1", "u1")                        \
                "ldrd %[u0], %[u1], [%[w]], #8\n\t"                                \
                EK_FC_ROW("a2", "u0") EK_FC_ROW("a3", "u1")                        \
                : [x01] "=&r"(x01), [x23] "=&r"(x23), [u0] "=&r"(u0), [u1] "=&r"(u1), \
                  [t] "=&r"(t), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),        \
                  [a3] "+r"(a3), [xp] "+r"(xp), [w] "+r"(w)                        \
                : "m"(*(const struct { int16_t h[4]; } *)(const void *)xp),        \
                  "m"(*(const struct { int8_t b[16]; } *)(const void *)w));          \
    } while (0)

/* mode: EK_RQ_RIGHT | EK_RQ_FOLD bits, a constant at each call site */
EK_INLINE int8_t requant(const ek_fc_params *p, int32_t acc, const ek_rqc *c, int mode) {
    const int32_t v = ek_rq_dsp(acc, c, mode & EK_RQ_RIGHT) + (mode & EK_RQ_FOLD ? 0 : p->out_offset);
    return (int8_t)ek_clamp_i32(v, p->act_min, p->act_max);
}

/* one batch row: x widened, all outputs; mode a constant at each call site */
EK_INLINE void rows(const ek_fc_params *p, const int16_t *x, const int8_t *w, const int32_t *bias_fused,
                    const ek_rqc *rq, int8_t *y, int mode) {
    const int32_t n_out = p->out_depth, steps = p->in_pad / 4, pc = p->per_channel;
    int32_t o, i, n;
    for (o = 0; o < n_out; o += 4) {
        const int16_t *xp = x;
        int32_t a0 = bias_fused[o], a1 = o + 1 < n_out ? bias_fused[o + 1] : 0;
        int32_t a2 = o + 2 < n_out ? bias_fused[o + 2] : 0, a3 = o + 3 < n_out ? bias_fused[o + 3] : 0;
        int32_t acc[4];
        if (steps & 1) EK_FC_STEP();
        for (n = steps >> 1; n > 0; --n) {
            EK_FC_STEP();
            EK_FC_STEP();
        }
        acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
        for (i = 0; i < 4 && o + i < n_out; ++i) y[o + i] = requant(p, acc[i], rq + (pc ? o + i : 0), mode);
    }
}

void ek_fully_connected_s8_dsp(const ek_fc_params *p, const int8_t *in, const int8_t *w_packed,
                               const int32_t *bias_fused, int8_t *out) {
    const int32_t n_in = p->in_depth, len = p->in_pad, n_out = p->out_depth;
    int16_t *const x = p->scratch;
    ek_rqc *const rq = (ek_rqc *)(void *)(p->scratch + len);   /* len % 4 == 0: 8-byte aligned */
    const int mode = ek_rq_dsp_prepare(rq, p->mult, p->shift, p->per_channel ? n_out : 1, p->out_offset);
    int32_t b, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *xb = in + (size_t)b * n_in;
        int8_t *y = out + (size_t)b * n_out;
        for (i = 0; i < n_in; ++i) x[i] = xb[i];
        for (; i < len; ++i) x[i] = 0;
        if (mode == (EK_RQ_RIGHT | EK_RQ_FOLD))
            rows(p, x, w_packed, bias_fused, rq, y, EK_RQ_RIGHT | EK_RQ_FOLD);
        else if (mode)
            rows(p, x, w_packed, bias_fused, rq, y, EK_RQ_RIGHT);
        else
            rows(p, x, w_packed, bias_fused, rq, y, 0);
    }
}
#endif
