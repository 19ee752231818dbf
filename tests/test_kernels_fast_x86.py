"""x86-64 kernel tiers (AVX-512 VNNI, AVX2): chosen from the board's ISA features, bit-identical
to the portable tier and to TFLM on the pilot and the six MLPerf Tiny models (random hidden models:
tests/test_codegen_property.py, one run per tier), and a vectorised requantization equal to the
scalar one over the whole int32 range."""
from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

VNNI, AVX2 = "x86-64-avx512vnni", "x86-64-avx2"
_flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
needs_vnni = pytest.mark.skipif(not {"avx512_vnni", "avx512vl"} <= _flags, reason="this CPU lacks AVX-512 VNNI")
needs_avx2 = pytest.mark.skipif("avx2" not in _flags, reason="this CPU lacks AVX2")
RUNTIME = Path(__file__).resolve().parents[1] / "firmware" / "runtime"


def _outputs(path, out_dir, variant, n=3, seed=0):
    import edgekit.runtime as rt
    from edgekit.codegen import compile_model
    from edgekit.golden.verify import random_inputs
    rep = compile_model(path, out_dir, variant=variant).report
    model = rt.load(out_dir)
    outs = [model.invoke(*xs) for xs in random_inputs(model, n, seed)]
    return rep, [list(o) if isinstance(o, (list, tuple)) else [o] for o in outs], model


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_variant_follows_the_board_isa_features():
    from edgekit.catalog import get_board
    from edgekit.codegen.build import select_variant
    from edgekit.errors import UserError
    host = get_board("host")
    best = VNNI if {"avx512_vnni", "avx512vl"} <= _flags else AVX2 if "avx2" in _flags else "portable"
    assert select_variant(host) == best                         # host.yaml lists both; this CPU decides
    assert select_variant(get_board("coral")) == "armv7e-m-dsp"  # Cortex-M7: its own tier, not x86
    assert select_variant(host, "portable") == "portable"
    assert select_variant(None) == "portable"                   # generic C stays portable
    pc = SimpleNamespace(name="pc", cpu=SimpleNamespace(features=["sse4.2", "avx2", "fma"]))
    assert select_variant(pc) == AVX2                           # a PC without AVX-512 VNNI
    if "avx2" in _flags:
        assert select_variant(host, AVX2) == AVX2               # forced, as the tests of this tier do
    with pytest.raises(UserError, match="lacks the ISA features"):
        select_variant(pc, VNNI)
    with pytest.raises(UserError, match="lacks the ISA features"):
        select_variant(get_board("coral"), VNNI)
    with pytest.raises(UserError, match="unknown kernel variant"):
        select_variant(host, "sse9")


@pytest.fixture(scope="module")
def portable_outputs(tmp_path_factory):
    """the portable tier's outputs per model, computed once for both x86 tiers"""
    cache = {}

    def get(name, path):
        if name not in cache:
            cache[name] = _outputs(path, tmp_path_factory.mktemp(f"{name}_p"), "portable")[1]
        return cache[name]
    return get


@pytest.mark.parametrize("variant", [pytest.param(VNNI, marks=needs_vnni), pytest.param(AVX2, marks=needs_avx2)])
def test_x86_tier_bit_exact_on_pilot_and_mlperf_tiny(variant, mlperf_models, pilot_int8_path, portable_outputs,
                                                     tmp_path):
    from edgekit.golden import TflmRunner
    from edgekit.golden.verify import random_inputs
    sfx = variant.rsplit("-", 1)[1].replace("avx512", "")   # vnni / avx2
    for name, path in {"pilot": pilot_int8_path, **mlperf_models}.items():
        ref = portable_outputs(name, path)
        rep, fast, model = _outputs(path, tmp_path / f"{name}_v", variant)
        assert rep["variant"]["selected"] == variant
        calls = rep["variant"]["kernel_calls"]
        if name != "ad01_int8":   # ad01 is FULLY_CONNECTED only; every other model has a CONV_2D
            # the VNNI tier lowers dilation-1 convs to its im2col-free kernel (_rows)
            assert calls.get(f"ek_conv2d_s8_{sfx}", 0) + calls.get(f"ek_conv2d_s8_{sfx}_rows", 0) > 0, name
        else:
            assert calls.get(f"ek_fully_connected_s8_{sfx}", 0) > 0, name
        if name in ("vww_96_int8", "kws_ref_model", "str_ww_ref_model"):   # depthwise models
            assert calls.get(f"ek_depthwise_conv2d_s8_{sfx}", 0) > 0, name
        assert all(_same(a, b) for a, b in zip(ref, fast)), name
        tflm = TflmRunner(path, preserve_all=False)
        for xs, got in zip(random_inputs(model, 3, 0), fast):
            ref_xs = [i.dequantize(x) if i.float_in_model else x for i, x in zip(model.inputs, xs)]
            want = [o.quantize(y) if o.float_in_model else y for o, y in zip(model.outputs, tflm(ref_xs))]
            assert _same([np.asarray(w).reshape(np.shape(g)) for w, g in zip(want, got)], got), name


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
    (tmp_path / "h.c").write_text(_REQUANT_HARNESS)
    exe = tmp_path / "h"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", *(["-DWITH_VNNI"] if vnni else []),
                    f"-I{RUNTIME / 'include'}", str(tmp_path / "h.c"), "-o", str(exe)], check=True)
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


