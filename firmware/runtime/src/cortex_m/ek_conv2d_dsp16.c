/* CONV_2D int8, Cortex-M DSP tier, int16-weight path (Armv7E-M: M4/M7): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel), groups == 1. The code generator (lower_arm.conv_dsp) picks it
 * for pointwise layers (1x1, stride 1, no padding) and for filters whose rows are not a multiple of
 * 4 taps (a first layer over 1..4 input channels), where ek_conv2d_dsp.c's per-row padding wastes MACs.
 *
 * The weights are widened to int16 at compile time, so the inner loop has no SXTB16: per 4 taps of
 * 2 pixels x 2 channels, one LDM of both pixels' patch words (two LDRD at -Os), two LDRD of
 * weights and 8 SMLAD (11 instructions for 16 MACs; ek_conv2d_dsp.c needs 15). Weights [ceil(oc/2)][k_len/4][2][4] int16, a
 * 4-tap group in the order (w_k, w_k+2, w_k+1, w_k+3); k_len = k_h * k_w * in_c rounded up to 4
 * (the rows are not padded one by one), zero weights past k and in an odd oc's last row.
 * The two pixels' patches are interleaved per 4 taps [A: x_k x_k+2 x_k+1 x_k+3][B: same], so one
 * pointer walks both. A patch is widened from int8 words (SXTB16 and SXTB16 ROR 8 give exactly that
 * order): a pointwise pixel straight from the input, other windows from an int8 im2col row (padding
 * taps hold the zero point -in_offset, whose w * (zp + in_offset) is 0, as TFLM skipping them).
 * in_offset * sum(w row) is folded into bias_fold; the true sums fit int32 (see ../ek_conv2d.c) and
 * SMLAD's accumulate wraps like the int32 adds it replaces. Requantization: ek_rq_dsp. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

#include "ek_dsp_m.h"

static void st32(void *p, uint32_t v) { memcpy(p, &v, 4); }   /* one STR */

/* n4 words of int8 at x -> one pixel's slots of the interleaved patch (8 int16 per group) */
EK_INLINE void widen(int16_t *patch, const int8_t *x, int32_t n4) {
    for (; n4 > 0; --n4, x += 4, patch += 8) {
        const uint32_t v = ld32(x);   /* unaligned LDR: allowed on Armv7E-M */
        st32(patch, (uint32_t)__sxtb16(v));
        st32(patch + 2, sxtb16_ror8(v));
    }
}

/* n bytes (any n >= 0) from x to d, words first (unaligned LDR/STR) */
EK_INLINE void copy8(int8_t *d, const int8_t *x, int32_t n) {
    for (; n >= 4; n -= 4, d += 4, x += 4) st32(d, ld32(x));
    for (; n > 0; --n) *d++ = *x++;
}

/* the int8 im2col row of output pixel (oy, ox): taps 0..k-1 of s (the caller zeroes those past k) */
static void im2col8(const ek_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, int8_t *s) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = p->in_c, run = p->k_w * c_in, in_w = p->in_w;
    const int8_t zp = (int8_t)-p->in_offset;
    const int cols_in = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= in_w;
    int32_t fy, fx, k = 0;
    if (cols_in && iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h) {   /* no padding tap */
        const int8_t *src = in_b + ((size_t)iy0 * in_w + ix0) * c_in;
        const int32_t step = p->dil_h * in_w * c_in;
        for (fy = p->k_h; fy > 0; --fy, src += step, s += run) copy8(s, src, run);
        return;
    }
    for (fy = 0; fy < p->k_h; ++fy, k += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            memset(s + k, zp, (size_t)run);
        } else if (cols_in) {
            copy8(s + k, in_b + ((size_t)iy * in_w + ix0) * c_in, run);
        } else {
            for (fx = 0; fx < p->k_w; ++fx) {
                const int32_t ix = ix0 + fx * p->dil_w;
                if (ix < 0 || ix >= in_w) memset(s + k + fx * c_in, zp, (size_t)c_in);
                else copy8(s + k + fx * c_in, in_b + ((size_t)iy * in_w + ix) * c_in, c_in);
            }
        }
    }
}

