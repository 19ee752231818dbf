/* CONV_2D int8 pointwise (1x1, no padding, in_c a multiple of 4, out_c a multiple of 16),
 * x86-64 AVX-512 VNNI: bit-identical to ../ek_conv2d.c (TFLM ConvPerChannel).
 *
 * The input is the patch: pixel k's in_c bytes are its whole window. Chunks of up to
 * EK_CONV_PW_CHUNK bytes of pixels are flipped to u8 = x ^ 0x80 into the scratch (one xor per 64
 * bytes; strides > 1 gather the pixels they read), then each quad is broadcast from there straight into vpdpbusd against weights packed
 * [out_c / 16][in_c / 4][16 channels][4 bytes]. Sums and bias fold as ek_conv2d_vnni.c:
 * sum (x + 128) w = sum x w + 128 sum w, bias_packed = bias + (in_offset - 128) * sum(w); the
 * short-form blocks start their accumulators at the bias (int32 addition wraps alike in any order).
 * Blocks: 8 pixels x 16 channels (out_c 16: 4 pixels' outputs are 64 contiguous bytes), 8 pixels x
 * 32 channels (out_c 32: 2 pixels), 4 pixels x 64 channels (out_c a multiple of 64: 1 pixel),
 * else (and for layers outside the short form) 8 pixels x 16 channels stored per pixel, 16 bytes
 * each. Four requantized registers are narrowed with
 * vpackssdw / vpacksswb (saturating: exact, the clamp bounds lie inside int8), put back in order by
 * one vpermd, clamped as bytes and stored as 64 bytes. Requantization takes the short form of
 * ek_requant_x86.h where the layer allows it (|acc| <= 255 * 128 * in_c).
 * Raster order (ek_kernels.h): a chunk's input is read (flipped) before any of its pixels is
 * written; the planner keeps pixel k's output below pixel k's input, so later chunks' inputs are intact. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

#define EK_TARGET EK_TARGET_VNNI
#define INL __inline__ __attribute__((always_inline))
#define RQ_KEEP 16   /* the first 256 channels' requant constants are loaded once per call */

/* strides > 1: output pixels s .. s + n - 1's input pixels (oy * stride_h, ox * stride_w), flipped, to dst */
EK_TARGET static void gather_flip(uint8_t *dst, const int8_t *in, const ek_conv_params *p, int32_t s, int32_t n) {
    const int32_t ic = p->in_c, per = p->out_h * p->out_w;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    int32_t b = s / per, oy = s % per / p->out_w, ox = s % p->out_w, k, j;
    for (k = 0; k < n; ++k, dst += ic) {
        const int8_t *src = in + (((size_t)b * p->in_h + (size_t)oy * p->stride_h) * p->in_w + (size_t)ox * p->stride_w) * ic;
        for (j = 0; j < ic; j += 64) {
            const __mmask64 m = ic - j >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (ic - j)) - 1);
            _mm512_mask_storeu_epi8(dst + j, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + j), flip));
        }
        if (++ox == p->out_w && (ox = 0, ++oy == p->out_h)) oy = 0, ++b;
    }
}

EK_TARGET static INL __m512i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* a, b, c, d (int32 lanes) narrowed to 64 bytes in that order, clamped to [lo, hi], bytes m stored to dst */
EK_TARGET static INL void store64(__m512i a, __m512i b, __m512i c, __m512i d, int32_t lo, int32_t hi, __mmask64 m,
                                  int8_t *dst) {
    /* the packs leave dword 4L + k = register k's dwords 4L .. 4L + 3 (128-bit lane L) */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i v = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
    v = _mm512_permutexvar_epi32(order, v);
    if (lo > -128) v = _mm512_max_epi8(v, _mm512_set1_epi8((char)lo));
    if (hi < 127) v = _mm512_min_epi8(v, _mm512_set1_epi8((char)hi));
    if (m == ~(__mmask64)0)
        _mm512_storeu_si512((void *)dst, v);
    else
        _mm512_mask_storeu_epi8(dst, m, v);
}

/* bytes [0, n) of 64 */
static __mmask64 first_bytes(int32_t n) {
    return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

#define BC(i) bcast4(x + (size_t)(i) * ic + q)
/* vpdpbusd in place: with the intrinsic, GCC 12 copied half the accumulators around every step */
#define DOT(a, i, w) do { const __m512i x_ = BC(i); __asm__("vpdpbusd %2, %1, %0" : "+v"(a##i) : "v"(x_), "v"(w)); } while (0)
#define DOT8(a, w) do { DOT(a, 0, w); DOT(a, 1, w); DOT(a, 2, w); DOT(a, 3, w); \
                        DOT(a, 4, w); DOT(a, 5, w); DOT(a, 6, w); DOT(a, 7, w); } while (0)
