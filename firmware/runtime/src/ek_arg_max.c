/* ARG_MAX int8 over one axis (TFLM arg_min_max.cc, reference ArgMinMax): the index of the first
 * largest value (a later equal value does not win). The index is written as int32 or int64
 * (out_bytes 4 or 8) through memcpy: the output may sit at any byte offset of the caller's buffer. */
#include <string.h>

#include "ek_kernels.h"

void ek_arg_max_s8(const ek_arg_max_params *p, const int8_t *in, int8_t *out) {
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const int8_t *x = in + (size_t)o * p->axis_size * p->inner + i;
            int8_t best = x[0];
            int32_t at = 0;
            for (k = 1; k < p->axis_size; ++k) {
                if (x[(size_t)k * p->inner] > best) {
                    best = x[(size_t)k * p->inner];
                    at = k;
                }
            }
            {
                const size_t n = (size_t)o * p->inner + i;
                if (p->out_bytes == 8) {
                    const int64_t v = at;
                    memcpy(out + n * 8, &v, 8);
                } else {
                    memcpy(out + n * 4, &at, 4);
                }
            }
        }
    }
}