/* one step of 4 taps, 2 pixels x 2 channels: patch at x (A then B), weights at w (ch 0 then 1) */
#if defined(__OPTIMIZE_SIZE__)   /* -Os cannot give the asm r0..r3 besides its 9 other registers */
#define EK_W16_LDX "ldrd %[p0], %[p1], [%[x]], #8\n\tldrd %[q0], %[q1], [%[x]], #8\n\t"
#define EK_W16_REG(r)
#else   /* LDM needs its list in ascending register order: the four patch words live in r0..r3 */
#define EK_W16_LDX "ldmia %[x]!, {%[p0], %[p1], %[q0], %[q1]}\n\t"
#define EK_W16_REG(r) __asm__(r)
#endif
#define EK_W16_STEP                                     \
    EK_W16_LDX                                          \
    "ldrd %[u0], %[u1], [%[w]], #8\n\t"                 \
    "smlad %[a0], %[u0], %[p0], %[a0]\n\t"              \
    "smlad %[a0], %[u1], %[p1], %[a0]\n\t"              \
    "smlad %[b0], %[u0], %[q0], %[b0]\n\t"              \
    "smlad %[b0], %[u1], %[q1], %[b0]\n\t"              \
    "ldrd %[u0], %[u1], [%[w]], #8\n\t"                 \
    "smlad %[a1], %[u0], %[p0], %[a1]\n\t"              \
    "smlad %[a1], %[u1], %[p1], %[a1]\n\t"              \
    "smlad %[b1], %[u0], %[q0], %[b1]\n\t"              \
    "smlad %[b1], %[u1], %[q1], %[b1]\n\t"

/* requantize one channel's two accumulators (pixels 0, 1) and store them (constants first: the
 * int8 stores could alias *c) */
EK_INLINE void store2(int8_t *d0, int8_t *d1, int32_t a, int32_t b, const ek_rqc *c, int32_t off, int32_t lo,
                      int32_t hi, int mode) {
    const ek_rqc k = *c;
    const int32_t add = mode & EK_RQ_FOLD ? 0 : off;
    const int32_t va = ek_rq_dsp(a, &k, mode & EK_RQ_RIGHT) + add, vb = ek_rq_dsp(b, &k, mode & EK_RQ_RIGHT) + add;
    *d1 = (int8_t)(mode & EK_RQ_FULL ? ek_ssat8(vb) : ek_clamp_i32(vb, lo, hi));
    *d0 = (int8_t)(mode & EK_RQ_FULL ? ek_ssat8(va) : ek_clamp_i32(va, lo, hi));
}

/* all output channels of the pixel pair in `patch` -> d0, d1 (d1 == d0 for a lone pixel) */
EK_INLINE void channels(const ek_conv_params *p, const int16_t *patch, const int16_t *w16, const int32_t *bias,
                        const ek_rqc *rq, int8_t *d0, int8_t *d1, int mode) {
    const int32_t oc = p->out_c, off = p->out_offset, lo = p->act_min, hi = p->act_max, steps = p->k_len / 4;
    const int16_t *w = w16;
    int32_t o;
    for (o = 0; o < oc; o += 2) {
        const int two = o + 1 < oc;
        const int16_t *x = patch;
        int32_t a0 = bias[o], a1 = two ? bias[o + 1] : 0, b0 = a0, b1 = a1, n = steps;
        register uint32_t p0 EK_W16_REG("r0"), p1 EK_W16_REG("r1"), q0 EK_W16_REG("r2"), q1 EK_W16_REG("r3");
        uint32_t u0, u1;
        /* n % 4 steps first, then fours; the asm reads the patch and weights written before it */
        __asm__ volatile("tst %[n], #1\n\t"
                         "beq 1f\n\t" EK_W16_STEP
                         "1:\n\t"
                         "tst %[n], #2\n\t"
                         "beq 2f\n\t" EK_W16_STEP EK_W16_STEP
                         "2:\n\t"
                         "lsrs %[n], %[n], #2\n\t"
                         "beq 4f\n"
                         "3:\n\t" EK_W16_STEP EK_W16_STEP EK_W16_STEP EK_W16_STEP
                         "subs %[n], %[n], #1\n\t"
                         "bne 3b\n"
                         "4:"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [x] "+r"(x), [w] "+r"(w),
                           [n] "+r"(n), [p0] "=&r"(p0), [p1] "=&r"(p1), [q0] "=&r"(q0), [q1] "=&r"(q1),
                           [u0] "=&r"(u0), [u1] "=&r"(u1)
                         :
                         : "cc", "memory");
        store2(d0 + o, d1 + o, a0, b0, rq + o, off, lo, hi, mode);
        if (two) store2(d0 + o + 1, d1 + o + 1, a1, b1, rq + o + 1, off, lo, hi, mode);
    }
}

