/* CONV_2D int8, Cortex-M DSP tier (Armv7E-M: M4/M7; SMLAD dual 16-bit MACs): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel), for groups == 1.
 *
 * Same int16 im2col patch as the portable kernel (x + in_offset, padding taps 0; two pixels in
 * p->scratch). The code generator stores each filter row's groups of 4 bytes as w0 w2 w1 w3, so
 * that SXTB16 of the word gives (w0, w1) and SXTB16 of it rotated by 8 gives (w2, w3), matching
 * the patch's natural halfword pairs: 4 MACs per weight load and 2 SMLADs. Block: 2 pixels x 2
 * channels; the bias starts the accumulators. Filter rows are padded only to k_len, a multiple of 4
 * here. Sums stay below 2^31 (see ../ek_conv2d.c), so SMLAD never saturates or wraps. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

#include "ek_dsp_m.h"

/* PKHBT (a.lo, b.lo) and PKHTB (b.hi, a.hi) as single instructions (no ACLE intrinsic) */
EK_INLINE uint32_t pack_lo(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

EK_INLINE uint32_t pack_hi(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}

static void st32(void *p, uint32_t v) { memcpy(p, &v, 4); }   /* one STR (unaligned allowed) */

/* dst[i] = x[i] + off for n values, 4 at a time: SXTB16 / SXTB16 ROR 8 give (x0, x2), (x1, x3),
 * SADD16 adds the offset to both halves (|x + off| <= 255: no wrap), PKHBT / PKHTB restore the
 * order (x0, x1), (x2, x3). */
static void widen(int16_t *dst, const int8_t *x, int32_t n, int32_t off) {
    const uint32_t off2 = (uint32_t)(uint16_t)off * 0x10001u;
    int32_t c = 0;
    for (; c + 4 <= n; c += 4) {
        const uint32_t v = ld32(x + c);
        const uint32_t e = (uint32_t)__sadd16((int16x2_t)__sxtb16(v), (int16x2_t)off2);
        const uint32_t o = (uint32_t)__sadd16((int16x2_t)sxtb16_ror8(v), (int16x2_t)off2);
        st32(dst + c, pack_lo(e, o));
        st32(dst + c + 2, pack_hi(e, o));
    }
    for (; c < n; ++c) dst[c] = (int16_t)(x[c] + off);
}

static void im2col_i16(const ek_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, int16_t *patch) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = p->in_c, run = p->k_w * c_in, off = p->in_offset;
    int32_t fy, fx, c, k = 0;
    for (fy = 0; fy < p->k_h; ++fy, k += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        int16_t *dst = patch + k;
        if (iy < 0 || iy >= p->in_h) {
            for (c = 0; c < run; ++c) dst[c] = 0;
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {   /* one contiguous run */
            widen(dst, in_b + ((size_t)iy * p->in_w + ix0) * c_in, run, off);
            continue;
        }
        for (fx = 0; fx < p->k_w; ++fx, dst += c_in) {
            const int32_t ix = ix0 + fx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                for (c = 0; c < c_in; ++c) dst[c] = 0;
            } else {
                widen(dst, in_b + ((size_t)iy * p->in_w + ix) * c_in, c_in, off);
            }
        }
    }
    for (; k < p->k_len; ++k) patch[k] = 0;
}

/* requantize one channel's two accumulators (pixels 1, 0) and store them; constants copied to
 * locals first, since the int8 stores could alias *c and force reloads */
EK_INLINE void store2(int8_t *d0, int8_t *d1, int32_t a, int32_t b, const ek_rqc *c, int32_t off, int32_t lo,
                      int32_t hi, int full) {
    const ek_rqc k = *c;
    const int32_t va = ek_rq_dsp(a, &k) + off, vb = ek_rq_dsp(b, &k) + off;
    *d1 = (int8_t)(full ? ek_ssat8(vb) : ek_clamp_i32(vb, lo, hi));
    *d0 = (int8_t)(full ? ek_ssat8(va) : ek_clamp_i32(va, lo, hi));
}

