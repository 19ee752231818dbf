/* Vectorised requantization for the x86-64 tiers (src/x86_64/): eight lanes of
 * ek_mbqm_nn(acc + bias, mult, shift) + out_offset, clamped, exactly as ek_quant.h computes it
 * (mult >= 0, so the doubling high multiply cannot saturate). The arithmetic is AVX2 only; the
 * AVX-512 VNNI tier loads and stores with masks, the AVX2 tier with maskload and a byte copy. */
#ifndef EK_REQUANT_X86_H
#define EK_REQUANT_X86_H

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "ek_kernels.h"

#define EK_TARGET_VNNI __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
#define EK_TARGET_AVX2 __attribute__((target("avx2")))

/* dst[0..n) = src ^ 0x80: int8 inputs as the u8 operand of vpdpbusd (the VNNI kernels fold the
 * 128 * sum(w) this adds into their bias) */
EK_TARGET_VNNI static __inline__ void ek_x86_flip_copy(uint8_t *dst, const int8_t *src, int32_t n) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (; n >= 64; n -= 64, src += 64, dst += 64)
        _mm512_storeu_si512((void *)dst, _mm512_xor_si512(_mm512_loadu_si512((const void *)src), flip));
    if (n > 0) {
        const __mmask64 m = ((__mmask64)1 << n) - 1;
        _mm512_mask_storeu_epi8(dst, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src), flip));
    }
}

/* dst = an input row's pixels ix0 .. ix0 + pw (in_c bytes each) as u8 = x ^ 0x80, pixels outside
 * [0, in_w) = pad; row_in NULL (a row outside the input): all pad. The padded input rows of the
 * first-layer and quad depthwise kernels (the rows conv pads with vector stores: see its fill_row) */
EK_TARGET_VNNI static __inline__ void ek_x86_fill_row(const int8_t *row_in, int32_t in_c, int32_t in_w, int32_t ix0,
                                                      int32_t pw, uint8_t pad, uint8_t *dst) {
    const int32_t a = pw < -ix0 ? pw : (ix0 < 0 ? -ix0 : 0);   /* min(pw, max(0, -ix0)) */
    const int32_t e = in_w - ix0 < a ? a : (in_w - ix0 < pw ? in_w - ix0 : pw);   /* max(a, min(pw, in_w - ix0)) */
    if (!row_in) {
        memset(dst, pad, (size_t)pw * in_c);
        return;
    }
    memset(dst, pad, (size_t)a * in_c);
    ek_x86_flip_copy(dst + (size_t)a * in_c, row_in + (size_t)(ix0 + a) * in_c, (e - a) * in_c);
    memset(dst + (size_t)e * in_c, pad, (size_t)(pw - e) * in_c);
}

/* The first-layer kernels' ring of k_h input rows for an output row whose windows start at input
 * row iy0: rows up to iy0 + k_h - 1 not yet in the ring (*next_iy: the first such row) are filled
 * into slot iy mod k_h (rows outside the input: all pad), and rowp[fy] = row iy0 + fy's slot. Rows
 * are filled in increasing order, so a fill only overwrites rows above iy0. */
EK_TARGET_VNNI static __inline__ void ek_x86_ring_rows(const ek_conv_params *p, const int8_t *in_b, int32_t iy0,
                                                       int32_t pw, uint8_t pad, uint8_t *ring, size_t rowb,
                                                       int32_t *next_iy, const uint8_t **rowp) {
    const int32_t kh = p->k_h, c = p->in_c;
    int32_t fy;
    if (*next_iy < iy0) *next_iy = iy0;
    for (; *next_iy < iy0 + kh; ++*next_iy) {
        const int outside = *next_iy < 0 || *next_iy >= p->in_h;
        ek_x86_fill_row(outside ? NULL : in_b + (size_t)*next_iy * p->in_w * c, c, p->in_w, -p->pad_w, pw, pad,
                        ring + (size_t)(((*next_iy % kh) + kh) % kh) * rowb);
    }
    for (fy = 0; fy < kh; ++fy) rowp[fy] = ring + (size_t)((((iy0 + fy) % kh) + kh) % kh) * rowb;
}

/* The gemmlowp high half trunc((ab + nudge) / 2^31), nudge = ab >= 0 ? 2^30 : 1 - 2^30, equals
 * floor((ab + 2^30) / 2^31) for either sign (for ab < 0: trunc(v / 2^31) = floor((v + 2^31 - 1) / 2^31)).
 * Only the low 32 bits of each 64-bit lane are used: the same for a logical as an arithmetic shift. */
EK_TARGET_AVX2 static __inline__ __m256i ek_x86_high(__m256i ab) {
    return _mm256_srli_epi64(_mm256_add_epi64(ab, _mm256_set1_epi64x((int64_t)1 << 30)), 31);
}

