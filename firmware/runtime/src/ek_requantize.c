/* QUANTIZE int8 -> int8 (TFLM reference_ops::Requantize). */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_requantize_s8(const ek_requant_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i)
        out[i] = ek_sat_s8(ek_mbqm((int32_t)in[i] - p->in_zero_point, p->mult, p->shift) + p->out_zero_point);
}
