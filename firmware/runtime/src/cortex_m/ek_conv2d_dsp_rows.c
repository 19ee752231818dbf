/* CONV_2D int8, Cortex-M DSP tier, input-row path (Armv7E-M: M4/M7): bit-identical to
 * ../ek_conv2d.c (TFLM ConvPerChannel), groups == 1, dilation 1. The code generator
 * (lower_arm.conv_dsp) picks it for a first layer over few input channels (in_c <= 4, filter rows
 * not a multiple of 4 taps, stride_w * in_c even), e.g. VWW's 3x3 stride-2 conv over RGB, where a
 * per-pixel im2col costs more than the MACs.
 *
 * No im2col: per output row, the k_h input rows it reads are widened once to int16 in natural
 * order into row buffers (padding columns and rows hold the zero point -in_offset, whose
 * w * (zp + in_offset) is 0, as TFLM skipping them; in_offset * sum(w row) is folded into bias_fold).
 * A pixel's filter row is then `run` = k_w * in_c consecutive int16 of its buffer, starting at
 * element ox * stride_w * in_c, an even element, so a word-aligned run of int16 pairs that SMLAD
 * takes in place. The code generator widens the weights to int16 in the same order, each filter
 * row padded to an even length with a 0 (its partner element, the next one in the buffer, is read
 * but weighs 0): [ceil(oc/2)][k_h][pairs][2 channels][2 taps]. Block: 2 pixels x 2 channels, per
 * int16 pair one LDR for each pixel, one LDRD of weights, 4 SMLAD. The true sums fit int32 (see
 * ../ek_conv2d.c); SMLAD's accumulate wraps like the int32 adds it replaces. Requantization:
 * ek_rq_dsp, constants derived once per call. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__ARM_ARCH) && !defined(__aarch64__) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

#include "ek_dsp_m.h"

static void st32(void *p, uint32_t v) { memcpy(p, &v, 4); }   /* one STR */

/* row buffer b (len elements, len even) = input row `row` (NULL: a padding row), widened, at element
 * `at`; zero points elsewhere */
static void widen_row(int16_t *b, int32_t len, const int8_t *row, int32_t n, int32_t at, int16_t zp) {
    const uint32_t z2 = (uint32_t)(uint16_t)zp * 0x10001u;
    int32_t i = 0, j = 0;
    if (row == NULL) n = 0;
    for (; i + 2 <= at; i += 2) st32(b + i, z2);
    for (; i < at; ++i) b[i] = zp;
    if ((at & 1) == 0)   /* 4 bytes -> (x0 x1) (x2 x3): SXTB16 gives (x0 x2), ROR 8 (x1 x3); PKH repairs */
        for (; j + 4 <= n; j += 4) {
            const uint32_t v = ld32(row + j), e = (uint32_t)__sxtb16(v), o = sxtb16_ror8(v);
            st32(b + at + j, (e & 0xffffu) | (o << 16));
            st32(b + at + j + 2, (e >> 16) | (o & 0xffff0000u));
        }
    for (; j < n; ++j) b[at + j] = row[j];
    for (i = at + n; i < len; ++i) b[i] = zp;
}

/* one int16 pair of 2 pixels (words at x and x + sb bytes, x += 4) x 2 channels (weights LDRD at w,
 * w += 8). One asm per step (the C loops around it unroll where k_h and the pair count are
 * constants); the memory operands name the weights and pixel A's word (pixel B's is ordered after
 * the row buffers' stores by a compiler barrier). */
#define EK_ROWS_STEP()                                                                              \
    do {                                                                                            \
        uint32_t pw_, qw_, u0_, u1_;                                                                \
        __asm__("ldr %[q], [%[x], %[sb]]\n\t"                                                      \
                "ldr %[p], [%[x]], #4\n\t"                                                         \
                "ldrd %[u0], %[u1], [%[w]], #8\n\t"                                                \
                "smlad %[a0], %[u0], %[p], %[a0]\n\t"                                              \
                "smlad %[b0], %[u0], %[q], %[b0]\n\t"                                              \
                "smlad %[a1], %[u1], %[p], %[a1]\n\t"                                              \
                "smlad %[b1], %[u1], %[q], %[b1]"                                                  \
                : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [x] "+r"(x), [w] "+r"(w), \
                  [p] "=&r"(pw_), [q] "=&r"(qw_), [u0] "=&r"(u0_), [u1] "=&r"(u1_)                  \
                : [sb] "r"(sb), "m"(*(const struct { int16_t h[4]; } *)(const void *)w),            \
                  "m"(*(const struct { int16_t h[2]; } *)(const void *)x));                         \
    } while (0)

/* requantize one channel's two accumulators (pixels 0, 1) and store them */
EK_INLINE void store2(int8_t *d0, int8_t *d1, int32_t a, int32_t b, const ek_rqc *c, int32_t off, int32_t lo,
                      int32_t hi, int mode) {
    const ek_rqc k = *c;
    const int32_t add = mode & EK_RQ_FOLD ? 0 : off;
    const int32_t va = ek_rq_dsp(a, &k, mode & EK_RQ_RIGHT) + add, vb = ek_rq_dsp(b, &k, mode & EK_RQ_RIGHT) + add;
    *d1 = (int8_t)(mode & EK_RQ_FULL ? ek_ssat8(vb) : ek_clamp_i32(vb, lo, hi));
    *d0 = (int8_t)(mode & EK_RQ_FULL ? ek_ssat8(va) : ek_clamp_i32(va, lo, hi));
}

