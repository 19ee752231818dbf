"""Cortex-M DSP kernel tier (SMLAD): chosen for boards whose YAML lists `dsp` (coral: Cortex-M7),
run on the mps2-an500 twin and bit-identical to TFLM (harness: test_codegen_m7.py)."""
from __future__ import annotations

import pytest
from test_codegen_m7 import _run_on_m7

from edgekit.paths import MLPERF_TINY


def test_dsp_variant_is_chosen_for_the_cortex_m7_board(tmp_path):
    from edgekit.catalog import get_board
    from edgekit.codegen import compile_model
    from edgekit.codegen.build import select_variant
    assert select_variant(get_board("coral")) == "armv7e-m-dsp"
    path = MLPERF_TINY / "kws_ref_model.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    rep = compile_model(path, tmp_path / "m", board="coral").report
    assert rep["variant"]["selected"] == "armv7e-m-dsp"
    assert rep["variant"]["kernel_calls"]["ek_conv2d_s8_dsp"] > 0 and "cortex_m/ek_conv2d_dsp.c" in rep["kernels"]
    assert rep["variant"]["kernel_calls"]["ek_fully_connected_s8_dsp"] > 0
    assert rep["variant"]["kernel_calls"]["ek_depthwise_conv2d_s8_dsp"] > 0   # the DS-CNN's 3x3 depthwise


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vww_96_int8", "str_ww_ref_model", "ad01_int8"])
def test_dsp_tier_on_the_m7_twin_equals_tflm(name, tmp_path):
    # kws, resnet and the pilot run through the same tier in test_codegen_m7.py (board coral)
    path = MLPERF_TINY / f"{name}.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    _run_on_m7(path, tmp_path, 2)


@pytest.mark.slow
def test_m7_twin_instruction_count_is_deterministic_and_dsp_is_fewer(tmp_path):
    import shutil
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    from edgekit.firmware.bench import m7_instructions
    path = MLPERF_TINY / "kws_ref_model.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    a = m7_instructions(path, tmp_path / "a", "portable")
    b = m7_instructions(path, tmp_path / "b", "portable")
    dsp = m7_instructions(path, tmp_path / "c")          # the coral board's own tier
    assert dsp["variant"] == "armv7e-m-dsp" and a["instructions"]["provenance"] == "emulated"
    assert abs(a["instructions"]["value"] - b["instructions"]["value"]) <= 80   # +-1 tick each
    assert dsp["instructions"]["value"] < a["instructions"]["value"]
