/* RESIZE_NEAREST_NEIGHBOR int8: the source row/column of every output row/column is computed at
 * compile time (TFLM GetNearestNeighbor, float maths emulated exactly), so this is a gather. */
#include "ek_kernels.h"

void ek_resize_nearest_s8(const ek_resize_params *p, const int8_t *in, int8_t *out) {
    int32_t b, y, x, c;
    size_t k = 0;
    for (b = 0; b < p->batches; ++b)
        for (y = 0; y < p->out_h; ++y)
            for (x = 0; x < p->out_w; ++x) {
                const int8_t *src = in + (((size_t)b * p->in_h + p->y_map[y]) * p->in_w + p->x_map[x]) * p->ch;
                for (c = 0; c < p->ch; ++c) out[k++] = src[c];
            }
}
