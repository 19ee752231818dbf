/* MUL int8 with broadcast (TFLM reference_integer_ops::Mul): (a+off_a)*(b+off_b) requantized. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_mul_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    int32_t i0, i1, i2, i3;
    size_t n = 0;
    for (i0 = 0; i0 < p->out_shape[0]; ++i0)
        for (i1 = 0; i1 < p->out_shape[1]; ++i1)
            for (i2 = 0; i2 < p->out_shape[2]; ++i2)
                for (i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const size_t ia = ek_at4(p->a_stride, i0, i1, i2, i3);
                    const size_t ib = ek_at4(p->b_stride, i0, i1, i2, i3);
                    const int32_t prod = ((int32_t)a[ia] + p->a_offset) * ((int32_t)b[ib] + p->b_offset);
                    const int32_t v = ek_mbqm(prod, p->out_mult, p->out_shift) + p->out_offset;
                    out[n++] = (int8_t)ek_clamp_i32(v, p->act_min, p->act_max);
                }
}
