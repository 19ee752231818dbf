/* CONV_2D int8, x86-64 AVX-512 VNNI, first layers with out_c a multiple of 16 (<= 64): in_c, k_h,
 * k_w <= 4, dilation 1. Bit-identical to ../ek_conv2d.c (TFLM ConvPerChannel).
 *
 * As ek_conv2d_first_vnni.c, a pixel's window is one contiguous patch (OHWI order: k_h rows of
 * k_w * in_c bytes) read as nq = ceil(K / 4) quads (resnet's 3x3x3: 27 bytes, 7 quads), but one
 * register holds one pixel x 16 channels: quad q of a pixel is a vpbroadcastd feeding one
 * vpdpbusd against the weights' quad q of 16 channels (bytes past K meet zero weights). A block is
 * NB pixels (NB independent accumulator chains); the previous block's registers of the same 16
 * channels are requantized and stored inside the block's quad loop, one per quad step, so that
 * their ALU work runs beside the vpdpbusd rather than after them. Sums and bias fold as
 * ek_conv2d_vnni.c (u8 = x ^ 0x80, bias_packed = bias + (in_offset - 128) * sum(w));
 * requantization per 16 channels, the short form of ek_requant_x86.h where it holds.
 *
 * Weights are packed [out_c / 16][nq][16][4], zero past K. Scratch (EK_CONV_FIRST16_SCRATCH): a
 * ring of k_h input rows as u8 padded with zp ^ 0x80 (rows outside the input: all padding; as
 * ek_conv2d_first_vnni.c), then an output row's patches, 64 bytes apart (the block loads' addresses
 * are then base + constant; with 8 base registers + an index the loop ran ~1.4x slower on Zen 4).
 * A patch is k_h plain 16-byte copies, no shuffles (see below). Output rows are done in raster
 * order and an output row's input rows are all copied before its first pixel is written (the
 * ek_kernels.h overlap contract; a block's stores come later still). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define NB EK_CONV_FIRST16_BLOCK   /* pixels per block: independent accumulator chains */

typedef struct {   /* a layer's output constants */
    __m512i oo, lo, hi;
    int sf, clamp;   /* short form; some bound inside (-128, 127) */
} outc;

/* acc (bias included) requantized, + out_offset, clamped, narrowed (saturating) to 16 int8 at dst */
EK_TARGET static __inline__ __attribute__((always_inline)) void rq_store(__m512i acc, const ek_x86_rq16 *r,
                                                                        const outc *k, int8_t *dst) {
    __m512i q = k->sf ? ek_x86_mbqm16_short(acc, r) : _mm512_add_epi32(ek_x86_mbqm16(acc, r), k->oo);
    if (k->clamp) q = _mm512_min_epi32(_mm512_max_epi32(q, k->lo), k->hi);
    _mm_storeu_si128((__m128i *)(void *)dst, _mm512_cvtsepi32_epi8(q));
}

EK_TARGET static __m512i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

#define DOT(i) do { a##i = _mm512_dpbusd_epi32(a##i, bcast4(pp[i] + 4 * (size_t)q), w); } while (0)

/* acc[i] = bias + patch pp[i] (nq quads) against one 16-channel block's weights wg; meanwhile
 * prev[0 .. n) (the previous block's registers of these channels) are requantized and stored to
 * dst + i * oc */
EK_TARGET static __inline__ __attribute__((always_inline)) void block16(const uint8_t (*pp)[64], int32_t nq, const int8_t *wg,
                                                        const ek_x86_rq16 *r, const outc *k, const __m512i *prev,
                                                        int32_t n, int8_t *dst, int32_t oc, __m512i acc[NB]) {
    const ek_x86_rq16 rr = *r;   /* local: the int8 stores may alias *r */
    const outc kk = *k;
    __m512i a0 = rr.bias, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    int32_t q;
    for (q = 0; q < nq; ++q, wg += 64) {
        const __m512i w = _mm512_loadu_si512((const void *)wg);
        DOT(0); DOT(1); DOT(2); DOT(3); DOT(4); DOT(5); DOT(6); DOT(7);
        if (q < n) rq_store(prev[q], &rr, &kk, dst + (size_t)q * oc);
    }
    for (; q < n; ++q) rq_store(prev[q], &rr, &kk, dst + (size_t)q * oc);
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
}

