/* ADD int8 without broadcast by table lookup, x86-64 AVX-512 VBMI (VNNI tier, checked at run time):
 * bit-identical to ../ek_add.c (TFLM reference_integer_ops::Add), 64 elements per step.
 *
 * The lowering (edgekit.codegen.add_lut, where the arithmetic is proven and every one of the 65536
 * int8 pairs checked against TFLM) gives six 256-byte planes, indexed by the int8 value as a byte:
 *   out = clamp(sat8(Qa[x] + Qb[y] + [ra[x] > rb[y]]), act_min, act_max)
 * Qa, Qb int16 (low, high byte planes; out_offset inside Qa; their sum fits int16), ra, rb unsigned
 * bytes. vpermi2b looks up 64 bytes in 128: two lookups blended on the index's top bit give 256.
 * The 16-bit sums are formed in-lane (vpunpck{l,h}bw) and vpacksswb packs them back in element
 * order, saturating to int8. CPUs without VBMI, and broadcasting adds, run ek_add_s8_avx512. */
#include "ek_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define EK_TARGET_VBMI __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi")))

static int has_vbmi(void) {
#ifdef EK_X86_NO_VBMI   /* tests: the fallback on this CPU */
    return 0;
#else
    return __builtin_cpu_supports("avx512vbmi");
#endif
}

/* t[0..3]: one 256-byte plane; hi: the lanes whose index byte has bit 7 set */
EK_TARGET_VBMI static __inline__ __m512i look(const __m512i *t, __m512i idx, __mmask64 hi) {
    return _mm512_mask_blend_epi8(hi, _mm512_permutex2var_epi8(t[0], idx, t[1]),
                                  _mm512_permutex2var_epi8(t[2], idx, t[3]));
}

/* the 64 outputs at n (lanes m); ca / cb: the high byte plane of Qa / Qb is one value, t[4] / t[16]
 * (the lowering makes it so where Qa or Qb spans at most 256 values): no lookup for it */
EK_TARGET_VBMI static __inline__ __attribute__((always_inline)) void step(const ek_binary_params *p, const __m512i *t,
                                                                          const int8_t *a, const int8_t *b, int8_t *out,
                                                                          __mmask64 m, int ca, int cb) {
    const __m512i x = _mm512_maskz_loadu_epi8(m, a), y = _mm512_maskz_loadu_epi8(m, b);
    const __mmask64 kx = _mm512_movepi8_mask(x), ky = _mm512_movepi8_mask(y);
    const __m512i alo = look(t, x, kx), ahi = ca ? t[4] : look(t + 4, x, kx), ra = look(t + 8, x, kx);
    const __m512i blo = look(t + 12, y, ky), bhi = cb ? t[16] : look(t + 16, y, ky), rb = look(t + 20, y, ky);
    const __m512i c = _mm512_movm_epi8(_mm512_cmpgt_epu8_mask(ra, rb));   /* carry: -1 bytes */
    const __m512i s0 = _mm512_sub_epi16(_mm512_add_epi16(_mm512_unpacklo_epi8(alo, ahi), _mm512_unpacklo_epi8(blo, bhi)),
                                        _mm512_unpacklo_epi8(c, c));
    const __m512i s1 = _mm512_sub_epi16(_mm512_add_epi16(_mm512_unpackhi_epi8(alo, ahi), _mm512_unpackhi_epi8(blo, bhi)),
                                        _mm512_unpackhi_epi8(c, c));
    __m512i q = _mm512_packs_epi16(s0, s1);
    if (p->act_min > -128) q = _mm512_max_epi8(q, _mm512_set1_epi8((char)p->act_min));
    if (p->act_max < 127) q = _mm512_min_epi8(q, _mm512_set1_epi8((char)p->act_max));
    _mm512_mask_storeu_epi8(out, m, q);
}

EK_TARGET_VBMI static __inline__ __attribute__((always_inline)) void run(const ek_binary_params *p, const __m512i *t,
                                                                         const int8_t *a, const int8_t *b, int8_t *out,
                                                                         size_t total, int ca, int cb) {
    size_t n;
    for (n = 0; n + 64 <= total; n += 64) step(p, t, a + n, b + n, out + n, ~(__mmask64)0, ca, cb);
    if (n < total) step(p, t, a + n, b + n, out + n, ((__mmask64)1 << (total - n)) - 1, ca, cb);
}

/* every byte of the plane t[0..3] equal */
EK_TARGET_VBMI static int constant(const __m512i *t) {
    const __m512i v = _mm512_set1_epi8((char)_mm_cvtsi128_si32(_mm512_castsi512_si128(t[0])));
    return (_mm512_cmpneq_epi8_mask(t[0], v) | _mm512_cmpneq_epi8_mask(t[1], v) | _mm512_cmpneq_epi8_mask(t[2], v) |
            _mm512_cmpneq_epi8_mask(t[3], v)) == 0;
}

EK_TARGET_VBMI static void add_lut(const ek_binary_params *p, const uint8_t *lut, const int8_t *a, const int8_t *b,
                                   int8_t *out, size_t total) {
    __m512i t[EK_ADD_LUT_PLANES * 4];
    int k;
    for (k = 0; k < EK_ADD_LUT_PLANES * 4; ++k) t[k] = _mm512_loadu_si512((const void *)(lut + 64 * k));
    if (constant(t + 4))
        run(p, t, a, b, out, total, 1, 0);
    else if (constant(t + 16))
        run(p, t, a, b, out, total, 0, 1);
    else
        run(p, t, a, b, out, total, 0, 0);
}

void ek_add_s8_lut_avx512(const ek_binary_params *p, const uint8_t *lut, const int8_t *a, const int8_t *b,
                          int8_t *out) {
    if (!has_vbmi() || !ek_dense4(p->out_shape, p->a_stride) || !ek_dense4(p->out_shape, p->b_stride)) {
        ek_add_s8_avx512(p, a, b, out);
        return;
    }
    add_lut(p, lut, a, b, out, (size_t)p->out_shape[0] * p->out_shape[1] * p->out_shape[2] * p->out_shape[3]);
}
#endif
