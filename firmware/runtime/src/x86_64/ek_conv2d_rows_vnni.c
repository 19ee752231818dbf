/* CONV_2D int8, x86-64 AVX-512 VNNI, without im2col (dilation 1, groups == 1): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel).
 *
 * The input rows the windows read are copied once, as u8 = x ^ 0x80 padded left/right with
 * zp ^ 0x80 (rows above/below the input: all padding), into a ring of 2 r slots of pw = (out_w - 1) *
 * stride_w + k_w pixels, rowb bytes apart: row iy in slot iy - base, so that the k_h rows of any
 * window are contiguous. r (EK_CONV_ROWS_RING) covers the rows of 8 consecutive output pixels, which
 * may span output rows; when the next rows would pass the last slot, the rows still needed are
 * written again from slot 0 (ring_rows: each row written ~1.3 times for resnet's 3x3 layers, where a
 * ring of r slots, each row written twice into slot and mirror, cost ~650 ticks more a layer). With
 * dilation 1, a window's row fy is then k_w * in_c contiguous bytes, read as w4 = ceil(k_w * in_c / 4)
 * quads straight by vpdpbusd: no per-pixel patch. Bytes past k_w * in_c meet zero weights (the next slot's bytes, or the zeroed
 * slack after the ring).
 * Sums, bias fold and padding value as ek_conv2d_vnni.c: bias_packed = bias + (in_offset - 128) * sum(w).
 *
 * Weights are packed [oc / 16][k_h][w4][16 channels][4 bytes], out_c padded to 16 with zero rows.
 * Micro-kernel: 8 output pixels x 32 channels = 16 zmm accumulators (8 x 16 for a last block of
 * 16; out_c <= 8: 4 pixel pairs, see block_pairs; a last 8 channels of out_c % 32 == 8: quad pairs,
 * see block_8x8c8). Requantization takes the short form of
 * ek_requant_x86.h where the layer allows it (|acc| <= 255 * 128 * k_h * w4 * 4); out_c 16 and 32
 * whole blocks are requantized and stored inside the next block's first quads (pend_t). Raster
 * order (ek_kernels.h): a block's input rows are copied before any of its pixels is written, so
 * every read precedes the writes it must precede (the pending stores come later still: the kernel
 * never reads its output). */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define PX 8
#define SLACK 64   /* zeroed bytes after the last ring row: a window row's last quad may pass its end */
#define RQ_KEEP 8   /* requant constants of the first 128 channels are loaded once per call */

/* dst[0..n) = src ^ 0x80 (src NULL: = v), 64 bytes at a time (no memset/memcpy calls: the rows are short).
 * fill_row below is ek_x86_fill_row's job with vector stores for the padding: ek_x86_fill_row (memset)
 * measured ~0.5k ticks slower on resnet's op1/op2, and the vector padding ~1.3k slower on first16 */
EK_TARGET static void put(uint8_t *dst, const int8_t *src, __m512i v, size_t n) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (; n >= 64; n -= 64, dst += 64) {
        const __m512i x = src ? _mm512_xor_si512(_mm512_loadu_si512((const void *)src), flip) : v;
        _mm512_storeu_si512((void *)dst, x);
        if (src) src += 64;
    }
    if (n > 0) {
        const __mmask64 m = ((__mmask64)1 << n) - 1;
        const __m512i x = src ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src), flip) : v;
        _mm512_mask_storeu_epi8(dst, m, x);
    }
}

/* ring row: input row iy (row_in; NULL: a row outside the input), pixels ix0 .. ix0 + pw, outside columns = pad */
EK_TARGET static void fill_row(const ek_conv_params *p, const int8_t *row_in, int32_t ix0, int32_t pw, uint8_t pad,
                               uint8_t *dst) {
    const int32_t c = p->in_c, a = ek_min_i32(pw, ek_max_i32(0, -ix0)), e = ek_max_i32(a, ek_min_i32(pw, p->in_w - ix0));
    const __m512i pv = _mm512_set1_epi8((char)pad);
    if (!row_in) {
        put(dst, NULL, pv, (size_t)pw * c);
        return;
    }
    put(dst, NULL, pv, (size_t)a * c);
    if (e > a) put(dst + (size_t)a * c, row_in + (size_t)(ix0 + a) * c, pv, (size_t)(e - a) * c);
    put(dst + (size_t)e * c, NULL, pv, (size_t)(pw - e) * c);
}

