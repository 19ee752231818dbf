"""AArch64 NEON dotprod kernel tier: chosen for boards whose YAML lists neon + dotprod (rpi5-hailo,
Cortex-A76), cross-compiled and run under qemu-aarch64, bit-identical to TFLM."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from test_codegen_build import STRICT, _golden, _inc, _sources

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("aarch64-linux-gnu-gcc") is None or shutil.which("qemu-aarch64") is None,
                                 reason="aarch64 cross toolchain or qemu-aarch64 missing")]


def _run_a64(model_dir, tflite, tmp_path, n=2):
    exe = tmp_path / "ek_run_a64"
    subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O2", "-mcpu=cortex-a76", *STRICT, *_inc(model_dir),
                    *_sources(model_dir), str(model_dir / "runtime" / "tools" / "ek_run.c"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    data, want = _golden(tflite, n)
    r = subprocess.run(["qemu-aarch64", "-cpu", "max", str(exe)], input=data, capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout, want


def test_dotprod_variant_only_where_the_board_has_it():
    from edgekit.catalog import get_board
    from edgekit.codegen.build import select_variant
    assert select_variant(get_board("rpi5-hailo")) == "aarch64-dotprod"       # Cortex-A76
    assert select_variant(get_board("rpi4-coral-usb")) == "portable"          # Cortex-A72: no SDOT
    assert select_variant(get_board("coral-devboard")) == "portable"          # Cortex-A53


def test_dotprod_tier_bit_exact_under_qemu(mlperf_models, pilot_int8_path, tmp_path):
    from edgekit.codegen import compile_model
    for name, path in {"pilot": pilot_int8_path, **mlperf_models}.items():
        out = tmp_path / name
        rep = compile_model(path, out, board="rpi5-hailo").report
        if name != "ad01_int8":   # every model but ad01 (FULLY_CONNECTED only) has a CONV_2D
            assert rep["variant"]["kernel_calls"].get("ek_conv2d_s8_dotprod", 0) > 0, name
        got, want = _run_a64(out, path, tmp_path)
        assert got == want, name
