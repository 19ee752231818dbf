/* CONV_2D int8, x86-64 AVX-512 VNNI, for layers over few input channels (first layers: in_c 3):
 * dilation 1, k_h <= 4, (k_w + stride_w) * in_c <= 16, out_c <= 8 * EK_CONV_FIRST_MAX_GROUPS.
 * Bit-identical to ../ek_conv2d.c (TFLM ConvPerChannel).
 *
 * Why a kernel of its own: a window of 3x3x3 = 27 bytes read row by row (ek_conv2d_rows_vnni.c)
 * is 3 rows of 3 quads = 9 vpdpbusd per 16 channels, and out_c 8 or 40 leaves lanes idle. Here a
 * pixel's whole window is one contiguous patch (the OHWI row order: fy, then k_w * in_c bytes),
 * K = k_h * k_w * in_c bytes read as nq = ceil(K / 4) quads (27 -> 7), and every register holds
 * 8 channels x 2 horizontally adjacent pixels A, B: lane 2j + t = channel 8g + j of pixel t. A
 * pixel pair's patch is built in registers: each of the k_h window rows of A is loaded as 16 bytes
 * (B's row is the same bytes + stride_w * in_c), broadcast to the four 128-bit lanes, and a masked
 * vpshufb drops its bytes into [A quad q, B quad q] qwords; a vpbroadcastq of qword q then feeds
 * vpdpbusd against the weights' quad q of 8 channels, twice each. Quads past
 * K meet zero weights. Sums and bias fold as ek_conv2d_vnni.c (u8 = x ^ 0x80,
 * bias_packed = bias + (in_offset - 128) * sum(w)); requantization is per lane (lane -> its
 * channel), the short form of ek_requant_x86.h where the layer allows it.
 *
 * Weights are packed [ceil(out_c / 8)][nq][8 channels][2 copies][4 bytes], zero past K and out_c.
 * The input rows are copied, as u8 padded with zp ^ 0x80 left and right (rows outside the input:
 * all padding), into a ring of k_h rows (row iy in slot iy mod k_h). Output rows are done in
 * raster order and an output row's input rows are all copied before its first pixel is written
 * (the ek_kernels.h overlap contract). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define NP 8   /* pixel pairs per block: 8 independent accumulator chains per channel group */

EK_TARGET static __m512i bcast8(const uint8_t *p) {
    int64_t v;
    memcpy(&v, p, 8);
    return _mm512_set1_epi64(v);
}

#define DOT(i) do { a##i = _mm512_dpbusd_epi32(a##i, bcast8(pp[i] + 8 * (size_t)q), w); } while (0)

