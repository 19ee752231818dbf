"""Compile-time partition (edgekit compile --board), bench --board, and doctor for the
accelerator boards, on the pilot and the six MLPerf Tiny models."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from edgekit.accel.partition import partition
from edgekit.catalog import get_board

ACCEL_BOARDS = ("coral", "coral-devboard", "rpi4-coral-usb", "rpi5-hailo")


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "edgekit", *args], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})


@pytest.mark.parametrize("board", ACCEL_BOARDS)
def test_partition_of_the_six_mlperf_models_covers_every_op_once(board, mlperf_models):
    b = get_board(board)
    from edgekit.codegen.reader import read_tflite
    for name, path in mlperf_models.items():
        g = read_tflite(path)
        part = partition(path, b, graph=g)
        ops = [i for s in part["segments"] for i in s["ops"]]
        assert ops == list(range(len(g.ops))), name
        # joined by int8 tensors with their quantization
        for s in part["segments"]:
            for t in s["inputs"] + s["outputs"]:
                assert t["dtype"] == "int8" and t["scale"] is not None, (name, t)
        for a, nxt in zip(part["segments"], part["segments"][1:]):
            assert {t["index"] for t in nxt["inputs"]} <= {t["index"] for t in a["outputs"]} | set(g.inputs)
        if part["accelerator"] == "edgetpu":
            assert part["compiled"] is False and "NOT compiled for the Edge TPU" in part["note"]
        if board == "coral":
            assert "coralmicro" in part["note"]
        for s in part["segments"]:
            if s["backend"] == "cpu" and part["accelerator"] == "hailo":
                assert all(r["reason"] for r in s["cpu_reasons"])


def test_compile_board_writes_and_prints_the_partition(pilot_int8_path, tmp_path):
    out = tmp_path / "p"
    proc = _cli("compile", str(pilot_int8_path), "--board", "rpi5-hailo", "--out", str(out), "--no-size")
    assert proc.returncode == 0, proc.stderr
    assert "segment 0 hailo" in proc.stdout and "latency" in proc.stdout and "(modelled)" in proc.stdout
    part = json.loads((out / "report.json").read_text())["partition"]
    (seg,) = part["segments"]
    # the pilot's MACs counted from its shapes: 5 convolutions and 4 dense layers
    assert seg["macs"]["value"] == 58 * 78 * 24 * 75 + 27 * 37 * 32 * 600 + 12 * 17 * 64 * 800 + \
        10 * 15 * 64 * 576 + 8 * 13 * 64 * 576 + 6656 * 100 + 100 * 50 + 2 * 50
    assert seg["modelled"]["latency"]["provenance"] == "modelled"
    dfc = json.loads((out / "segments" / "0" / "dfc" / "segment.json").read_text())
    assert dfc["hw_arch"] == "hailo8l" and dfc["ops"] == list(range(10))


def test_compile_bad_hef_is_a_one_line_error(pilot_int8_path, tmp_path):
    proc = _cli("compile", str(pilot_int8_path), "--board", "rpi5-hailo", "--out", str(tmp_path / "x"),
                "--hef", str(tmp_path / "missing.hef"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "no such HEF file" in proc.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_bench_board_reaches_every_backend(pilot_int8_path):
    proc = _cli("bench", str(pilot_int8_path), "--board", "rpi5-hailo", "--runs", "2", "--no-litert", "--json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)["board"]
    rows = {(r["backend"], r["via"]): r for r in rep["backends"]}
    if ("hailo", "library") not in rows:
        assert rows[("hailo", "twin")]["bit_exact_vs_generated_c"] == "20/20"
        assert "median_ms" not in rows[("hailo", "twin")]          # a twin is never timed as the accelerator
        assert rows[("hailo", "model")]["segments"][0]["latency"]["provenance"] == "modelled"
    assert ("cpu", "native") in rows
    assert {"edgetpu", "hailo"} == set(rep["latency_model_fit"])


@pytest.mark.parametrize("board,library,backend", [("rpi5-hailo", "libhailort.so", "hailo"),
                                                   ("rpi4-coral-usb", "libedgetpu.so.1", "edgetpu")])
def test_doctor_names_what_is_missing_and_what_still_runs(board, library, backend):
    from edgekit.accel.backends import vendor_library
    if vendor_library(backend):
        pytest.skip(f"{library} is installed here")
    proc = _cli("doctor", "--board", board, "--json")
    checks = {c["what"]: c for c in json.loads(proc.stdout)["boards"][board]["checks"]}
    vendor = checks[f"{board}:vendor:{library}"]
    assert not vendor["ok"] and not vendor["needed"] and "not installed" in vendor["detail"]
    assert "apt" in vendor["fix"]
    assert "cpu backend" in checks[f"{board}:backend"]["detail"] and f"default {backend}" in checks[f"{board}:backend"]["detail"]
    text = _cli("doctor", "--board", board).stdout
    assert library in text and "still runs here" in text.replace("\n", " ")


def test_doctor_says_the_micro_tpu_is_driven_by_coralmicro():
    proc = _cli("doctor", "--board", "coral", "--json")
    checks = json.loads(proc.stdout)["boards"]["coral"]["checks"]
    assert any("coralmicro" in c["detail"] for c in checks)
