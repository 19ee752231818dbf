/* PAD / PADV2 int8 on up to 4 dims: the pad value is the output zero point (PAD) or the given constant. */
#include <string.h>
#include "ek_kernels.h"

void ek_pad_s8(const ek_pad_params *p, const int8_t *in, int8_t *out) {
    int32_t a, b, c;
    const int32_t *is = p->in_shape, *os = p->out_shape, *bf = p->before;
    memset(out, (int8_t)p->pad_value, (size_t)os[0] * os[1] * os[2] * os[3]);
    for (a = 0; a < is[0]; ++a)
        for (b = 0; b < is[1]; ++b)
            for (c = 0; c < is[2]; ++c) {
                const int8_t *src = in + (((size_t)a * is[1] + b) * is[2] + c) * is[3];
                int8_t *dst = out + ((((size_t)(a + bf[0]) * os[1] + b + bf[1]) * os[2] + c + bf[2]) * os[3] + bf[3]);
                memcpy(dst, src, (size_t)is[3]);
            }
}
