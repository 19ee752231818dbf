/* gemmlowp fixed-point transcendental helpers (exp on negatives, 1/(1+x), reciprocal),
 * reimplemented in C99 on raw int32 values; bit-exact with gemmlowp/fixedpoint.h. */
#include "ek_quant.h"

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31 */
static int32_t exp_on_interval_quarter(int32_t a) {
    const int32_t constant_term = 1895147668;   /* exp(-1/8) */
    const int32_t one_third = 715827883;
    int32_t x = ek_wadd(a, (int32_t)1 << 28);    /* x = a + 1/8 */
    int32_t x2 = ek_srdhm(x, x);
    int32_t x3 = ek_srdhm(x2, x);
    int32_t x4 = ek_srdhm(x2, x2);
    int32_t x4_over_4 = ek_rdbpot(x4, 2);
    int32_t poly = ek_rdbpot(ek_wadd(ek_srdhm(ek_wadd(x4_over_4, x3), one_third), x2), 1);
    return ek_wadd(constant_term, ek_srdhm(constant_term, ek_wadd(x, poly)));
}

int32_t ek_fx_exp_on_negative_values(int32_t a, int integer_bits) {
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535, 720401, 242};
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    int32_t a_mod_minus_quarter = ek_wsub(a & mask, one_quarter);
    int32_t rescaled = integer_bits > 0 ? ek_sat_shl(a_mod_minus_quarter, integer_bits) : a_mod_minus_quarter;
    int32_t result = exp_on_interval_quarter(rescaled);
    int32_t remainder = ek_wsub(a_mod_minus_quarter, a);
    int e;
    for (e = -2; e <= 4; ++e) {
        if (integer_bits > e) {
            int shift = fractional_bits + e;
            if (remainder & (int32_t)((uint32_t)1 << shift)) result = ek_srdhm(result, multipliers[e + 2]);
        }
    }
    if (integer_bits > 5) {
        int32_t clamp = -(int32_t)((uint32_t)1 << (36 - integer_bits));
        if (a < clamp) result = 0;
    }
    if (a == 0) result = INT32_MAX;
    return result;
}

int32_t ek_fx_one_over_one_plus_x(int32_t a) {
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = ek_wadd(1515870810, ek_srdhm(half_den, -1010580540));   /* 48/17 - 32/17 d, Q2.29 */
    int i;
    for (i = 0; i < 3; ++i) {
        int32_t hdx = ek_srdhm(half_den, x);
        int32_t one_minus = ek_wsub((int32_t)1 << 29, hdx);
        x = ek_wadd(x, ek_sat_shl(ek_srdhm(x, one_minus), 2));
    }
    return ek_sat_shl(x, 1);
}

int32_t ek_fx_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit) {
    uint32_t ux = (uint32_t)x;
    int headroom_plus_one = 0;
    while (headroom_plus_one < 32 && !(ux & 0x80000000u)) { ux <<= 1; ++headroom_plus_one; }
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    return ek_fx_one_over_one_plus_x((int32_t)(((uint32_t)x << headroom_plus_one) - 0x80000000u));
}

/* gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1 */
static int32_t one_minus_x_over_one_plus_x(int32_t a) {
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = ek_wadd(1515870810, ek_srdhm(half_den, -1010580540));
    int i;
    for (i = 0; i < 3; ++i) {
        int32_t hdx = ek_srdhm(half_den, x);
        int32_t one_minus = ek_wsub((int32_t)1 << 29, hdx);
        x = ek_wadd(x, ek_sat_shl(ek_srdhm(x, one_minus), 2));
    }
    return ek_sat_shl(ek_wsub(x, (int32_t)1 << 29), 2);
}

int32_t ek_fx_logistic(int32_t a, int integer_bits) {
    int32_t abs_a, pos;
    if (a == 0) return (int32_t)1 << 30;
    abs_a = a > 0 ? a : ek_wsub(0, a);
    pos = ek_fx_one_over_one_plus_x(ek_fx_exp_on_negative_values(ek_wsub(0, abs_a), integer_bits));
    return a > 0 ? pos : ek_wsub(INT32_MAX, pos);
}

int32_t ek_fx_tanh(int32_t a, int integer_bits) {
    int32_t n, t;
    if (a == 0) return 0;
    n = a < 0 ? a : ek_wsub(0, a);
    /* ExactMulByPot<1>: same raw value read with one more integer bit */
    t = one_minus_x_over_one_plus_x(ek_fx_exp_on_negative_values(n, integer_bits + 1));
    return a < 0 ? ek_wsub(0, t) : t;
}
