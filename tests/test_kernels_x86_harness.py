"""x86-64 kernels in C harnesses, against the scalar or portable code they replace (which is
bit-exact with TFLM): the vectorised requantization over the int32 range, the AVX-512 average pool
and the AVX-512 ADD on every int8 pair. Whole models and layers: test_kernels_fast_x86.py."""
from __future__ import annotations

import subprocess

import numpy as np
from test_kernels_fast_x86 import RUNTIME, _flags, needs_avx2, needs_vnni


def _build(tmp_path, source: str, *kernels: str, flags=("-march=native",)):
    """The harness `source` with the runtime's `kernels` (paths under runtime/src), built strict."""
    (tmp_path / "h.c").write_text(source)
    exe = tmp_path / "h"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", *flags, f"-I{RUNTIME / 'include'}",
                    str(tmp_path / "h.c"), *(str(RUNTIME / "src" / k) for k in kernels), "-o", str(exe)],
                   check=True)
    return exe


_REQUANT_HARNESS = r"""
#include <stdio.h>
#include "ek_quant.h"
#include "ek_requant_x86.h"
/* per case: acc bias mult shift out_offset lo hi (int32 each) on stdin; per case on stdout:
 * scalar, ek_x86_requant8_avx2[, ek_x86_requant8, ek_x86_rq16_store of one lane, of 16 lanes, of 16 lanes in the
 * short form (ek_x86_rq16_fold) where it applies] (int8 each) */
#ifdef WITH_VNNI
EK_TARGET_VNNI static void vnni(const int32_t *c, int8_t *o) {
    __m256i acc = _mm256_set1_epi32(c[0]);
    ek_x86_rq16 r;
    int32_t b16[16], m16[16], s16[16];
    int8_t y16[16];
    int k;
    ek_x86_requant8(acc, c + 1, c + 2, c + 3, c[4], c[5], c[6], 1, o);
    r = ek_x86_rq16_load(c + 1, c + 2, c + 3, 1);
    ek_x86_rq16_store(_mm512_set1_epi32(c[0]), &r, c[4], c[5], c[6], o + 1);
    /* the case in lanes 1..15, lane 0 another multiplier and shift (odd lanes must not use an even lane's) */
    for (k = 0; k < 16; ++k) b16[k] = c[1], m16[k] = c[2], s16[k] = c[3];
    m16[0] = c[2] > 0 ? c[2] - 1 : 1;
    s16[0] = c[3] > -31 ? c[3] - 1 : c[3] + 1;
    r = ek_x86_rq16_load(b16, m16, s16, 16);
    ek_x86_rq16_store(_mm512_set1_epi32(c[0]), &r, c[4], c[5], c[6], y16);
    o[2] = y16[1];
    for (k = 2; k < 16; ++k)   /* a lane that differs from lane 1 */
        if (y16[k] != y16[1]) o[2] = (int8_t)(y16[1] ^ 0x55);
    /* the short form (offset folded), where it applies (|acc| bounding the accumulator); else o[0] */
    o[3] = o[-1];
    if (ek_x86_rq_short_ok(c + 1, c + 2, c + 3, 1, c[0] < 0 ? -(int64_t)c[0] : c[0])) {
        r = ek_x86_rq16_load(b16, m16, s16, 16);
        if (ek_x86_rq_short_ok(b16, m16, s16, 16, c[0] < 0 ? -(int64_t)c[0] : c[0])) {
            ek_x86_rq16_fold(&r, c[4]);
            ek_x86_rq16_store(_mm512_set1_epi32(c[0]), &r, c[4], c[5], c[6], y16);
            o[3] = y16[1];
            for (k = 2; k < 16; ++k)
                if (y16[k] != y16[1]) o[3] = (int8_t)(y16[1] ^ 0x55);
        } else {   /* lane 0's other shift is out of the short range: the case alone */
            r = ek_x86_rq16_load(c + 1, c + 2, c + 3, 1);
            ek_x86_rq16_fold(&r, c[4]);
            ek_x86_rq16_store(_mm512_set1_epi32(c[0]), &r, c[4], c[5], c[6], o + 3);
        }
    }
}
#endif
EK_TARGET_AVX2 static void avx2(const int32_t *c, int8_t *o) {
    ek_x86_requant8_avx2(_mm256_set1_epi32(c[0]), c + 1, c + 2, c + 3, c[4], c[5], c[6], 1, o);
}
int main(void) {
    int32_t c[7];
    while (fread(c, sizeof c, 1, stdin) == 1) {
        int8_t o[5] = {0, 0, 0, 0, 0};
        o[0] = (int8_t)ek_clamp_i32(ek_mbqm_nn(ek_wadd(c[0], c[1]), c[2], c[3]) + c[4], c[5], c[6]);
        avx2(c, o + 1);
        fwrite(o, 1, 2, stdout);
#ifdef WITH_VNNI
        vnni(c, o + 1);
        fwrite(o + 1, 1, 4, stdout);
#endif
    }
    return 0;
}
"""


