/* PRELU int8 (TFLM reference_ops::BroadcastPrelu4DSlow): x >= 0 scaled by s_in/s_out,
 * x < 0 by (x * alpha) * s_in*s_alpha/s_out; alpha broadcast over up to 4 dims. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_prelu_s8(const ek_prelu_params *p, const int8_t *in, const int8_t *alpha, int8_t *out) {
    int32_t i0, i1, i2, i3;
    size_t n = 0;
    for (i0 = 0; i0 < p->shape[0]; ++i0)
        for (i1 = 0; i1 < p->shape[1]; ++i1)
            for (i2 = 0; i2 < p->shape[2]; ++i2)
                for (i3 = 0; i3 < p->shape[3]; ++i3, ++n) {
                    const size_t ia = (size_t)i0 * p->alpha_stride[0] + (size_t)i1 * p->alpha_stride[1] +
                                      (size_t)i2 * p->alpha_stride[2] + (size_t)i3 * p->alpha_stride[3];
                    const int32_t x = (int32_t)in[n] - p->in_zero_point;
                    int32_t y;
                    if (x >= 0) y = ek_mbqm(x, p->mult1, p->shift1);
                    else y = ek_mbqm(x * ((int32_t)alpha[ia] - p->alpha_zero_point), p->mult2, p->shift2);
                    out[n] = ek_sat_s8(y + p->out_zero_point);
                }
}
