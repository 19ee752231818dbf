/* DEPTHWISE_CONV_2D int8, channel multiplier 1, x86-64 AVX2 tier: bit-identical to
 * ../ek_depthwise_conv2d.c (TFLM DepthwiseConvPerChannel). Same packed weights and folded bias
 * as ek_depthwise_conv2d_vnni.c: 4 taps' 8-channel rows are interleaved byte-wise into
 * [channel][tap], shifted to u8 (x ^ 0x80) and widened to int16; vpmaddwd against the
 * sign-extended weights sums tap pairs exactly (no vpmaddubsw saturation), ek_x86_pairsum8 adds
 * the pairs per channel. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_AVX2

/* 8 channels of one tap row (NULL: a padding tap); the last partial block is copied, so that
 * nothing past the input is read */
EK_TARGET static __m128i row8(const int8_t *row, int32_t c0, int32_t ch, __m128i pad) {
    int8_t tmp[8] = {0};
    if (!row) return pad;
    if (c0 + 8 <= ch) return _mm_loadl_epi64((const __m128i *)(const void *)(row + c0));
    memcpy(tmp, row + c0, (size_t)(ch - c0));
    return _mm_loadl_epi64((const __m128i *)(const void *)tmp);
}

EK_TARGET void ek_depthwise_conv2d_s8_avx2(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                           const int32_t *bias_packed, int8_t *out) {
    const int32_t ch = p->in_c, taps = p->k_h * p->k_w, quads = (taps + 3) / 4;
    const __m128i pad = _mm_set1_epi8((char)(-p->in_offset)), flip = _mm_set1_epi8((char)0x80);
    const int8_t *tap[EK_DW_VNNI_MAX_TAPS + 3];
    int32_t b, oy, ox, fy, fx, t, c0, q;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
                for (fy = 0, t = 0; fy < p->k_h; ++fy) {
                    const int32_t iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
                    for (fx = 0; fx < p->k_w; ++fx, ++t) {
                        const int32_t ix = ox * p->stride_w - p->pad_w + fx * p->dil_w;
                        tap[t] = iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w
                                     ? NULL : in_b + ((size_t)iy * p->in_w + ix) * ch;
                    }
                }
                for (; t < quads * 4; ++t) tap[t] = NULL;   /* zero weights there */
                for (c0 = 0; c0 < ch; c0 += 8) {
                    const int8_t *wq = w_packed + (size_t)(c0 / 8) * quads * 32;
                    __m256i lo = _mm256_setzero_si256(), hi = lo;
                    for (q = 0; q < quads; ++q, wq += 32) {
                        const __m128i r0 = row8(tap[4 * q], c0, ch, pad), r1 = row8(tap[4 * q + 1], c0, ch, pad);
                        const __m128i r2 = row8(tap[4 * q + 2], c0, ch, pad), r3 = row8(tap[4 * q + 3], c0, ch, pad);
                        const __m128i t01 = _mm_unpacklo_epi8(r0, r1), t23 = _mm_unpacklo_epi8(r2, r3);
                        const __m128i v0 = _mm_xor_si128(_mm_unpacklo_epi16(t01, t23), flip);   /* channels 0-3 */
                        const __m128i v1 = _mm_xor_si128(_mm_unpackhi_epi16(t01, t23), flip);   /* channels 4-7 */
                        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_cvtepu8_epi16(v0),
                            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)wq))));
                        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_cvtepu8_epi16(v1),
                            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wq + 16)))));
                    }
                    ek_x86_requant8_avx2(ek_x86_pairsum8(lo, hi), bias_packed + c0, p->mult + c0, p->shift + c0,
                                         p->out_offset, p->act_min, p->act_max, ek_min_i32(8, ch - c0), o + c0);
                }
            }
        }
    }
}
#endif
