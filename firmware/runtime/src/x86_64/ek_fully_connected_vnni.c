/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), x86-64 AVX-512 VNNI tier:
 * bit-identical to ../ek_fully_connected.c (TFLM FullyConnected / PerChannel).
 *
 * Inputs enter vpdpbusd as u8 = x + 128 (x ^ 0x80), four at a time, broadcast to every lane; a
 * lane is one output. The code generator packs the weights as [ceil(out/32)][ceil(in/4)][32][4]
 * (zero past the last input and output), folds -128 * sum(w row) into bias_packed (beside the
 * in_offset term ek_fully_connected.c already folds) and expands per-tensor mult/shift to one
 * per output. Sums stay exact: see x86_64/ek_conv2d_vnni.c. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

/* x[4g .. 4g+3] as u8, broadcast; bytes past in_depth are 0 (their weights are 0) */
EK_TARGET_VNNI static __m256i quad(const int8_t *x, int32_t g, int32_t in_depth) {
    uint8_t b[4] = {0, 0, 0, 0};
    int32_t v, i;
    for (i = 0; i < 4 && 4 * g + i < in_depth; ++i) b[i] = (uint8_t)((uint8_t)x[4 * g + i] ^ 0x80u);
    memcpy(&v, b, 4);
    return _mm256_set1_epi32(v);
}

EK_TARGET_VNNI void ek_fully_connected_s8_vnni(const ek_fc_params *p, const int8_t *in, const int8_t *w_packed,
                                               const int32_t *bias_packed, int8_t *out) {
    const int32_t n_in = p->in_depth, n_out = p->out_depth, g_full = n_in / 4, groups = (n_in + 3) / 4;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    int32_t b, ob, g, h;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + (size_t)b * n_in;
        int8_t *y = out + (size_t)b * n_out;
        for (ob = 0; ob < n_out; ob += 32) {
            const int8_t *wb = w_packed + (size_t)ob * groups * 4;
            /* two accumulator sets (even and odd quads of inputs): vpdpbusd's latency, not its
             * throughput, bounds one chain per register; the int32 sums are exact in any order */
            __m256i a[4], e[4];
            a[0] = a[1] = a[2] = a[3] = e[0] = e[1] = e[2] = e[3] = _mm256_setzero_si256();
            for (g = 0; g + 1 < g_full; g += 2, wb += 256) {
                int32_t v0, v1;
                __m256i u0, u1;
                memcpy(&v0, x + 4 * g, 4);
                memcpy(&v1, x + 4 * g + 4, 4);
                u0 = _mm256_xor_si256(_mm256_set1_epi32(v0), flip);
                u1 = _mm256_xor_si256(_mm256_set1_epi32(v1), flip);
                for (h = 0; h < 4; ++h) {
                    a[h] = _mm256_dpbusd_epi32(a[h], u0, _mm256_loadu_si256((const __m256i *)(const void *)(wb + 32 * h)));
                    e[h] = _mm256_dpbusd_epi32(e[h], u1, _mm256_loadu_si256((const __m256i *)(const void *)(wb + 128 + 32 * h)));
                }
            }
            for (; g < groups; ++g, wb += 128) {
                const __m256i u = quad(x, g, n_in);
                for (h = 0; h < 4; ++h)
                    a[h] = _mm256_dpbusd_epi32(a[h], u, _mm256_loadu_si256((const __m256i *)(const void *)(wb + 32 * h)));
            }
            for (h = 0; h < 4; ++h) a[h] = _mm256_add_epi32(a[h], e[h]);
            for (h = 0; h < 2 && ob + 16 * h < n_out; ++h) {   /* 16 outputs per requantization */
                const int32_t c = ob + 16 * h;
                const ek_x86_rq16 rq = ek_x86_rq16_load(bias_packed + c, p->mult + c, p->shift + c,
                                                        ek_min_i32(16, n_out - c));
                ek_x86_rq16_store(_mm512_inserti64x4(_mm512_castsi256_si512(a[2 * h]), a[2 * h + 1], 1), &rq,
                                  p->out_offset, p->act_min, p->act_max, y + c);
            }
        }
    }
}
#endif
