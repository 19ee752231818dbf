/* DEPTHWISE_CONV_2D int8, channel multiplier 1, x86-64 AVX-512 VNNI, 4 taps per vpdpbusd lane:
 * bit-identical to ../ek_depthwise_conv2d.c (TFLM DepthwiseConvPerChannel).
 *
 * As dw_rows in ek_depthwise_conv2d_vnni.c, an output row is a flat stream of slots s = ox * ch + c,
 * and tap (fy, fx) of slot s reads byte s + a * ch of phase r of band row fy (fx * dil_w = a *
 * stride_w + r; phase r holds the row's pixels j * stride_w + r - pad_w, padding = zp). The band
 * holds u = x ^ 0x80 (x + 128, u8), so that vpdpbusd multiplies u by int8 weights and sums 4
 * taps per lane: taps are taken in quads 4g .. 4g + 3 (row-major; a missing tap has zero weights).
 * For 64 slots s0 .. s0 + 63 the 4 taps' 64-byte loads a, b, c, d are interleaved by
 * vpunpck{l,h}bw (a, b), (c, d) then vpunpck{l,h}wd into 4 registers: register j, 128-bit lane L,
 * dword i holds slot 16L + 4j + i's quad. The code generator packs the weights in that order,
 * [blocks][quads][4 registers][16 lanes][4 taps], where block k serves slots s0 with (s0 % ch) / 64
 * == k when ch is a multiple of 64, and the one block for ch dividing 64 (lane slot t: channel
 * t % ch). The requantized registers narrowed by vpackssdw (0, 1), (2, 3) then vpacksswb leave
 * lane L's bytes as slots 16L .. 16L + 15: the 64 outputs in order, one store, no permute.
 * sum u w = sum x w + 128 sum w, so bias_packed = bias + (in_offset - 128) * sum(w) (the VNNI
 * conv's fold); a padding tap reads zp ^ 0x80: w (zp + in_offset) = 0, as TFLM skipping it.
 * |acc| <= 255 * 128 * 4 * quads bounds the sum for the short-form requantization (ek_requant_x86.h).
 * Band rows are filled flipped: at stride_w 1 as one copy, at stride_w 2 for ch 8..64 as even and
 * odd pixels picked from 128 bytes by vpermt2q, else pixel by pixel into the phases. Band rows
 * are filled (input rows read) before any pixel of the output row is written (raster order).
 * Scratch: k_h band rows of stride_w phases of ceil(bw / stride_w) * ch + 64 bytes, bw = (out_w - 1)
 * * stride_w + (k_w - 1) * dil_w + 1 (mirrored in edgekit.codegen.lower_conv); the 64 spare bytes
 * take the loads of slots past a row's end (lanes never stored). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define MAX_QUADS ((EK_DW_VNNI_MAX_TAPS + 3) / 4)

/* stride_w 2, ch 8, 16, 32 or 64: the qword indices that pick the even and the odd pixels of 128 bytes */
EK_TARGET static void split2_index(int32_t ch, __m512i *even, __m512i *odd) {
    int64_t ie[8], io[8];
    int32_t m;
    for (m = 0; m < 8; ++m) {
        ie[m] = m / (ch / 8) * 2 * (ch / 8) + m % (ch / 8);
        io[m] = ie[m] + ch / 8;
    }
    *even = _mm512_loadu_si512((const void *)ie), *odd = _mm512_loadu_si512((const void *)io);
}

/* band pixels 0 .. bw - 1 of input row src (band pixel k = input pixel k - pad_w; outside: pad)
 * into the sw phases of band row r, phase ph holding pixels j * sw + ph at j * ch */
