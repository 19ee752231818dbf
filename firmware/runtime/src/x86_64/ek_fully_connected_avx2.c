/* FULLY_CONNECTED int8 with symmetric weights (w_offset 0), x86-64 AVX2 tier: bit-identical to
 * ../ek_fully_connected.c (TFLM FullyConnected / PerChannel). Same packed weights and folded bias
 * as ek_fully_connected_vnni.c; the exact vpmovsxbw + vpmaddwd form of ek_conv2d_avx2.c: inputs
 * enter as u16 = x + 128, four at a time, broadcast; one 16-byte weight load is 4 outputs x 4
 * inputs. */
#include "ek_kernels.h"
#include "ek_quant.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <string.h>

#include "ek_requant_x86.h"

/* x[4g .. 4g+3] + 128 as int16, broadcast; inputs past in_depth are 0 (their weights are 0) */
EK_TARGET_AVX2 static __m256i quad16(const int8_t *x, int32_t g, int32_t in_depth) {
    uint8_t b[4] = {0, 0, 0, 0};
    int32_t v, i;
    for (i = 0; i < 4 && 4 * g + i < in_depth; ++i) b[i] = (uint8_t)((uint8_t)x[4 * g + i] ^ 0x80u);
    memcpy(&v, b, 4);
    return _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(v)));
}

EK_TARGET_AVX2 void ek_fully_connected_s8_avx2(const ek_fc_params *p, const int8_t *in, const int8_t *w_packed,
                                               const int32_t *bias_packed, int8_t *out) {
    const int32_t n_in = p->in_depth, n_out = p->out_depth, g_full = n_in / 4, groups = (n_in + 3) / 4;
    int32_t b, ob, g, h;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + (size_t)b * n_in;
        int8_t *y = out + (size_t)b * n_out;
        for (ob = 0; ob < n_out; ob += 32) {
            const int8_t *wb = w_packed + (size_t)ob * groups * 4;
            __m256i a[8];
            for (h = 0; h < 8; ++h) a[h] = _mm256_setzero_si256();
            for (g = 0; g < groups; ++g, wb += 128) {
                __m256i u;
                if (g < g_full) {
                    int32_t v;
                    memcpy(&v, x + 4 * g, 4);
                    u = _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(v ^ (int32_t)0x80808080u)));
                } else {
                    u = quad16(x, g, n_in);
                }
                for (h = 0; h < 8; ++h)
                    a[h] = _mm256_add_epi32(a[h], _mm256_madd_epi16(u, _mm256_cvtepi8_epi16(
                        _mm_loadu_si128((const __m128i *)(const void *)(wb + 16 * h)))));
            }
            for (h = 0; h < 4 && ob + 8 * h < n_out; ++h) {
                const int32_t c = ob + 8 * h;
                ek_x86_requant8_avx2(ek_x86_pairsum8(a[2 * h], a[2 * h + 1]), bias_packed + c, p->mult + c,
                                     p->shift + c, p->out_offset, p->act_min, p->act_max, ek_min_i32(8, n_out - c), y + c);
            }
        }
    }
}
#endif
