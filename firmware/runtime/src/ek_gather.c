/* GATHER int8 along one axis with constant indices (TFLM gather.cc): out[o][k][i] =
 * in[o][idx[k]][i]; indices were range-checked at compile time. */
#include <string.h>

#include "ek_kernels.h"

void ek_gather_s8(const ek_gather_params *p, const int8_t *in, int8_t *out) {
    int32_t o, k;
    for (o = 0; o < p->outer; ++o)
        for (k = 0; k < p->n_indices; ++k)
            memcpy(out + ((size_t)o * p->n_indices + k) * p->inner,
                   in + ((size_t)o * p->axis_size + p->indices[k]) * p->inner, (size_t)p->inner);
}
