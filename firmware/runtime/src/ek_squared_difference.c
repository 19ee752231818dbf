/* SQUARED_DIFFERENCE int8 (TFLM squared_difference.cc): inputs shifted left 7 and rescaled to a
 * common scale, the difference squared in int32, then requantized. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_squared_difference_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    int32_t i0, i1, i2, i3;
    size_t n = 0;
    for (i0 = 0; i0 < p->out_shape[0]; ++i0)
        for (i1 = 0; i1 < p->out_shape[1]; ++i1)
            for (i2 = 0; i2 < p->out_shape[2]; ++i2)
                for (i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const size_t ia = ek_at4(p->a_stride, i0, i1, i2, i3);
                    const size_t ib = ek_at4(p->b_stride, i0, i1, i2, i3);
                    const int32_t xa = ek_mbqm(ek_shl((int32_t)a[ia] + p->a_offset, p->left_shift), p->a_mult, p->a_shift);
                    const int32_t xb = ek_mbqm(ek_shl((int32_t)b[ib] + p->b_offset, p->left_shift), p->b_mult, p->b_shift);
                    const int32_t d = xa - xb;     /* |d| < 2^15: the square fits int32 */
                    out[n++] = (int8_t)ek_clamp_i32(ek_mbqm(d * d, p->out_mult, p->out_shift) + p->out_offset,
                                                    p->act_min, p->act_max);
                }
}