@needs_avx2
def test_vectorised_requant_equals_scalar_over_int32(tmp_path):
    """every x86 requantization path against ek_quant.h's scalar ek_mbqm_nn (the portable tier's,
    bit-exact with TFLM), on random and extreme int32 accumulators, biases, multipliers and shifts"""
    vnni = {"avx512_vnni", "avx512vl"} <= _flags
    exe = _build(tmp_path, _REQUANT_HARNESS, flags=["-DWITH_VNNI"] if vnni else [])
    rng = np.random.default_rng(14)
    n = 200_000
    i32 = np.iinfo(np.int32)
    acc = rng.integers(i32.min, i32.max, n, endpoint=True)
    acc[:2000] = rng.choice([i32.min, i32.min + 1, -1, 0, 1, i32.max - 1, i32.max], 2000)
    acc[2000:100_000] = rng.integers(-(1 << 20), 1 << 20, 98_000)   # the accumulators models produce
    bias = rng.integers(-(1 << 24), 1 << 24, n)
    bias[::7] = rng.integers(i32.min, i32.max, bias[::7].size, endpoint=True)
    mult = rng.integers(1 << 30, i32.max, n, endpoint=True)           # QuantizeMultiplier's range
    mult[::11] = rng.integers(0, i32.max, mult[::11].size, endpoint=True)
    shift = rng.integers(-31, 8, n)
    # exact ties of both roundings: mult 2^30 halves x; small x and right shifts hit .5 often
    ties = slice(100_000, 140_000)
    mult[ties], bias[ties] = 1 << 30, 0
    acc[ties] = rng.integers(-4096, 4097, 40_000)
    shift[ties] = rng.integers(-12, 1, 40_000)
    out_off = rng.integers(-128, 128, n)
    lo = rng.integers(-128, 0, n)
    hi = rng.integers(0, 128, n)
    # the short form's edges: |acc + bias| up to 2^29 (2^29 itself is outside), right shifts 1 and 22, extreme offsets, no clamp
    edge = slice(140_000, 150_000)
    bias[edge] = rng.integers(-64, 65, 10_000)
    acc[edge] = rng.choice([1 << 29, (1 << 29) - 1, (1 << 29) - 2, 1 << 28, -(1 << 28), 2 - (1 << 29), 1 - (1 << 29),
                            -(1 << 29)], 10_000) - bias[edge]
    mult[edge] = rng.choice([1 << 30, i32.max, 0, 1518500250], 10_000)
    shift[edge] = rng.choice([-1, -2, -21, -22, -23, 0], 10_000)
    out_off[edge] = rng.choice([-128, 127, 0], 10_000)
    lo[edge], hi[edge] = -128, 127
    cases = np.stack([acc, bias, mult, shift, out_off, lo, hi], axis=1).astype(np.int32)
    short = (mult >= 0) & ((mult == 0) | ((shift <= -1) & (shift >= -22))) & \
        (np.abs(bias) + np.abs(acc) < 1 << 29)
    assert short.sum() > 50_000 and short[edge].sum() > 3_000   # the short form is exercised
    out = subprocess.run([str(exe)], input=cases.tobytes(), capture_output=True, check=True).stdout
    got = np.frombuffer(out, np.int8).reshape(n, 6 if vnni else 2)
    for k in range(1, got.shape[1]):
        bad = np.flatnonzero(got[:, k] != got[:, 0])
        assert bad.size == 0, (k, cases[bad[:3]].tolist(), got[bad[:3]].tolist())


_POOL_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "ek_kernels.h"
/* per case on stdin: 14 int32 (ek_pool_params), then in_h*in_w*ch input bytes (batches 1, 2 for
 * even ch); on stdout: the portable output, then the AVX-512 one */