/* x = acc + bias (int32 lanes) requantized with mu/sh, + out_offset, clamped to [lo, hi] */
EK_TARGET_AVX2 static __inline__ __m256i ek_x86_requant_core(__m256i x, __m256i mu, __m256i sh, int32_t out_offset,
                                                             int32_t lo, int32_t hi) {
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    const __m256i left = _mm256_max_epi32(sh, zero), right = _mm256_sub_epi32(left, sh);
    const __m256i xs = _mm256_sllv_epi32(x, left);
    const __m256i he = ek_x86_high(_mm256_mul_epi32(xs, mu));
    const __m256i ho = ek_x86_high(_mm256_mul_epi32(_mm256_srli_epi64(xs, 32), _mm256_srli_epi64(mu, 32)));
    const __m256i h = _mm256_blend_epi32(he, _mm256_slli_epi64(ho, 32), 0xAA);
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    const __m256i rem = _mm256_and_si256(h, mask);
    const __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(zero, h));
    __m256i q = _mm256_sub_epi32(_mm256_srav_epi32(h, right), _mm256_cmpgt_epi32(rem, thr));
    q = _mm256_add_epi32(q, _mm256_set1_epi32(out_offset));
    return _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

/* n (1..8) outputs of channels [c, c + n): acc lanes + bias[c..], requantized with mult/shift[c..],
 * stored as int8 at dst */
EK_TARGET_VNNI static __inline__ void ek_x86_requant8(__m256i acc, const int32_t *bias, const int32_t *mult,
                                                      const int32_t *shift, int32_t out_offset, int32_t lo, int32_t hi,
                                                      int n, int8_t *dst) {
    const __mmask8 m = (__mmask8)((1u << n) - 1u);
    const __m256i x = _mm256_add_epi32(acc, _mm256_maskz_loadu_epi32(m, bias));
    const __m256i q = ek_x86_requant_core(x, _mm256_maskz_loadu_epi32(m, mult), _mm256_maskz_loadu_epi32(m, shift),
                                          out_offset, lo, hi);
    _mm_mask_storeu_epi8(dst, m, _mm256_cvtepi32_epi8(q));
}

/* the same for the AVX2 tier */
EK_TARGET_AVX2 static __inline__ void ek_x86_requant8_avx2(__m256i acc, const int32_t *bias, const int32_t *mult,
                                                           const int32_t *shift, int32_t out_offset, int32_t lo,
                                                           int32_t hi, int n, int8_t *dst) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i x = _mm256_add_epi32(acc, _mm256_maskload_epi32((const int *)bias, m));
    const __m256i q = ek_x86_requant_core(x, _mm256_maskload_epi32((const int *)mult, m),
                                          _mm256_maskload_epi32((const int *)shift, m), out_offset, lo, hi);
    /* q is within [-128, 127]: the saturating packs are exact */
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    const __m128i bytes = _mm_packs_epi16(w, w);
    if (n == 8) {
        _mm_storel_epi64((__m128i *)(void *)dst, bytes);
    } else {
        int8_t tmp[16];
        _mm_storeu_si128((__m128i *)(void *)tmp, bytes);
        memcpy(dst, tmp, (size_t)n);
    }
}

/* 16 channels' requantization constants, loaded once per channel block (AVX-512 VNNI tier) */
typedef struct {
    __m512i bias, mu, mu_odd, left, right, mask, half;
    __m512i ne, no;   /* short form (ek_x86_rq16_fold): 64-bit addends of the even / odd lanes */
    __mmask16 m;
    int has_left;   /* some lane shifts left (shift > 0): else the vpsllvd is skipped */
    int fold;       /* short form: the output offset is inside ne/no */
} ek_x86_rq16;

EK_TARGET_VNNI static __inline__ ek_x86_rq16 ek_x86_rq16_load(const int32_t *bias, const int32_t *mult,
                                                              const int32_t *shift, int n) {
    ek_x86_rq16 r;
    const __m512i sh = _mm512_maskz_loadu_epi32((__mmask16)((1u << n) - 1u), shift);
    r.m = (__mmask16)((1u << n) - 1u);
    r.bias = _mm512_maskz_loadu_epi32(r.m, bias);
    r.mu = _mm512_maskz_loadu_epi32(r.m, mult);
    r.mu_odd = _mm512_srli_epi64(r.mu, 32);
    r.left = _mm512_max_epi32(sh, _mm512_setzero_si512());
    r.has_left = _mm512_test_epi32_mask(r.left, r.left) != 0;
    r.right = _mm512_sub_epi32(r.left, sh);
    r.mask = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), r.right), _mm512_set1_epi32(1));
    r.half = _mm512_srli_epi32(r.mask, 1);
    r.fold = 0;
    return r;
}

