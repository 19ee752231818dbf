/* AVERAGE_POOL_2D int8, x86-64 AVX-512 tier (used by the VNNI tier): bit-identical to
 * ../ek_avg_pool2d.c (TFLM reference_integer_ops::AveragePool). 64 channels per step: the window
 * is summed in int16 lanes (at most 256 taps between two widenings into int32, so no int16 sum
 * overflows: 256 * -128 = -32768), then divided in float.
 *
 * The division is exact: n = acc +- count/2 and count are integers below 2^24 (count <= 65535, so
 * |n| <= 128 * 65535 + 32767), the float quotient is correctly rounded with an error below
 * |n| / count * 2^-24 < 1 / count, and a non-integer n / count lies at least 1 / count from every
 * integer, so truncating the float quotient gives C's truncating n / count. Larger windows run
 * the portable kernel. */
#include "ek_kernels.h"
#include "ek_pool.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "ek_requant_x86.h"

/* int16 lanes (32) widened and added to two int32 accumulators */
EK_TARGET_VNNI static void widen_add(__m512i s16, __m512i *lo, __m512i *hi) {
    *lo = _mm512_add_epi32(*lo, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(s16)));
    *hi = _mm512_add_epi32(*hi, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(s16, 1)));
}

/* 16 sums -> rounded means (half away from zero), clamped, stored under mask m */
EK_TARGET_VNNI static void mean_store(__m512i acc, __m512 cnt, __m512i half, __mmask16 m, int32_t lo, int32_t hi,
                                      int8_t *dst) {
    const __mmask16 pos = _mm512_cmpgt_epi32_mask(acc, _mm512_setzero_si512());
    const __m512i n = _mm512_mask_add_epi32(_mm512_sub_epi32(acc, half), pos, acc, half);
    __m512i q = _mm512_cvttps_epi32(_mm512_div_ps(_mm512_cvtepi32_ps(n), cnt));
    q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
    _mm_mask_storeu_epi8(dst, m, _mm512_cvtepi32_epi8(q));
}

EK_TARGET_VNNI void ek_avg_pool2d_s8_avx512(const ek_pool_params *p, const int8_t *in, int8_t *out) {
    const size_t row = (size_t)p->in_w * p->ch;
    int32_t b, oy, ox, c, y, x, i;
    if ((int64_t)p->k_h * p->k_w > 65535) {
        ek_avg_pool2d_s8(p, in, out);
        return;
    }
    for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy)
            for (ox = 0; ox < p->out_w; ++ox) {
                const ek_pool_win win = ek_pool_window(p, oy, ox);
                const int32_t iy0 = win.iy0, ix0 = win.ix0, y0 = win.y0, y1 = win.y1, x0 = win.x0, x1 = win.x1;
                const int32_t count = y1 > y0 && x1 > x0 ? (y1 - y0) * (x1 - x0) : 0;
                const __m512 cnt = _mm512_set1_ps((float)(count > 0 ? count : 1));
                const __m512i half = _mm512_set1_epi32(count / 2);
                int8_t *dst = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->ch;
                for (c = 0; c < p->ch; c += 64) {
                    const int32_t n = ek_min_i32(64, p->ch - c);
                    const __mmask32 m0 = (__mmask32)(n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1u);
                    const __mmask32 m1 = (__mmask32)(n >= 64 ? 0xFFFFFFFFu : n > 32 ? (1u << (n - 32)) - 1u : 0u);
                    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512(), acc[4];
                    int32_t taps = 0;
                    acc[0] = acc[1] = acc[2] = acc[3] = _mm512_setzero_si512();
                    for (y = y0; y < y1; ++y)
                        for (x = x0; x < x1; ++x) {
                            const int8_t *src = in + ((size_t)b * p->in_h + (size_t)(iy0 + y)) * row + (size_t)(ix0 + x) * p->ch + c;
                            s0 = _mm512_add_epi16(s0, _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m0, src)));
                            s1 = _mm512_add_epi16(s1, _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m1, src + 32)));
                            if (++taps == 256) {
                                widen_add(s0, &acc[0], &acc[1]);
                                widen_add(s1, &acc[2], &acc[3]);
                                s0 = s1 = _mm512_setzero_si512();
                                taps = 0;
                            }
                        }
                    widen_add(s0, &acc[0], &acc[1]);
                    widen_add(s1, &acc[2], &acc[3]);
                    for (i = 0; i < 4 && 16 * i < n; ++i) {
                        const int32_t k = ek_min_i32(16, n - 16 * i);
                        mean_store(acc[i], cnt, half, (__mmask16)((1u << k) - 1u), p->act_min, p->act_max,
                                   dst + c + 16 * i);
                    }
                }
            }
}
#endif
