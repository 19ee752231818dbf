"""The generated C builds warning-free for x86-64, aarch64 and Cortex-M7, runs clean under
ASan/UBSan on the host, and gives TFLM's bytes when cross-compiled and run under qemu-aarch64."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from edgekit.paths import MLPERF_TINY

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
TARGETS = {
    "x86-64": ["gcc", "-O2"],
    "aarch64": ["aarch64-linux-gnu-gcc", "-O2"],
    "cortex-m7": ["arm-none-eabi-gcc", "-O2", "-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"],
}


@pytest.fixture(scope="module")
def pilot_dir(pilot_int8_path, tmp_path_factory):
    from edgekit.codegen import compile_model
    out = tmp_path_factory.mktemp("pilot_c") / "pilot"
    compile_model(pilot_int8_path, out, name="pilot")
    return out


def _sources(d):
    return [str(d / "model.c"), *map(str, sorted((d / "runtime" / "src").glob("*.c")))]


def _inc(d):
    return [f"-I{d}", f"-I{d / 'runtime' / 'include'}"]


def _golden(path, n, seed=5):
    from edgekit.golden import TflmRunner
    g = TflmRunner(path, preserve_all=False)
    rng = np.random.default_rng(seed)
    ins, outs = [], []
    for _ in range(n):
        xs = [rng.integers(-128, 128, size=tuple(s), dtype=np.int8) for s in _input_shapes(path)]
        ins.append(np.concatenate([x.ravel() for x in xs]))
        outs.append(np.concatenate([np.asarray(o).astype(np.int8).ravel() for o in g(xs)]))
    return np.concatenate(ins).tobytes(), np.concatenate(outs).tobytes()


def _input_shapes(path):
    from edgekit.codegen import read_tflite
    g = read_tflite(path)
    return [g.t(i).shape for i in g.inputs]


@pytest.mark.parametrize("target", list(TARGETS))
def test_warning_free_c99(pilot_dir, target, tmp_path):
    cc, *flags = TARGETS[target]
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    for src in _sources(pilot_dir) + [str(pilot_dir / "runtime" / "tools" / "ek_run.c")]:
        subprocess.run([cc, *flags, *STRICT, *_inc(pilot_dir), "-c", src, "-o", str(tmp_path / "x.o")],
                       check=True, capture_output=True, text=True)


def _run_sanitized(model_dir, tflite, tmp_path, n):
    exe = tmp_path / "ek_run_san"
    subprocess.run(["gcc", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", *STRICT,
                    *_inc(model_dir), *_sources(model_dir), str(model_dir / "runtime" / "tools" / "ek_run.c"),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    data, want = _golden(tflite, n)
    r = subprocess.run([str(exe)], input=data, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert r.stderr == b""
    assert r.stdout == want


def test_pilot_asan_ubsan_clean_and_exact(pilot_dir, pilot_int8_path, tmp_path):
    _run_sanitized(pilot_dir, pilot_int8_path, tmp_path, 2)


@pytest.mark.parametrize("name", ["pretrainedResnet_quant", "kws_ref_model", "ad01_int8"])
def test_mlperf_asan_ubsan_clean_and_exact(name, tmp_path):
    from edgekit.codegen import compile_model
    path = MLPERF_TINY / f"{name}.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    compile_model(path, tmp_path / "m")
    _run_sanitized(tmp_path / "m", path, tmp_path, 3)


@pytest.mark.slow
def test_pilot_qemu_aarch64_equals_tflm(pilot_dir, pilot_int8_path, tmp_path):
    if shutil.which("aarch64-linux-gnu-gcc") is None or shutil.which("qemu-aarch64") is None:
        pytest.skip("aarch64 cross toolchain or qemu-aarch64 missing")
    exe = tmp_path / "ek_run_a64"
    subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O2", *STRICT, *_inc(pilot_dir), *_sources(pilot_dir),
                    str(pilot_dir / "runtime" / "tools" / "ek_run.c"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    data, want = _golden(pilot_int8_path, 3)
    r = subprocess.run(["qemu-aarch64", str(exe)], input=data, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout == want


def test_cli_compile_for_cortex_m7_reports_text(pilot_int8_path, tmp_path, capsys):
    from edgekit.cli import main
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing")
    out = tmp_path / "coral"
    assert main(["compile", str(pilot_int8_path), "--board", "coral", "--out", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["board"] == "coral"
    assert rep["code"]["text_bytes"]["value"] > rep["weights_bytes"]["value"] * 0.9
    for f in ("model.h", "model.c", "ek_model.h", "Makefile", "report.json", "runtime/include/ek_quant.h"):
        assert (out / f).exists(), f
    facade = (out / "ek_model.h").read_text()
    for macro in ("EK_MODEL_INPUT_BYTES", "EK_MODEL_OUTPUT_BYTES", "EK_MODEL_ARENA_BYTES", "ek_model_invoke"):
        assert macro in facade
