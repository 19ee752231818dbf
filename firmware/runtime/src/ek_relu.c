/* RELU / RELU6 int8 (TFLM activations.cc): requantize in -> out, then clamp. RELU6 in TFLM is a
 * plain clamp of the raw values, lowered here with an exact identity multiplier (2^30, shift 1). */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_relu_s8(const ek_relu_params *p, const int8_t *in, int8_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t y = ek_mbqm((int32_t)in[i] - p->in_zero_point, p->mult, p->shift) + p->out_zero_point;
        out[i] = (int8_t)ek_clamp_i32(y, p->act_min, p->act_max);
    }
}