EK_TARGET static __m512i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

#define DOT2(i) do { const __m512i x = bcast4(u[i] + o); \
        a##i##0 = _mm512_dpbusd_epi32(a##i##0, x, w0); a##i##1 = _mm512_dpbusd_epi32(a##i##1, x, w1); } while (0)

/* The requantization and 64-byte stores of a block of out_c 16 or 32 (8 pixels, short form: its
 * 8 * out_c output bytes are contiguous) run inside the next block's first quads, one register
 * per quad: the core then overlaps them with the vpdpbusd chains (issued after the block they cost
 * resnet's 16-channel layers ~2k ticks more each: vpmuludq share the vpdpbusd ports, the other
 * steps fill idle ports only when interleaved). Register e = acc[e / nb][e % nb] (nb = out_c / 16)
 * with constants r[e % nb]; vpackssdw and vpacksswb put register m's lanes 4L..4L+3 at dword
 * 4L + m, a vpermd restores pixel-channel order for the store at o + 16 (e - 3). */
typedef struct {
    __m512i (*acc)[2];
    const ek_x86_rq16 *r0, *r1;
    int8_t *o;
    __m512i lo, hi;   /* act_min, act_max in every byte */
    int clamp;   /* act_min > -128 or act_max < 127 (else the narrowing's saturation is the clamp) */
} pend_t;

#define PERM() _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
/* step e (a constant) of pd with constants r. The clamp runs on the 64 packed bytes, once per 4
 * registers: the packs saturate to [-128, 127], which contains [act_min, act_max], so clamping
 * after them gives what clamping before them does (act_min below act_min, act_max above act_max,
 * anything between unchanged). */
#define PEND(pd, e, nb, r, y) do { \
        y[(e) % 4] = ek_x86_mbqm16_short(pa_[(e) / (nb)][(e) % (nb)], (r)); \
        if ((e) % 4 == 3) { \
            __m512i b_ = _mm512_packs_epi16(_mm512_packs_epi32(y[0], y[1]), _mm512_packs_epi32(y[2], y[3])); \
            if (clamp_) b_ = _mm512_min_epi8(_mm512_max_epi8(b_, (pd)->lo), (pd)->hi); \
            _mm512_storeu_si512((void *)(po_ + 16 * ((e) - 3)), _mm512_permutexvar_epi32(PERM(), b_)); \
        } \
    } while (0)
/* pd's fields PEND reads, in locals (through pd, every store would reload them) */
#define PEND_LOCALS(pd) __m512i (*const pa_)[2] = (pd)->acc; int8_t *const po_ = (pd)->o; const int clamp_ = (pd)->clamp

/* all of pd's steps at once (a window of fewer quads than steps, the last block) */
__attribute__((noinline)) EK_TARGET static void pend_flush(const pend_t *pd, int32_t nb) {
    PEND_LOCALS(pd);
    __m512i y[4];
    int32_t e;
    y[0] = y[1] = y[2] = y[3] = _mm512_setzero_si512();
    for (e = 0; e < 8 * nb; ++e) {
        const ek_x86_rq16 *r = e % nb ? pd->r1 : pd->r0;
        PEND(pd, e, nb, r, y);
    }
}

/* The blocks are inlined only into run_blocks (one block after the other: ~800 ticks less on each of
 * resnet's 16-channel 3x3 layers than a call per block); the main loop calls them through
 * block_8x32_call / block_8x16_call: inlined there, the requantization constants kept in registers
 * around them made GCC -O2 spill a weight register inside the tap loop (32-channel layers ~25% slower).
 * Their quads run in one flat loop over the k_h * w4 quads of the window (the offset jumps to the
 * next ring row, rowb bytes on, with a branch GCC makes a cmov or a predictable jump): nested row /
 * quad loops cost 4% more on resnet's 16-channel layers (measured, rdtsc per op). */
