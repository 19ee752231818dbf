/* Word-level helpers the Cortex-M DSP kernels share (src/cortex_m/ek_*_dsp.c). Include it inside
 * their `__ARM_FEATURE_DSP` guard: it uses Armv7E-M instructions. */
#ifndef EK_DSP_M_H
#define EK_DSP_M_H
#include <stdint.h>
#include <string.h>
#include "ek_kernels.h"

static inline uint32_t ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);   /* one LDR: Armv7E-M allows unaligned word loads */
    return v;
}

/* SXTB16 with its free ROR #8 (GCC's __sxtb16 has no rotate operand): bytes 1 and 3 */
EK_INLINE uint32_t sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* Per-channel requantization constants (ek_rqc) for ek_rq_dsp, derived once per layer from mult/shift
 * (TFLM QuantizeMultiplier: mult >= 0, shift in [-31, 30]); r = max(-shift, 0). The code generator
 * reserves EK_RQC_I16 int16 of scratch per channel for them. */
typedef struct {
    int32_t mult, rm1;         /* multiplier; r - 1 (right-shift layers) */
    uint32_t klo, khi;         /* right-shift layers: 2^30 + 2^(r+30) as a 64-bit value */
    int32_t left;              /* max(shift, 0) */
    int32_t r, r2;             /* right shift; r2 = r, or 32 when r == 0 (LSR #32 gives 0) */
    int32_t mask, half;        /* 2^r - 1; 2^(r-1) (0 when r == 0) */
    int32_t pad;
} ek_rqc;
#define EK_RQC_I16 20
/* requantization modes (bits) the kernels specialise their output loops on */
#define EK_RQ_FULL 1    /* act range = the whole int8 range: SSAT */
#define EK_RQ_RIGHT 2   /* every shift <= -1 (or multiplier 0): ek_rq_dsp's short form */
#define EK_RQ_FOLD 4    /* and every shift >= -23: the output offset is in the short form's constant */

/* fills q[0..n) and returns EK_RQ_RIGHT when every shift is <= -1 or its multiplier 0 (a right
 * shift only: ek_rq_dsp's short form applies, the usual case for conv and FC layers), with
 * EK_RQ_FOLD when every such shift is also >= -23: then the output offset off is folded into the
 * short form's constant (the caller adds off itself otherwise) */
EK_INLINE int ek_rq_dsp_prepare(ek_rqc *q, const int32_t *mult, const int32_t *shift, int32_t n, int32_t off) {
    int32_t i;
    int right = 1, fold = 1;
    for (i = 0; i < n; ++i) {
        const int32_t r = shift[i] < 0 ? -shift[i] : 0;
        const uint64_t k0 = ((uint64_t)1 << 30) + (r ? (uint64_t)1 << (r + 30) : 0);
        q[i].mult = mult[i];
        q[i].rm1 = r - 1;
        q[i].klo = (uint32_t)k0;
        q[i].khi = (uint32_t)(k0 >> 32);
        if (mult[i] == 0) {   /* result 0 (an all-zero filter): a high word of 0 for either sign */
            q[i].rm1 = 0;
            q[i].klo = 0x80000000u;
            q[i].khi = 0;
        }
        q[i].left = shift[i] > 0 ? shift[i] : 0;
        q[i].r = r;
        q[i].r2 = r ? r : 32;
        q[i].mask = (int32_t)(((uint32_t)1 << r) - 1u);
        q[i].half = r ? (int32_t)((uint32_t)1 << (r - 1)) : 0;
        q[i].pad = 0;
        right &= r >= 1 || mult[i] == 0;
        fold &= r <= 23;
    }
    if (!right) return 0;
    if (!fold) return EK_RQ_RIGHT;
    for (i = 0; i < n; ++i) q[i].khi += (uint32_t)off << q[i].rm1;   /* + off * 2^(31+r), |.| <= 2^29 */
    return EK_RQ_RIGHT | EK_RQ_FOLD;
}

/* ek_mbqm_nn32(acc, mult, shift), same result for every input (+ off in a folded short form).
 * General form, 12 instructions: h = SaturatingRoundingDoublingHighMul as in ek_mbqm_nn32; then
 * RoundingDivideByPOT(h, r) as (h ASR r) + (((h & mask) + half - (h < 0)) LSR r2): the low part is
 * in [0, 2^(r+1)), so it never overflows (rem > threshold <=> rem + 2^(r-1) - (h < 0) >= 2^r); for
 * r == 0 LSR #32 gives 0.
 * Short form (right != 0: left == 0, r >= 1), 5 instructions: with v = acc * mult + 2^30, h =
 * floor(v / 2^31) and RoundingDivideByPOT(h, r) = floor((h + 2^(r-1) - s) / 2^r), s = (h < 0);
 * nested floors merge: = floor((v + (2^(r-1) - s) * 2^31) / 2^(31+r)), a 64-bit SMLAL onto the
 * constant 2^30 + 2^(r+30) - s * 2^31, of which the high word shifted by r - 1 is the result.
 * s = (acc < 0) serves: acc < 0 <=> h < 0 except where h == 0, and there both values of s give 0
 * (2^(r-1) - s < 2^r). A folded offset rides in the constant as off * 2^(31+r) (an exact multiple
 * of the divisor); r <= 23 keeps |v + constant| < 2^63, else |v + constant| < 2^62 + 2^61. */
EK_INLINE int32_t ek_rq_dsp(int32_t acc, const ek_rqc *c, int right) {
    if (right) {
        uint32_t lo, hi, sg;
        __asm__("asr %[s], %[x], #31\n\t"
                "adds %[lo], %[klo], %[s], lsl #31\n\t"
                "adc %[hi], %[khi], %[s]\n\t"
                "smlal %[lo], %[hi], %[x], %[m]\n\t"
                "asr %[hi], %[hi], %[rm1]"
                : [s] "=&r"(sg), [lo] "=&r"(lo), [hi] "=&r"(hi)
                : [x] "r"(acc), [klo] "r"(c->klo), [khi] "r"(c->khi), [m] "r"(c->mult), [rm1] "r"(c->rm1)
                : "cc");
        return (int32_t)hi;
    } else {
        const uint64_t v = (uint64_t)((int64_t)(int32_t)((uint32_t)acc << c->left) * (int64_t)c->mult) + ((uint64_t)1 << 30);
        const int32_t h = (int32_t)(uint32_t)(v >> 31);
        int32_t a, b;
        __asm__("asr %0, %2, %3\n\t"
                "and %1, %2, %4\n\t"
                "add %1, %1, %5\n\t"
                "sub %1, %1, %2, lsr #31\n\t"
                "lsr %1, %1, %6\n\t"
                "add %0, %0, %1"
                : "=&r"(a), "=&r"(b)
                : "r"(h), "r"(c->r), "r"(c->mask), "r"(c->half), "r"(c->r2));
        return a;
    }
}

/* SSAT #8: clamp to the int8 range in one instruction */
EK_INLINE int32_t ek_ssat8(int32_t x) {
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}
#endif
