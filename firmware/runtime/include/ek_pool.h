/* The input window of one pooling output pixel, clipped to the input as TFLM's pooling kernels
 * clip it (padding taps are left out of the window, not counted as zeros). */
#ifndef EK_POOL_H
#define EK_POOL_H
#include "ek_kernels.h"
#include "ek_quant.h"

typedef struct {
    int32_t iy0, ix0;   /* input row/column of the window's first tap (may be negative) */
    int32_t y0, y1, x0, x1;   /* the taps inside the input: [y0, y1) x [x0, x1) of the window */
} ek_pool_win;

EK_INLINE ek_pool_win ek_pool_window(const ek_pool_params *p, int32_t oy, int32_t ox) {
    ek_pool_win w;
    w.iy0 = oy * p->stride_h - p->pad_h;
    w.ix0 = ox * p->stride_w - p->pad_w;
    w.y0 = ek_max_i32(0, -w.iy0);
    w.y1 = ek_min_i32(p->k_h, p->in_h - w.iy0);
    w.x0 = ek_max_i32(0, -w.ix0);
    w.x1 = ek_min_i32(p->k_w, p->in_w - w.ix0);
    return w;
}
#endif