#define NEXT_QUAD() do { o += 4; if (++g == w4) { g = 0; o += skip; } } while (0)
/* acc[8][2]: pixels at u[0..7] (row 0 of their windows), ring rows rowb bytes apart, against w0p, w1p */
__attribute__((always_inline)) EK_TARGET static inline void block_8x32(const uint8_t *const *u, size_t rowb, int32_t k_h, int32_t w4,
                                 const int8_t *w0p, const int8_t *w1p, __m512i acc[PX][2], const pend_t *pd,
                                 __m512i b0, __m512i b1) {
    __m512i a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
    __m512i a40 = b0, a41 = b1, a50 = b0, a51 = b1, a60 = b0, a61 = b1, a70 = b0, a71 = b1;
    const size_t skip = rowb - 4 * (size_t)w4;
    const int32_t nq = k_h * w4;
    size_t o = 0;
    int32_t j, g = 0;
#define QUAD32() do { const __m512i w0 = _mm512_loadu_si512((const void *)w0p), w1 = _mm512_loadu_si512((const void *)w1p); \
        DOT2(0); DOT2(1); DOT2(2); DOT2(3); DOT2(4); DOT2(5); DOT2(6); DOT2(7); \
        NEXT_QUAD(); ++j, w0p += 64, w1p += 64; } while (0)
    j = 0;
    if (pd && nq >= 16) {   /* the first 16 quads, each followed by one register of pd */
        const ek_x86_rq16 *r0 = pd->r0, *r1 = pd->r1;
        PEND_LOCALS(pd);
        __m512i y[4];
        QUAD32(); PEND(pd, 0, 2, r0, y); QUAD32(); PEND(pd, 1, 2, r1, y); QUAD32(); PEND(pd, 2, 2, r0, y);
        QUAD32(); PEND(pd, 3, 2, r1, y); QUAD32(); PEND(pd, 4, 2, r0, y); QUAD32(); PEND(pd, 5, 2, r1, y);
        QUAD32(); PEND(pd, 6, 2, r0, y); QUAD32(); PEND(pd, 7, 2, r1, y); QUAD32(); PEND(pd, 8, 2, r0, y);
        QUAD32(); PEND(pd, 9, 2, r1, y); QUAD32(); PEND(pd, 10, 2, r0, y); QUAD32(); PEND(pd, 11, 2, r1, y);
        QUAD32(); PEND(pd, 12, 2, r0, y); QUAD32(); PEND(pd, 13, 2, r1, y); QUAD32(); PEND(pd, 14, 2, r0, y);
        QUAD32(); PEND(pd, 15, 2, r1, y);
    } else if (pd) {
        pend_flush(pd, 2);
    }
    while (j < nq) QUAD32();
    acc[0][0] = a00; acc[0][1] = a01; acc[1][0] = a10; acc[1][1] = a11; acc[2][0] = a20; acc[2][1] = a21;
    acc[3][0] = a30; acc[3][1] = a31; acc[4][0] = a40; acc[4][1] = a41; acc[5][0] = a50; acc[5][1] = a51;
    acc[6][0] = a60; acc[6][1] = a61; acc[7][0] = a70; acc[7][1] = a71;
}

#define DOT1(i) do { a##i##0 = _mm512_dpbusd_epi32(a##i##0, bcast4(u[i] + o), w0); } while (0)

