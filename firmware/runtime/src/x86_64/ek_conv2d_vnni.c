/* CONV_2D int8, x86-64 AVX-512 VNNI tier (vpdpbusd on 256-bit registers): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel), for groups == 1.
 *
 * vpdpbusd multiplies unsigned by signed bytes, so the im2col patch holds u = x + 128 (x ^ 0x80)
 * and padding taps hold zp + 128 (x = zp contributes w * (zp - zp) = 0, as TFLM skipping them).
 * Then sum w * (x + in_offset) = sum w * u - (128 - in_offset) * sum w; the code generator folds
 * the second term into bias_packed. |sum w * u| <= 255 * 128 * k_len fits int32 (k_len <= 65536);
 * the folded bias wraps, and wrapping adds give the exact int32 sum.
 *
 * Weights are packed at compile time as [oc / 16][k_len / 4][16 channels][4 bytes], out_c padded
 * to 16 with zero rows, so that one 32-byte load feeds 8 channels x 4 taps. Block: 4 output
 * pixels x 16 channels = 8 accumulators; requantization runs in the output loop.
 * Raster order (ek_kernels.h): the four windows are read before any of the four pixels is written. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI

/* u8 window of output pixel (oy, ox) in patch[0..k_len) */
static void im2col_u8(const ek_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, uint8_t *patch) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = p->in_c, run = p->k_w * c_in;
    const uint8_t pad = (uint8_t)((-p->in_offset) ^ 0x80);
    int32_t fy, fx, c, k = 0;
    for (fy = 0; fy < p->k_h; ++fy, k += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        uint8_t *dst = patch + k;
        if (iy < 0 || iy >= p->in_h) {
            memset(dst, pad, (size_t)run);
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {   /* one contiguous run */
            const int8_t *x = in_b + ((size_t)iy * p->in_w + ix0) * c_in;
            for (c = 0; c < run; ++c) dst[c] = (uint8_t)((uint8_t)x[c] ^ 0x80u);
            continue;
        }
        for (fx = 0; fx < p->k_w; ++fx, dst += c_in) {
            const int32_t ix = ix0 + fx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                memset(dst, pad, (size_t)c_in);
            } else {
                const int8_t *x = in_b + ((size_t)iy * p->in_w + ix) * c_in;
                for (c = 0; c < c_in; ++c) dst[c] = (uint8_t)((uint8_t)x[c] ^ 0x80u);
            }
        }
    }
    for (; k < p->k_len; ++k) patch[k] = 0;
}

EK_TARGET static __m256i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* acc[4][2] (8 lanes each) for patches u[0..3] against the 16-channel block wb */
EK_TARGET static void block_4x16(const uint8_t *const *u, const int8_t *wb, int32_t k4, __m256i acc[4][2]) {
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
    __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    int32_t g;
    for (g = 0; g < k4; ++g, wb += 64) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)wb);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wb + 32));
        __m256i x = bcast4(u[0] + 4 * g);
        a00 = _mm256_dpbusd_epi32(a00, x, w0); a01 = _mm256_dpbusd_epi32(a01, x, w1);
        x = bcast4(u[1] + 4 * g);
        a10 = _mm256_dpbusd_epi32(a10, x, w0); a11 = _mm256_dpbusd_epi32(a11, x, w1);
        x = bcast4(u[2] + 4 * g);
        a20 = _mm256_dpbusd_epi32(a20, x, w0); a21 = _mm256_dpbusd_epi32(a21, x, w1);
        x = bcast4(u[3] + 4 * g);
        a30 = _mm256_dpbusd_epi32(a30, x, w0); a31 = _mm256_dpbusd_epi32(a31, x, w1);
    }
    acc[0][0] = a00; acc[0][1] = a01; acc[1][0] = a10; acc[1][1] = a11;
    acc[2][0] = a20; acc[2][1] = a21; acc[3][0] = a30; acc[3][1] = a31;
}

EK_TARGET void ek_conv2d_s8_vnni(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                 const int32_t *bias_packed, int8_t *out) {
    const int32_t len = p->k_len, k4 = len / 4, pixels = p->out_h * p->out_w, oc = p->out_c;
    const int32_t out_offset = p->out_offset, lo = p->act_min, hi = p->act_max;
    uint8_t *scratch = (uint8_t *)p->scratch;   /* 4 * k_len bytes <= the 2 * k_len + 8 int16 */
    __m256i acc[4][2];
    int32_t b, px, i, ob, h;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0; px < pixels; px += 4) {
            const int32_t np = ek_min_i32(4, pixels - px);
            const uint8_t *u[4];
            for (i = 0; i < np; ++i) im2col_u8(p, in_b, (px + i) / p->out_w, (px + i) % p->out_w, scratch + (size_t)i * len);
            for (i = 0; i < 4; ++i) u[i] = scratch + (size_t)ek_min_i32(i, np - 1) * len;   /* repeat the last */
            for (ob = 0; ob < oc; ob += 16) {
                const int32_t n = ek_min_i32(16, oc - ob);
                block_4x16(u, w_packed + (size_t)ob * len, k4, acc);
                for (i = 0; i < np; ++i)
                    for (h = 0; h < 2 && 8 * h < n; ++h) {
                        const int32_t c = ob + 8 * h;
                        ek_x86_requant8(acc[i][h], bias_packed + c, p->mult + c, p->shift + c, out_offset, lo, hi,
                                        ek_min_i32(8, n - 8 * h), out_b + (size_t)(px + i) * oc + c);
                    }
            }
        }
    }
}
#endif