static int8_t in[1 << 20], a[1 << 20], b[1 << 20];
int main(void) {
    ek_pool_params p;
    while (fread(&p, sizeof p, 1, stdin) == 1) {
        size_t n_in = (size_t)p.batches * p.in_h * p.in_w * p.ch, n_out = (size_t)p.batches * p.out_h * p.out_w * p.ch;
        if (fread(in, 1, n_in, stdin) != n_in) return 1;
        ek_avg_pool2d_s8(&p, in, a);
        ek_avg_pool2d_s8_avx512(&p, in, b);
        fwrite(a, 1, n_out, stdout);
        fwrite(b, 1, n_out, stdout);
    }
    return 0;
}
"""


@needs_vnni
def test_avx512_avg_pool_equals_portable(tmp_path):
    """ek_avg_pool2d_s8_avx512 against the portable kernel (TFLM's AveragePool, checked on the
    MLPerf models above): channel counts below, at and past the 64-channel step and its 16-lane
    tails, SAME borders (windows cut to 1..k_h*k_w taps), VALID, strides 1..3, windows past 256
    taps (int16 sums widened mid-window) on inputs all -128 or all 127, clamps of fused
    activations, and a window past the 65535-tap float bound (the portable fallback)"""
    exe = _build(tmp_path, _POOL_HARNESS, "ek_avg_pool2d.c", "x86_64/ek_avg_pool2d_avx512.c")
    rng = np.random.default_rng(14)
    blob, sizes = [], []
    cases = [(25, 5, 64, 25, 5, 1, 1, "valid"), (7, 9, 5, 3, 3, 1, 1, "same"), (8, 8, 100, 3, 3, 2, 2, "same"),
             (9, 11, 130, 4, 2, 3, 2, "same"), (6, 6, 17, 2, 2, 2, 2, "valid"), (17, 17, 33, 17, 17, 1, 1, "valid"),
             (20, 20, 48, 20, 20, 1, 1, "valid"), (5, 7, 1, 5, 7, 1, 1, "same"), (300, 230, 1, 300, 230, 1, 1, "valid")]
    for k, (ih, iw, ch, kh, kw, sh, sw, pad) in enumerate(cases):
        if pad == "same":
            oh, ow = -(-ih // sh), -(-iw // sw)
            ph, pw = max(0, ((oh - 1) * sh + kh - ih) // 2), max(0, ((ow - 1) * sw + kw - iw) // 2)
        else:
            oh, ow, ph, pw = (ih - kh) // sh + 1, (iw - kw) // sw + 1, 0, 0
        batches = 2 if ch % 2 == 0 and ih * iw < 1000 else 1
        lo, hi = [(-128, 127), (-128, 127), (-100, 50), (0, 127)][k % 4]
        x = rng.integers(-128, 128, (batches, ih, iw, ch))
        if k in (5, 6):   # saturated windows: 289 / 400 taps of -128 or of 127
            x[:] = -128 if k == 5 else 127
            x[:, 0, 0, 0] = 5
            lo, hi = -128, 127
        blob += [np.array([batches, ih, iw, ch, oh, ow, kh, kw, sh, sw, ph, pw, lo, hi], np.int32).tobytes(),
                 x.astype(np.int8).tobytes()]
        sizes.append(batches * oh * ow * ch)
    out = subprocess.run([str(exe)], input=b"".join(blob), capture_output=True, check=True).stdout
    assert len(out) == 2 * sum(sizes)
    pos = 0
    for case, n in zip(cases, sizes):
        a, b = np.frombuffer(out, np.int8, n, pos), np.frombuffer(out, np.int8, n, pos + n)
        pos += 2 * n
        assert np.array_equal(a, b), (case, np.flatnonzero(a != b)[:5].tolist())
        if case[0] in (17, 20):   # saturated: an int16 sum wrapping past 256 taps would flip the sign
            assert set(b.tolist()) == {-128 if case[0] == 17 else 127}, case


_ADD_HARNESS = r"""
#include <stdio.h>
#include "ek_kernels.h"
/* per case on stdin: a_offset b_offset out_offset act_min act_max left_shift a_mult a_shift b_mult
 * b_shift out_mult out_shift (int32) and n; every (a, b) int8 pair in a 65536-element add of shape
 * {1, 1, 1, 65536} (then n = 65536 - 7: a tail of 9 lanes); on stdout: portable, then AVX-512 */
