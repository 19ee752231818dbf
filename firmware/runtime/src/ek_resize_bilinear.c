/* RESIZE_BILINEAR int8 (TFLM reference_ops::ResizeBilinearInteger): Q10 source positions and
 * bounds per row/column precomputed at compile time, int64 Q20 blend, double-rounding build
 * (round half away from zero, divide truncating). */
#include "ek_kernels.h"

void ek_resize_bilinear_s8(const ek_resize_params *p, const int8_t *in, int8_t *out) {
    int32_t b, y, x, c;
    size_t k = 0;
    for (b = 0; b < p->batches; ++b)
        for (y = 0; y < p->out_h; ++y) {
            const int32_t y0 = p->y_map[3 * y + 1], y1 = p->y_map[3 * y + 2];
            const int64_t wy = p->y_map[3 * y] - (1 << 10) * y0;
            for (x = 0; x < p->out_w; ++x) {
                const int32_t x0 = p->x_map[3 * x + 1], x1 = p->x_map[3 * x + 2];
                const int64_t wx = p->x_map[3 * x] - (1 << 10) * x0;
                const int8_t *r0 = in + ((size_t)b * p->in_h + y0) * p->in_w * p->ch;
                const int8_t *r1 = in + ((size_t)b * p->in_h + y1) * p->in_w * p->ch;
                for (c = 0; c < p->ch; ++c) {
                    const int64_t v = (int64_t)r0[(size_t)x0 * p->ch + c] * ((1 << 10) - wy) * ((1 << 10) - wx) +
                                      (int64_t)r1[(size_t)x0 * p->ch + c] * wy * ((1 << 10) - wx) +
                                      (int64_t)r0[(size_t)x1 * p->ch + c] * ((1 << 10) - wy) * wx +
                                      (int64_t)r1[(size_t)x1 * p->ch + c] * wy * wx;
                    out[k++] = (int8_t)((v + (v > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
                }
            }
        }
}