#define INIT8(a, v) __m512i a##0 = (v), a##1 = a##0, a##2 = a##0, a##3 = a##0, a##4 = a##0, a##5 = a##0, \
                            a##6 = a##0, a##7 = a##0
#define W(b) _mm512_loadu_si512((const void *)(wq + (size_t)(b) * wb))
#define RQ(a, r) ek_x86_mbqm16_short(a, r)   /* short form: the accumulators start at its bias (+ 2^29) */

/* The chunk kernels (short form only) take n pixels flipped at x (a multiple of their block's
 * pixels readable), weights w of their channels, constants r, output o (pixel stride oc). They
 * are not inlined into one another: each keeps its accumulators and constants in registers. */

/* out_c 16: 8 pixels per block, 4 pixels' outputs per 64-byte store */
__attribute__((noinline)) EK_TARGET static void chunk16(const uint8_t *x, int32_t n, int32_t ic, const int8_t *w,
                                                        const ek_x86_rq16 *rp, int32_t lo, int32_t hi, int8_t *o) {
    const ek_x86_rq16 r = *rp;
    const size_t wb = 0;
    int32_t k, q;
    for (k = 0; k < n; k += 8, x += (size_t)8 * ic, o += 128) {
        const int8_t *wq = w;
        INIT8(a, r.bias);
        for (q = 0; q < ic; q += 4, wq += 64) {
            const __m512i w0 = W(0);
            DOT8(a, w0);
        }
        store64(RQ(a0, &r), RQ(a1, &r), RQ(a2, &r), RQ(a3, &r), lo, hi, first_bytes(16 * (n - k)), o);
        if (n - k > 4) store64(RQ(a4, &r), RQ(a5, &r), RQ(a6, &r), RQ(a7, &r), lo, hi, first_bytes(16 * (n - k - 4)), o + 64);
    }
}

/* out_c 32: 8 pixels per block, 2 pixels' outputs per 64-byte store */
__attribute__((noinline)) EK_TARGET static void chunk32(const uint8_t *x, int32_t n, int32_t ic, const int8_t *w,
                                                        const ek_x86_rq16 *rp, int32_t lo, int32_t hi, int8_t *o) {
    const ek_x86_rq16 r0 = rp[0], r1 = rp[1];
    const size_t wb = (size_t)ic * 16;
    int32_t k, q;
    for (k = 0; k < n; k += 8, x += (size_t)8 * ic, o += 256) {
        const int8_t *wq = w;
        INIT8(a, r0.bias);
        INIT8(b, r1.bias);
        for (q = 0; q < ic; q += 4, wq += 64) {
            const __m512i w0 = W(0), w1 = W(1);
            DOT8(a, w0);
            DOT8(b, w1);
        }
#define ST2(i, j) if (n - k > (i)) store64(RQ(a##i, &r0), RQ(b##i, &r1), RQ(a##j, &r0), RQ(b##j, &r1), lo, hi, \
                                           first_bytes(32 * (n - k - (i))), o + 32 * (i))
        ST2(0, 1); ST2(2, 3); ST2(4, 5); ST2(6, 7);
#undef ST2
    }
}

#define DOT4(a, w) do { DOT(a, 0, w); DOT(a, 1, w); DOT(a, 2, w); DOT(a, 3, w); } while (0)

/* channels [c, c + 64) of an out_c that is a multiple of 64: 4 pixels per block, a pixel's 64
 * outputs per store (o: channel c of pixel 0) */
__attribute__((noinline)) EK_TARGET static void chunk64(const uint8_t *x, int32_t n, int32_t ic, const int8_t *w,
                                                        const ek_x86_rq16 *r, int32_t lo, int32_t hi, int32_t oc,
                                                        int8_t *o) {
    const size_t wb = (size_t)ic * 16;
    int32_t k, q;
    for (k = 0; k < n; k += 4, x += (size_t)4 * ic, o += (size_t)4 * oc) {
        const int8_t *wq = w;
        __m512i a0 = r[0].bias, a1 = a0, a2 = a0, a3 = a0, b0 = r[1].bias, b1 = b0, b2 = b0, b3 = b0;
        __m512i c0 = r[2].bias, c1 = c0, c2 = c0, c3 = c0, d0 = r[3].bias, d1 = d0, d2 = d0, d3 = d0;
        for (q = 0; q < ic; q += 4, wq += 64) {
            const __m512i w0 = W(0), w1 = W(1), w2 = W(2), w3 = W(3);
            DOT4(a, w0);
            DOT4(b, w1);
            DOT4(c, w2);
            DOT4(d, w3);
        }
#define ST1(i) if (n - k > (i)) store64(RQ(a##i, &r[0]), RQ(b##i, &r[1]), RQ(c##i, &r[2]), RQ(d##i, &r[3]), lo, hi, \
                                        ~(__mmask64)0, o + (size_t)(i) * oc)
        ST1(0); ST1(1); ST1(2); ST1(3);
#undef ST1
    }
}

