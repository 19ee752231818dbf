/* CONV_2D int8, Cortex-M DSP tier (Armv7E-M: M4/M7; SMLAD dual 16-bit MACs): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel), for groups == 1.
 *
 * int16 im2col patch of two pixels in p->scratch, holding the raw input x (in_offset * sum(w row)
 * is folded into bias_fold at compile time; a padding tap holds the zero point -in_offset, so its
 * w * (zp + in_offset) is 0, as TFLM skipping it). The patch is in SXTB16 order: taps k..k+3
 * (k % 4 == 0) are stored (x_k, x_k+2), (x_k+1, x_k+3), which is what SXTB16 and SXTB16 ROR 8 of
 * one input word give, so a 4-aligned run of taps is widened with two instructions per word; the
 * filter rows keep their natural order and SXTB16 / SXTB16 ROR 8 of a weight word pair up the same
 * way. Block: 2 pixels x 2 channels, channel pairs interleaved by the code generator
 * [ceil(oc/2)][k_len/4][2][4] and read with LDRD (4 SXTB16 + 8 SMLAD for 16 MACs); bias_fold
 * starts the accumulators. Each of the k_h filter rows is zero-padded to a multiple of 4 taps
 * (k_len = k_h * that), so every row of the window starts 4-aligned in the patch. The true
 * sums fit int32 (see ../ek_conv2d.c); SMLAD's accumulate wraps like the int32 adds it replaces.
 * Requantization: ek_rq_dsp, constants derived once per call after the patches. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

#include "ek_dsp_m.h"

static void st32(void *p, uint32_t v) { memcpy(p, &v, 4); }   /* one STR */

/* tap k of a patch in SXTB16 order */
EK_INLINE int32_t slot(int32_t k) { return (k & ~3) | ((k & 1) << 1) | ((k >> 1) & 1); }

/* taps k.. k+n-1 of the patch = the n input bytes at x */
EK_INLINE void put_run(int16_t *patch, int32_t k, const int8_t *x, int32_t n) {
    int32_t j = 0;
    if ((k & 3) == 0) {
        for (; j + 4 <= n; j += 4) {
            const uint32_t v = ld32(x + j);   /* unaligned LDR: allowed on Armv7E-M */
            st32(patch + k + j, (uint32_t)__sxtb16(v));
            st32(patch + k + j + 2, sxtb16_ror8(v));
        }
    }
    for (; j < n; ++j) patch[slot(k + j)] = x[j];
}

/* taps k.. k+n-1 = v (padding) */
EK_INLINE void put_val(int16_t *patch, int32_t k, int32_t n, int16_t v) {
    const uint32_t v2 = (uint32_t)(uint16_t)v * 0x10001u;
    int32_t j = 0;
    if ((k & 3) == 0)
        for (; j + 4 <= n; j += 4) st32(patch + k + j, v2), st32(patch + k + j + 2, v2);
    for (; j < n; ++j) patch[slot(k + j)] = v;
}

/* rs: taps per filter row in the patch (k_w * in_c rounded up to 4: rows start 4-aligned; the
 * pad taps have weight 0 and keep whatever the scratch held) */
EK_INLINE void im2col(const ek_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, int16_t *patch,
                      int16_t zp, int32_t rs) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = p->in_c, run = p->k_w * c_in, in_w = p->in_w;
    const int cols_in = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= in_w;
    int32_t fy, fx, k = 0;
    if (cols_in && iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h) {   /* no padding tap */
        const int8_t *src = in_b + ((size_t)iy0 * in_w + ix0) * c_in;
        const int32_t step = p->dil_h * in_w * c_in;
        for (fy = p->k_h; fy > 0; --fy, src += step, patch += rs) put_run(patch, 0, src, run);
        return;
    }
    for (fy = 0; fy < p->k_h; ++fy, k += rs) {
        const int32_t iy = iy0 + fy * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            put_val(patch, k, run, zp);
        } else if (cols_in) {   /* one contiguous run */
            put_run(patch, k, in_b + ((size_t)iy * in_w + ix0) * c_in, run);
        } else {
            for (fx = 0; fx < p->k_w; ++fx) {
                const int32_t ix = ix0 + fx * p->dil_w;
                if (ix < 0 || ix >= in_w)
                    put_val(patch, k + fx * c_in, c_in, zp);
                else
                    put_run(patch, k + fx * c_in, in_b + ((size_t)iy * in_w + ix) * c_in, c_in);
            }
        }
    }
}

/* requantize one channel's two accumulators (pixels 1, 0) and store them; constants copied to
 * locals first, since the int8 stores could alias *c and force reloads */
