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
 * With m 1, out_w > 1 and 8, 16 channels (any stride) or a multiple of 32 (stride_w 1), dw_rows
 * treats an output row as a flat stream of pixel-channel slots read from a band of padded input
 * rows; for 8 and 16 channels it uses the weights packed once more after the block with lane
 * k = channel k % ch. Scratch: the zp row (ch bytes rounded up to 64), then dw_rows' band,
 * k_h * stride_w * (ceil(bw / stride_w) * ch + 64) bytes, bw = (out_w - 1) * stride_w +
 * (k_w - 1) * dil_w + 1 (mirrored in edgekit.codegen.lower_conv).
 * |acc| <= 128 * 128 * 2 * pairs bounds the sum for the short-form requantization (ek_requant_x86.h). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define RQ_KEEP 16   /* the first 256 channels' requant constants are loaded once per call */

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

/* one pixel's ch bytes */
EK_TARGET static void copy_px(int8_t *dst, const int8_t *src, int32_t ch) {
    for (; ch > 0; ch -= 64, src += 64, dst += 64) {
        const __mmask64 m = ch >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << ch) - 1);
        _mm512_mask_storeu_epi8(dst, m, _mm512_maskz_loadu_epi8(m, src));
    }
}

/* band pixels 0 .. bw - 1 into the sw phases of band row r (phase ph holds pixels j * sw + ph at
 * index j): pixels lo .. hi - 1 from src (band pixel 0), the others zp. For ch 8 or 16 and sw <= 8,
 * 64 / ch pixels per load, each phase's pixels packed by vpcompressq in a register and stored
 * whole (unmasked: masked stores cost more here; the spill lands on later pixels of the phase,
 * stored next, or on the padding written last, or on the row's 64 spare bytes) */
EK_TARGET static void split_phases(int8_t *r, size_t prs, const int8_t *src, int32_t lo, int32_t hi, int32_t bw,
                                   int32_t ch, int32_t sw, int8_t zp) {
    const int32_t g = 64 / ch, q = ch / 8;   /* pixels per load, qwords per pixel */
    const int vec = ch % 8 == 0 && ch <= 64 && sw <= 8;
    __mmask8 sel[8][8];   /* [phase of the load's first pixel][phase]: that phase's qwords */
    int32_t m, ph, j, k, b0 = 0, m0 = 0;   /* pixel k = b0 * sw + m0 */
    for (m = 0; vec && m < sw; ++m) {
        for (ph = 0; ph < sw; ++ph) sel[m][ph] = 0;
        for (j = 0, ph = m; j < g; ++j, ph = ph + 1 == sw ? 0 : ph + 1)   /* ph = (m + j) % sw */
            sel[m][ph] |= (__mmask8)(((1u << q) - 1u) << (j * q));
    }
    for (k = 0; k < lo; ++k) {   /* left padding */
        memset(r + (size_t)m0 * prs + (size_t)b0 * ch, zp, (size_t)ch);
        if (++m0 == sw) m0 = 0, ++b0;
    }
    for (; vec && k + g <= hi; k += g) {
        const __m512i v = _mm512_loadu_si512((const void *)(src + (size_t)k * ch));
        for (ph = 0; ph < sw; ++ph)   /* the load's first pixel of phase ph has index b0, or b0 + 1 if ph < m0 */
            _mm512_storeu_si512((void *)(r + (size_t)ph * prs + (size_t)(b0 + (ph < m0)) * ch),
                                _mm512_maskz_compress_epi64(sel[m0][ph], v));
        for (m0 += g; m0 >= sw; m0 -= sw) ++b0;
    }
    for (; k < bw; ++k) {   /* the last pixels, then right padding */
        if (k < hi)
            copy_px(r + (size_t)m0 * prs + (size_t)b0 * ch, src + (size_t)k * ch, ch);
        else
            memset(r + (size_t)m0 * prs + (size_t)b0 * ch, zp, (size_t)ch);
        if (++m0 == sw) m0 = 0, ++b0;
    }
}

/* channel multiplier 1, ch 8 or 16 or a multiple of 32: along a row, output slot s = ox * ch + c
 * of tap (fy, fx) reads byte s + a * ch of phase r of band row fy, where fx * dil_w = a * stride_w + r
 * and phase r holds the input pixels of row iy at columns j * stride_w + r - pad_w, j = 0, 1, ..
 * (padding = zp). So 32 slots take one 32-byte load per tap, whatever the pixel boundaries. Slot
 * lane l of a block starting at s0 is channel (s0 + l) % ch: for ch 8 or 16 every block uses the
 * repeated weights, for a multiple of 32 block s0 uses channel block (s0 % ch) / 32. The k_h band
 * rows of an output row are filled before any of its pixels is written (raster order). At stride_w
 * 1 without left padding and with every window inside the row (VALID padding), the
 * taps read the input rows in place (rows above or below the input: a zp row). */
