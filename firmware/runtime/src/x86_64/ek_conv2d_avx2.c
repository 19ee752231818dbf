/* CONV_2D int8, x86-64 AVX2 tier (no AVX-512): bit-identical to ../ek_conv2d.c (TFLM
 * ConvPerChannel), for groups == 1. Same packed weights and folded bias as ek_conv2d_vnni.c.
 *
 * vpmaddubsw would saturate (255 * 127 * 2 > 32767), so the exact form is used: the im2col patch
 * holds u = x + 128 widened to int16, weights are sign-extended to int16 at load (vpmovsxbw), and
 * vpmaddwd sums tap pairs into int32 (|2 * 255 * 128| fits). One 16-byte weight load feeds 4
 * channels x 4 taps; a lane pair holds one channel's two pair sums, added by ek_x86_pairsum8.
 * Micro-kernel: 4 output pixels x 8 channels = 8 ymm accumulators. Padding taps hold zp + 128 and
 * contribute nothing once the bias fold is applied (see ek_conv2d_vnni.c).
 * Raster order (ek_kernels.h): the four windows are read before any of the four pixels is written. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_AVX2
#define PX 4   /* output pixels per block: PX int16 patches fill the 4 * k_len + 8 int16 scratch */

/* dst[0..n) = (uint8_t)(src ^ 0x80) widened to int16 */
EK_TARGET static void widen_copy(int16_t *dst, const int8_t *src, int32_t n) {
    const __m128i flip = _mm_set1_epi8((char)0x80);
    int32_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(void *)(dst + i),
                            _mm256_cvtepu8_epi16(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(src + i)), flip)));
    for (; i < n; ++i) dst[i] = (int16_t)((uint8_t)src[i] ^ 0x80u);
}

static void fill16(int16_t *dst, int16_t v, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) dst[i] = v;
}

/* u16 window of output pixel (oy, ox) in patch[0..k_len) */
EK_TARGET static void im2col_u16(const ek_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, int16_t *patch) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = p->in_c, run = p->k_w * c_in;
    const int16_t pad = (int16_t)(128 - p->in_offset);
    int32_t fy, fx, k = 0;
    for (fy = 0; fy < p->k_h; ++fy, k += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        int16_t *dst = patch + k;
        if (iy < 0 || iy >= p->in_h) {
            fill16(dst, pad, run);
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {   /* one contiguous run */
            widen_copy(dst, in_b + ((size_t)iy * p->in_w + ix0) * c_in, run);
            continue;
        }
        for (fx = 0; fx < p->k_w; ++fx, dst += c_in) {
            const int32_t ix = ix0 + fx * p->dil_w;
            if (ix < 0 || ix >= p->in_w)
                fill16(dst, pad, c_in);
            else
                widen_copy(dst, in_b + ((size_t)iy * p->in_w + ix) * c_in, c_in);
        }
    }
    fill16(patch + k, 0, p->k_len - k);
}

EK_TARGET static __m256i bcast4x16(const int16_t *p) {
    int64_t v;
    memcpy(&v, p, 8);
    return _mm256_set1_epi64x(v);
}

#define MAC2(i) do { const __m256i x = bcast4x16(u[i] + 4 * g); \
        a##i##0 = _mm256_add_epi32(a##i##0, _mm256_madd_epi16(x, w0)); \
        a##i##1 = _mm256_add_epi32(a##i##1, _mm256_madd_epi16(x, w1)); } while (0)

/* per-channel sums of patches u[0..3] against 8 channels whose [k4][.. 16 ..][4] rows start at wb */
EK_TARGET static void block_4x8(const int16_t *const *u, const int8_t *wb, int32_t k4, __m256i acc[PX]) {
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    int32_t g;
    for (g = 0; g < k4; ++g, wb += 64) {
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)wb));
        const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wb + 16)));
        MAC2(0); MAC2(1); MAC2(2); MAC2(3);
    }
    acc[0] = ek_x86_pairsum8(a00, a01); acc[1] = ek_x86_pairsum8(a10, a11);
    acc[2] = ek_x86_pairsum8(a20, a21); acc[3] = ek_x86_pairsum8(a30, a31);
}

EK_TARGET void ek_conv2d_s8_avx2(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                 const int32_t *bias_packed, int8_t *out) {
    const int32_t len = p->k_len, k4 = len / 4, pixels = p->out_h * p->out_w, oc = p->out_c;
    __m256i acc[PX];
    int32_t b, px, i, ob;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = out + (size_t)b * pixels * oc;
        for (px = 0; px < pixels; px += PX) {
            const int32_t np = ek_min_i32(PX, pixels - px);
            const int16_t *u[PX];
            for (i = 0; i < np; ++i) im2col_u16(p, in_b, (px + i) / p->out_w, (px + i) % p->out_w, p->scratch + (size_t)i * len);
            for (i = 0; i < PX; ++i) u[i] = p->scratch + (size_t)ek_min_i32(i, np - 1) * len;   /* repeat the last */
            for (ob = 0; ob < oc; ob += 8) {
                /* channels ob..ob+7: half (ob % 16) / 8 of the 16-channel block ob / 16 */
                block_4x8(u, w_packed + (size_t)(ob & ~15) * len + 32 * ((ob >> 3) & 1), k4, acc);
                for (i = 0; i < np; ++i)
                    ek_x86_requant8_avx2(acc[i], bias_packed + ob, p->mult + ob, p->shift + ob, p->out_offset,
                                         p->act_min, p->act_max, ek_min_i32(8, oc - ob), out_b + (size_t)(px + i) * oc + ob);
            }
        }
    }
}
#endif
