/* DEPTHWISE_CONV_2D int8, depth multiplier 1, Cortex-M DSP tier (Armv7E-M: M4/M7): bit-identical
 * to ../ek_depthwise_conv2d.c (TFLM DepthwiseConvPerChannel).
 *
 * im2col-free, four channels at a time: one word load of the input gives SXTB16 = (x0, x2) and
 * SXTB16 ROR 8 = (x1, x3); the code generator widens the weights to int16 and packs them
 * [ceil(c/4)][taps][w0 w2 w1 w3], so one LDRD per tap feeds SMLABB / SMLATT straight from
 * registers, and the weight pointer just runs on from group to group. The accumulators hold
 * sum w * x; in_offset * sum(w) is folded into bias_fold at compile time (padding taps read a row
 * of zero points, -in_offset, so their w * (zp + in_offset) is 0 as in TFLM, which skips them).
 * |sum| <= 128 * 128 * taps fits int32.
 * Interior pixels of a 3x3 filter with dilation 1 (most depthwise layers) read their taps from
 * three row pointers as [row], [row + c], [row + 2c] (register offsets, no tap table); border
 * pixels, other filters and the last c % 4 channels use a table of tap pointers.
 * Requantization: ek_rq_dsp with per-channel constants derived once per call (after the zero
 * point row in p->scratch). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

#include "ek_dsp_m.h"

/* one tap of 4 channels: input word at ADDR (an asm address operand over base %[b] and offset
 * %[c]), weights (w0 w2, w1 w3) by LDRD at w, w += 8 bytes. In asm, so that GCC cannot hoist the
 * nine input loads ahead and spill them (it does with C intrinsics). The memory operands tell GCC
 * that the asm reads the weights and the input row at base; nothing in this kernel writes the
 * input, so the offset word it really reads needs no ordering of its own. */
#define EK_DW_TAP_ASM(ADDR, base, cofs)                                                    \
    do {                                                                                   \
        uint32_t t0_, t1_, t2_, t3_;                                                       \
        __asm__("ldr %[t0], " ADDR "\n\t"                                                  \
                "ldrd %[t1], %[t2], [%[w]], #8\n\t"                                        \
                "sxtb16 %[t3], %[t0]\n\t"                                                  \
                "sxtb16 %[t0], %[t0], ror #8\n\t"                                          \
                "smlabb %[a0], %[t1], %[t3], %[a0]\n\t"                                    \
                "smlatt %[a2], %[t1], %[t3], %[a2]\n\t"                                    \
                "smlabb %[a1], %[t2], %[t0], %[a1]\n\t"                                    \
                "smlatt %[a3], %[t2], %[t0], %[a3]"                                        \
                : [t0] "=&r"(t0_), [t1] "=&r"(t1_), [t2] "=&r"(t2_), [t3] "=&r"(t3_),      \
                  [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w)  \
                : [b] "r"(base), [c] "r"(cofs), "m"(*(const struct { int16_t h[4]; } *)(const void *)w), \
                  "m"(*(const struct { int8_t x[4]; } *)(const void *)(base)));             \
    } while (0)
#define EK_DW_TAP(xp) EK_DW_TAP_ASM("[%[b]]", xp, 0)

typedef struct {
    int32_t out_offset, lo, hi;
} ek_dw_out;

/* mode (EK_RQ_FULL | EK_RQ_RIGHT bits): a constant at each inlined call site */
EK_INLINE int8_t rq1(int32_t a, const ek_rqc *c, const ek_dw_out *q, int mode) {
    const int32_t v = ek_rq_dsp(a, c, mode & EK_RQ_RIGHT) + (mode & EK_RQ_FOLD ? 0 : q->out_offset);
    return (int8_t)(mode & EK_RQ_FULL ? ek_ssat8(v) : ek_clamp_i32(v, q->lo, q->hi));
}

/* requantize 4 channels and store them (all loads before the int8 stores, which could alias) */
EK_INLINE void store4(int8_t *o, int32_t a0, int32_t a1, int32_t a2, int32_t a3, const ek_rqc *rq,
                      const ek_dw_out *q, int mode) {
    const int8_t v0 = rq1(a0, rq, q, mode), v1 = rq1(a1, rq + 1, q, mode);
    const int8_t v2 = rq1(a2, rq + 2, q, mode), v3 = rq1(a3, rq + 3, q, mode);
    o[0] = v0, o[1] = v1, o[2] = v2, o[3] = v3;
}