EK_TARGET static void fill_row(uint8_t *r, size_t prs, const int8_t *src, const ek_conv_params *p, int32_t bw,
                               uint8_t pad, const __m512i *split) {
    const int32_t ch = p->in_c, sw = p->stride_w;
    const int32_t lo = ek_min_i32(p->pad_w, bw), hi = ek_max_i32(ek_min_i32(p->pad_w + p->in_w, bw), lo);
    int32_t k;
    if (sw == 1) {   /* band pixel k = input pixel k - pad_w: the plain padded row */
        ek_x86_fill_row(src, ch, p->in_w, -p->pad_w, bw, pad, r);
        return;
    }
    if (split) {
        /* input pixel i goes to phase (i + pad_w) % 2 at (i + pad_w) / 2: 128 input bytes split by two
         * vpermt2q into their even and odd pixels, stored whole (the spill lands on later pixels of
         * the phase, on the padding written after, or on the phase row's 64 spare bytes) */
        const int32_t n = (hi - lo) * ch;
        uint8_t *de = r + (size_t)(p->pad_w % 2) * prs + (size_t)(p->pad_w / 2) * ch;
        uint8_t *dd = r + (size_t)((p->pad_w + 1) % 2) * prs + (size_t)((p->pad_w + 1) / 2) * ch;
        const __m512i flip = _mm512_set1_epi8((char)0x80);
        int32_t i;
        src += (size_t)(lo - p->pad_w) * ch;
        for (i = 0; i < n; i += 128) {
            const __mmask64 ma = n - i >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - i)) - 1);
            const __mmask64 mb = n - i >= 128 ? ~(__mmask64)0 : n - i <= 64 ? 0 : (((__mmask64)1 << (n - i - 64)) - 1);
            const __m512i a = _mm512_maskz_loadu_epi8(ma, src + i), b = _mm512_maskz_loadu_epi8(mb, src + i + 64);
            _mm512_storeu_si512((void *)(de + i / 2), _mm512_xor_si512(_mm512_permutex2var_epi64(a, split[0], b), flip));
            _mm512_storeu_si512((void *)(dd + i / 2), _mm512_xor_si512(_mm512_permutex2var_epi64(a, split[1], b), flip));
        }
        for (k = 0; k < bw; ++k)
            if (k < lo || k >= hi) memset(r + (size_t)(k % 2) * prs + (size_t)(k / 2) * ch, pad, (size_t)ch);
        return;
    }
    for (k = 0; k < bw; ++k) {
        uint8_t *dst = r + (size_t)(k % sw) * prs + (size_t)(k / sw) * ch;
        if (k >= lo && k < hi)
            ek_x86_flip_copy(dst, src + (size_t)(k - p->pad_w) * ch, ch);
        else
            memset(dst, pad, (size_t)ch);
    }
}

/* 64 output bytes: 4 requantized registers (slots 16L + 4j + i) narrowed in slot order, clamped, bytes m */
EK_TARGET static __inline__ void store64(__m512i a, __m512i b, __m512i c, __m512i d, int32_t lo, int32_t hi,
                                         __mmask64 m, int8_t *dst) {
    __m512i v = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
    if (lo > -128) v = _mm512_max_epi8(v, _mm512_set1_epi8((char)lo));
    if (hi < 127) v = _mm512_min_epi8(v, _mm512_set1_epi8((char)hi));
    if (m == ~(__mmask64)0)
        _mm512_storeu_si512((void *)dst, v);
    else
        _mm512_mask_storeu_epi8(dst, m, v);
}

#define DPB(acc, x, w) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w))   /* in place (GCC 12 copied) */

/* 64 slots from s0 of one output row: tap pointers tp (4 per quad), weights wq of the slots' block */
__attribute__((noinline)) EK_TARGET static void row_blocks(const uint8_t *const *tp, int32_t nq, const int8_t *w_packed,
                                                           int32_t nb, int32_t ns, const ek_x86_rq16 *rq,
                                                           int sf, const ek_conv_params *p, int8_t *o) {
    int32_t s0, g, cb;
    for (s0 = 0, cb = 0; s0 < ns; s0 += 64, cb = cb + 1 == nb ? 0 : cb + 1) {
        const int8_t *wq = w_packed + (size_t)cb * nq * 256;
        const ek_x86_rq16 *r = rq + 4 * cb;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (g = 0; g < nq; ++g, wq += 256) {
            const __m512i a = _mm512_loadu_si512((const void *)(tp[4 * g] + s0));
            const __m512i b = _mm512_loadu_si512((const void *)(tp[4 * g + 1] + s0));
            const __m512i c = _mm512_loadu_si512((const void *)(tp[4 * g + 2] + s0));
            const __m512i d = _mm512_loadu_si512((const void *)(tp[4 * g + 3] + s0));
            const __m512i t0 = _mm512_unpacklo_epi8(a, b), t1 = _mm512_unpackhi_epi8(a, b);
            const __m512i u0 = _mm512_unpacklo_epi8(c, d), u1 = _mm512_unpackhi_epi8(c, d);
            const __m512i q0 = _mm512_unpacklo_epi16(t0, u0), q1 = _mm512_unpackhi_epi16(t0, u0);
            const __m512i q2 = _mm512_unpacklo_epi16(t1, u1), q3 = _mm512_unpackhi_epi16(t1, u1);
            const __m512i w0 = _mm512_loadu_si512((const void *)wq), w1 = _mm512_loadu_si512((const void *)(wq + 64));
            const __m512i w2 = _mm512_loadu_si512((const void *)(wq + 128)), w3 = _mm512_loadu_si512((const void *)(wq + 192));
            DPB(a0, q0, w0);
            DPB(a1, q1, w1);
            DPB(a2, q2, w2);
            DPB(a3, q3, w3);
        }
        a0 = _mm512_add_epi32(a0, r[0].bias), a1 = _mm512_add_epi32(a1, r[1].bias);
        a2 = _mm512_add_epi32(a2, r[2].bias), a3 = _mm512_add_epi32(a3, r[3].bias);
        if (sf) {
            a0 = ek_x86_mbqm16_short(a0, &r[0]), a1 = ek_x86_mbqm16_short(a1, &r[1]);
            a2 = ek_x86_mbqm16_short(a2, &r[2]), a3 = ek_x86_mbqm16_short(a3, &r[3]);
        } else {
            const __m512i off = _mm512_set1_epi32(p->out_offset);
            a0 = _mm512_add_epi32(ek_x86_mbqm16(a0, &r[0]), off), a1 = _mm512_add_epi32(ek_x86_mbqm16(a1, &r[1]), off);
            a2 = _mm512_add_epi32(ek_x86_mbqm16(a2, &r[2]), off), a3 = _mm512_add_epi32(ek_x86_mbqm16(a3, &r[3]), off);
        }
        store64(a0, a1, a2, a3, p->act_min, p->act_max,
                ns - s0 >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (ns - s0)) - 1), o + s0);
    }
}