/* acc[8][0] for the last 16-channel block of an out_c that is not a multiple of 32 */
__attribute__((always_inline)) EK_TARGET static inline void block_8x16(const uint8_t *const *u, size_t rowb, int32_t k_h, int32_t w4,
                                 const int8_t *w0p, __m512i acc[PX][2], const pend_t *pd, __m512i b0) {
    __m512i a00 = b0, a10 = b0, a20 = b0, a30 = b0, a40 = b0, a50 = b0, a60 = b0, a70 = b0;
    const size_t skip = rowb - 4 * (size_t)w4;
    const int32_t nq = k_h * w4;
    size_t o = 0;
    int32_t j, g = 0;
#define QUAD16() do { const __m512i w0 = _mm512_loadu_si512((const void *)w0p); \
        DOT1(0); DOT1(1); DOT1(2); DOT1(3); DOT1(4); DOT1(5); DOT1(6); DOT1(7); \
        NEXT_QUAD(); ++j, w0p += 64; } while (0)
    j = 0;
    if (pd && nq >= 8) {   /* the first 8 quads, each followed by one register of pd (constants in registers) */
        const ek_x86_rq16 r = *pd->r0;
        PEND_LOCALS(pd);
        __m512i y[4];
        QUAD16(); PEND(pd, 0, 1, &r, y); QUAD16(); PEND(pd, 1, 1, &r, y); QUAD16(); PEND(pd, 2, 1, &r, y);
        QUAD16(); PEND(pd, 3, 1, &r, y); QUAD16(); PEND(pd, 4, 1, &r, y); QUAD16(); PEND(pd, 5, 1, &r, y);
        QUAD16(); PEND(pd, 6, 1, &r, y); QUAD16(); PEND(pd, 7, 1, &r, y);
    } else if (pd) {
        pend_flush(pd, 1);
    }
    while (j < nq) QUAD16();
    acc[0][0] = a00; acc[1][0] = a10; acc[2][0] = a20; acc[3][0] = a30;
    acc[4][0] = a40; acc[5][0] = a50; acc[6][0] = a60; acc[7][0] = a70;
}

__attribute__((noinline)) EK_TARGET static void block_8x32_call(const uint8_t *const *u, size_t rowb, int32_t k_h,
                                                                int32_t w4, const int8_t *w0p, const int8_t *w1p,
                                                                __m512i acc[PX][2], const pend_t *pd, __m512i b0,
                                                                __m512i b1) {
    block_8x32(u, rowb, k_h, w4, w0p, w1p, acc, pd, b0, b1);
}

__attribute__((noinline)) EK_TARGET static void block_8x16_call(const uint8_t *const *u, size_t rowb, int32_t k_h,
                                                                int32_t w4, const int8_t *w0p, __m512i acc[PX][2],
                                                                const pend_t *pd, __m512i b0) {
    block_8x16(u, rowb, k_h, w4, w0p, acc, pd, b0);
}

/* out_c <= 8 (EK_CONV_ROWS_PAIRS): lanes 0-7 hold pixel 2j's channels, lanes 8-15 pixel 2j + 1's, so one
 * vpdpbusd and one requantization serve two pixels; the weights' 16 lanes are channel lane % 8
 * (zero past out_c). Two accumulators per pair (even and odd quads) keep 8 chains in flight. */
#define PAIR(acc, j, o, w) do { const __m512i x = _mm512_mask_set1_epi32(_mm512_set1_epi32(ld4(u[2 * (j)] + (o))), \
                                                                       (__mmask16)0xFF00, ld4(u[2 * (j) + 1] + (o))); \
        acc##j = _mm512_dpbusd_epi32(acc##j, x, w); } while (0)

static int32_t ld4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

