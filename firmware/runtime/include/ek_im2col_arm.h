/* The int8 im2col both AArch64 conv tiers share (src/aarch64/ek_conv2d_neon.c and _dotprod.c): one
 * output pixel's receptive field copied into `patch` as k_h runs of k_w * in_c bytes, padding filled
 * with -in_offset (the quantized zero), and the row tail up to k_len zeroed for the 16-byte MACs. */
#ifndef EK_IM2COL_ARM_H
#define EK_IM2COL_ARM_H
#include <stdint.h>
#include <string.h>
#include "ek_kernels.h"

static inline void ek_im2col_s8(const ek_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, int8_t *patch) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = p->in_c, run = p->k_w * c_in;
    const int8_t pad = (int8_t)(-p->in_offset);
    int32_t fy, fx, k = 0;
    for (fy = 0; fy < p->k_h; ++fy, k += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        int8_t *dst = patch + k;
        if (iy < 0 || iy >= p->in_h) {
            memset(dst, pad, (size_t)run);
        } else if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            memcpy(dst, in_b + ((size_t)iy * p->in_w + ix0) * c_in, (size_t)run);
        } else {
            for (fx = 0; fx < p->k_w; ++fx, dst += c_in) {
                const int32_t ix = ix0 + fx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) memset(dst, pad, (size_t)c_in);
                else memcpy(dst, in_b + ((size_t)iy * p->in_w + ix) * c_in, (size_t)c_in);
            }
        }
    }
    if (k < p->k_len) memset(patch + k, 0, (size_t)(p->k_len - k));
}
#endif
