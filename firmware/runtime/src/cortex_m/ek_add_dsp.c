/* ADD int8 without broadcast (the residual add), Cortex-M DSP tier (Armv7E-M: M4/M7):
 * bit-identical to ../ek_add.c (TFLM reference_integer_ops::Add); broadcasting adds, and
 * quantizations outside the cases below, run ek_add_s8.
 *
 * Each input (x + offset) << left_shift is rescaled by MultiplyByQuantizedMultiplier with a
 * multiplier < 1 (scale / (2 * max scale)): for the input of the larger scale the shift is 0, and
 * then the result is SaturatingRoundingDoublingHighMul alone, floor((v * m + 2^30) / 2^31), which
 * is SMMULR (v * 2, m) (floor((2 v m + 2^31) / 2^32); |v * 2| < 2^31 while left_shift <= 22); for a
 * shift <= -1 it is ek_rq_dsp's short form. The sum is requantized by the short form as well
 * (output shift <= -1, the usual case). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include "ek_dsp_m.h"

EK_INLINE int32_t smmulr(int32_t a, int32_t b) {
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* one input rescaled: r0 (shift 0) by SMMULR, else the short form */
EK_INLINE int32_t scale_in(int8_t x, int32_t off, int32_t ls, const ek_rqc *c, int r0) {
    const int32_t v = (int32_t)((uint32_t)((int32_t)x + off) << ls);
    return r0 ? smmulr((int32_t)((uint32_t)v << 1), c->mult) : ek_rq_dsp(v, c, 1);
}

/* r0a, r0b: constants at each call site; fold: the output offset is in q[2]'s constant */
EK_INLINE void add_all(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out, size_t total,
                       const ek_rqc *q, int r0a, int r0b, int fold) {
    const int32_t a_off = p->a_offset, b_off = p->b_offset, ls = p->left_shift, add = fold ? 0 : p->out_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    const ek_rqc ca = q[0], cb = q[1], co = q[2];
    size_t n;
    for (n = 0; n < total; ++n) {
        const int32_t s = scale_in(a[n], a_off, ls, &ca, r0a) + scale_in(b[n], b_off, ls, &cb, r0b);
        out[n] = (int8_t)ek_clamp_i32(ek_rq_dsp(s, &co, 1) + add, lo, hi);
    }
}

void ek_add_s8_dsp(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    const int32_t mult[3] = {p->a_mult, p->b_mult, p->out_mult}, shift[3] = {p->a_shift, p->b_shift, p->out_shift};
    const int r0a = p->a_shift == 0, r0b = p->b_shift == 0;
    ek_rqc q[3];
    size_t total;
    /* short form for the inputs not of shift 0 (offset 0) and for the sum (the output offset) */
    const int ok_a = ek_rq_dsp_prepare(q, mult, shift, 1, 0), ok_b = ek_rq_dsp_prepare(q + 1, mult + 1, shift + 1, 1, 0);
    const int ok_o = ek_rq_dsp_prepare(q + 2, mult + 2, shift + 2, 1, p->out_offset), fold = (ok_o & EK_RQ_FOLD) != 0;
    if (!ek_dense4(p->out_shape, p->a_stride) || !ek_dense4(p->out_shape, p->b_stride) || p->left_shift > 22 || !ok_o ||
        !(r0a || ok_a) || !(r0b || ok_b)) {
        ek_add_s8(p, a, b, out);
        return;
    }
    total = (size_t)p->out_shape[0] * p->out_shape[1] * p->out_shape[2] * p->out_shape[3];
    if (r0a && r0b)
        add_all(p, a, b, out, total, q, 1, 1, fold);
    else if (r0a)
        add_all(p, a, b, out, total, q, 1, 0, fold);
    else if (r0b)
        add_all(p, a, b, out, total, q, 0, 1, fold);
    else
        add_all(p, a, b, out, total, q, 0, 0, fold);
}
#endif