EK_TARGET void ek_conv2d_s8_vnni_first16(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                         const int32_t *bias_packed, int8_t *out) {
    const int32_t c = p->in_c, kh = p->k_h, kwc = p->k_w * c, sw = p->stride_w, sh = p->stride_h, ow = p->out_w;
    const int32_t oc = p->out_c, kk = kh * kwc, nq = (kk + 3) / 4, ng = oc / 16, pw = (ow - 1) * sw + p->k_w;
    const size_t rowb = EK_CONV_FIRST_ROW_BYTES(ow, sw, p->k_w, c);   /* then the patches: EK_CONV_FIRST16_SCRATCH */
    const uint8_t pad = (uint8_t)((-p->in_offset) ^ 0x80);
    const int32_t npad = (ow + NB - 1) / NB * NB;
    uint8_t *ring = (uint8_t *)p->scratch, *col = ring + (size_t)kh * rowb;
    __m512i acc[2][EK_CONV_FIRST16_MAX_GROUPS * NB];   /* this block's and the previous block's */
    const uint8_t *rowp[4];
    ek_x86_rq16 rq[EK_CONV_FIRST16_MAX_GROUPS];
    outc k;
    int8_t *pdst = out;   /* the previous block's first output pixel */
    int32_t fy, i, b, oy, x0, g, cur = 0, npv = 0;   /* npv: the previous block's pixels still to store */
    k.sf = ek_x86_rq_short_ok(bias_packed, p->mult, p->shift, oc, (int64_t)255 * 128 * 4 * nq);
    k.clamp = p->act_min > -128 || p->act_max < 127;
    k.oo = _mm512_set1_epi32(p->out_offset), k.lo = _mm512_set1_epi32(p->act_min), k.hi = _mm512_set1_epi32(p->act_max);
    for (g = 0; g < ng; ++g) {
        rq[g] = ek_x86_rq16_load(bias_packed + 16 * g, p->mult + 16 * g, p->shift + 16 * g, 16);
        if (k.sf) ek_x86_rq16_fold(&rq[g], p->out_offset);
    }
    memset(ring, 0, (size_t)kh * rowb);   /* the slack after each row's pw pixels: read, never used */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * p->in_w * c;
        int32_t next_iy = INT32_MIN;   /* rows below next_iy (and within k_h of it) are in the ring */
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * sh - p->pad_h;
            int8_t *out_row = out + ((size_t)b * p->out_h + oy) * ow * oc;
            /* the ring's next rows overwrite rows of the previous output row only, whose pixels are
             * all computed (the pending stores read acc, not the ring) */
            ek_x86_ring_rows(p, in_b, iy0, pw, pad, ring, rowb, &next_iy, rowp);
            /* the row's patches (ow rounded up to NB: past the row, its last pixel again): window row fy
             * as 16 bytes at fy * k_w * in_c, the next row's store overwriting the overhang (the last
             * row's: bytes past K, zero weights). A quad may span two of these stores, which the CPU
             * cannot forward to a load: all the row's patches are stored before its first quad is
             * read, so that (rows of a few blocks or more) the stores have reached the cache when
             * their quads load. */
            for (i = 0; i < npad; ++i) {
                const size_t o = (size_t)ek_min_i32(i, ow - 1) * sw * c;
                for (fy = 0; fy < kh; ++fy)
                    _mm_storeu_si128((__m128i *)(void *)(col + 64 * (size_t)i + (size_t)(fy * kwc)),
                                     _mm_loadu_si128((const __m128i *)(const void *)(rowp[fy] + o)));
            }
            for (x0 = 0; x0 < ow; x0 += NB) {
                for (g = 0; g < ng; ++g)
                    block16((const uint8_t(*)[64])(void *)(col + 64 * (size_t)x0), nq, w_packed + (size_t)g * nq * 64, &rq[g], &k,
                            acc[cur ^ 1] + g * NB, npv, pdst + 16 * g, oc, acc[cur] + g * NB);
                pdst = out_row + (size_t)x0 * oc, npv = ek_min_i32(NB, ow - x0), cur ^= 1;
            }
        }
    }
    for (g = 0; g < ng; ++g)   /* the last block */
        for (i = 0; i < npv; ++i) rq_store(acc[cur ^ 1][g * NB + i], &rq[g], &k, pdst + (size_t)i * oc + 16 * g);
}
#endif