@needs_vnni
@pytest.mark.parametrize("ch,w,stride,pad,dil,mult", [(8, 7, 1, "same", 1, 1), (16, 9, 2, "same", 1, 1),
                                                      (8, 10, 2, "valid", 1, 1), (16, 11, 1, "valid", 2, 1),
                                                      (24, 5, 1, "same", 1, 1), (5, 6, 1, "same", 1, 2),
                                                      (12, 5, 2, "same", 1, 4), (8, 13, 3, "same", 1, 1),
                                                      (32, 7, 1, "same", 2, 1), (64, 5, 1, "valid", 1, 1),
                                                      (32, 9, 2, "same", 1, 1)])
def test_vnni_depthwise_bit_exact(ch, w, stride, pad, dil, mult, tmp_path):
    """8 or 16 channels (any stride, here 1, 2, 3) and multiples of 32 at stride 1 take the row-band
    path (an output row as one stream of pixel-channel slots: rows whose slot count is no multiple
    of 32, padding on both borders, VALID with unused columns, dilation); 24 channels and 32 at
    stride 2 take the one-pixel path; channel multipliers 2 and 4 repeat input lanes (10 and 48
    output channels): all vs TFLM"""
    import keras
    from int8_models import convert_int8

    from edgekit.golden.verify import verify
    keras.utils.set_random_seed(ch + w)
    inp = keras.Input((6, w, ch), batch_size=1)
    x = keras.layers.DepthwiseConv2D(3, strides=stride, padding=pad, dilation_rate=dil, depth_multiplier=mult,
                                     activation="relu")(inp)
    model = keras.Model(inp, keras.layers.DepthwiseConv2D(3, padding="same")(x))
    rng = np.random.default_rng(w)
    path = convert_int8(model, [rng.normal(0, 2, (1, 6, w, ch)) for _ in range(8)], tmp_path / "dw.tflite")
    rep = verify(path, n_inputs=4, seed=ch, out_dir=tmp_path / "c", variant=VNNI)
    assert rep["variant"]["kernel_calls"].get("ek_depthwise_conv2d_s8_vnni") == 2
    assert rep["bit_identical_inputs"] == 4, rep.get("first_divergence")


@needs_vnni
@pytest.mark.parametrize("ic,w,k,stride,pad,oc,dil", [(3, 9, 3, 2, "same", 8, 1), (5, 7, 3, 1, "valid", 40, 1),
                                                     (16, 11, 5, 2, "same", 16, 1), (13, 6, 1, 1, "valid", 33, 1),
                                                     (1, 13, (3, 5), 1, "same", 12, 1), (7, 10, 4, 2, "valid", 17, 1),
                                                     (2, 7, 3, 2, "valid", 5, 1), (6, 9, 3, 1, "same", 20, 2),
                                                     (4, 5, 1, 1, "valid", 144, 1)])