/* any out_c (a multiple of 16), either requantization: channels [c, c + 16), 8 pixels per block,
 * 16 bytes per pixel (o: channel c of pixel 0) */
__attribute__((noinline)) EK_TARGET static void chunk_any(const ek_conv_params *p, const uint8_t *x, int32_t n,
                                                          const int8_t *w, const ek_x86_rq16 *r, int8_t *o) {
    const int32_t ic = p->in_c, oc = p->out_c;
    const size_t wb = 0;
    int32_t k, q, i;
    for (k = 0; k < n; k += 8, x += (size_t)8 * ic, o += (size_t)8 * oc) {
        const int8_t *wq = w;
        __m512i acc[8];
        INIT8(a, _mm512_setzero_si512());
        for (q = 0; q < ic; q += 4, wq += 64) {
            const __m512i w0 = W(0);
            DOT8(a, w0);
        }
        acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3, acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
        for (i = 0; i < 8 && i < n - k; ++i)
            ek_x86_rq16_store_m(acc[i], r, r->m, p->out_offset, p->act_min, p->act_max,
                                o + (size_t)i * oc);
    }
}

EK_TARGET void ek_conv2d_s8_vnni_pw(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed,
                                    const int32_t *bias_packed, int8_t *out) {
    const int32_t ic = p->in_c, oc = p->out_c, nblk = oc / 16;
    const int32_t total = p->batches * p->out_h * p->out_w, cp = EK_CONV_PW_PIXELS(ic);   /* pixels per chunk */
    const int strided = p->stride_h != 1 || p->stride_w != 1;
    const size_t wb = (size_t)ic * 16;   /* bytes per 16-channel block of weights */
    uint8_t *buf = (uint8_t *)(void *)p->scratch;   /* cp pixels + 8 pixels of slack */
    ek_x86_rq16 rqk[RQ_KEEP], rt[4];
    const int sf = ek_x86_rq_short_ok(bias_packed, p->mult, p->shift, oc, (int64_t)255 * 128 * ic);
    const int32_t step = sf && oc % 64 == 0 ? 64 : 16;   /* channels per chunk kernel call */
    int32_t s, i, c;
    for (i = 0; i < RQ_KEEP && i < nblk; ++i) {
        rqk[i] = ek_x86_rq16_load(bias_packed + 16 * i, p->mult + 16 * i, p->shift + 16 * i, 16);
        if (sf) ek_x86_rq16_fold(&rqk[i], p->out_offset);
    }
    for (s = 0; s < total; s += cp) {
        const int32_t n = ek_min_i32(cp, total - s);
        int8_t *o = out + (size_t)s * oc;
        if (strided)
            gather_flip(buf, in, p, s, n);
        else
            ek_x86_flip_copy(buf, in + (size_t)s * ic, n * ic);
        /* a last partial block reads pixels past n: defined bytes, results never stored */
        memset(buf + (size_t)n * ic, 0, (size_t)8 * ic);
        if (sf && oc == 16) {
            chunk16(buf, n, ic, w_packed, rqk, p->act_min, p->act_max, o);
            continue;
        }
        if (sf && oc == 32) {
            chunk32(buf, n, ic, w_packed, rqk, p->act_min, p->act_max, o);
            continue;
        }
        for (c = 0; c < oc; c += step) {
            const ek_x86_rq16 *r = rqk + c / 16;
            if (c / 16 + step / 16 > RQ_KEEP) {   /* constants past the kept ones */
                for (i = 0; i < step / 16; ++i) {
                    rt[i] = ek_x86_rq16_load(bias_packed + c + 16 * i, p->mult + c + 16 * i, p->shift + c + 16 * i, 16);
                    if (sf) ek_x86_rq16_fold(&rt[i], p->out_offset);
                }
                r = rt;
            }
            if (step == 64)
                chunk64(buf, n, ic, w_packed + (size_t)c / 16 * wb, r, p->act_min, p->act_max, oc, o + c);
            else
                chunk_any(p, buf, n, w_packed + (size_t)c / 16 * wb, r, o + c);
        }
    }
}
#endif
