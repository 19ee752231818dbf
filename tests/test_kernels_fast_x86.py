"""x86-64 kernel tiers (AVX-512 VNNI, AVX2): chosen from the board's ISA features, bit-identical
to the portable tier and to TFLM on the pilot and the six MLPerf Tiny models (random hidden models:
tests/test_codegen_property.py, one run per tier), its conv, depthwise and fully connected layers
against TFLM on edge shapes, and the VNNI tier under ASan/UBSan. Kernels in C harnesses (requant,
average pool, ADD): test_kernels_x86_harness.py."""
from __future__ import annotations

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
            # the VNNI tier lowers dilation-1 convs to its im2col-free kernel (_rows), 1x1 ones to _pw
            conv = sum(calls.get(f"ek_conv2d_s8_{sfx}{k}", 0) for k in ("", "_rows", "_pw"))
            assert conv > 0, name
        else:
            assert calls.get(f"ek_fully_connected_s8_{sfx}", 0) > 0, name
        if name in ("vww_96_int8", "kws_ref_model", "str_ww_ref_model"):   # depthwise models
            dw = calls.get(f"ek_depthwise_conv2d_s8_{sfx}", 0) + calls.get(f"ek_depthwise_conv2d_s8_{sfx}_quad", 0)
            assert dw > 0, name
        assert all(_same(a, b) for a, b in zip(ref, fast)), name
        tflm = TflmRunner(path, preserve_all=False)
        for xs, got in zip(random_inputs(model, 3, 0), fast):
            ref_xs = [i.dequantize(x) if i.float_in_model else x for i, x in zip(model.inputs, xs)]
            want = [o.quantize(y) if o.float_in_model else y for o, y in zip(model.outputs, tflm(ref_xs))]
            assert _same([np.asarray(w).reshape(np.shape(g)) for w, g in zip(want, got)], got), name


@needs_vnni
@pytest.mark.parametrize("ch,w,stride,pad,dil,mult", [(8, 7, 1, "same", 1, 1), (16, 9, 2, "same", 1, 1),
                                                      (8, 10, 2, "valid", 1, 1), (16, 11, 1, "valid", 2, 1),
                                                      (24, 5, 1, "same", 1, 1), (5, 6, 1, "same", 1, 2),
                                                      (12, 5, 2, "same", 1, 4), (8, 13, 3, "same", 1, 1),
                                                      (32, 7, 1, "same", 2, 1), (64, 5, 1, "valid", 1, 1),
                                                      (32, 9, 2, "same", 1, 1), (96, 5, 1, "same", 1, 1)])
def test_vnni_depthwise_bit_exact(ch, w, stride, pad, dil, mult, tmp_path):
    """8 or 16 channels (any stride, here 1, 2, 3) and multiples of 32 at stride 1 take the row-band
    path (an output row as one stream of pixel-channel slots: rows whose slot count is no multiple
    of 32, padding on both borders, VALID with unused columns, dilation) unless the 4-taps-per-lane
    kernel takes them (stride_w 1 and ch dividing 64 or a multiple of 64 up to 256:
    test_kernels_x86_dw_quad.py; 96 channels stay here); 24 channels and 32 at stride 2 take the
    one-pixel path; channel multipliers 2 and 4 repeat input lanes (10 and 48 output channels): all vs TFLM"""
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
    calls = rep["variant"]["kernel_calls"]
    assert calls.get("ek_depthwise_conv2d_s8_vnni", 0) + calls.get("ek_depthwise_conv2d_s8_vnni_quad", 0) == 2
    assert rep["bit_identical_inputs"] == 4, rep.get("first_divergence")


@needs_vnni
@pytest.mark.parametrize("ic,w,k,stride,pad,oc,dil", [(3, 9, 3, 2, "same", 8, 1), (5, 7, 3, 1, "valid", 40, 1),
                                                     (16, 11, 5, 2, "same", 16, 1), (13, 6, 1, 1, "valid", 33, 1),
                                                     (1, 13, (3, 5), 1, "same", 12, 1), (7, 10, 4, 2, "valid", 17, 1),
                                                     (2, 7, 3, 2, "valid", 5, 1), (6, 9, 3, 1, "same", 20, 2),
                                                     (5, 5, 1, 1, "valid", 144, 1), (16, 9, 3, 1, "same", 32, 1),
                                                     (6, 9, 3, 2, "same", 72, 1), (5, 12, (1, 3), 1, "same", 16, 1),
                                                     (8, 13, (1, 3), 2, "same", 32, 1)])
def test_vnni_conv_bit_exact(ic, w, k, stride, pad, oc, dil, tmp_path):
    """the im2col-free VNNI conv (ring of input rows, window rows of k_w * in_c bytes read as
    quads): in_c not a multiple of 4, odd widths, stride 2 with SAME padding on both borders, VALID
    with unused columns, even and non-square kernels, out_c with a last block of 16 or fewer, and
    rows a block of 8 pixels does not fill (blocks then span output rows), out_c 8 and 5 (two pixels
    per register); a 1x1 over in_c 5 (not the pointwise kernel: in_c % 4) to out_c 144 (channels
    past the 128 whose requant constants are kept per call);
    out_c 16 and 32 over whole blocks of 8 pixels (64-byte packed stores) and the last partial block;
    out_c 40 and 72 (a last 8 channels in quad pairs, EK_CONV_ROWS_TAIL8; 72: an odd w4 = 5);
    out_c 16 and 32 windows of 4 and 6 quads (fewer than the blocks' pipelined requantization steps:
    the pending block is stored before the quads), after them a last partial block;
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
    first = int(ic <= 4 and oc <= 64)   # the first-layer kernel (tests/test_kernels_x86_first.py)
    assert calls.get("ek_conv2d_s8_vnni_first", 0) == first, calls
    assert calls.get("ek_conv2d_s8_vnni_rows") == (1 if dil > 1 else 2) - first, calls
    assert calls.get("ek_conv2d_s8_vnni", 0) == (1 if dil > 1 else 0), calls
    assert rep["bit_identical_inputs"] == 4, rep.get("first_divergence")


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