/* interior pixel, 3x3, dilation 1: row0 = top-left input pixel, rs = input row stride (bytes) */
EK_INLINE void px_3x3(const int8_t *row0, int32_t rs, int32_t ch, int32_t ch4, const int16_t *w,
                      const int32_t *bias, const ek_rqc *rq, const ek_dw_out *q, int8_t *o, int mode) {
    const int8_t *r0 = row0, *r1 = row0 + rs, *r2 = row0 + 2 * rs;
    int32_t c;
    for (c = 0; c < ch4; c += 4, r0 += 4, r1 += 4, r2 += 4) {
        int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
        EK_DW_TAP(r0); EK_DW_TAP_ASM("[%[b], %[c]]", r0, ch); EK_DW_TAP_ASM("[%[b], %[c], lsl #1]", r0, ch);
        EK_DW_TAP(r1); EK_DW_TAP_ASM("[%[b], %[c]]", r1, ch); EK_DW_TAP_ASM("[%[b], %[c], lsl #1]", r1, ch);
        EK_DW_TAP(r2); EK_DW_TAP_ASM("[%[b], %[c]]", r2, ch); EK_DW_TAP_ASM("[%[b], %[c], lsl #1]", r2, ch);
        store4(o + c, a0, a1, a2, a3, rq + c, q, mode);
    }
}

/* any pixel, taps from the table, all channel groups; taps and mode: constants at each call site
 * (taps 9: fully unrolled) */
EK_INLINE void px_table(const int8_t *const *tap, int32_t taps, int32_t ch4, const int16_t *w,
                        const int32_t *bias, const ek_rqc *rq, const ek_dw_out *q, int8_t *o, int mode) {
    int32_t c, t;
    for (c = 0; c < ch4; c += 4) {
        int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
#pragma GCC unroll 9
        for (t = 0; t < taps; ++t) EK_DW_TAP_ASM("[%[b], %[c]]", tap[t], c);
        store4(o + c, a0, a1, a2, a3, rq + c, q, mode);
    }
}

/* what every pixel of one call shares */
typedef struct {
    const ek_conv_params *p;
    const int16_t *w;
    const int32_t *bias;
    const ek_rqc *rq;
    const int8_t *zrow;
    ek_dw_out q;
    int32_t ch, ch4, taps, mode;
    int32_t off[EK_DW_DSP_MAX_TAPS];   /* tap offsets from the window's top-left input pixel */
} ek_dw_call;

/* one output pixel through the tap table (borders, other filters, channel tails) */
static void px_any(const ek_dw_call *k, const int8_t *in_b, int32_t iy0, int32_t ix0, int8_t *o) {
    const ek_conv_params *p = k->p;
    const int32_t ch = k->ch, ch4 = k->ch4, taps = k->taps, in_h = p->in_h, in_w = p->in_w;
    const int8_t *tap[EK_DW_DSP_MAX_TAPS];
    int32_t fy, fx, t, c;
    if (iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < in_h && ix0 >= 0 && ix0 + (p->k_w - 1) * p->dil_w < in_w) {
        const int8_t *base = in_b + ((size_t)iy0 * in_w + ix0) * ch;   /* no padding tap */
        for (t = 0; t < taps; ++t) tap[t] = base + k->off[t];
    } else {
        for (fy = 0, t = 0; fy < p->k_h; ++fy) {
            const int32_t iy = iy0 + fy * p->dil_h;
            for (fx = 0; fx < p->k_w; ++fx, ++t) {
                const int32_t ix = ix0 + fx * p->dil_w;
                tap[t] = (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) ? k->zrow : in_b + ((size_t)iy * in_w + ix) * ch;
            }
        }
    }
    if (taps == 9 && k->mode == (EK_RQ_FULL | EK_RQ_RIGHT | EK_RQ_FOLD))
        px_table(tap, 9, ch4, k->w, k->bias, k->rq, &k->q, o, EK_RQ_FULL | EK_RQ_RIGHT | EK_RQ_FOLD);
    else if (taps == 9 && k->mode == (EK_RQ_FULL | EK_RQ_RIGHT))
        px_table(tap, 9, ch4, k->w, k->bias, k->rq, &k->q, o, EK_RQ_FULL | EK_RQ_RIGHT);
    else if (taps == 9)
        px_table(tap, 9, ch4, k->w, k->bias, k->rq, &k->q, o, 0);
    else
        px_table(tap, taps, ch4, k->w, k->bias, k->rq, &k->q, o, 0);
    for (c = ch4; c < ch; ++c) {   /* last ch % 4 channels: their slots in the final packed group */
        static const int8_t slot[4] = {0, 2, 1, 3};
        const int16_t *wk = k->w + (size_t)ch4 * taps + slot[c & 3];
        int32_t a = k->bias[c];
        for (t = 0; t < taps; ++t, wk += 4) a += (int32_t)*wk * tap[t][c];
        o[c] = k->mode & EK_RQ_FOLD ? rq1(a, k->rq + c, &k->q, EK_RQ_RIGHT | EK_RQ_FOLD) : rq1(a, k->rq + c, &k->q, 0);
    }
}

