/* Vectorised requantization for the x86-64 AVX-512 VNNI tier (src/x86_64/): eight lanes of
 * ek_mbqm_nn(acc + bias, mult, shift) + out_offset, clamped, exactly as ek_quant.h computes it
 * (mult >= 0, so the doubling high multiply cannot saturate). */
#ifndef EK_REQUANT_X86_H
#define EK_REQUANT_X86_H

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <stdint.h>

#define EK_TARGET_VNNI __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

/* truncating (v + nudge) / 2^31 of int64 products, the gemmlowp high half */
EK_TARGET_VNNI static __inline__ __m256i ek_x86_high(__m256i ab) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i neg = _mm256_cmpgt_epi64(zero, ab);
    const __m256i nudge = _mm256_blendv_epi8(_mm256_set1_epi64x((int64_t)1 << 30),
                                             _mm256_set1_epi64x(1 - ((int64_t)1 << 30)), neg);
    const __m256i v = _mm256_add_epi64(ab, nudge);
    const __m256i vneg = _mm256_cmpgt_epi64(zero, v);
    /* truncation toward zero: add 2^31 - 1 before the floor shift when v < 0 */
    return _mm256_srai_epi64(_mm256_add_epi64(v, _mm256_and_si256(vneg, _mm256_set1_epi64x(((int64_t)1 << 31) - 1))), 31);
}

/* n (1..8) outputs of channels [c, c + n): acc lanes + bias[c..], requantized with mult/shift[c..],
 * stored as int8 at dst */
EK_TARGET_VNNI static __inline__ void ek_x86_requant8(__m256i acc, const int32_t *bias, const int32_t *mult,
                                                      const int32_t *shift, int32_t out_offset, int32_t lo, int32_t hi,
                                                      int n, int8_t *dst) {
    const __mmask8 m = (__mmask8)((1u << n) - 1u);
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    const __m256i sh = _mm256_maskz_loadu_epi32(m, shift), mu = _mm256_maskz_loadu_epi32(m, mult);
    const __m256i left = _mm256_max_epi32(sh, zero), right = _mm256_sub_epi32(left, sh);
    const __m256i x = _mm256_sllv_epi32(_mm256_add_epi32(acc, _mm256_maskz_loadu_epi32(m, bias)), left);
    const __m256i he = ek_x86_high(_mm256_mul_epi32(x, mu));
    const __m256i ho = ek_x86_high(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mu, 32)));
    const __m256i h = _mm256_blend_epi32(he, _mm256_slli_epi64(ho, 32), 0xAA);
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    const __m256i rem = _mm256_and_si256(h, mask);
    const __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(zero, h));
    __m256i q = _mm256_sub_epi32(_mm256_srav_epi32(h, right), _mm256_cmpgt_epi32(rem, thr));
    q = _mm256_add_epi32(q, _mm256_set1_epi32(out_offset));
    q = _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
    _mm_mask_storeu_epi8(dst, m, _mm256_cvtepi32_epi8(q));
}
#endif
#endif
