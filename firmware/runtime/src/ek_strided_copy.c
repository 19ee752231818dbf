/* Strided int8 copy over up to 4 dims: out (in raster order) reads
 * in[base + sum(i_d * in_stride[d])]. Lowers STRIDED_SLICE, SLICE, SPLIT, SPLIT_V and TRANSPOSE
 * (the strides are computed at compile time; a stride may be 0 or negative). */
#include "ek_kernels.h"

void ek_strided_copy_s8(const ek_strided_params *p, const int8_t *in, int8_t *out) {
    int32_t i0, i1, i2, i3;
    size_t n = 0;
    for (i0 = 0; i0 < p->out_shape[0]; ++i0)
        for (i1 = 0; i1 < p->out_shape[1]; ++i1)
            for (i2 = 0; i2 < p->out_shape[2]; ++i2) {
                const int8_t *src = in + ((ptrdiff_t)p->base + (ptrdiff_t)i0 * p->in_stride[0] +
                                          (ptrdiff_t)i1 * p->in_stride[1] + (ptrdiff_t)i2 * p->in_stride[2]);
                for (i3 = 0; i3 < p->out_shape[3]; ++i3) out[n++] = src[(ptrdiff_t)i3 * p->in_stride[3]];
            }
}