EK_TARGET static void block_pairs(const uint8_t *const *u, const size_t *row_off, int32_t k_h, int32_t w4,
                                  const int8_t *wp, __m512i acc[PX][2]) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int32_t fy, g;
    for (fy = 0; fy < k_h; ++fy) {
        for (g = 0; g + 1 < w4; g += 2, wp += 128) {
            const size_t o = row_off[fy] + 4 * (size_t)g, o1 = o + 4;
            const __m512i w0 = _mm512_loadu_si512((const void *)wp), w1 = _mm512_loadu_si512((const void *)(wp + 64));
            PAIR(a, 0, o, w0); PAIR(a, 1, o, w0); PAIR(a, 2, o, w0); PAIR(a, 3, o, w0);
            PAIR(b, 0, o1, w1); PAIR(b, 1, o1, w1); PAIR(b, 2, o1, w1); PAIR(b, 3, o1, w1);
        }
        if (g < w4) {
            const size_t o = row_off[fy] + 4 * (size_t)g;
            const __m512i w0 = _mm512_loadu_si512((const void *)wp);
            PAIR(a, 0, o, w0); PAIR(a, 1, o, w0); PAIR(a, 2, o, w0); PAIR(a, 3, o, w0);
            wp += 64;
        }
    }
    acc[0][0] = _mm512_add_epi32(a0, b0); acc[1][0] = _mm512_add_epi32(a1, b1);
    acc[2][0] = _mm512_add_epi32(a2, b2); acc[3][0] = _mm512_add_epi32(a3, b3);
}

/* The last 8 channels of an out_c with out_c % 32 == 8 (EK_CONV_ROWS_TAIL8), instead of a 16-lane
 * block half idle: weights packed [k_h][w2 = ceil(w4 / 2)][8 channels][2 quads][4 bytes] (zero past
 * w4), lane 2j + h = channel j's quad 2g + h, against a vpbroadcastq of the pixel's quads 2g, 2g + 1
 * (for an odd w4, the last one meets zero weights: the ring's slack covers it). The lane pairs are
 * summed at the end, two pixels per register as block_pairs leaves them. */
__attribute__((noinline)) EK_TARGET static void block_8x8c8(const uint8_t *const *u, const size_t *row_off, int32_t k_h,
                                                            int32_t w2, const int8_t *wp, __m512i acc[PX][2]) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    __m512i a[PX];
    int32_t fy, g, i;
    for (i = 0; i < PX; ++i) a[i] = _mm512_setzero_si512();
    for (fy = 0; fy < k_h; ++fy) {
        for (g = 0; g < w2; ++g, wp += 64) {
            const size_t o = row_off[fy] + 8 * (size_t)g;
            const __m512i w = _mm512_loadu_si512((const void *)wp);
            for (i = 0; i < PX; ++i) {
                int64_t v;
                memcpy(&v, u[i] + o, 8);
                a[i] = _mm512_dpbusd_epi32(a[i], _mm512_set1_epi64(v), w);
            }
        }
    }
    for (i = 0; i < PX / 2; ++i)
        acc[i][0] = _mm512_add_epi32(_mm512_permutex2var_epi32(a[2 * i], ev, a[2 * i + 1]),
                                     _mm512_permutex2var_epi32(a[2 * i], od, a[2 * i + 1]));
}

/* acc[i][0] holds pixels 2i (lanes 0-7) and 2i + 1 (lanes 8-15), n <= 8 channels with constants r:
 * stored to o + pixel * out_c (np pixels) */
EK_TARGET static void store_pairs(__m512i acc[PX][2], int32_t np, const ek_x86_rq16 *r, int sf, const ek_conv_params *p,
                                  int32_t n, int8_t *o) {
    const int32_t oc = p->out_c, off = sf ? 0 : p->out_offset;
    const __mmask16 ma = (__mmask16)((1u << n) - 1u);
    int32_t i;
    for (i = 0; 2 * i < np; ++i) {   /* pixels 2i and 2i + 1 */
        const __m512i x = _mm512_add_epi32(acc[i][0], r->bias);
        const __m512i y = sf ? ek_x86_mbqm16_short(x, r) : ek_x86_mbqm16(x, r);
        if (oc == 8 && 2 * i + 1 < np) {   /* the two pixels' outputs are adjacent */
            ek_x86_store16(y, (__mmask16)0xFFFF, off, p->act_min, p->act_max, o + (size_t)2 * i * oc);
            continue;
        }
        ek_x86_store16(y, ma, off, p->act_min, p->act_max, o + (size_t)2 * i * oc);
        if (2 * i + 1 < np)
            ek_x86_store16(_mm512_alignr_epi32(y, y, 8), ma, off, p->act_min, p->act_max, o + (size_t)(2 * i + 1) * oc);
    }
}

