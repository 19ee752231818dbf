/* DEPTHWISE_CONV_2D int8, channel multiplier m dividing 32, x86-64 AVX-512 VNNI tier: bit-identical to
 * ../ek_depthwise_conv2d.c (TFLM DepthwiseConvPerChannel).
 *
 * vpdpwssd sums int16 pairs into int32 lanes: a pair is one channel's two taps. Two taps' rows of
 * 32 channels are sign-extended (vpmovsxbw) and interleaved by vpunpck{l,h}wd, which leaves the
 * channels of "lo" as {0-3, 8-11, 16-19, 24-27} and of "hi" as {4-7, ...}; the code generator
 * packs the int16 weights in that order, [ceil(ch/32)][ceil(taps/2)][lo, hi][32 int16], and one
 * vpermt2d per 16 channels restores channel order before requantization. The input enters raw;
 * in_offset * sum(w) is folded into bias_packed, and padding taps read a row of zp from the
 * scratch (w * zp + in_offset * w = 0, as TFLM skipping them); a missing odd tap has zero weights.
 * |x| <= 128, |w| <= 128: a pair sum fits int32 with room to accumulate. With m > 1, output
 * channel k of a 32-channel block reads input channel k / m of the block's 32 / m (vpermw).
 * With 8 or 16 channels, one register takes 32 / ch adjacent output pixels of a row (their rows
 * of a tap gathered, padding taps from the zp row); the weights, packed once more after the block
 * with channel k of the 32 lanes = k % ch, and the bias, mult and shift repeat per pixel. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define RQ_KEEP 4

/* 32 channels c0.. of a tap row as int16; n < 32 reads only n bytes: plain loads of 8 or 16 where
 * they fit (a masked load past the row can wait on the stores of pixels just written) */
EK_TARGET static __m512i row32(const int8_t *row, int32_t n) {
    if (n >= 32) return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)row));
    if (n == 16) return _mm512_cvtepi8_epi16(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)row)));
    if (n == 8) return _mm512_cvtepi8_epi16(_mm256_castsi128_si256(_mm_loadl_epi64((const __m128i *)(const void *)row)));
    return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8((__mmask32)((1u << n) - 1u), row));
}

/* row32 of the input channels of 32 output channels, each repeated m times (m > 1) */
EK_TARGET static __m512i row32m(const int8_t *row, int32_t n_in, __m512i rep) {
    return _mm512_permutexvar_epi16(rep, row32(row, n_in));
}

/* tap row (or the zp row) of input pixel (iy, ix) */
#define TAP_ROW(iy, ix) ((iy) < 0 || (iy) >= p->in_h || (ix) < 0 || (ix) >= p->in_w \
                         ? zp_row : in_b + ((size_t)(iy) * p->in_w + (ix)) * ch)

/* one tap of 32 / ch pixels as int16 lanes: ch 8 -> 4 pixels, 16 -> 2 */
EK_TARGET static __m512i rows_of_pixels(const int8_t *const *r, int32_t ch) {
    __m256i v;
    if (ch == 16) {
        v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)r[0])),
                                    _mm_loadu_si128((const __m128i *)(const void *)r[1]), 1);
    } else {
        const __m128i a = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)r[0]),
                                             _mm_loadl_epi64((const __m128i *)(const void *)r[1]));
        const __m128i b = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)r[2]),
                                             _mm_loadl_epi64((const __m128i *)(const void *)r[3]));
        v = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
    }
    return _mm512_cvtepi8_epi16(v);
}

/* one tap of the 32 / ch pixels ox0.. (input column x0 of the first) of a row the windows fully
 * cover (x interior, stride_w * (px - 1) * ch + ch <= 64): one load, no gather. Stride 1: the
 * pixels' bytes are contiguous; stride s: a masked load of the span keeps every s-th 8-byte group
 * (ch 8) or 16-byte pair (ch 16) by vpcompressq. */
EK_TARGET static __m512i tap_direct(const int8_t *src, int32_t span, __mmask8 keep) {
    if (keep == 0) return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)src));
    return _mm512_cvtepi8_epi16(_mm512_castsi512_si256(_mm512_maskz_compress_epi64(
        keep, _mm512_maskz_loadu_epi8((__mmask64)(~(__mmask64)0 >> (64 - span)), src))));
}