EK_INLINE void store2(int8_t *d0, int8_t *d1, int32_t a, int32_t b, const ek_rqc *c, int32_t off, int32_t lo,
                      int32_t hi, int mode) {
    const ek_rqc k = *c;
    const int32_t add = mode & EK_RQ_FOLD ? 0 : off;
    const int32_t va = ek_rq_dsp(a, &k, mode & EK_RQ_RIGHT) + add, vb = ek_rq_dsp(b, &k, mode & EK_RQ_RIGHT) + add;
    *d1 = (int8_t)(mode & EK_RQ_FULL ? ek_ssat8(vb) : ek_clamp_i32(vb, lo, hi));
    *d0 = (int8_t)(mode & EK_RQ_FULL ? ek_ssat8(va) : ek_clamp_i32(va, lo, hi));
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
                        const int32_t *bias, const ek_rqc *rq, int8_t *d0, int8_t *d1, int mode) {
    const int32_t len = p->k_len, oc = p->out_c, out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    const int32_t steps = len / 4;
    const int8_t *w = w_packed;
    int32_t o, n;
    for (o = 0; o < oc; o += 2) {
        const int two = o + 1 < oc;
        const int16_t *xa = x0, *xb = x1;
        int32_t a0 = bias[o], a1 = two ? bias[o + 1] : 0, b0 = a0, b1 = a1;
        if (steps & 1) EK_CONV_STEP();
        for (n = steps >> 1; n > 0; --n) {
            EK_CONV_STEP();
            EK_CONV_STEP();
        }
        /* d1 == d0 for a lone pixel: its (equal) values are stored twice */
        store2(d0 + o, d1 + o, a0, b0, rq + o, out_offset, lo, hi, mode);
        if (two) store2(d0 + o + 1, d1 + o + 1, a1, b1, rq + o + 1, out_offset, lo, hi, mode);
    }
}

void ek_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out) {
    const int32_t len = p->k_len, pixels = p->out_h * p->out_w, oc = p->out_c, out_w = p->out_w;
    const int full = p->act_min == -128 && p->act_max == 127 ? EK_RQ_FULL : 0;
    const int16_t zp = (int16_t)-p->in_offset;
    const int32_t rs = len / p->k_h, c_in = p->in_c;
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
                          p->pad_w == 0 && p->in_h == p->out_h && p->in_w == p->out_w;
    int16_t *const x0 = p->scratch;
    ek_rqc *const rq = (ek_rqc *)(void *)(p->scratch + 2 * len);   /* len % 4 == 0: 8-byte aligned */
    int32_t b, px, oy, ox;
    const int mode = full | ek_rq_dsp_prepare(rq, p->mult, p->shift, oc, p->out_offset);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0, oy = 0, ox = 0; px < pixels; px += 2) {
            const int pair = px + 1 < pixels;
            int16_t *const x1 = pair ? p->scratch + len : x0;
            int8_t *const d0 = out_b + (size_t)px * oc, *const d1 = pair ? d0 + oc : d0;
            if (pointwise) {   /* the patch is the input pixel itself */
                put_run(x0, 0, in_b + (size_t)px * c_in, c_in);
                if (pair) put_run(x1, 0, in_b + (size_t)px * c_in + c_in, c_in);
            } else {
                im2col(p, in_b, oy, ox, x0, zp, rs);
                if (++ox == out_w) ox = 0, ++oy;
                if (pair) {
                    im2col(p, in_b, oy, ox, x1, zp, rs);
                    if (++ox == out_w) ox = 0, ++oy;
                }
            }
            switch (mode) {   /* one inlined copy per requantization mode */
            case 0: channels(p, x0, x1, w_packed, bias, rq, d0, d1, 0); break;
            case EK_RQ_FULL: channels(p, x0, x1, w_packed, bias, rq, d0, d1, EK_RQ_FULL); break;
            case EK_RQ_RIGHT: channels(p, x0, x1, w_packed, bias, rq, d0, d1, EK_RQ_RIGHT); break;
            case EK_RQ_FULL | EK_RQ_RIGHT: channels(p, x0, x1, w_packed, bias, rq, d0, d1, EK_RQ_FULL | EK_RQ_RIGHT); break;
            case EK_RQ_RIGHT | EK_RQ_FOLD:
                channels(p, x0, x1, w_packed, bias, rq, d0, d1, EK_RQ_RIGHT | EK_RQ_FOLD);
                break;
            default: channels(p, x0, x1, w_packed, bias, rq, d0, d1, EK_RQ_FULL | EK_RQ_RIGHT | EK_RQ_FOLD); break;
            }
        }
    }
}
#endif