void ek_conv2d_s8_dsp16(const ek_conv_params *p, const int8_t *in, const int16_t *w16, const int32_t *bias,
                        int8_t *out) {
    const int32_t len = p->k_len, pixels = p->out_h * p->out_w, oc = p->out_c, out_w = p->out_w, c_in = p->in_c;
    const int full = p->act_min == -128 && p->act_max == 127 ? EK_RQ_FULL : 0;
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
                          p->pad_w == 0 && p->in_h == p->out_h && p->in_w == p->out_w;
    const int32_t c4 = c_in & ~3, s_i16 = (len + 7) / 8 * 4;   /* im2col row: len bytes, in whole 8-byte units */
    int16_t *const patch = p->scratch;
    int8_t *const s8 = (int8_t *)(void *)(p->scratch + 2 * len);
    ek_rqc *const rq = (ek_rqc *)(void *)(p->scratch + 2 * len + s_i16);   /* 8-byte aligned */
    int32_t b, px, oy, ox, j;
    const int mode = full | ek_rq_dsp_prepare(rq, p->mult, p->shift, oc, p->out_offset);
    memset(s8, 0, (size_t)len);   /* the taps past k stay 0 */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * c_in;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0, oy = 0, ox = 0; px < pixels; px += 2) {
            const int pair = px + 1 < pixels;
            int8_t *const d0 = out_b + (size_t)px * oc, *const d1 = pair ? d0 + oc : d0;
            for (j = 0; j < 2; ++j) {   /* pixel A (j 0) and B (j 1; A again for a lone pixel) */
                const int32_t q = px + (j && pair);
                if (pointwise) {   /* the input pixel itself; a c_in % 4 tail through s8 (no read past it) */
                    const int8_t *x = in_b + (size_t)q * c_in;
                    widen(patch + 4 * j, x, c4 / 4);
                    if (c4 < c_in) {
                        st32(s8, 0);
                        copy8(s8, x + c4, c_in - c4);
                        widen(patch + 4 * j + 2 * c4, s8, 1);
                    }
                } else {
                    if (j == 0 || pair) {
                        im2col8(p, in_b, oy, ox, s8);
                        if (++ox == out_w) ox = 0, ++oy;
                    }
                    widen(patch + 4 * j, s8, len / 4);
                }
            }
            switch (mode) {   /* one inlined copy per requantization mode */
            case 0: channels(p, patch, w16, bias, rq, d0, d1, 0); break;
            case EK_RQ_FULL: channels(p, patch, w16, bias, rq, d0, d1, EK_RQ_FULL); break;
            case EK_RQ_RIGHT: channels(p, patch, w16, bias, rq, d0, d1, EK_RQ_RIGHT); break;
            case EK_RQ_FULL | EK_RQ_RIGHT: channels(p, patch, w16, bias, rq, d0, d1, EK_RQ_FULL | EK_RQ_RIGHT); break;
            case EK_RQ_RIGHT | EK_RQ_FOLD: channels(p, patch, w16, bias, rq, d0, d1, EK_RQ_RIGHT | EK_RQ_FOLD); break;
            default: channels(p, patch, w16, bias, rq, d0, d1, EK_RQ_FULL | EK_RQ_RIGHT | EK_RQ_FOLD); break;
            }
        }
    }
}
#endif
