"""x86-64 AVX-512 VNNI kernel tier: chosen from the board's ISA features, bit-identical to the
portable tier and to TFLM on the pilot, the six MLPerf Tiny models and random hidden models."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

VNNI = "x86-64-avx512vnni"
_flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
needs_vnni = pytest.mark.skipif(not {"avx512_vnni", "avx512vl"} <= _flags, reason="this CPU lacks AVX-512 VNNI")


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
    assert select_variant(host) == (VNNI if "avx512_vnni" in host.cpu.features else "portable")
    assert select_variant(get_board("coral")) == "armv7e-m-dsp"  # Cortex-M7: its own tier, not x86
    assert select_variant(host, "portable") == "portable"
    assert select_variant(None) == "portable"                   # generic C stays portable
    with pytest.raises(UserError, match="lacks the ISA features"):
        select_variant(get_board("coral"), VNNI)
    with pytest.raises(UserError, match="unknown kernel variant"):
        select_variant(host, "sse9")


@needs_vnni
def test_vnni_tier_bit_exact_on_pilot_and_mlperf_tiny(mlperf_models, pilot_int8_path, tmp_path):
    from edgekit.golden import TflmRunner
    for name, path in {"pilot": pilot_int8_path, **mlperf_models}.items():
        _, ref, _ = _outputs(path, tmp_path / f"{name}_p", "portable")
        rep, fast, model = _outputs(path, tmp_path / f"{name}_v", VNNI)
        assert rep["variant"]["selected"] == VNNI
        if name != "ad01_int8":   # ad01 is FULLY_CONNECTED only; every other model has a CONV_2D
            assert rep["variant"]["kernel_calls"].get("ek_conv2d_s8_vnni", 0) > 0, name
        else:
            assert rep["variant"]["kernel_calls"].get("ek_fully_connected_s8_vnni", 0) > 0, name
        assert all(_same(a, b) for a, b in zip(ref, fast)), name
        tflm = TflmRunner(path, preserve_all=False)
        from edgekit.golden.verify import random_inputs
        for xs, got in zip(random_inputs(model, 3, 0), fast):
            ref_xs = [i.dequantize(x) if i.float_in_model else x for i, x in zip(model.inputs, xs)]
            want = [o.quantize(y) if o.float_in_model else y for o, y in zip(model.outputs, tflm(ref_xs))]
            assert _same([np.asarray(w).reshape(np.shape(g)) for w, g in zip(want, got)], got), name


@needs_vnni
@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=__import__("test_codegen_property").spec_strategy)
def test_vnni_tier_bit_exact_on_hidden_models(spec, tmp_path_factory):
    from test_codegen_property import build_model, convert

    from edgekit.golden.child import GoldenError
    from edgekit.golden.verify import verify
    model = build_model(spec)
    assume(model is not None and all(d > 0 for d in model.output_shape[1:]))
    work = tmp_path_factory.mktemp("fastprop")
    path = work / "m.tflite"
    convert(model, spec, path)
    try:   # TFLM aborts on some converter outputs: verify's child golden says so
        rep = verify(path, n_inputs=4, seed=spec["seed"], out_dir=work / "p")   # portable tier vs TFLM
    except GoldenError:
        assume(False)
    assert rep["bit_identical_inputs"] == 4, (spec, rep.get("first_divergence"))
    _, ref, _ = _outputs(path, work / "p2", "portable", 4, spec["seed"])
    vrep, fast, _ = _outputs(path, work / "v", VNNI, 4, spec["seed"])
    assert vrep["variant"]["selected"] == VNNI
    assert all(_same(a, b) for a, b in zip(ref, fast)), spec
