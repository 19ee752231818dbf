/* MEAN / SUM int8 over any set of axes (TFLM reduce_common.cc). Shapes are padded to 4 dims;
 * reduced dims have extent 1 in out_shape. Flavours as ek_mean_params.mode, plus mode 3 SUM
 * (reference_ops::QuantizedMeanOrSum with compute_sum). */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_reduce_s8(const ek_reduce_params *p, const int8_t *in, int8_t *out) {
    const int32_t *s = p->in_shape;
    int32_t r[4], n = 1, mult = p->mult, shift = p->shift, d, o0, o1, o2, o3;
    size_t k = 0;
    for (d = 0; d < 4; ++d) {
        r[d] = p->out_shape[d] == s[d] ? 1 : s[d];
        n *= r[d];
    }
    if (p->mode == 2) {
        /* QuantizedMeanOrSum folds 1/n into the multiplier: shift = min(floor(log2 n), 32, 31 + shift) */
        int32_t b = 0;
        while (b < 62 && ((int64_t)1 << (b + 1)) <= n) ++b;
        b = ek_min_i32(ek_min_i32(b, 32), 31 + shift);
        mult = (int32_t)(((int64_t)mult * ((int64_t)1 << b)) / n);
        shift -= b;
    }
    for (o0 = 0; o0 < p->out_shape[0]; ++o0)
        for (o1 = 0; o1 < p->out_shape[1]; ++o1)
            for (o2 = 0; o2 < p->out_shape[2]; ++o2)
                for (o3 = 0; o3 < p->out_shape[3]; ++o3) {
                    int32_t acc = 0, j0, j1, j2, j3;
                    for (j0 = 0; j0 < r[0]; ++j0)
                        for (j1 = 0; j1 < r[1]; ++j1)
                            for (j2 = 0; j2 < r[2]; ++j2)
                                for (j3 = 0; j3 < r[3]; ++j3)
                                    acc += in[(((size_t)(o0 + j0) * s[1] + (o1 + j1)) * s[2] + (o2 + j2)) * s[3] + (o3 + j3)];
                    if (p->mode == 1) {
                        out[k++] = (int8_t)(acc / n);      /* reference_ops::Mean: truncating */
                        continue;
                    }
                    acc = ek_mbqm(acc - p->in_zero_point * n, mult, shift);
                    if (p->mode == 0) acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
                    out[k++] = ek_sat_s8(acc + p->out_zero_point);
                }
}