def test_vnni_conv_bit_exact(ic, w, k, stride, pad, oc, dil, tmp_path):
    """the im2col-free VNNI conv (ring of input rows, window rows of k_w * in_c bytes read as
    quads): in_c not a multiple of 4, odd widths, stride 2 with SAME padding on both borders, VALID
    with unused columns, even and non-square kernels, out_c with a last block of 16 or fewer, and
    rows a block of 8 pixels does not fill (blocks then span output rows), out_c 8 and 5 (two pixels
    per register); out_c 144 (channels past the 128 whose requant constants are kept per call);
    dilation 2 stays on the im2col kernel: all vs TFLM"""
    import keras
    from int8_models import convert_int8

    from edgekit.golden.verify import verify
    keras.utils.set_random_seed(ic + w)
    inp = keras.Input((7, w, ic), batch_size=1)
    x = keras.layers.Conv2D(oc, k, strides=stride, padding=pad, dilation_rate=dil, activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Conv2D(8, 3, padding="same")(x))
    rng = np.random.default_rng(w)
    path = convert_int8(model, [rng.normal(0, 2, (1, 7, w, ic)) for _ in range(8)], tmp_path / "conv.tflite")
    rep = verify(path, n_inputs=4, seed=ic, out_dir=tmp_path / "c", variant=VNNI)
    calls = rep["variant"]["kernel_calls"]
    assert calls.get("ek_conv2d_s8_vnni_rows") == (1 if dil > 1 else 2), calls
    assert calls.get("ek_conv2d_s8_vnni", 0) == (1 if dil > 1 else 0), calls
    assert rep["bit_identical_inputs"] == 4, rep.get("first_divergence")


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
    (tmp_path / "h.c").write_text(_POOL_HARNESS)
    exe = tmp_path / "h"
    src = RUNTIME / "src"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-march=native",
                    f"-I{RUNTIME / 'include'}", str(tmp_path / "h.c"), str(src / "ek_avg_pool2d.c"),
                    str(src / "x86_64" / "ek_avg_pool2d_avx512.c"), "-o", str(exe)], check=True)
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


@needs_vnni
@pytest.mark.parametrize("n_in,n_out,batch", [(640, 128, 1), (13, 33, 2), (6, 5, 3), (3, 40, 1), (20, 8, 1)])
def test_vnni_fully_connected_bit_exact(n_in, n_out, batch, tmp_path):
    """the VNNI FULLY_CONNECTED (two accumulator sets over even and odd input quads): an even and
    an odd count of whole quads, a last partial quad (in 13, 6, 3), out_c with a last block of
    fewer than 32 and of fewer than 8, batches 2 and 3: all vs TFLM"""
    import keras
    from int8_models import convert_int8

    from edgekit.golden.verify import verify
    keras.utils.set_random_seed(n_in + n_out)
    inp = keras.Input((n_in,), batch_size=batch)
    x = keras.layers.Dense(n_out, activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Dense(7)(x))
    rng = np.random.default_rng(n_in)
    path = convert_int8(model, [rng.normal(0, 2, (batch, n_in)) for _ in range(8)], tmp_path / "fc.tflite")
    rep = verify(path, n_inputs=4, seed=n_out, out_dir=tmp_path / "c", variant=VNNI)
    assert rep["variant"]["kernel_calls"].get("ek_fully_connected_s8_vnni") == 2, rep["variant"]
    assert rep["bit_identical_inputs"] == 4, rep.get("first_divergence")


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
    (tmp_path / "h.c").write_text(_ADD_HARNESS)
    exe = tmp_path / "h"
    src = RUNTIME / "src"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-march=native",
                    f"-I{RUNTIME / 'include'}", str(tmp_path / "h.c"), str(src / "ek_add.c"),
                    str(src / "x86_64" / "ek_add_avx512.c"), "-o", str(exe)], check=True)
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


@needs_vnni
@pytest.mark.parametrize("name", ["pretrainedResnet_quant", "kws_ref_model", "ad01_int8", "vww_96_int8"])
def test_vnni_tier_asan_ubsan_clean_and_exact(name, tmp_path):
    """the VNNI tier's kernels (conv rows, depthwise, ADD, average pool, fully connected) under
    ASan/UBSan give TFLM's bytes (test_codegen_build does the same for the portable tier)"""
    from test_codegen_build import _run_sanitized

    from edgekit.codegen import compile_model
    from edgekit.paths import MLPERF_TINY
    path = MLPERF_TINY / f"{name}.tflite"
    rep = compile_model(path, tmp_path / "m", variant=VNNI).report
    assert rep["variant"]["selected"] == VNNI
    _run_sanitized(tmp_path / "m", path, tmp_path, 2)