/* all output channels of pixels at element 0 and sb / 2 of the row buffers at `rows` (rs int16
 * apart); k_h and pairs: constants at the specialised call sites */
EK_INLINE void channels(const ek_conv_params *p, const int16_t *rows, int32_t rs, int32_t k_h, int32_t pairs,
                        int32_t sb, const int16_t *w16, const int32_t *bias, const ek_rqc *rq, int8_t *d0, int8_t *d1,
                        int mode) {
    const int32_t oc = p->out_c, off = p->out_offset, lo = p->act_min, hi = p->act_max;
    const int16_t *w = w16;
    int32_t o, fy, j;
    for (o = 0; o < oc; o += 2) {
        const int two = o + 1 < oc;
        const int16_t *x = rows;
        int32_t a0 = bias[o], a1 = two ? bias[o + 1] : 0, b0 = a0, b1 = a1;
#pragma GCC unroll 4
        for (fy = 0; fy < k_h; ++fy, x += rs - 2 * pairs) {
#pragma GCC unroll 8
            for (j = 0; j < pairs; ++j) EK_ROWS_STEP();
        }
        store2(d0 + o, d1 + o, a0, b0, rq + o, off, lo, hi, mode);
        if (two) store2(d0 + o + 1, d1 + o + 1, a1, b1, rq + o + 1, off, lo, hi, mode);
    }
}

/* the pixel pair's channels for the call's mode; 3 rows of 5 int16 pairs (3x3 over 3 channels)
 * unrolled in full for the usual modes */
static void pixels(const ek_conv_params *p, const int16_t *x, int32_t rs, int32_t pairs, int32_t sb,
                   const int16_t *w16, const int32_t *bias, const ek_rqc *rq, int8_t *d0, int8_t *d1, int mode) {
    const int32_t k_h = p->k_h;
    if (k_h == 3 && pairs == 5 && mode == (EK_RQ_FULL | EK_RQ_RIGHT | EK_RQ_FOLD))
        channels(p, x, rs, 3, 5, sb, w16, bias, rq, d0, d1, EK_RQ_FULL | EK_RQ_RIGHT | EK_RQ_FOLD);
    else if (k_h == 3 && pairs == 5 && mode == (EK_RQ_RIGHT | EK_RQ_FOLD))
        channels(p, x, rs, 3, 5, sb, w16, bias, rq, d0, d1, EK_RQ_RIGHT | EK_RQ_FOLD);
    else if (mode & EK_RQ_FULL)
        channels(p, x, rs, k_h, pairs, sb, w16, bias, rq, d0, d1, EK_RQ_FULL);
    else
        channels(p, x, rs, k_h, pairs, sb, w16, bias, rq, d0, d1, 0);
}

void ek_conv2d_s8_dsp_rows(const ek_conv_params *p, const int8_t *in, const int16_t *w16, const int32_t *bias,
                           int8_t *out) {
    const int32_t oc = p->out_c, out_w = p->out_w, c_in = p->in_c, in_w = p->in_w, k_h = p->k_h;
    const int32_t pairs = (p->k_w * c_in + 1) / 2, step = p->stride_w * c_in;   /* step: even */
    const int32_t rs = EK_CONV_DSP_ROW_LEN(p->pad_w, in_w, out_w, p->stride_w, p->k_w, c_in);
    const int full = p->act_min == -128 && p->act_max == 127 ? EK_RQ_FULL : 0;
    const int16_t zp = (int16_t)-p->in_offset;
    int16_t *const rows = p->scratch;
    ek_rqc *const rq = (ek_rqc *)(void *)(p->scratch + k_h * rs);   /* rs % 4 == 0: 8-byte aligned */
    int32_t b, oy, ox, fy;
    const int mode = full | ek_rq_dsp_prepare(rq, p->mult, p->shift, oc, p->out_offset);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = in + (size_t)b * p->in_h * in_w * c_in;
        int8_t *d = out + (size_t)b * p->out_h * out_w * oc;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (fy = 0; fy < k_h; ++fy) {
                const int32_t iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
                const int8_t *row = iy >= 0 && iy < p->in_h ? in_b + (size_t)iy * in_w * c_in : NULL;
                widen_row(rows + fy * rs, rs, row, in_w * c_in, p->pad_w * c_in, zp);
            }
            __asm__ volatile("" ::: "memory");   /* the steps' asm reads more of the rows than its operands name */
            for (ox = 0; ox < out_w; ox += 2, d += 2 * oc) {
                const int pair = ox + 1 < out_w;
                const int16_t *x = rows + ox * step;
                const int32_t sb = pair ? 2 * step : 0;   /* pixel B's bytes after A's (a lone pixel: A again) */
                int8_t *const d1 = pair ? d + oc : d;
                pixels(p, x, rs, pairs, sb, w16, bias, rq, d, d1, mode);
                if (!pair) d -= oc;
            }
        }
    }
}
#endif
