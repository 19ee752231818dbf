"""AArch64 NEON kernel tiers: `aarch64-dotprod` (SDOT; boards listing neon + dotprod: rpi5-hailo,
Cortex-A76) and `aarch64-neon` (SMULL/SMLAL/SADALP widening MACs; neon without dotprod: the Pi 4's
Cortex-A72, the Coral Dev Board's Cortex-A53), cross-compiled with the board's own -mcpu and run
under qemu-aarch64 emulating that core (an SDOT in the neon tier would be an illegal instruction
there), bit-identical to TFLM."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from test_codegen_build import STRICT, _golden, _inc, _sources

needs_a64 = pytest.mark.skipif(shutil.which("aarch64-linux-gnu-gcc") is None or shutil.which("qemu-aarch64") is None,
                               reason="aarch64 cross toolchain or qemu-aarch64 missing")
# tier -> (board, the board's core: -mcpu and qemu -cpu)
TIERS = {"aarch64-neon": ("coral-devboard", "cortex-a53"), "aarch64-dotprod": ("rpi5-hailo", "cortex-a76")}


def build_and_run_a64(model_dir, cpu, data, tmp_path):
    """ek_run for `cpu`, fed `data` (whole inputs) under qemu-aarch64 -cpu `cpu`: its stdout."""
    exe = tmp_path / f"ek_run_{cpu}"
    subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O2", f"-mcpu={cpu}", *STRICT, *_inc(model_dir),
                    *_sources(model_dir), str(model_dir / "runtime" / "tools" / "ek_run.c"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    r = subprocess.run(["qemu-aarch64", "-cpu", cpu, str(exe)], input=data, capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_aarch64_variant_follows_the_board_isa_features():
    from edgekit.catalog import get_board
    from edgekit.codegen.build import select_variant
    assert select_variant(get_board("rpi5-hailo")) == "aarch64-dotprod"     # Cortex-A76
    assert select_variant(get_board("rpi4-coral-usb")) == "aarch64-neon"    # Cortex-A72: no SDOT
    assert select_variant(get_board("coral-devboard")) == "aarch64-neon"    # Cortex-A53: no SDOT
    for board, _ in TIERS.values():
        assert select_variant(get_board(board), "portable") == "portable"


@pytest.mark.slow
@needs_a64
@pytest.mark.parametrize("tier", list(TIERS))
def test_aarch64_tier_bit_exact_under_qemu(tier, mlperf_models, pilot_int8_path, tmp_path):
    from edgekit.codegen import compile_model
    board, cpu = TIERS[tier]
    fn = tier.split("-")[1]
    for name, path in {"pilot": pilot_int8_path, **mlperf_models}.items():
        out = tmp_path / name
        calls = compile_model(path, out, board=board).report["variant"]["kernel_calls"]
        assert calls.get(f"ek_fully_connected_s8_{fn}", 0) > 0, name   # every model ends in FULLY_CONNECTED
        if name != "ad01_int8":   # every model but ad01 (FULLY_CONNECTED only) has a CONV_2D
            assert calls.get(f"ek_conv2d_s8_{fn}", 0) > 0, name
        if name in ("kws_ref_model", "vww_96_int8", "str_ww_ref_model"):   # the depthwise-separable ones
            assert calls.get("ek_depthwise_conv2d_s8_neon", 0) > 0, name
        data, want = _golden(path, 2)
        assert build_and_run_a64(out, cpu, data, tmp_path) == want, name
