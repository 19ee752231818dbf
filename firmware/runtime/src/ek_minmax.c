/* MAXIMUM / MINIMUM int8 with broadcast (TFLM maximum_minimum.cc): compares the raw values
 * (in and out share one quantization). */
#include "ek_kernels.h"

void ek_minmax_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    /* left_shift selects: 1 maximum, 0 minimum */
    int32_t i0, i1, i2, i3;
    size_t n = 0;
    for (i0 = 0; i0 < p->out_shape[0]; ++i0)
        for (i1 = 0; i1 < p->out_shape[1]; ++i1)
            for (i2 = 0; i2 < p->out_shape[2]; ++i2)
                for (i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const int8_t xa = a[ek_at4(p->a_stride, i0, i1, i2, i3)];
                    const int8_t xb = b[ek_at4(p->b_stride, i0, i1, i2, i3)];
                    out[n++] = p->left_shift ? (xa > xb ? xa : xb) : (xa < xb ? xa : xb);
                }
}
