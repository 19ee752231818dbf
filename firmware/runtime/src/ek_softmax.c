/* SOFTMAX int8 -> int8 (TFLM reference_ops::Softmax, gemmlowp fixed point): input differences
 * in Q5.26, exponentials summed in Q12.19, scaled by the fixed-point reciprocal of the sum. */
#include "ek_kernels.h"
#include "ek_quant.h"

static int32_t rescale_diff(const ek_softmax_params *p, int32_t diff) {
    /* MultiplyByQuantizedMultiplierGreaterThanOne */
    return ek_srdhm(ek_shl(diff, p->input_left_shift), p->input_multiplier);
}

void ek_softmax_s8(const ek_softmax_params *p, const int8_t *in, int8_t *out) {
    int32_t i, c;
    for (i = 0; i < p->outer; ++i) {
        const int8_t *x = in + (size_t)i * p->depth;
        int8_t *y = out + (size_t)i * p->depth;
        int32_t max_in_row = -128, sum_of_exps = 0, shifted_scale, exponent;
        int num_bits_over_unit;
        for (c = 0; c < p->depth; ++c) max_in_row = ek_max_i32(max_in_row, x[c]);
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t e = ek_fx_exp_on_negative_values(rescale_diff(p, diff), 5);
                sum_of_exps = ek_wadd(sum_of_exps, ek_rdbpot(e, 12));   /* Rescale Q0.31 -> Q12.19 */
            }
        }
        shifted_scale = ek_fx_reciprocal(sum_of_exps, 12, &num_bits_over_unit);
        exponent = num_bits_over_unit + 31 - 8;
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t e = ek_fx_exp_on_negative_values(rescale_diff(p, diff), 5);
                const int32_t unsat = ek_rdbpot(ek_srdhm(shifted_scale, e), exponent);
                y[c] = ek_sat_s8(unsat - 128);
            } else {
                y[c] = -128;
            }
        }
    }
}
