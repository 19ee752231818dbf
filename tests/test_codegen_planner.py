"""The memory plan is safe (no two live buffers overlap except window-op partners at their
allowed distance) and the runtime exposes the model's I/O metadata."""
from __future__ import annotations

import numpy as np
import pytest

from edgekit.errors import UserError
from edgekit.paths import MLPERF_TINY


def _check_plan(path):
    from edgekit.codegen import plan_memory, read_tflite
    from edgekit.codegen.planner import _window_pairs

    g = read_tflite(path)
    plan = plan_memory(g)
    arena = [b for b in plan.buffers if b.kind == "arena"]
    pairs = _window_pairs(g, plan.storage)
    for i, a in enumerate(arena):
        assert a.offset >= 0 and a.offset % 16 == 0 and a.offset + a.size <= plan.arena_bytes
        for b in arena[i + 1:]:
            if a.end < b.start or b.end < a.start:
                continue
            if a.offset + a.size <= b.offset or b.offset + b.size <= a.offset:
                continue
            rel = pairs.get(a.id, {}).get(b.id)
            assert rel, f"{path.name}: live buffers {a.members} and {b.members} overlap"
            delta, role = rel
            assert (a.offset + delta <= b.offset) if role == "out" else (b.offset + delta <= a.offset)
    return plan


@pytest.mark.parametrize("name", ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "str_ww_ref_model"])
def test_mlperf_plans_are_safe(name):
    path = MLPERF_TINY / f"{name}.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    _check_plan(path)


def test_pilot_plan_and_runtime_metadata(pilot_int8_path, tmp_path):
    import edgekit.runtime as rt
    from edgekit.codegen import compile_model

    plan = _check_plan(pilot_int8_path)
    res = compile_model(pilot_int8_path, tmp_path / "pilot", name="pilot")
    assert res["arena_bytes"]["value"] == plan.arena_bytes
    m = rt.load(tmp_path / "pilot")
    assert m.inputs[0].shape == (1, 120, 160, 3) and m.inputs[0].zero_point == -128
    assert abs(m.inputs[0].scale - 1 / 255) < 1e-6
    assert len(m.outputs) == 2 and all(o.shape == (1, 1) for o in m.outputs)
    ys = m.invoke(np.zeros((1, 120, 160, 3), np.int8))
    assert isinstance(ys, list) and len(ys) == 2 and ys[0].dtype == np.int8
    with pytest.raises(UserError):
        m.invoke(np.zeros((1, 120, 160, 3), np.float32))
