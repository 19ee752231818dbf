/* LEAKY_RELU int8 (TFLM reference_ops::QuantizeLeakyRelu): identity or alpha multiplier by sign. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_leaky_relu_s8(const ek_leaky_relu_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] - p->in_zero_point;
        const int32_t y = x >= 0 ? ek_mbqm(x, p->id_mult, p->id_shift) : ek_mbqm(x, p->alpha_mult, p->alpha_shift);
        out[i] = ek_sat_s8(y + p->out_zero_point);
    }
}