/* ch 8 or 16: 32 / ch pixels per register (see the top of the file) */
EK_TARGET static void dw_pixels(const ek_conv_params *p, const int8_t *in, const int16_t *w_rep,
                                const int32_t *bias_packed, const int8_t *zp_row, int8_t *out) {
    const int32_t ch = p->in_c, px = 32 / ch, taps = p->k_h * p->k_w, pairs = (taps + 1) / 2, sw = p->stride_w;
    const int32_t span = ((px - 1) * sw + 1) * ch, reach = (px - 1) * sw + (p->k_w - 1) * p->dil_w;
    const __m512i order0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i order1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    const __m512i zpv = _mm512_set1_epi16((int16_t)(-p->in_offset));
    int32_t bias16[16], mult16[16], shift16[16];
    const int8_t *r[EK_DW_VNNI_MAX_TAPS + 1][4];
    __m512i xv[EK_DW_VNNI_MAX_TAPS + 1];
    __mmask8 keep = 0;
    ek_x86_rq16 rq;
    int32_t b, oy, ox, fy, fx, t, j, q, k;
    for (j = 0; sw > 1 && span <= 64 && j < px; ++j) keep |= (__mmask8)(((1u << (ch / 8)) - 1u) << (j * sw * ch / 8));
    for (k = 0; k < 16; ++k) bias16[k] = bias_packed[k % ch], mult16[k] = p->mult[k % ch], shift16[k] = p->shift[k % ch];
    rq = ek_x86_rq16_load(bias16, mult16, shift16, 16);
    xv[2 * pairs - 1] = zpv;   /* an odd tap count: zero weights there */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ox += px) {
                const int32_t nb = ek_min_i32(px, p->out_w - ox) * ch;   /* output bytes */
                const int32_t x0 = ox * sw - p->pad_w;
                int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * ch;
                __m512i lo = _mm512_setzero_si512(), hi = lo;
                if (ox + px <= p->out_w && x0 >= 0 && x0 + reach < p->in_w && span <= 64) {
                    for (fy = 0, t = 0; fy < p->k_h; ++fy) {
                        const int32_t iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
                        const int8_t *row = iy < 0 || iy >= p->in_h ? NULL : in_b + ((size_t)iy * p->in_w + x0) * ch;
                        for (fx = 0; fx < p->k_w; ++fx, ++t)
                            xv[t] = row == NULL ? zpv : tap_direct(row + (size_t)fx * p->dil_w * ch, span, keep);
                    }
                } else {
                    for (j = 0; j < px; ++j) {   /* pixels past the row end repeat the last one */
                        const int32_t xj = ek_min_i32(ox + j, p->out_w - 1) * sw - p->pad_w;
                        for (fy = 0, t = 0; fy < p->k_h; ++fy) {
                            const int32_t iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
                            for (fx = 0; fx < p->k_w; ++fx, ++t) r[t][j] = TAP_ROW(iy, xj + fx * p->dil_w);
                        }
                    }
                    for (t = 0; t < taps; ++t) xv[t] = rows_of_pixels(r[t], ch);
                }
                for (q = 0; q < pairs; ++q) {
                    lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(xv[2 * q], xv[2 * q + 1]), _mm512_loadu_si512((const void *)(w_rep + 64 * q)));
                    hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(xv[2 * q], xv[2 * q + 1]), _mm512_loadu_si512((const void *)(w_rep + 64 * q + 32)));
                }
                ek_x86_store16(ek_x86_mbqm16(_mm512_add_epi32(_mm512_permutex2var_epi32(lo, order0, hi), rq.bias), &rq),
                               (__mmask16)((1u << ek_min_i32(16, nb)) - 1u), p->out_offset, p->act_min, p->act_max, o);
                if (nb > 16)
                    ek_x86_store16(ek_x86_mbqm16(_mm512_add_epi32(_mm512_permutex2var_epi32(lo, order1, hi), rq.bias), &rq),
                                   (__mmask16)((1u << (nb - 16)) - 1u), p->out_offset, p->act_min, p->act_max, o + 16);
            }
        }
    }
}