/* acc[i] = bias + the NP pair patches pp[i] (nq qwords each) against one group's weights wg */
__attribute__((noinline)) EK_TARGET static void block_pairs(uint8_t (*pp)[128], int32_t nq, const int8_t *wg,
                                                            __m512i bias, __m512i acc[NP]) {
    __m512i a0 = bias, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    int32_t q;
    for (q = 0; q < nq; ++q, wg += 64) {
        const __m512i w = _mm512_loadu_si512((const void *)wg);
        DOT(0); DOT(1); DOT(2); DOT(3); DOT(4); DOT(5); DOT(6); DOT(7);
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
}

/* acc (bias included) requantized on 16 lanes, + out_offset */
EK_TARGET static __m512i requant(__m512i acc, const ek_x86_rq16 *r, int sf, int32_t out_offset) {
    return sf ? ek_x86_mbqm16_short(acc, r) : _mm512_add_epi32(ek_x86_mbqm16(acc, r), _mm512_set1_epi32(out_offset));
}

EK_TARGET static __m512i clamp(__m512i q, int32_t lo, int32_t hi) {
    if (lo > -128) q = _mm512_max_epi32(q, _mm512_set1_epi32(lo));
    if (hi < 127) q = _mm512_min_epi32(q, _mm512_set1_epi32(hi));
    return q;   /* the narrowing saturates: bounds of -128 and 127 need no min/max */
}

/* 16 lanes (lane 2j + t = channel j of pixel t) narrowed to int8: pixel A's n channels to da,
 * pixel B's to db (db NULL: none) */
EK_TARGET static void store_pair(__m512i q, int32_t n, int8_t *da, int8_t *db) {
    const __m128i deint = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    const __m128i v = _mm_shuffle_epi8(_mm512_cvtsepi32_epi8(q), deint);
    if (n == 8) {
        _mm_storel_epi64((__m128i *)(void *)da, v);
        if (db) _mm_storel_epi64((__m128i *)(void *)db, _mm_srli_si128(v, 8));
    } else {
        const __mmask16 m = (__mmask16)((1u << n) - 1u);
        _mm_mask_storeu_epi8(da, m, v);
        if (db) _mm_mask_storeu_epi8(db, m, _mm_srli_si128(v, 8));
    }
}

EK_TARGET void ek_conv2d_s8_vnni_first(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                       const int32_t *bias_packed, int8_t *out) {
    const int32_t c = p->in_c, kh = p->k_h, kwc = p->k_w * c, sw = p->stride_w, sh = p->stride_h, ow = p->out_w;
    const int32_t oc = p->out_c, kk = kh * kwc, nq = (kk + 3) / 4, ng = (oc + 7) / 8;
    const int32_t pw = (ow - 1) * sw + p->k_w;
    const size_t rowb = EK_CONV_FIRST_ROW_BYTES(ow, sw, p->k_w, c);
    const uint8_t pad = (uint8_t)((-p->in_offset) ^ 0x80);
    const int sf = ek_x86_rq_short_ok(bias_packed, p->mult, p->shift, oc, (int64_t)255 * 128 * 4 * nq);
    uint8_t *ring = (uint8_t *)p->scratch;
    __attribute__((aligned(64))) uint8_t pp[NP][128];   /* the block's pair patches */
    const uint8_t *rowp[4];
    /* out_c 8, 16 or 32 (dense): 4 registers of a block make 64 contiguous output bytes */
    const int dense = oc == 8 * ng && (ng == 1 || ng == 2 || ng == 4);
    const int32_t lg = ng == 4 ? 2 : ng - 1;   /* dense: log2(ng) */
    uint8_t sidx[128], krow[64], kcol[64];
    uint16_t pwi[32];
    __mmask64 rm[4][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    ek_x86_rq16 rq[EK_CONV_FIRST_MAX_GROUPS];
    __m512i s0, s1, pk, wsh, acc[EK_CONV_FIRST_MAX_GROUPS * NP];
    int32_t b, oy, ox, x0, i, g, fy, k;
    /* pair patch byte i = 8q + t is window byte k = 4q + t % 4 of pixel A (t < 4) or B: row k / kwc,
     * byte k % kwc of A's 16-byte row load (+ stride_w * in_c for B); each row is broadcast to the
     * four 128-bit lanes and vpshufb'd into its bytes (mask rm[row]); bytes past K stay 0. (AVX512BW
     * only, no VBMI: the tier's CPUs need not have it. No divisions by the runtime kwc or ng: the
     * call is short.) */
    for (fy = 0; fy < kh; ++fy)
        for (i = 0; i < kwc; ++i) krow[fy * kwc + i] = (uint8_t)fy, kcol[fy * kwc + i] = (uint8_t)i;
    for (i = 0; i < 128; ++i) {
        k = 4 * (i >> 3) + (i & 3);
        sidx[i] = (uint8_t)(k < kk ? kcol[k] + (i & 4 ? sw * c : 0) : 0);
        if (k < kk) rm[krow[k]][i >> 6] |= (__mmask64)1 << (i & 63);
    }
    s0 = _mm512_loadu_si512((const void *)sidx);
    s1 = _mm512_loadu_si512((const void *)(sidx + 64));
    /* dense: vpackssdw, vpacksswb of registers m = 0..3 put lane 4L + e of m at byte 16L + 4m + e;
     * lane l of m is channel 8 (m % ng) + l / 2 of pixel 2 (m / ng) + l % 2. A vpshufb makes words
     * of channels 2L, 2L + 1 of one pixel (word 8L + 2m + t), a vpermw puts them in place. */
    for (i = 0; dense && i < 32; ++i) {
        const int32_t l4 = i >> 3, m = (i >> 1) & 3, t = i & 1;
        pwi[((2 * (m >> lg) + t) * oc + 8 * (m & (ng - 1)) + 2 * l4) >> 1] = (uint16_t)i;
    }
    pk = dense ? _mm512_loadu_si512((const void *)pwi) : _mm512_setzero_si512();
    wsh = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15));
    for (g = 0; g < ng; ++g) {   /* lane l: channel 8g + l / 2 (past out_c: any channel, never stored) */
        int32_t b16[16], m16[16], s16[16];
        for (i = 0; i < 16; ++i) {
            const int32_t k = ek_min_i32(8 * g + i / 2, oc - 1);
            b16[i] = bias_packed[k], m16[i] = p->mult[k], s16[i] = p->shift[k];
        }
        rq[g] = ek_x86_rq16_load(b16, m16, s16, 16);
        if (sf) ek_x86_rq16_fold(&rq[g], p->out_offset);
    }
    memset(ring, 0, (size_t)kh * rowb);   /* the slack after each row's pw pixels: read, never used */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * c;
        int32_t next_iy = INT32_MIN;   /* rows below next_iy (and within k_h of it) are in the ring */
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * sh - p->pad_h;
            int8_t *out_row = out + ((size_t)b * p->out_h + oy) * ow * oc;
            ek_x86_ring_rows(p, in_b, iy0, pw, pad, ring, rowb, &next_iy, rowp);
            for (x0 = 0; x0 < ow; x0 += 2 * NP) {
                for (i = 0; i < NP; ++i) {   /* pairs past the row's end repeat its last pixel */
                    const size_t o = (size_t)ek_min_i32(x0 + 2 * i, ow - 1) * sw * c;
                    __m512i z0 = _mm512_setzero_si512(), z1 = z0;
                    for (fy = 0; fy < kh; ++fy) {
                        const __m512i r = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(rowp[fy] + o)));
                        z0 = _mm512_mask_shuffle_epi8(z0, rm[fy][0], r, s0);
                        if (nq > 8) z1 = _mm512_mask_shuffle_epi8(z1, rm[fy][1], r, s1);
                    }
                    _mm512_store_si512((void *)pp[i], z0);
                    if (nq > 8) _mm512_store_si512((void *)(pp[i] + 64), z1);
                }
                for (g = 0; g < ng; ++g)
                    block_pairs(pp, nq, w_packed + (size_t)g * nq * 64, rq[g].bias, acc + g * NP);
                if (dense && x0 + 2 * NP <= ow) {   /* the block's 16 * out_c output bytes, 64 at a time */
                    for (k = 0; k < 2 * NP * oc / 64; ++k) {
                        __m512i y[4];
                        for (i = 0; i < 4; ++i) {   /* register 4k + i in (pair, group) order */
                            g = (4 * k + i) & (ng - 1);
                            y[i] = clamp(requant(acc[g * NP + ((4 * k + i) >> lg)], &rq[g], sf, p->out_offset), p->act_min,
                                         p->act_max);
                        }
                        _mm512_storeu_si512((void *)(out_row + (size_t)x0 * oc + 64 * (size_t)k),
                                            _mm512_permutexvar_epi16(pk, _mm512_shuffle_epi8(
                                                _mm512_packs_epi16(_mm512_packs_epi32(y[0], y[1]), _mm512_packs_epi32(y[2], y[3])), wsh)));
                    }
                    continue;
                }
                for (g = 0; g < ng; ++g) {
                    const int32_t n = ek_min_i32(8, oc - 8 * g);
                    for (i = 0; i < NP && (ox = x0 + 2 * i) < ow; ++i) {
                        int8_t *da = out_row + (size_t)ox * oc + 8 * g;
                        store_pair(clamp(requant(acc[g * NP + i], &rq[g], sf, p->out_offset), p->act_min, p->act_max),
                                   n, da, ox + 1 < ow ? da + oc : NULL);
                    }
                }
            }
        }
    }
}
#endif