/* one multiplier and shift for all 16 lanes, bias 0 */
EK_TARGET_VNNI static __inline__ ek_x86_rq16 ek_x86_rq16_set1(int32_t mult, int32_t shift) {
    ek_x86_rq16 r;
    r.m = (__mmask16)0xFFFF;
    r.bias = _mm512_setzero_si512();
    r.mu = _mm512_set1_epi32(mult);
    r.mu_odd = _mm512_srli_epi64(r.mu, 32);
    r.left = _mm512_set1_epi32(shift > 0 ? shift : 0);
    r.has_left = shift > 0;
    r.right = _mm512_set1_epi32(shift > 0 ? 0 : -shift);
    r.mask = _mm512_set1_epi32((int32_t)(((uint32_t)1 << (shift > 0 ? 0 : -shift)) - 1u));
    r.half = _mm512_srli_epi32(r.mask, 1);
    r.fold = 0;
    return r;
}

/* ek_mbqm_nn(x, mult, shift) on 16 lanes: the steps of ek_x86_requant_core */
EK_TARGET_VNNI static __inline__ __m512i ek_x86_mbqm16(__m512i x, const ek_x86_rq16 *r) {
    const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
    const __m512i xs = r->has_left ? _mm512_sllv_epi32(x, r->left) : x;
    const __m512i he = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(xs, r->mu), nudge), 31);
    const __m512i ho = _mm512_slli_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(xs, 32), r->mu_odd), nudge), 1);
    const __m512i h = _mm512_mask_blend_epi32((__mmask16)0xAAAA, he, ho);   /* odd lanes: bits 31..62 of ho */
    const __m512i rem = _mm512_and_si512(h, r->mask);
    const __m512i thr = _mm512_sub_epi32(r->half, _mm512_srai_epi32(h, 31));
    const __m512i q = _mm512_srav_epi32(h, r->right);
    return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, thr), q, _mm512_set1_epi32(1));
}

/* x + out_offset clamped to [lo, hi] (-128 <= lo <= hi <= 127), stored as int8 to dst[0 .. popcount(m)).
 * The narrowing saturates (vpmovsdb): a bound of -128 or 127 needs no min/max of its own. */
EK_TARGET_VNNI static __inline__ void ek_x86_store16(__m512i x, __mmask16 m, int32_t out_offset, int32_t lo,
                                                     int32_t hi, int8_t *dst) {
    __m512i q = out_offset != 0 ? _mm512_add_epi32(x, _mm512_set1_epi32(out_offset)) : x;
    if (lo > -128) q = _mm512_max_epi32(q, _mm512_set1_epi32(lo));
    if (hi < 127) q = _mm512_min_epi32(q, _mm512_set1_epi32(hi));
    /* narrow in a register, then a plain 16-byte store when every lane is written */
    if (m == (__mmask16)0xFFFF)
        _mm_storeu_si128((__m128i *)(void *)dst, _mm512_cvtsepi32_epi8(q));
    else
        _mm_mask_storeu_epi8(dst, m, _mm512_cvtsepi32_epi8(q));
}

/* Short form, for layers whose shifts are all in [-EK_X86_SHORT_MAX_R, -1] (right shift r >= 1) and
 * whose x = acc + bias stays within +-(2^29 - 1). TFLM's RoundingDivideByPOT(h, r) is
 * (h >> r) + [rem > half - 1 + (h < 0)] = floor((h + 2^(r-1) - [h < 0]) / 2^r), and with mult >= 0,
 * h < 0 only if x < 0 while x < 0 and h >= 0 means h = 0 (both terms then give 0): [x < 0] replaces
 * [h < 0]. 2^(r-1) and the output offset times 2^r enter the 64-bit product before the high half
 * is taken (exact: multiples of 2^31), so
 *   q + out_offset = (floor((x * mult + 2^30 + (1 + 2 out_offset) 2^(30 + r)) / 2^31) - [x < 0]) >> r.
 * In the lanes, x' = x + 2^29 (in 1 .. 2^30 - 1, folded into the bias) is multiplied unsigned by
 * 2 mult, so that the floor is the high dword of x' * 2 mult + N, N = 2 (2^30 + (1 + 2 out_offset)
 * 2^(30 + r) - 2^29 mult) - 2^32 (the -2^32: the -1 of -[x < 0]; bit 29 of x' is [x >= 0]); even
 * and odd lanes' high dwords merge in one in-lane shuffle: 9 steps against ek_x86_mbqm16's 14 + the
 * offset add. The result lies within +-(2^29 + 2^(r-1) + 2^(r+7) + 1) < 2^31 for r <= 22: no wrap.
 * Zero multipliers give h = 0 at any shift; their lanes take r = 1. */
#define EK_X86_SHORT_MAX_R 22

