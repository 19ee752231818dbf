/* ADD int8 with broadcast (TFLM reference_integer_ops::Add): both inputs are offset, shifted
 * left by left_shift (20), rescaled to a common scale, summed and requantized. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_add_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    int32_t i0, i1, i2, i3;
    size_t n = 0;
    for (i0 = 0; i0 < p->out_shape[0]; ++i0)
        for (i1 = 0; i1 < p->out_shape[1]; ++i1)
            for (i2 = 0; i2 < p->out_shape[2]; ++i2)
                for (i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const size_t ia = (size_t)i0 * p->a_stride[0] + (size_t)i1 * p->a_stride[1] + (size_t)i2 * p->a_stride[2] + (size_t)i3 * p->a_stride[3];
                    const size_t ib = (size_t)i0 * p->b_stride[0] + (size_t)i1 * p->b_stride[1] + (size_t)i2 * p->b_stride[2] + (size_t)i3 * p->b_stride[3];
                    const int32_t sa = ek_shl((int32_t)a[ia] + p->a_offset, p->left_shift);
                    const int32_t sb = ek_shl((int32_t)b[ib] + p->b_offset, p->left_shift);
                    const int32_t ra = ek_mbqm(sa, p->a_mult, p->a_shift);
                    const int32_t rb = ek_mbqm(sb, p->b_mult, p->b_shift);
                    const int32_t v = ek_mbqm(ra + rb, p->out_mult, p->out_shift) + p->out_offset;
                    out[n++] = (int8_t)ek_clamp_i32(v, p->act_min, p->act_max);
                }
}
