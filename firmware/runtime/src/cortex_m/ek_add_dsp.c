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

static int dense(const int32_t *shape, const int32_t *stride) {
    return stride[3] == 1 && stride[2] == shape[3] && stride[1] == shape[2] * shape[3] &&
           stride[0] == shape[1] * shape[2] * shape[3];
}

/* one input rescaled: r0 (shift 0) by SMMULR, else the short form */
EK_INLINE int32_t scale_in(int8_t x, int32_t off, int32_t ls, const ek_rqc *c, int r0) {
    const int32_t v = (int32_t)((uint32_t)((int32_t)x + off) << ls);
    return r0 ? smmulr((int32_t)((uint32_t)v << 1), c->mult) : ek_rq_dsp(v, c, 1);
}

/* r0a, r0b: constants at each call site */
EK_INLINE void add_all(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out, size_t total,
                       const ek_rqc *q, int r0a, int r0b) {
    const int32_t a_off = p->a_offset, b_off = p->b_offset, out_off = p->out_offset, ls = p->left_shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    const ek_rqc ca = q[0], cb = q[1], co = q[2];
    size_t n;
    for (n = 0; n < total; ++n) {
        const int32_t s = scale_in(a[n], a_off, ls, &ca, r0a) + scale_in(b[n], b_off, ls, &cb, r0b);
        out[n] = (int8_t)ek_clamp_i32(ek_rq_dsp(s, &co, 1) + out_off, lo, hi);
    }
}

/* ek_rq_dsp's short form applies (as ek_rq_dsp_prepare decides) */
EK_INLINE int short_ok(int32_t mult, int32_t shift) { return shift <= -1 || mult == 0; }

void ek_add_s8_dsp(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    const int32_t mult[3] = {p->a_mult, p->b_mult, p->out_mult}, shift[3] = {p->a_shift, p->b_shift, p->out_shift};
    const int r0a = p->a_shift == 0, r0b = p->b_shift == 0;
    ek_rqc q[3];
    size_t total;
    if (!dense(p->out_shape, p->a_stride) || !dense(p->out_shape, p->b_stride) || p->left_shift > 22 ||
        !short_ok(p->out_mult, p->out_shift) || !(r0a || short_ok(p->a_mult, p->a_shift)) ||
        !(r0b || short_ok(p->b_mult, p->b_shift))) {
        ek_add_s8(p, a, b, out);
        return;
    }
    ek_rq_dsp_prepare(q, mult, shift, 3);
    total = (size_t)p->out_shape[0] * p->out_shape[1] * p->out_shape[2] * p->out_shape[3];
    if (r0a && r0b)
        add_all(p, a, b, out, total, q, 1, 1);
    else if (r0a)
        add_all(p, a, b, out, total, q, 1, 0);
    else if (r0b)
        add_all(p, a, b, out, total, q, 0, 1);
    else
        add_all(p, a, b, out, total, q, 0, 0);
}
#endif
