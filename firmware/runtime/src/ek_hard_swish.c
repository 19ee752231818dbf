/* HARD_SWISH int8 (TFLM reference_ops::HardSwish): x * relu6(x + 3) / 6 in int16 fixed point.
 * The input is moved to a "hires" scale (x 2^7), a "reluish" factor in [0, 1] (Q0.15) is
 * derived from it, and the product is rescaled to the output with 16-bit multipliers. */
#include "ek_kernels.h"
#include "ek_quant.h"

/* gemmlowp SaturatingRoundingDoublingHighMul on int16 (the sum fits int32). */
static int32_t srdhm16(int32_t a, int32_t b) {
    int32_t ab;
    if (a == b && a == INT16_MIN) return INT16_MAX;
    ab = a * b;
    return (ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15);   /* truncating division */
}

/* TFLM's SaturatingDoublingHighMul on int16: no rounding nudge. */
static int32_t sdhm16(int32_t a, int32_t b) {
    if (a == b && a == INT16_MIN) return INT16_MAX;
    return (a * b) / (1 << 15);
}

static int32_t sat_shl16(int32_t v, int n) {
    return ek_clamp_i32(v * (1 << n), INT16_MIN, INT16_MAX);   /* |v| < 2^15, n < 16: no overflow */
}

void ek_hard_swish_s8(const ek_hard_swish_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t hires = ((int32_t)in[i] - p->in_zero_point) * (1 << 7);
        const int32_t pre_out = srdhm16(hires, p->out_mult16);
        int32_t r = hires, o;
        if (p->relu_exp > 0) r = sat_shl16(r, p->relu_exp - 1);
        r = srdhm16(r, p->relu_mult16);
        if (p->relu_exp > 0) r = sat_shl16(r, 1);
        if (p->relu_exp < 0) r = ek_rdbpot(r, -p->relu_exp);
        r = (r + (1 << 15)) / 2;          /* in [0, 32767]: a right shift of a non-negative value */
        o = ek_rdbpot(sdhm16(r, pre_out), -p->out_exp);
        out[i] = ek_sat_s8(o + p->out_zero_point);
    }
}
