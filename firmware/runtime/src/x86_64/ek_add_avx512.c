/* ADD int8 without broadcast (the residual add), x86-64 AVX-512 tier (used by the VNNI tier):
 * bit-identical to ../ek_add.c (TFLM reference_integer_ops::Add), 16 elements per step.
 * Broadcasting adds run ek_add_s8.
 *
 * Input rescale, left_shift 20, shift -s with 0 <= s <= 20 (TFLM's add never shifts left): for
 * v = x + offset (|v| <= 255) and mult m = mh * 2^11 + ml (0 <= ml < 2^11),
 *   h = SaturatingRoundingDoublingHighMul(v * 2^20, m) = floor((v * m + 2^10) / 2^11)
 *     = v * mh + floor((v * ml + 2^10) / 2^11)            (all terms fit int32)
 * and RoundingDivideByPOT(h, s) = floor((h + 2^(s-1) - [h < 0]) / 2^s). h < 0 only if v < 0, and
 * for v < 0 with h = 0 both corrections give 0, so [v < 0] replaces [h < 0]; folded into the
 * inner floor, the rescale is v * mh + floor((v * ml - 2^11 [v < 0] + 2^10 + 2^(s+10)) / 2^11),
 * shifted right by s (s = 0: neither term, h itself). vpmaddwd computes v * ml - 2^11 [v < 0] in one step: the dword v is the
 * int16 pair (v, 0 or -1), multiplied by (ml, 2^11). Other parameters take the generic
 * ek_mbqm_nn steps (ek_x86_mbqm16). The output requantization takes the short form (ek_requant_x86.h)
 * for output shifts -22..-1: the sum of the two rescaled inputs stays below 2^29 (2 x 255 x 2^19 at most). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "ek_requant_x86.h"

typedef struct {
    __m512i off, mh, ml2k, c;
    __m128i s, p2;
    int pow2;   /* ml 0, shift 0, mh = 2^k: the rescale is v * 2^k (resnet's larger-scale input: 2^30, shift 0) */
} rescale;

static int fast_ok(int32_t left_shift, int32_t mult, int32_t shift) {
    return left_shift == 20 && mult >= 0 && shift <= 0 && shift >= -20;
}

EK_TARGET_VNNI static rescale rescale_set(int32_t off, int32_t mult, int32_t shift) {
    rescale r;
    r.off = _mm512_set1_epi32(off);
    r.mh = _mm512_set1_epi32(mult >> 11);
    /* int16 pair (ml, 2^11); shift 0: (ml, 0) and no rounding term, RoundingDivideByPOT(h, 0) = h */
    r.ml2k = _mm512_set1_epi32((int32_t)((uint32_t)(mult & 2047) | (shift < 0 ? 2048u << 16 : 0u)));
    r.c = _mm512_set1_epi32((1 << 10) + (shift < 0 ? 1 << (10 - shift) : 0));
    r.s = _mm_cvtsi32_si128(-shift);
    r.pow2 = shift == 0 && (mult & 2047) == 0 && mult > 0 && ((mult >> 11) & ((mult >> 11) - 1)) == 0;
    r.p2 = _mm_cvtsi32_si128(r.pow2 ? __builtin_ctz((unsigned)mult) - 11 : 0);
    return r;
}

/* 16 int8 inputs rescaled as ek_mbqm_nn(ek_shl(x + off, 20), mult, shift) */
EK_TARGET_VNNI static __m512i rescale16(__m128i x, const rescale *r) {
    const __m512i v = _mm512_add_epi32(_mm512_cvtepi8_epi32(x), r->off);
    if (r->pow2) return _mm512_sll_epi32(v, r->p2);   /* floor((v * 2^k * 2^11 + 2^10) / 2^11) = v * 2^k */
    const __m512i t = _mm512_add_epi32(_mm512_madd_epi16(v, r->ml2k), r->c);
    return _mm512_sra_epi32(_mm512_add_epi32(_mm512_mullo_epi32(v, r->mh), _mm512_srai_epi32(t, 11)), r->s);
}

