/* edgekit requantization maths, bit-exact with TFLM's reference integer kernels
 * (tensorflow/lite/kernels/internal/common.h, gemmlowp fixedpoint, double rounding).
 * Portable C99: no `>>` on negative values, no signed overflow. */
#ifndef EK_QUANT_H
#define EK_QUANT_H

#include <stdint.h>

#if defined(__GNUC__)
#define EK_INLINE static __inline__ __attribute__((always_inline))
#else
#define EK_INLINE static
#endif

EK_INLINE int32_t ek_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
EK_INLINE int32_t ek_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
EK_INLINE int32_t ek_clamp_i32(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* Arithmetic (flooring) right shift of a signed value, defined for negatives too. */
EK_INLINE int32_t ek_asr32(int32_t x, int n) {
    return x >= 0 ? (int32_t)((uint32_t)x >> n) : (int32_t)~(~(uint32_t)x >> n);
}
EK_INLINE int64_t ek_asr64(int64_t x, int n) {
    return x >= 0 ? (int64_t)((uint64_t)x >> n) : (int64_t)~(~(uint64_t)x >> n);
}
/* Wrapping int32 add/sub (gemmlowp's raw fixed-point add is a plain, wrapping add). */
EK_INLINE int32_t ek_wadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
EK_INLINE int32_t ek_wsub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
/* x * 2^n without signed-overflow UB (wraps like TFLM's int arithmetic in practice). */
EK_INLINE int32_t ek_shl(int32_t x, int n) { return (int32_t)((uint32_t)x << n); }

/* gemmlowp SaturatingRoundingDoublingHighMul */
EK_INLINE int32_t ek_srdhm(int32_t a, int32_t b) {
    int64_t ab, nudge;
    if (a == b && a == INT32_MIN) return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    /* C99 integer division truncates toward zero, like gemmlowp's */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT */
EK_INLINE int32_t ek_rdbpot(int32_t x, int exponent) {
    int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = ek_asr32(mask, 1) + (x < 0 ? 1 : 0);
    return ek_asr32(x, exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLM MultiplyByQuantizedMultiplier (double rounding). shift > 0 is a left shift. */
EK_INLINE int32_t ek_mbqm(int32_t x, int32_t mult, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return ek_rdbpot(ek_srdhm(ek_shl(x, left), mult), right);
}

/* ek_mbqm for mult >= 0 (every multiplier edgekit computes: QuantizeMultiplier of a positive
 * scale), where SaturatingRoundingDoublingHighMul cannot saturate. Same result, written without
 * branches so that a loop over output channels vectorises. */
EK_INLINE int32_t ek_mbqm_nn(int32_t x, int32_t mult, int shift) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int64_t ab = (int64_t)ek_shl(x, left) * (int64_t)mult;
    const int64_t v = ab + (ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)));
    /* truncating v / 2^31 without >> on a negative value */
    const int32_t h = (int32_t)(v >= 0 ? v / ((int64_t)1 << 31) : -(-v / ((int64_t)1 << 31)));
    const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
    const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    const int32_t q = (int32_t)(h >= 0 ? ((uint32_t)h >> right) : ~(~(uint32_t)h >> right));
    return q + ((h & mask) > threshold ? 1 : 0);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent (saturating left shift). */
EK_INLINE int32_t ek_sat_shl(int32_t x, int exponent) {
    int32_t threshold = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return ek_shl(x, exponent);
}

/* ek_mbqm_nn in fewer instructions for 32-bit cores (Cortex-M): for mult >= 0 gemmlowp's
 * truncating (ab + nudge) / 2^31 equals floor((ab + 2^30) / 2^31) for either sign of ab (for
 * ab < 0, trunc(v / 2^31) = floor((v + 2^31 - 1) / 2^31) and v + 2^31 - 1 = ab + 2^30), i.e. the
 * low word of the 64-bit sum shifted right by 31; |result| < 2^31, so the cast is exact.
 * Then RoundingDivideByPOT as in ek_rdbpot. Same result as ek_mbqm_nn for every input. */
EK_INLINE int32_t ek_mbqm_nn32(int32_t x, int32_t mult, int shift) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const uint64_t v = (uint64_t)((int64_t)ek_shl(x, left) * (int64_t)mult) + ((uint64_t)1 << 30);
    const int32_t h = (int32_t)(uint32_t)(v >> 31);
    const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
    return ek_asr32(h, right) + ((h & mask) > (mask >> 1) + (h < 0) ? 1 : 0);
}

EK_INLINE int8_t ek_sat_s8(int32_t x) { return (int8_t)ek_clamp_i32(x, -128, 127); }

/* Fixed-point helpers used by SOFTMAX/LOGISTIC/TANH (gemmlowp fixedpoint.h). */
int32_t ek_fx_exp_on_negative_values(int32_t a, int integer_bits);
int32_t ek_fx_one_over_one_plus_x(int32_t a);
int32_t ek_fx_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit);
int32_t ek_fx_logistic(int32_t a, int integer_bits);   /* result in Q0.31 */
int32_t ek_fx_tanh(int32_t a, int integer_bits);       /* result in Q0.31 */

#endif