EK_TARGET void ek_depthwise_conv2d_s8_vnni(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                           const int32_t *bias_packed, int8_t *out) {
    const int32_t ch = p->in_c, out_c = p->out_c, m = p->depth_mult, taps = p->k_h * p->k_w, pairs = (taps + 1) / 2;
    const int16_t *wp = (const int16_t *)(const void *)w_packed;
    int16_t rep_idx[32];   /* m > 1: lane k takes input lane k / m */
    __m512i rep;
    const __m512i order0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i order1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    int8_t *zp_row = (int8_t *)(void *)p->scratch;   /* ch bytes of the input zero point */
    const int8_t *tap[EK_DW_VNNI_MAX_TAPS + 1];
    size_t off[EK_DW_VNNI_MAX_TAPS];   /* tap offsets from the window's corner (interior windows) */
    ek_x86_rq16 rq[RQ_KEEP];           /* the first RQ_KEEP 16-channel blocks' constants */
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    int32_t b, oy, ox, fy, fx, t, c0, q, h;
    memset(zp_row, (int8_t)(-p->in_offset), (size_t)ch);
    for (t = 0; t < 32; ++t) rep_idx[t] = (int16_t)(t / m);
    rep = _mm512_loadu_si512((const void *)rep_idx);
    if (m == 1 && (ch == 8 || ch == 16)) {
        dw_pixels(p, in, wp + (size_t)pairs * 64, bias_packed, zp_row, out);
        return;
    }
    for (fy = 0, t = 0; fy < p->k_h; ++fy)
        for (fx = 0; fx < p->k_w; ++fx, ++t) off[t] = ((size_t)fy * p->dil_h * p->in_w + (size_t)fx * p->dil_w) * ch;
    for (h = 0; h < RQ_KEEP && 16 * h < out_c; ++h)
        rq[h] = ek_x86_rq16_load(bias_packed + 16 * h, p->mult + 16 * h, p->shift + 16 * h, ek_min_i32(16, out_c - 16 * h));
    tap[2 * pairs - 1] = zp_row;   /* an odd tap count: zero weights there */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * out_c;
                if (iy0 >= 0 && ix0 >= 0 && iy0 + span_h < p->in_h && ix0 + span_w < p->in_w) {
                    const int8_t *corner = in_b + ((size_t)iy0 * p->in_w + ix0) * ch;
                    for (t = 0; t < taps; ++t) tap[t] = corner + off[t];
                } else {
                    for (fy = 0, t = 0; fy < p->k_h; ++fy)
                        for (fx = 0; fx < p->k_w; ++fx, ++t) tap[t] = TAP_ROW(iy0 + fy * p->dil_h, ix0 + fx * p->dil_w);
                }
                for (c0 = 0; c0 < out_c; c0 += 32) {
                    const int32_t n = ek_min_i32(32, out_c - c0), ci = c0 / m, n_in = (n + m - 1) / m;
                    const int16_t *wq = wp + (size_t)(c0 / 32) * pairs * 64;
                    __m512i lo = _mm512_setzero_si512(), hi = lo;
                    for (q = 0; q < pairs; ++q, wq += 64) {
                        const __m512i x0 = m == 1 ? row32(tap[2 * q] + c0, n) : row32m(tap[2 * q] + ci, n_in, rep);
                        const __m512i x1 = m == 1 ? row32(tap[2 * q + 1] + c0, n) : row32m(tap[2 * q + 1] + ci, n_in, rep);
                        lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(x0, x1), _mm512_loadu_si512((const void *)wq));
                        hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(x0, x1), _mm512_loadu_si512((const void *)(wq + 32)));
                    }
                    for (h = 0; h < 2 && 16 * h < n; ++h) {
                        const int32_t c = c0 + 16 * h;
                        const __m512i acc = _mm512_permutex2var_epi32(lo, h ? order1 : order0, hi);
                        if (c < 16 * RQ_KEEP) {
                            ek_x86_rq16_store(acc, &rq[c / 16], p->out_offset, p->act_min, p->act_max, o + c);
                        } else {
                            const ek_x86_rq16 r = ek_x86_rq16_load(bias_packed + c, p->mult + c, p->shift + c, ek_min_i32(16, n - 16 * h));
                            ek_x86_rq16_store(acc, &r, p->out_offset, p->act_min, p->act_max, o + c);
                        }
                    }
                }
            }
        }
    }
}
#endif