EK_TARGET_VNNI void ek_add_s8_avx512(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    const ek_x86_rq16 qa = ek_x86_rq16_set1(p->a_mult, p->a_shift), qb = ek_x86_rq16_set1(p->b_mult, p->b_shift);
    ek_x86_rq16 qo = ek_x86_rq16_set1(p->out_mult, p->out_shift);
    const __m512i a_off = _mm512_set1_epi32(p->a_offset), b_off = _mm512_set1_epi32(p->b_offset);
    const __m128i ls = _mm_cvtsi32_si128(p->left_shift);
    size_t total, n;
    if (!ek_dense4(p->out_shape, p->a_stride) || !ek_dense4(p->out_shape, p->b_stride)) {
        ek_add_s8(p, a, b, out);
        return;
    }
    total = (size_t)p->out_shape[0] * p->out_shape[1] * p->out_shape[2] * p->out_shape[3];
    /* |sum| < 2^29: each rescaled input is below 255 * 2^20 < 2^28 in magnitude (mult < 2^31, no left shift) */
    if (p->left_shift <= 20 && p->a_mult >= 0 && p->b_mult >= 0 && p->a_shift <= 0 && p->b_shift <= 0 &&
        ek_x86_rq_short_ok(0, &p->out_mult, &p->out_shift, 1, ((int64_t)1 << 29) - 1))
        ek_x86_rq16_fold(&qo, p->out_offset);
    if (fast_ok(p->left_shift, p->a_mult, p->a_shift) && fast_ok(p->left_shift, p->b_mult, p->b_shift)) {
        const rescale ra = rescale_set(p->a_offset, p->a_mult, p->a_shift);
        const rescale rb = rescale_set(p->b_offset, p->b_mult, p->b_shift);
        n = 0;
        if (qo.fold) {   /* 64 outputs a step: packed (vpackssdw, vpacksswb, vpermd) into one store */
            const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            const ek_x86_rq16 q = qo;
            for (; n + 64 <= total; n += 64) {
                __m512i y[4];
                int k;
                for (k = 0; k < 4; ++k) {
                    const __m512i sum = _mm512_add_epi32(
                        rescale16(_mm_loadu_si128((const __m128i *)(const void *)(a + n + 16 * k)), &ra),
                        rescale16(_mm_loadu_si128((const __m128i *)(const void *)(b + n + 16 * k)), &rb));
                    y[k] = ek_x86_mbqm16_short(_mm512_add_epi32(sum, q.bias), &q);
                    if (p->act_min > -128) y[k] = _mm512_max_epi32(y[k], _mm512_set1_epi32(p->act_min));
                    if (p->act_max < 127) y[k] = _mm512_min_epi32(y[k], _mm512_set1_epi32(p->act_max));
                }
                _mm512_storeu_si512((void *)(out + n), _mm512_permutexvar_epi32(perm, _mm512_packs_epi16(
                                        _mm512_packs_epi32(y[0], y[1]), _mm512_packs_epi32(y[2], y[3]))));
            }
        }
        for (; n < total; n += 16) {
            const __mmask16 m = total - n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (total - n)) - 1u);
            const __m512i sum = _mm512_add_epi32(rescale16(_mm_maskz_loadu_epi8(m, a + n), &ra),
                                                 rescale16(_mm_maskz_loadu_epi8(m, b + n), &rb));
            ek_x86_rq16_store_m(sum, &qo, m, p->out_offset, p->act_min, p->act_max, out + n);
        }
        return;
    }
    for (n = 0; n < total; n += 16) {
        const __mmask16 m = total - n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (total - n)) - 1u);
        /* ek_shl: a logical left shift, wrapping as the scalar code's uint32 shift */
        const __m512i xa = _mm512_sll_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, a + n)), a_off), ls);
        const __m512i xb = _mm512_sll_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, b + n)), b_off), ls);
        const __m512i sum = _mm512_add_epi32(ek_x86_mbqm16(xa, &qa), ek_x86_mbqm16(xb, &qb));
        ek_x86_rq16_store_m(sum, &qo, m, p->out_offset, p->act_min, p->act_max, out + n);
    }
}
#endif