EK_TARGET void ek_depthwise_conv2d_s8_vnni_quad(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                                const int32_t *bias_packed, int8_t *out) {
    const int32_t ch = p->in_c, taps = p->k_h * p->k_w, nq = (taps + 3) / 4, ns = p->out_w * ch, sw = p->stride_w;
    const int32_t nb = ch % 64 == 0 ? ch / 64 : 1;   /* weight / requant blocks of 64 slots */
    const int32_t bw = (p->out_w - 1) * sw + (p->k_w - 1) * p->dil_w + 1;   /* band pixels per row */
    const size_t prs = (size_t)((bw + sw - 1) / sw) * ch + 64, rs = prs * (size_t)sw;
    const uint8_t pad = (uint8_t)((-p->in_offset) ^ 0x80);
    uint8_t *band = (uint8_t *)(void *)p->scratch;
    ek_x86_rq16 rq[4 * EK_DW_QUAD_MAX_BLOCKS];
    size_t off[4 * MAX_QUADS];
    int32_t tfy[4 * MAX_QUADS];
    const uint8_t *row[EK_DW_VNNI_MAX_TAPS], *tp[4 * MAX_QUADS];
    const int sf = ek_x86_rq_short_ok(bias_packed, p->mult, p->shift, ch, (int64_t)255 * 128 * 4 * nq);
    const int split = sw == 2 && (ch == 8 || ch == 16 || ch == 32 || ch == 64);
    __m512i split_idx[2];
    int32_t b, oy, fy, fx, t, k, j;
    if (split) split2_index(ch, &split_idx[0], &split_idx[1]);
    for (k = 0; k < 4 * nb; ++k) {   /* register j of block k / 4: lane 4L + i is slot 64 (k / 4) + 16L + 4j + i */
        int32_t bs[16], ms[16], ss[16], i;
        for (i = 0, j = k % 4; i < 16; ++i) {
            const int32_t c = (64 * (k / 4) + 16 * (i / 4) + 4 * j + i % 4) % ch;
            bs[i] = bias_packed[c], ms[i] = p->mult[c], ss[i] = p->shift[c];
        }
        rq[k] = ek_x86_rq16_load(bs, ms, ss, 16);
        if (sf) ek_x86_rq16_fold(&rq[k], p->out_offset);
    }
    for (fy = 0, t = 0; fy < p->k_h; ++fy)
        for (fx = 0; fx < p->k_w; ++fx, ++t)
            off[t] = (size_t)(fx * p->dil_w % sw) * prs + (size_t)(fx * p->dil_w / sw) * ch, tfy[t] = fy;
    for (; t < 4 * nq; ++t) off[t] = off[taps - 1], tfy[t] = tfy[taps - 1];   /* zero weights there */
    memset(band, pad, rs * (size_t)p->k_h);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * ch;
        int32_t next_iy = -p->pad_h;   /* dil_h 1: a ring of k_h rows, input row iy in (iy + pad_h) % k_h */
        for (oy = 0; oy < p->out_h; ++oy) {
            for (fy = 0; fy < p->k_h; ++fy) {
                const int32_t iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
                uint8_t *r = band + (size_t)(p->dil_h == 1 ? (iy + p->pad_h) % p->k_h : fy) * rs;
                row[fy] = r;
                if (p->dil_h == 1) {
                    if (iy < next_iy) continue;   /* in the ring already */
                    next_iy = iy + 1;
                }
                if (iy < 0 || iy >= p->in_h)
                    memset(r, pad, rs);
                else
                    fill_row(r, prs, in_b + (size_t)iy * p->in_w * ch, p, bw, pad, split ? split_idx : NULL);
            }
            for (t = 0; t < 4 * nq; ++t) tp[t] = row[tfy[t]] + off[t];
            row_blocks(tp, nq, w_packed, nb, ns, rq, sf, p, out + ((size_t)b * p->out_h + oy) * (size_t)ns);
        }
    }
}
#endif
