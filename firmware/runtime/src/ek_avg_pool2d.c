/* AVERAGE_POOL_2D int8 (TFLM reference_integer_ops::AveragePool): padding taps are not counted;
 * the mean rounds half away from zero. */
#include "ek_kernels.h"
#include "ek_pool.h"
#include "ek_quant.h"

void ek_avg_pool2d_s8(const ek_pool_params *p, const int8_t *in, int8_t *out) {
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy)
            for (ox = 0; ox < p->out_w; ++ox) {
                const ek_pool_win win = ek_pool_window(p, oy, ox);
                const int32_t iy0 = win.iy0, ix0 = win.ix0, y0 = win.y0, y1 = win.y1, x0 = win.x0, x1 = win.x1;
                const int32_t count = (y1 - y0) * (x1 - x0);
                for (c = 0; c < p->ch; ++c) {
                    int32_t acc = 0;
                    for (y = y0; y < y1; ++y)
                        for (x = x0; x < x1; ++x)
                            acc += in[(((size_t)b * p->in_h + iy0 + y) * p->in_w + ix0 + x) * p->ch + c];
                    if (count > 0) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    out[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->ch + c] =
                        (int8_t)ek_clamp_i32(acc, p->act_min, p->act_max);
                }
            }
}