/* the short form holds for channels [0, n): shifts in range (or mult 0), |bias| + acc_bound < 2^29,
 * where acc_bound bounds |acc| (conv: 255 * 128 * k_len for the u8 patches against int8 weights) */
static __inline__ int ek_x86_rq_short_ok(const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t n,
                                         int64_t acc_bound) {
    int32_t c;
    for (c = 0; c < n; ++c) {
        const int64_t b = bias ? (int64_t)bias[c] : 0;
        if (mult[c] < 0 || (mult[c] != 0 && (shift[c] > -1 || shift[c] < -EK_X86_SHORT_MAX_R))) return 0;
        if ((b < 0 ? -b : b) + acc_bound >= ((int64_t)1 << 29)) return 0;
    }
    return 1;
}

/* turns constants from ek_x86_rq16_load / _set1 into the short form with out_offset folded in */
EK_TARGET_VNNI static __inline__ void ek_x86_rq16_fold(ek_x86_rq16 *r, int32_t out_offset) {
    const __m512i lo32 = _mm512_set1_epi64(0xFFFFFFFF), k31 = _mm512_set1_epi64(31);
    const __m512i base = _mm512_set1_epi64(1 + 2 * (int64_t)out_offset), c0 = _mm512_set1_epi64(-((int64_t)1 << 31));
    const __m512i me = _mm512_and_si512(r->mu, lo32), mo = _mm512_srli_epi64(r->mu, 32);
    r->right = _mm512_mask_mov_epi32(r->right, _mm512_testn_epi32_mask(r->mu, r->mu), _mm512_set1_epi32(1));
    /* N = -2^31 + (1 + 2 out_offset) 2^(31 + r) - 2^30 mult, per 64-bit lane */
    r->ne = _mm512_sub_epi64(_mm512_add_epi64(c0, _mm512_sllv_epi64(base, _mm512_add_epi64(_mm512_and_si512(r->right, lo32), k31))),
                             _mm512_slli_epi64(me, 30));
    r->no = _mm512_sub_epi64(_mm512_add_epi64(c0, _mm512_sllv_epi64(base, _mm512_add_epi64(_mm512_srli_epi64(r->right, 32), k31))),
                             _mm512_slli_epi64(mo, 30));
    r->mu = _mm512_slli_epi64(me, 1);       /* 2 mult < 2^32, in the low dword */
    r->mu_odd = _mm512_slli_epi64(mo, 1);
    r->bias = _mm512_add_epi32(r->bias, _mm512_set1_epi32(1 << 29));
    r->fold = 1;
}

/* ek_mbqm_nn(x, mult, shift) + out_offset on 16 lanes, short form; xb = x + 2^29 (acc + the folded bias) */
EK_TARGET_VNNI static __inline__ __m512i ek_x86_mbqm16_short(__m512i xb, const ek_x86_rq16 *r) {
    const __m512i e = _mm512_add_epi64(_mm512_mul_epu32(xb, r->mu), r->ne);
    const __m512i o = _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(xb, 32), r->mu_odd), r->no);
    const __m512i h = _mm512_mask_shuffle_epi32(o, (__mmask16)0x5555, e, _MM_PERM_CDAB);   /* high dwords */
    return _mm512_srav_epi32(_mm512_add_epi32(h, _mm512_srli_epi32(xb, 29)), r->right);
}

/* acc + bias requantized (16 lanes) and stored to the lanes m of dst; the short form when r->fold */
EK_TARGET_VNNI static __inline__ void ek_x86_rq16_store_m(__m512i acc, const ek_x86_rq16 *r, __mmask16 m,
                                                          int32_t out_offset, int32_t lo, int32_t hi, int8_t *dst) {
    const __m512i x = _mm512_add_epi32(acc, r->bias);
    if (r->fold)
        ek_x86_store16(ek_x86_mbqm16_short(x, r), m, 0, lo, hi, dst);
    else
        ek_x86_store16(ek_x86_mbqm16(x, r), m, out_offset, lo, hi, dst);
}

/* the same to dst[0 .. n) (the lanes the constants were loaded for) */
EK_TARGET_VNNI static __inline__ void ek_x86_rq16_store(__m512i acc, const ek_x86_rq16 *r, int32_t out_offset,
                                                        int32_t lo, int32_t hi, int8_t *dst) {
    ek_x86_rq16_store_m(acc, r, r->m, out_offset, lo, hi, dst);
}

/* 4 channels x 2 tap pairs (lo) and the next 4 (hi), as vpmaddwd leaves them, summed per channel */
EK_TARGET_AVX2 static __inline__ __m256i ek_x86_pairsum8(__m256i lo, __m256i hi) {
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo, hi), 0xD8);   /* c0 c1 c4 c5 c2 c3 c6 c7 -> c0..c7 */
}
#endif
#endif