EK_TARGET static void dw_rows(const ek_conv_params *p, const int8_t *in, const int16_t *wp, const int32_t *bias_packed,
                              int8_t *band, int8_t *out) {
    const int32_t ch = p->in_c, taps = p->k_h * p->k_w, pairs = (taps + 1) / 2, ns = p->out_w * ch, sw = p->stride_w;
    const int32_t bw = (p->out_w - 1) * sw + (p->k_w - 1) * p->dil_w + 1;   /* band pixels per row */
    const size_t prs = (size_t)((bw + sw - 1) / sw) * ch + 64;   /* phase row (+ 64: the zp row of direct reads) */
    const size_t rs = prs * (size_t)sw;
    /* stride_w 1 without left padding or columns past the row: windows read the input rows in place */
    const int direct = sw == 1 && p->pad_w == 0 && bw <= p->in_w;
    const __m512i order0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i order1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    const int8_t zp = (int8_t)(-p->in_offset);
    const int16_t *w_blk = ch < 32 ? wp + (size_t)pairs * 64 : wp;   /* ch 8, 16: the repeated weights */
    int32_t bias_r[32], mult_r[32], shift_r[32];
    size_t off[EK_DW_VNNI_MAX_TAPS + 1];   /* tap offset within its band row (phase, column) */
    int32_t tfy[EK_DW_VNNI_MAX_TAPS + 1];
    const int8_t *row[EK_DW_VNNI_MAX_TAPS], *tp[EK_DW_VNNI_MAX_TAPS + 1];
    ek_x86_rq16 rq_r[RQ_KEEP];   /* 16-lane requant constants: ch 8, 16 repeated, else the first channels' */
    const int sf = ek_x86_rq_short_ok(bias_packed, p->mult, p->shift, ch, (int64_t)128 * 128 * 2 * pairs);
    const int32_t nb = ch < 32 ? 1 : ch / 32;   /* channel blocks; slot block s0 uses block (s0 % ch) / 32 */
    int32_t b, oy, fy, fx, t, s0, q, h, k, cb;
    for (fy = 0, t = 0; fy < p->k_h; ++fy)
        for (fx = 0; fx < p->k_w; ++fx, ++t)
            off[t] = (size_t)(fx * p->dil_w % sw) * prs + (size_t)(fx * p->dil_w / sw) * ch, tfy[t] = fy;
    off[taps] = off[taps - 1], tfy[taps] = tfy[taps - 1];   /* an odd tap count: zero weights there */
    if (ch < 32) {
        for (k = 0; k < 32; ++k)
            bias_r[k] = bias_packed[k % ch], mult_r[k] = p->mult[k % ch], shift_r[k] = p->shift[k % ch];
        rq_r[0] = ek_x86_rq16_load(bias_r, mult_r, shift_r, 16);
        rq_r[1] = ek_x86_rq16_load(bias_r + 16, mult_r + 16, shift_r + 16, 16);
        if (sf) ek_x86_rq16_fold(&rq_r[0], p->out_offset), ek_x86_rq16_fold(&rq_r[1], p->out_offset);
    } else {
        for (h = 0; h < RQ_KEEP && 16 * h < ch; ++h) {
            rq_r[h] = ek_x86_rq16_load(bias_packed + 16 * h, p->mult + 16 * h, p->shift + 16 * h, 16);
            if (sf) ek_x86_rq16_fold(&rq_r[h], p->out_offset);
        }
    }
    memset(band, zp, rs * (size_t)(direct ? 1 : p->k_h));   /* direct: one zp row for rows outside */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * ch;
        /* dil_h 1: the band is a ring, input row iy in row (iy + pad_h) % k_h, filled once for all
         * the output rows that read it (rows from next_iy on are not filled yet; a row below it
         * that an output row reads is still there: only row iy + k_h, later, takes its place) */
        int32_t next_iy = -p->pad_h;
        for (oy = 0; oy < p->out_h; ++oy) {
            int8_t *o = out + ((size_t)b * p->out_h + oy) * (size_t)ns;
            for (fy = 0; fy < p->k_h; ++fy) {   /* band row fy: zp | input row iy | zp, split into phases */
                const int32_t iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
                const int32_t lo = ek_min_i32(p->pad_w, bw), hi = ek_max_i32(ek_min_i32(p->pad_w + p->in_w, bw), lo);
                int8_t *r = band + (size_t)(p->dil_h == 1 ? (iy + p->pad_h) % p->k_h : fy) * rs;
                if (direct) {
                    row[fy] = iy < 0 || iy >= p->in_h ? band : in_b + (size_t)iy * p->in_w * ch;
                    continue;
                }
                row[fy] = r;
                if (p->dil_h == 1) {
                    if (iy < next_iy) continue;   /* in the ring already */
                    next_iy = iy + 1;
                }
                if (iy < 0 || iy >= p->in_h) {
                    memset(r, zp, rs);
                } else if (sw == 1) {
                    memset(r, zp, (size_t)lo * ch);
                    memcpy(r + (size_t)lo * ch, in_b + (size_t)iy * p->in_w * ch, (size_t)(hi - lo) * ch);
                    memset(r + (size_t)hi * ch, zp, (size_t)(bw - hi) * ch);
                } else {
                    split_phases(r, prs, in_b + ((size_t)iy * p->in_w - p->pad_w) * ch, lo, hi, bw, ch, sw, zp);
                }
            }
            for (t = 0; t <= taps; ++t) tp[t] = row[tfy[t]] + off[t];
            for (s0 = 0, cb = 0; s0 < ns; s0 += 32, cb = cb + 1 == nb ? 0 : cb + 1) {
                /* n < 32 (the row's last block): loads of n bytes, within the row */
                const int32_t n = ek_min_i32(32, ns - s0);
                const int16_t *wq = w_blk + (size_t)cb * pairs * 64;
                __m512i lo = _mm512_setzero_si512(), hi = lo;
                for (q = 0; q < pairs; ++q, wq += 64) {
                    const __m512i x0 = row32(tp[2 * q] + s0, n), x1 = row32(tp[2 * q + 1] + s0, n);
                    lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(x0, x1), _mm512_loadu_si512((const void *)wq));
                    hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(x0, x1), _mm512_loadu_si512((const void *)(wq + 32)));
                }
                for (h = 0; h < 2 && 16 * h < n; ++h) {
                    const __m512i acc = _mm512_permutex2var_epi32(lo, h ? order1 : order0, hi);
                    const __mmask16 m = (__mmask16)((1u << ek_min_i32(16, n - 16 * h)) - 1u);
                    const int32_t c = 32 * cb + 16 * h;   /* ch 8, 16: cb 0 */
                    if (c < 16 * RQ_KEEP) {
                        ek_x86_rq16_store_m(acc, &rq_r[c / 16], m, p->out_offset, p->act_min, p->act_max, o + s0 + 16 * h);
                    } else {
                        ek_x86_rq16 r = ek_x86_rq16_load(bias_packed + c, p->mult + c, p->shift + c, 16);
                        if (sf) ek_x86_rq16_fold(&r, p->out_offset);
                        ek_x86_rq16_store_m(acc, &r, m, p->out_offset, p->act_min, p->act_max, o + s0 + 16 * h);
                    }
                }
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
    int sf;
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    int32_t b, oy, ox, fy, fx, t, c0, q, h;
    memset(zp_row, (int8_t)(-p->in_offset), (size_t)ch);
    for (t = 0; t < 32; ++t) rep_idx[t] = (int16_t)(t / m);
    rep = _mm512_loadu_si512((const void *)rep_idx);
    /* dw_rows where a row has several pixels (measured: on width-1 images such as str_ww's the
     * one-pixel path below is faster) */
    if (m == 1 && p->out_w > 1 && (ch == 8 || ch == 16 || (ch % 32 == 0 && p->stride_w == 1))) {
        dw_rows(p, in, wp, bias_packed, zp_row + ((ch + 63) & ~63), out);
        return;
    }
    for (fy = 0, t = 0; fy < p->k_h; ++fy)
        for (fx = 0; fx < p->k_w; ++fx, ++t) off[t] = ((size_t)fy * p->dil_h * p->in_w + (size_t)fx * p->dil_w) * ch;
    sf = ek_x86_rq_short_ok(bias_packed, p->mult, p->shift, out_c, (int64_t)128 * 128 * 2 * pairs);
    for (h = 0; h < RQ_KEEP && 16 * h < out_c; ++h) {
        rq[h] = ek_x86_rq16_load(bias_packed + 16 * h, p->mult + 16 * h, p->shift + 16 * h, ek_min_i32(16, out_c - 16 * h));
        if (sf) ek_x86_rq16_fold(&rq[h], p->out_offset);
    }
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
                            ek_x86_rq16 r = ek_x86_rq16_load(bias_packed + c, p->mult + c, p->shift + c, ek_min_i32(16, n - 16 * h));
                            if (sf) ek_x86_rq16_fold(&r, p->out_offset);
                            ek_x86_rq16_store(acc, &r, p->out_offset, p->act_min, p->act_max, o + c);
                        }
                    }
                }
            }
        }
    }
}
#endif
