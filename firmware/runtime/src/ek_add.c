/* ADD int8 with broadcast (TFLM reference_integer_ops::Add): both inputs are offset, shifted
 * left by left_shift (20), rescaled to a common scale, summed and requantized. Without
 * broadcasting (the usual residual add) one flat loop runs, which compilers vectorise. */
#include "ek_kernels.h"
#include "ek_quant.h"

/* Every multiplier here comes from QuantizeMultiplier of a positive scale: ek_mbqm_nn applies. */
#define EK_ADD_ONE(xa, xb)                                                                  \
    ek_clamp_i32(ek_mbqm_nn(ek_mbqm_nn(ek_shl((int32_t)(xa) + a_off, ls), am, as) +           \
                                ek_mbqm_nn(ek_shl((int32_t)(xb) + b_off, ls), bm, bs),        \
                            om, os) + out_off, lo, hi)

void ek_add_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    /* locals, not p->...: the int8 stores could alias *p, which would stop vectorisation */
    const int32_t a_off = p->a_offset, b_off = p->b_offset, out_off = p->out_offset, ls = p->left_shift;
    const int32_t am = p->a_mult, as = p->a_shift, bm = p->b_mult, bs = p->b_shift, om = p->out_mult, os = p->out_shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i0, i1, i2, i3;
    size_t n = 0;
    if (ek_dense4(p->out_shape, p->a_stride) && ek_dense4(p->out_shape, p->b_stride)) {
        const size_t total = (size_t)p->out_shape[0] * p->out_shape[1] * p->out_shape[2] * p->out_shape[3];
        for (n = 0; n < total; ++n) out[n] = (int8_t)EK_ADD_ONE(a[n], b[n]);
        return;
    }
    for (i0 = 0; i0 < p->out_shape[0]; ++i0)
        for (i1 = 0; i1 < p->out_shape[1]; ++i1)
            for (i2 = 0; i2 < p->out_shape[2]; ++i2)
                for (i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const size_t ia = ek_at4(p->a_stride, i0, i1, i2, i3);
                    const size_t ib = ek_at4(p->b_stride, i0, i1, i2, i3);
                    out[n++] = (int8_t)EK_ADD_ONE(a[ia], b[ib]);
                }
}