/* two words at *pp (word aligned) in one LDRD, pp += 8 bytes */
#define EK_LDRD_INC(lo, hi, pp)                                                    \
    __asm__("ldrd %0, %1, [%2], #8" : "=r"(lo), "=r"(hi), "+r"(pp)                 \
            : "m"(*(const struct { uint8_t b[8]; } *)(const void *)(pp)))

/* one step of 4 filter taps for 2 channels (words ua, ub) x 2 pixels (halfword pairs p, q) */
#define EK_CONV_STEP()                                                             \
    do {                                                                           \
        uint32_t ua, ub, p0, p1, q0, q1;                                           \
        int16x2_t t;                                                               \
        EK_LDRD_INC(ua, ub, w);                                                    \
        EK_LDRD_INC(p0, p1, xa);                                                   \
        EK_LDRD_INC(q0, q1, xb);                                                   \
        t = __sxtb16(ua);                                                          \
        a0 = __smlad(t, (int16x2_t)p0, a0); b0 = __smlad(t, (int16x2_t)q0, b0);    \
        t = (int16x2_t)sxtb16_ror8(ua);                                            \
        a0 = __smlad(t, (int16x2_t)p1, a0); b0 = __smlad(t, (int16x2_t)q1, b0);    \
        t = __sxtb16(ub);                                                          \
        a1 = __smlad(t, (int16x2_t)p0, a1); b1 = __smlad(t, (int16x2_t)q0, b1);    \
        t = (int16x2_t)sxtb16_ror8(ub);                                            \
        a1 = __smlad(t, (int16x2_t)p1, a1); b1 = __smlad(t, (int16x2_t)q1, b1);    \
    } while (0)

/* all output channels of the pixel pair (x0, x1) -> d0, d1 (x1 == x0, d1 == d0 for a lone pixel) */
EK_INLINE void channels(const ek_conv_params *p, const int16_t *x0, const int16_t *x1, const int8_t *w_packed,
                        const int32_t *bias, const ek_rqc *rq, int8_t *d0, int8_t *d1, int full) {
    const int32_t len = p->k_len, oc = p->out_c, out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    const int32_t steps = len / 4;
    const int8_t *w = w_packed;
    int32_t o, n;
    for (o = 0; o < oc; o += 2) {
        const int two = o + 1 < oc;
        const int16_t *xa = x0, *xb = x1;
        int32_t a0 = bias ? bias[o] : 0, a1 = bias && two ? bias[o + 1] : 0, b0 = a0, b1 = a1;
        if (steps & 1) EK_CONV_STEP();
        for (n = steps >> 1; n > 0; --n) {
            EK_CONV_STEP();
            EK_CONV_STEP();
        }
        /* d1 == d0 for a lone pixel: its (equal) values are stored twice */
        store2(d0 + o, d1 + o, a0, b0, rq + o, out_offset, lo, hi, full);
        if (two) store2(d0 + o + 1, d1 + o + 1, a1, b1, rq + o + 1, out_offset, lo, hi, full);
    }
}

void ek_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out) {
    const int32_t len = p->k_len, pixels = p->out_h * p->out_w, oc = p->out_c;
    const int full = p->act_min == -128 && p->act_max == 127;
    int16_t *const x0 = p->scratch;
    ek_rqc *const rq = (ek_rqc *)(void *)(p->scratch + 2 * len);   /* len % 4 == 0: 8-byte aligned */
    int32_t b, px;
    ek_rq_dsp_prepare(rq, p->mult, p->shift, oc);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0; px < pixels; px += 2) {
            const int pair = px + 1 < pixels;
            int16_t *const x1 = pair ? p->scratch + len : x0;
            int8_t *const d0 = out_b + (size_t)px * oc, *const d1 = pair ? d0 + oc : d0;
            im2col_i16(p, in_b, px / p->out_w, px % p->out_w, x0);
            if (pair) im2col_i16(p, in_b, (px + 1) / p->out_w, (px + 1) % p->out_w, x1);
            if (full)
                channels(p, x0, x1, w_packed, bias, rq, d0, d1, 1);
            else
                channels(p, x0, x1, w_packed, bias, rq, d0, d1, 0);
        }
    }
}
#endif