/* The ring: row iy in slot iy - base, rows filled in increasing order (next_iy: the first not yet filled) */
typedef struct {
    const ek_conv_params *p;
    const int8_t *in_b;   /* this batch's input */
    uint8_t *ring;
    size_t rowb;
    int32_t pw, r, base, next_iy;
    uint8_t pad;
} ring_t;

/* rows [first, last) (at most r) in the ring, rebased to slot 0 (refilled) when last would pass slot
 * 2 r; returns row first's slot. The rows a block reads are then never overwritten before it runs. */
EK_TARGET static const uint8_t *ring_rows(ring_t *g, int32_t first, int32_t last) {
    const ek_conv_params *p = g->p;
    if (g->next_iy < first || last - g->base > 2 * g->r) g->next_iy = g->base = first;
    for (; g->next_iy < last; ++g->next_iy)
        fill_row(p, g->next_iy < 0 || g->next_iy >= p->in_h ? NULL : g->in_b + (size_t)g->next_iy * p->in_w * p->in_c,
                 -p->pad_w, g->pw, g->pad, g->ring + (size_t)(g->next_iy - g->base) * g->rowb);
    return g->ring + (size_t)(first - g->base) * g->rowb;
}

/* Up to nblk whole blocks of out_c 16 or 32 (short form, pipelined stores) from output pixel (*oy,
 * *ox) on, each within an output row, row after row (the next row's input rows filled at its
 * start): stops at a row's rest of fewer than 8 pixels. The block before each one is pending in pd.
 * Kept out of the main loop, whose per-block bookkeeping (GCC keeps its many locals on the stack)
 * cost ~40 cycles a block, ~10% of a 16-channel block, and a call per output row ~1k ticks on
 * resnet's 32x32 layers (measured, rdtsc per op); the blocks inlined here. Sets *done (blocks run),
 * returns the pending buffer. */
__attribute__((noinline)) EK_TARGET static int run_blocks(ring_t *g, int32_t *oyp, int32_t *oxp, int32_t nblk,
                                                        int32_t *done, int32_t w4, int32_t wlen,
                                                        const int8_t *w_packed, __m512i accs[2][PX][2], int cur,
                                                        pend_t *pd, pend_t **pdp, int8_t *o) {
    const ek_conv_params *p = g->p;
    const int32_t ow = p->out_w, oc = p->out_c, k_h = p->k_h, sh = p->stride_h;
    const size_t step = (size_t)p->stride_w * p->in_c;
    int32_t oy = *oyp, ox = *oxp, k = 0, i;
    const uint8_t *u0 = ring_rows(g, oy * sh - p->pad_h, oy * sh - p->pad_h + k_h) + (size_t)ox * step;
    while (k < nblk && ox + PX <= ow) {
        const uint8_t *u[PX];
        for (i = 0; i < PX; ++i) u[i] = u0 + (size_t)i * step;
        if (oc == 32)
            block_8x32(u, g->rowb, k_h, w4, w_packed, w_packed + (size_t)16 * wlen, accs[cur], *pdp, pd->r0->bias, pd->r1->bias);
        else
            block_8x16(u, g->rowb, k_h, w4, w_packed, accs[cur], *pdp, pd->r0->bias);
        pd->acc = accs[cur], pd->o = o;
        *pdp = pd;
        cur ^= 1, o += PX * oc, u0 += PX * step, ox += PX, ++k;
        if (ox == ow) {
            ox = 0, ++oy;
            if (k < nblk) u0 = ring_rows(g, oy * sh - p->pad_h, oy * sh - p->pad_h + k_h);
        }
    }
    *oyp = oy, *oxp = ox, *done = k;
    return cur;
}

