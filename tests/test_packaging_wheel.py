"""A wheel built from the repository installs a working edgekit: every package, the firmware
runtime, the boards and the reference models, with nothing read from the checkout."""
import json
import subprocess
import sys
import venv

import pytest

from edgekit.paths import REPO


@pytest.mark.slow
def test_wheel_installs_and_compiles_from_a_clean_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("edgekit-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # The wheel's own dependencies (no extras: compiling needs none of TensorFlow, LiteRT or TFLM).
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(py), "-c", "import edgekit.paths as p, edgekit.codegen as c; print(p.REPO, c.__file__)"],
                           cwd=work, check=True, capture_output=True, text=True).stdout
    assert str(REPO) not in where and str(env_dir) in where
    model = env_dir / "share" / "edgekit" / "models" / "mlperf-tiny" / "kws_ref_model.tflite"
    assert model.is_file() and (env_dir / "share" / "edgekit" / "boards" / "coral.yaml").is_file()
    out = work / "kws_c"
    proc = subprocess.run([str(env_dir / "bin" / "edgekit"), "compile", str(model), "--out", str(out), "--json"],
                          cwd=work, capture_output=True, text=True, env={"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin",
                                                                          "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["arena_bytes"]["value"] > 0 and (out / "model.c").is_file() and (out / "libek_model.a").is_file()
