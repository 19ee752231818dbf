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

static uint64_t ld64(const int16_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
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

void ek_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out) {
    /* locals, not p->...: the int8 output stores could alias *p and force reloads */
    const int32_t len = p->k_len, pixels = p->out_h * p->out_w, oc = p->out_c;
    const int32_t out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    const int32_t *const mult = p->mult, *const shift = p->shift;
    int16_t *const x0 = p->scratch;
    int32_t b, px, o, k, j;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0; px < pixels; px += 2) {
            const int pair = px + 1 < pixels;
            int16_t *const x1 = pair ? p->scratch + len : x0;
            int8_t *const d[2] = {out_b + (size_t)px * oc, out_b + (size_t)px * oc + oc};
            im2col_i16(p, in_b, px / p->out_w, px % p->out_w, x0);
            if (pair) im2col_i16(p, in_b, (px + 1) / p->out_w, (px + 1) % p->out_w, x1);
            for (o = 0; o < oc; o += 2) {
                const int two = o + 1 < oc;
                const int8_t *wa = w_packed + (size_t)o * len, *wb = two ? wa + len : wa;
                const int32_t ba = bias ? bias[o] : 0, bb = bias && two ? bias[o + 1] : 0;
                int32_t acc[2][2];
                /* patches start 8-byte aligned (EK_ALIGN16 scratch, len a multiple of 4): GCC then
                 * walks each patch with one pre-indexed pointer instead of two */
                const int16_t *xa = __builtin_assume_aligned(x0, 8), *xb = __builtin_assume_aligned(x1, 8);
                int32_t a0 = ba, a1 = bb, b0 = ba, b1 = bb;

                for (k = 0; k < len; k += 4) {
                    const uint32_t ua = ld32(wa + k), ub = ld32(wb + k);
                    const int16x2_t wa_lo = __sxtb16(ua), wa_hi = (int16x2_t)sxtb16_ror8(ua);
                    const int16x2_t wb_lo = __sxtb16(ub), wb_hi = (int16x2_t)sxtb16_ror8(ub);
                    const uint64_t pp = ld64(xa + k), qq = ld64(xb + k);
                    const int16x2_t p0 = (int16x2_t)(uint32_t)pp, p1 = (int16x2_t)(uint32_t)(pp >> 32);
                    const int16x2_t q0 = (int16x2_t)(uint32_t)qq, q1 = (int16x2_t)(uint32_t)(qq >> 32);
                    a0 = __smlad(wa_lo, p0, a0); a0 = __smlad(wa_hi, p1, a0);
                    a1 = __smlad(wb_lo, p0, a1); a1 = __smlad(wb_hi, p1, a1);
                    b0 = __smlad(wa_lo, q0, b0); b0 = __smlad(wa_hi, q1, b0);
                    b1 = __smlad(wb_lo, q0, b1); b1 = __smlad(wb_hi, q1, b1);
                }
                acc[0][0] = a0, acc[0][1] = a1, acc[1][0] = b0, acc[1][1] = b1;
                for (j = 0; j < 1 + pair; ++j) {
                    d[j][o] = (int8_t)ek_clamp_i32(ek_mbqm_nn32(acc[j][0], mult[o], shift[o]) + out_offset, lo, hi);
                    if (two) d[j][o + 1] = (int8_t)ek_clamp_i32(ek_mbqm_nn32(acc[j][1], mult[o + 1], shift[o + 1]) + out_offset, lo, hi);
                }
            }
        }
    }
}
#endif
