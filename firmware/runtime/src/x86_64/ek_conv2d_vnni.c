/* CONV_2D int8, x86-64 AVX-512 VNNI tier (vpdpbusd on 512-bit registers): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel), for groups == 1.
 *
 * vpdpbusd multiplies unsigned by signed bytes, so the im2col patch holds u = x + 128 (x ^ 0x80)
 * and padding taps hold zp + 128 (x = zp contributes w * (zp - zp) = 0, as TFLM skipping them).
 * Then sum w * (x + in_offset) = sum w * u - (128 - in_offset) * sum w; the code generator folds
 * the second term into bias_packed. |sum w * u| <= 255 * 128 * k_len fits int32 (k_len <= 65536);
 * the folded bias wraps, and wrapping adds give the exact int32 sum.
 *
 * Weights are packed at compile time as [oc / 16][k_len / 4][16 channels][4 bytes], out_c padded
 * to 16 with zero rows, so that one 64-byte load feeds 16 channels x 4 taps. Micro-kernel: 8 output
 * pixels x 32 channels = 16 zmm accumulators, each weight load used 8 times and each broadcast
 * input quad twice; requantization (16 lanes, constants loaded once per channel block) runs in the output loop.
 * Raster order (ek_kernels.h): the eight windows are read before any of the eight pixels is written. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define PX 8   /* output pixels per block; the scratch holds PX patches (ek_kernels.h) */

/* u8 window of output pixel (oy, ox) in patch[0..k_len) */
EK_TARGET static void im2col_u8(const ek_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, uint8_t *patch) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = p->in_c, run = p->k_w * c_in;
    const uint8_t pad = (uint8_t)((-p->in_offset) ^ 0x80);
    int32_t fy, fx, k = 0;
    for (fy = 0; fy < p->k_h; ++fy, k += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        uint8_t *dst = patch + k;
        if (iy < 0 || iy >= p->in_h) {
            memset(dst, pad, (size_t)run);
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {   /* one contiguous run */
            ek_x86_flip_copy(dst, in_b + ((size_t)iy * p->in_w + ix0) * c_in, run);
            continue;
        }
        for (fx = 0; fx < p->k_w; ++fx, dst += c_in) {
            const int32_t ix = ix0 + fx * p->dil_w;
            if (ix < 0 || ix >= p->in_w)
                memset(dst, pad, (size_t)c_in);
            else
                ek_x86_flip_copy(dst, in_b + ((size_t)iy * p->in_w + ix) * c_in, c_in);
        }
    }
    if (k < p->k_len) memset(patch + k, 0, (size_t)(p->k_len - k));
}

EK_TARGET static __m512i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

#define DOT2(i) do { const __m512i x = bcast4(u[i] + 4 * g); \
        a##i##0 = _mm512_dpbusd_epi32(a##i##0, x, w0); a##i##1 = _mm512_dpbusd_epi32(a##i##1, x, w1); } while (0)

/* acc[8][2] for patches u[0..7] against the 16-channel blocks w0p, w1p */
EK_TARGET static void block_8x32(const uint8_t *const *u, const int8_t *w0p, const int8_t *w1p, int32_t k4,
                                 __m512i acc[PX][2]) {
    __m512i a00 = _mm512_setzero_si512(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    __m512i a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
    int32_t g;
    for (g = 0; g < k4; ++g) {
        const __m512i w0 = _mm512_loadu_si512((const void *)(w0p + 64 * (size_t)g));
        const __m512i w1 = _mm512_loadu_si512((const void *)(w1p + 64 * (size_t)g));
        DOT2(0); DOT2(1); DOT2(2); DOT2(3); DOT2(4); DOT2(5); DOT2(6); DOT2(7);
    }
    acc[0][0] = a00; acc[0][1] = a01; acc[1][0] = a10; acc[1][1] = a11; acc[2][0] = a20; acc[2][1] = a21;
    acc[3][0] = a30; acc[3][1] = a31; acc[4][0] = a40; acc[4][1] = a41; acc[5][0] = a50; acc[5][1] = a51;
    acc[6][0] = a60; acc[6][1] = a61; acc[7][0] = a70; acc[7][1] = a71;
}

#define DOT1(i) do { a##i##0 = _mm512_dpbusd_epi32(a##i##0, bcast4(u[i] + 4 * g), w0); } while (0)

/* acc[8][0] for the last 16-channel block of an out_c that is not a multiple of 32 */
EK_TARGET static void block_8x16(const uint8_t *const *u, const int8_t *w0p, int32_t k4, __m512i acc[PX][2]) {
    __m512i a00 = _mm512_setzero_si512(), a10 = a00, a20 = a00, a30 = a00, a40 = a00, a50 = a00, a60 = a00, a70 = a00;
    int32_t g;
    for (g = 0; g < k4; ++g) {
        const __m512i w0 = _mm512_loadu_si512((const void *)(w0p + 64 * (size_t)g));
        DOT1(0); DOT1(1); DOT1(2); DOT1(3); DOT1(4); DOT1(5); DOT1(6); DOT1(7);
    }
    acc[0][0] = a00; acc[1][0] = a10; acc[2][0] = a20; acc[3][0] = a30;
    acc[4][0] = a40; acc[5][0] = a50; acc[6][0] = a60; acc[7][0] = a70;
}

EK_TARGET void ek_conv2d_s8_vnni(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                 const int32_t *bias_packed, int8_t *out) {
    const int32_t len = p->k_len, k4 = len / 4, pixels = p->out_h * p->out_w, oc = p->out_c;
    uint8_t *scratch = (uint8_t *)p->scratch;   /* PX * k_len bytes <= the 4 * k_len + 8 int16 */
    __m512i acc[PX][2];
    int32_t b, px, i, ob, q;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0; px < pixels; px += PX) {
            const int32_t np = ek_min_i32(PX, pixels - px);
            const uint8_t *u[PX];
            for (i = 0; i < np; ++i) im2col_u8(p, in_b, (px + i) / p->out_w, (px + i) % p->out_w, scratch + (size_t)i * len);
            for (i = 0; i < PX; ++i) u[i] = scratch + (size_t)ek_min_i32(i, np - 1) * len;   /* repeat the last */
            for (ob = 0; ob < oc; ob += 32) {
                const int32_t n = ek_min_i32(32, oc - ob);
                const int8_t *w0p = w_packed + (size_t)ob * len;
                if (n > 16)
                    block_8x32(u, w0p, w0p + (size_t)16 * len, k4, acc);
                else
                    block_8x16(u, w0p, k4, acc);
                for (q = 0; q < 2 && 16 * q < n; ++q) {
                    const int32_t c = ob + 16 * q;
                    const ek_x86_rq16 rq = ek_x86_rq16_load(bias_packed + c, p->mult + c, p->shift + c, ek_min_i32(16, n - 16 * q));
                    for (i = 0; i < np; ++i)
                        ek_x86_rq16_store(acc[i][q], &rq, p->out_offset, p->act_min, p->act_max, out_b + (size_t)(px + i) * oc + c);
                }
            }
        }
    }
}
#endif