/* n interior pixels of a 3x3 filter (dilation 1, c % 4 == 0) from base, step input bytes apart */
EK_INLINE void run_3x3(const ek_dw_call *k, const int8_t *base, int32_t step, int32_t n, int8_t *o, int mode) {
    const int32_t ch = k->ch, rs = k->p->in_w * ch;
    for (; n > 0; --n, base += step, o += ch) px_3x3(base, rs, ch, ch, k->w, k->bias, k->rq, &k->q, o, mode);
}

void ek_depthwise_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int16_t *w_packed,
                                const int32_t *bias_fold, int8_t *out) {
    const int32_t ch = p->out_c, in_h = p->in_h, in_w = p->in_w, out_w = p->out_w, sw = p->stride_w;
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    ek_rqc *const rq = (ek_rqc *)(void *)(p->scratch + ((ch + 7) / 8) * 4);   /* after the zp row, 8-byte aligned */
    int8_t *const zrow = (int8_t *)(void *)p->scratch;   /* ch bytes of the input zero point */
    ek_dw_call k;
    int32_t b, oy, ox, fy, fx, t;
    /* the interior columns [ox_lo, ox_hi): no padding tap in x */
    const int32_t ox_lo = ek_min_i32((p->pad_w + sw - 1) / sw, out_w);
    const int32_t last = in_w - 1 - span_w + p->pad_w;
    const int32_t ox_hi = ek_max_i32(ox_lo, last < 0 ? 0 : ek_min_i32(last / sw + 1, out_w));
    memset(zrow, (int8_t)(-p->in_offset), (size_t)ch);
    k.p = p, k.w = w_packed, k.bias = bias_fold, k.rq = rq, k.zrow = zrow;
    k.q.out_offset = p->out_offset, k.q.lo = p->act_min, k.q.hi = p->act_max;
    k.ch = ch, k.ch4 = ch & ~3, k.taps = p->k_h * p->k_w;
    k.mode = (p->act_min == -128 && p->act_max == 127 ? EK_RQ_FULL : 0) |
             ek_rq_dsp_prepare(rq, p->mult, p->shift, ch, p->out_offset);
    for (fy = 0, t = 0; fy < p->k_h; ++fy)
        for (fx = 0; fx < p->k_w; ++fx, ++t) k.off[t] = (fy * p->dil_h * in_w + fx * p->dil_w) * ch;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * in_h * in_w * ch;
        int8_t *o = out + (size_t)b * p->out_h * out_w * ch;
        for (oy = 0; oy < p->out_h; ++oy, o += (size_t)out_w * ch) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            if (p->k_h == 3 && p->k_w == 3 && p->dil_h == 1 && p->dil_w == 1 && (ch & 3) == 0 &&
                iy0 >= 0 && iy0 + span_h < in_h && ox_lo < ox_hi) {
                const int8_t *base = in_b + ((size_t)iy0 * in_w + (ox_lo * sw - p->pad_w)) * ch;
                int8_t *oi = o + (size_t)ox_lo * ch;
                const int32_t n = ox_hi - ox_lo;
                for (ox = 0; ox < ox_lo; ++ox) px_any(&k, in_b, iy0, ox * sw - p->pad_w, o + (size_t)ox * ch);
                switch (k.mode) {   /* one inlined copy per requantization mode */
                case 0: run_3x3(&k, base, sw * ch, n, oi, 0); break;
                case EK_RQ_FULL: run_3x3(&k, base, sw * ch, n, oi, EK_RQ_FULL); break;
                case EK_RQ_RIGHT: run_3x3(&k, base, sw * ch, n, oi, EK_RQ_RIGHT); break;
                case EK_RQ_FULL | EK_RQ_RIGHT: run_3x3(&k, base, sw * ch, n, oi, EK_RQ_FULL | EK_RQ_RIGHT); break;
                case EK_RQ_RIGHT | EK_RQ_FOLD: run_3x3(&k, base, sw * ch, n, oi, EK_RQ_RIGHT | EK_RQ_FOLD); break;
                default: run_3x3(&k, base, sw * ch, n, oi, EK_RQ_FULL | EK_RQ_RIGHT | EK_RQ_FOLD);
                }
                for (ox = ox_hi; ox < out_w; ++ox) px_any(&k, in_b, iy0, ox * sw - p->pad_w, o + (size_t)ox * ch);
            } else {
                for (ox = 0; ox < out_w; ++ox) px_any(&k, in_b, iy0, ox * sw - p->pad_w, o + (size_t)ox * ch);
            }
        }
    }
}
#endif
