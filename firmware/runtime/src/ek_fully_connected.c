/* FULLY_CONNECTED int8 (TFLM reference_integer_ops::FullyConnected / PerChannel). The input
 * offset term in_offset*sum(w) is folded into the bias at compile time. */
#include "ek_kernels.h"
#include "ek_quant.h"

void ek_fully_connected_s8(const ek_fc_params *p, const int8_t *in, const int8_t *w, const int32_t *bias_fused, int8_t *out) {
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + (size_t)b * p->in_depth;
        for (o = 0; o < p->out_depth; ++o) {
            const int8_t *wr = w + (size_t)o * p->in_depth;
            const int32_t ch = p->per_channel ? o : 0;
            int32_t acc = 0, xsum = 0;
            for (i = 0; i < p->in_depth; ++i) acc += (int32_t)wr[i] * (int32_t)x[i];
            if (p->w_offset) {
                for (i = 0; i < p->in_depth; ++i) xsum += (int32_t)x[i] + p->in_offset;
                acc += p->w_offset * xsum;
            }
            acc += bias_fused[o];
            acc = ek_mbqm(acc, p->mult[ch], p->shift[ch]) + p->out_offset;
            out[(size_t)b * p->out_depth + o] = (int8_t)ek_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}
