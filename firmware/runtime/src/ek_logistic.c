/* LOGISTIC int8 (TFLM reference_integer_ops::Logistic): output scale 1/256, zero point -128. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_logistic_s8(const ek_act_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] - p->in_zero_point;
        if (x <= -p->range_radius) {
            out[i] = -128;
        } else if (x >= p->range_radius) {
            out[i] = 127;
        } else {
            const int32_t q4 = ek_mbqm(x, p->mult, p->shift);
            const int32_t q0 = ek_fx_logistic(q4, 4);
            out[i] = ek_sat_s8(ek_rdbpot(q0, 31 - 8) - 128);
        }
    }
}
