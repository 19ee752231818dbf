/* ADD int8 without broadcast (the residual add), x86-64 AVX-512 tier (used by the VNNI tier):
 * bit-identical to ../ek_add.c (TFLM reference_integer_ops::Add), 16 elements per step through
 * the three ek_mbqm_nn of EK_ADD_ONE (ek_x86_mbqm16). Broadcasting adds run ek_add_s8. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "ek_requant_x86.h"

static int dense(const int32_t *shape, const int32_t *stride) {
    return stride[3] == 1 && stride[2] == shape[3] && stride[1] == shape[2] * shape[3] &&
           stride[0] == shape[1] * shape[2] * shape[3];
}

EK_TARGET_VNNI void ek_add_s8_avx512(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
    const ek_x86_rq16 qa = ek_x86_rq16_set1(p->a_mult, p->a_shift), qb = ek_x86_rq16_set1(p->b_mult, p->b_shift);
    const ek_x86_rq16 qo = ek_x86_rq16_set1(p->out_mult, p->out_shift);
    const __m512i a_off = _mm512_set1_epi32(p->a_offset), b_off = _mm512_set1_epi32(p->b_offset);
    const __m128i ls = _mm_cvtsi32_si128(p->left_shift);
    size_t total, n;
    if (!dense(p->out_shape, p->a_stride) || !dense(p->out_shape, p->b_stride)) {
        ek_add_s8(p, a, b, out);
        return;
    }
    total = (size_t)p->out_shape[0] * p->out_shape[1] * p->out_shape[2] * p->out_shape[3];
    for (n = 0; n < total; n += 16) {
        const __mmask16 m = total - n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (total - n)) - 1u);
        /* ek_shl: a logical left shift, wrapping as the scalar code's uint32 shift */
        const __m512i xa = _mm512_sll_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, a + n)), a_off), ls);
        const __m512i xb = _mm512_sll_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, b + n)), b_off), ls);
        const __m512i sum = _mm512_add_epi32(ek_x86_mbqm16(xa, &qa), ek_x86_mbqm16(xb, &qb));
        ek_x86_store16(ek_x86_mbqm16(sum, &qo), m, p->out_offset, p->act_min, p->act_max, out + n);
    }
}
#endif