static int8_t a[65536], b[65536], y0[65536], y1[65536];
int main(void) {
    int32_t c[13];
    int i;
    for (i = 0; i < 65536; ++i) a[i] = (int8_t)(i & 255), b[i] = (int8_t)(i >> 8);
    while (fread(c, sizeof c, 1, stdin) == 1) {
        ek_binary_params p = {{1, 1, 1, c[12]}, {0, 0, 0, 1}, {0, 0, 0, 1}, c[0], c[1], c[2], c[3], c[4],
                              c[5], c[6], c[7], c[8], c[9], c[10], c[11]};
        p.a_stride[0] = p.a_stride[1] = p.a_stride[2] = c[12];
        p.b_stride[0] = p.b_stride[1] = p.b_stride[2] = c[12];
        ek_add_s8(&p, a, b, y0);
        ek_add_s8_avx512(&p, a, b, y1);
        fwrite(y0, 1, (size_t)c[12], stdout);
        fwrite(y1, 1, (size_t)c[12], stdout);
    }
    return 0;
}
"""


@needs_vnni
def test_avx512_add_equals_portable(tmp_path):
    """ek_add_s8_avx512 against the portable ADD (TFLM's, checked on resnet above) on every int8
    pair: input shifts 0 .. -20 (the vpmaddwd rescale, its rounding ties included: multipliers
    2^30 and low bits 0 / 2047; 2^30 with shift 0 is a plain shift left), shifts outside it and left shifts other than 20 (the generic
    steps), random offsets, output multipliers and shifts (some with an output scale near 1, so
    that one unit of a rescaled input changes the output), clamps, and a 9-lane tail"""
    exe = _build(tmp_path, _ADD_HARNESS, "ek_add.c", "x86_64/ek_add_avx512.c")
    rng = np.random.default_rng(14)
    cases = []
    for k in range(80):
        ash, bsh = -1 - k % 20, -1 - (7 * k) % 20
        if k >= 60:   # equal, large input shifts and an output scale near 1: a rescale off by one shows
            ash = bsh = -1 - k % 20 if k < 75 else -21 - k % 5
        am, bm = (int(x) for x in rng.integers(1 << 30, (1 << 31) - 1, 2, endpoint=True))
        if k % 5 == 0:
            am, bm = 1 << 30, (1 << 30) | 2047      # exact halves, all-ones low bits
        if k % 7 == 3:
            am = int(rng.integers(0, 1 << 30))      # any non-negative multiplier
        ls = 20
        if 50 <= k < 60:   # the generic path: shifts -21 .. -25 or 1, a left shift other than 20 (and shift 0)
            ash, bsh, ls = [(0, -3, 20), (-21, -2, 20), (-4, -25, 20), (-2, -3, 18), (1, -1, 20)][k % 5]
        lo, hi = [(-128, 127), (-128, 127), (-100, 60), (-60, 127)][k % 4]
        cases.append([int(x) for x in rng.integers(-64, 65, 2)] + [int(rng.integers(-20, 21)), lo, hi, ls, am, ash,
                                                                     bm, bsh,
                     int(rng.integers(1 << 30, 1 << 31)), min(-ash, -bsh) - 19 + int(rng.integers(-1, 2)),
                     65536 - 7 * (k % 2)])   # out_shift: outputs span int8, as in a model
    for k in range(20):   # output requantization the identity (2^30, shift 1): out = a' + b' exactly
        am = int(rng.integers(1 << 30, 1 << 31))   # where that fits int8, so every unit of either shows
        bm = am if k % 2 else int(rng.integers(1 << 30, 1 << 31))
        off = int(rng.integers(-64, 65))
        ash, bsh = -1 - k, -1 - (k + 3 * (k % 2)) % 20
        if k % 4 == 1:   # shift 0 (resnet's b: 2^30, shift 0) on both, equal: a' + b' for b = -a shows a' asymmetry
            ash = bsh = 0
        cases.append([off, off, 0, -128, 127, 20, am, ash, bm, bsh, 1 << 30, 1, 65536])
    out = subprocess.run([str(exe)], input=np.array(cases, np.int32).tobytes(), capture_output=True,
                         check=True).stdout
    pos = 0
    for k, c in enumerate(cases):
        n = c[12]
        y0, y1 = np.frombuffer(out, np.int8, n, pos), np.frombuffer(out, np.int8, n, pos + n)
        pos += 2 * n
        assert np.array_equal(y0, y1), (c, np.flatnonzero(y0 != y1)[:5].tolist())
        assert k >= 80 or len(np.unique(y0)) >= 4, c   # not clamped flat: the rescale shows in the output
