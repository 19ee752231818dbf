/* CONCATENATION int8 (TFLM reference_ops::Concatenation): inputs already share the output's
 * scale and zero point, so this is interleaved copying. */
#include <string.h>
#include "ek_kernels.h"

void ek_concat_s8(int32_t outer, int32_t n_inputs, const int8_t *const *inputs, const int32_t *inner, int8_t *out) {
    int32_t o, k;
    for (o = 0; o < outer; ++o)
        for (k = 0; k < n_inputs; ++k) {
            memcpy(out, inputs[k] + (size_t)o * inner[k], (size_t)inner[k]);
            out += inner[k];
        }
}