EK_TARGET void ek_conv2d_s8_vnni_rows(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                      const int32_t *bias_packed, int8_t *out) {
    const int32_t c = p->in_c, k_h = p->k_h, oc = p->out_c, sw = p->stride_w, sh = p->stride_h, ow = p->out_w;
    const int32_t pw = (ow - 1) * sw + p->k_w, w4 = (p->k_w * c + 3) / 4, wlen = k_h * w4 * 4;
    const int32_t r = EK_CONV_ROWS_RING(k_h, sh, ow), total = p->out_h * ow;
    const size_t rowb = (size_t)pw * c;
    const uint8_t pad = (uint8_t)((-p->in_offset) ^ 0x80);
    uint8_t *ring = (uint8_t *)p->scratch;   /* 2 r row slots, then SLACK zero bytes */
    size_t row_off[EK_CONV_ROWS_MAX_RING];
    __m512i accs[2][PX][2];   /* a block's accumulators and the pending ones of the block before */
    pend_t pd, *pdp = NULL;
    int32_t b, px, fy, i, ob, q, cur = 0;
    ek_x86_rq16 rq2;   /* EK_CONV_ROWS_PAIRS: channel lane % 8 in every lane; EK_CONV_ROWS_TAIL8: oc - 8 + lane % 8 */
    ek_x86_rq16 rqk[RQ_KEEP];   /* the first RQ_KEEP 16-channel blocks' constants, loaded once */
    const int sf = ek_x86_rq_short_ok(bias_packed, p->mult, p->shift, oc, (int64_t)255 * 128 * k_h * w4 * 4);
    for (fy = 0; fy < k_h; ++fy) row_off[fy] = (size_t)fy * rowb;
    if (EK_CONV_ROWS_PAIRS(oc) || EK_CONV_ROWS_TAIL8(oc)) {
        int32_t bias16[16], mult16[16], shift16[16];
        for (i = 0; i < 16; ++i) {   /* lanes past out_c: any channel, never stored */
            const int32_t k = EK_CONV_ROWS_PAIRS(oc) ? ek_min_i32(i % 8, oc - 1) : oc - 8 + i % 8;
            bias16[i] = bias_packed[k], mult16[i] = p->mult[k], shift16[i] = p->shift[k];
        }
        rq2 = ek_x86_rq16_load(bias16, mult16, shift16, 16);
        if (sf) ek_x86_rq16_fold(&rq2, p->out_offset);
    }
    for (i = 0; i < RQ_KEEP && 16 * i < oc; ++i) {
        rqk[i] = ek_x86_rq16_load(bias_packed + 16 * i, p->mult + 16 * i, p->shift + 16 * i, ek_min_i32(16, oc - 16 * i));
        if (sf) ek_x86_rq16_fold(&rqk[i], p->out_offset);
    }
    memset(ring + 2 * (size_t)r * rowb, 0, SLACK);
    pd.r0 = &rqk[0], pd.r1 = &rqk[oc > 16 ? 1 : 0];
    pd.lo = _mm512_set1_epi8((char)p->act_min), pd.hi = _mm512_set1_epi8((char)p->act_max);
    pd.clamp = p->act_min > -128 || p->act_max < 127;
    for (b = 0; b < p->batches; ++b) {
        int8_t *out_b = out + (size_t)b * total * oc;
        ring_t g;
        int32_t oy_a = 0, ox_a = 0;
        g.p = p, g.in_b = in + (size_t)b * p->in_h * p->in_w * c, g.ring = ring, g.rowb = rowb;
        g.pw = pw, g.r = r, g.base = 0, g.next_iy = INT32_MIN, g.pad = pad;
        for (px = 0; px < total; px += PX) {
            const int32_t np = ek_min_i32(PX, total - px), oy_b = (px + np - 1) / ow;
            const int32_t first = oy_a * sh - p->pad_h, last = oy_b * sh - p->pad_h + k_h;   /* rows [first, last) */
            int8_t *o = out_b + (size_t)px * oc;
            const uint8_t *u[PX];
            const uint8_t *row0;
            int32_t ox = ox_a, iy = first, done;
            if (sf && (oc == 16 || oc == 32) && ox_a + PX <= ow && px + PX <= total) {
                cur = run_blocks(&g, &oy_a, &ox_a, (total - px) / PX, &done, w4, wlen, w_packed, accs, cur, &pd, &pdp, o);
                px += PX * (done - 1);
                continue;
            }
            row0 = ring_rows(&g, first, last);
            for (i = 0; i < PX; ++i) {   /* pixels past the end repeat the last */
                u[i] = row0 + (size_t)(iy - first) * rowb + (size_t)ox * sw * c;
                if (i + 1 < np && ++ox == ow) {
                    ox = 0;
                    iy += sh;
                }
            }
            for (i = 0; i < PX; ++i) {   /* the next block's first pixel */
                if (++ox_a == ow) ox_a = 0, ++oy_a;
            }
            if (EK_CONV_ROWS_PAIRS(oc)) {
                block_pairs(u, row_off, k_h, w4, w_packed, accs[0]);
                store_pairs(accs[0], np, &rq2, sf, p, oc, o);
                continue;
            }
            for (ob = 0; ob < oc; ob += 32) {
                const int32_t n = ek_min_i32(32, oc - ob);
                const int8_t *w0p = w_packed + (size_t)ob * wlen;
                __m512i (*acc)[2] = accs[cur];
                ek_x86_rq16 tail[2];
                const ek_x86_rq16 *rq[2];
                __m512i b0 = _mm512_setzero_si512(), b1 = b0;
                if (n == 8) {   /* EK_CONV_ROWS_TAIL8 */
                    block_8x8c8(u, row_off, k_h, (w4 + 1) / 2, w0p, acc);
                    store_pairs(acc, np, &rq2, sf, p, 8, o + ob);
                    continue;
                }
                for (q = 0; q < 2; ++q) {   /* the constants of channels ob + 16 q .. */
                    const int32_t cc = ob + 16 * ek_min_i32(q, (n - 1) / 16);
                    rq[q] = cc / 16 < RQ_KEEP ? &rqk[cc / 16] : &tail[q];
                    if (cc / 16 >= RQ_KEEP) {
                        tail[q] = ek_x86_rq16_load(bias_packed + cc, p->mult + cc, p->shift + cc, ek_min_i32(16, oc - cc));
                        if (sf) ek_x86_rq16_fold(&tail[q], p->out_offset);
                    }
                }
                if (sf) b0 = rq[0]->bias, b1 = rq[1]->bias;   /* the short form's bias starts the sums */
                if (n > 16)
                    block_8x32_call(u, rowb, k_h, w4, w0p, w0p + (size_t)16 * wlen, acc, pdp, b0, b1);
                else
                    block_8x16_call(u, rowb, k_h, w4, w0p, acc, pdp, b0);
                pdp = NULL;
                if (sf && (oc == 16 || oc == 32) && np == PX) {   /* stored by the next block (or at the end) */
                    pd.acc = acc, pd.o = o;
                    pdp = &pd, cur ^= 1;
                    continue;
                }
                for (q = 0; q < 2 && 16 * q < n; ++q) {
                    const int32_t cc = ob + 16 * q;
                    if (sf) {   /* constants copied to a local: kept in registers across the int8 stores */
                        const ek_x86_rq16 r = *rq[q];
                        for (i = 0; i < np; ++i)
                            ek_x86_store16(ek_x86_mbqm16_short(acc[i][q], &r), r.m, 0,
                                           p->act_min, p->act_max, o + (size_t)i * oc + cc);
                    } else {
                        for (i = 0; i < np; ++i)
                            ek_x86_rq16_store(acc[i][q], rq[q], p->out_offset, p->act_min, p->act_max, o + (size_t)i * oc + cc);
                    }
                }
            }
        }
    }
    if (pdp) pend_flush(pdp, oc / 16);
}
#endif
