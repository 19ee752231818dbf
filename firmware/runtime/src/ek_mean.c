/* MEAN int8 over H and W (TFLM reduce_common.cc EvalMeanHelper, three flavours; see ek_kernels.h). */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_mean_hw_s8(const ek_mean_params *p, const int8_t *in, int8_t *out) {
    const int32_t n = p->in_h * p->in_w;
    int32_t mult = p->mult, shift = p->shift, b, c, i;
    if (p->mode == 2) {
        /* fold 1/n into the multiplier: shift = min(floor(log2 n), 32, 31 + shift) */
        int32_t s = 0;
        while (s < 62 && ((int64_t)1 << (s + 1)) <= n) ++s;
        s = ek_min_i32(ek_min_i32(s, 32), 31 + shift);
        mult = (int32_t)(((int64_t)mult * ((int64_t)1 << s)) / n);
        shift -= s;
    }
    for (b = 0; b < p->batches; ++b)
        for (c = 0; c < p->ch; ++c) {
            int32_t acc = 0;
            for (i = 0; i < n; ++i) acc += in[((size_t)b * n + i) * p->ch + c];
            if (p->mode == 1) {
                out[(size_t)b * p->ch + c] = (int8_t)(acc / n);
                continue;
            }
            acc -= p->in_zero_point * n;
            acc = ek_mbqm(acc, mult, shift);
            if (p->mode == 0) acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
            out[(size_t)b * p->ch + c] = ek_sat_s8(acc + p->out_zero_point);
        }
}
