"""The compiled folder is the compile stage's artifact: compiled once per (.tflite, generator,
board) into a content-addressed cache, checked when given, and what the firmware build consumes
(its quantization comes from report.json, not from re-reading the model with LiteRT)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from edgekit.errors import UserError
from test_firmware_fixtures import tiny_tflite


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEKIT_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def test_compiled_once_per_key_and_report_carries_the_interface(state):
    from edgekit.codegen import compiled_for, load_report
    from edgekit.codegen.reader import summary

    a = compiled_for(tiny_tflite(), "coral")
    stamp = (a / "model.c").stat().st_mtime_ns
    assert compiled_for(tiny_tflite(), "coral") == a and (a / "model.c").stat().st_mtime_ns == stamp
    assert a.parent == state / "compiled"
    other = compiled_for(tiny_tflite(), "coral-devboard")
    assert other != a and load_report(other)["board"] == "coral-devboard"
    rep = load_report(a)
    assert rep["format"] == "edgekit-compiled/1" and rep["board"] == "coral"
    assert (a / rep["source"]["file"]).read_bytes() == tiny_tflite().read_bytes()
    raw = summary(tiny_tflite())
    assert [o["shape"] for o in rep["outputs"]] == [o["shape"] for o in raw["outputs"]]
    assert [o["scale"] for o in rep["outputs"]] == pytest.approx([o["scale"] for o in raw["outputs"]])
    assert sorted(o["signature_name"] for o in rep["outputs"]) == ["output_0", "output_1"]
    assert rep["input_bytes"] == 8 * 8 * 3 and rep["output_bytes"] == 2


def test_a_changed_model_gets_a_new_folder(state, tmp_path):
    from edgekit.codegen import compiled_for

    copy = tmp_path / "m.tflite"
    copy.write_bytes(tiny_tflite().read_bytes())
    first = compiled_for(copy, "host")
    copy.write_bytes(copy.read_bytes() + b"\0" * 8)   # same graph, different bytes: a different key
    assert compiled_for(copy, "host") != first


def test_folders_are_checked(state, tmp_path):
    from edgekit.codegen import compile_model, compiled_for

    out = tmp_path / "c"
    compile_model(tiny_tflite(), out, board="rpi5-hailo")
    assert compiled_for(out, "rpi5-hailo") == out
    with pytest.raises(UserError, match="compiled for board 'rpi5-hailo', not 'coral'.*--board coral"):
        compiled_for(out, "coral")
    with pytest.raises(UserError, match="not a compiled model folder"):
        compiled_for(tmp_path, "coral")
    rep = json.loads((out / "report.json").read_text())
    (out / "report.json").write_text(json.dumps({**rep, "format": "edgekit-compiled/0"}))
    with pytest.raises(UserError, match="compile it again"):
        compiled_for(out, "rpi5-hailo")


def test_firmware_build_needs_no_litert(state, tmp_path):
    """A build from a compiled folder with LiteRT made unimportable: nothing downstream re-reads
    the model with it; the angle/throttle config equals the one LiteRT's signature gives."""
    from ai_edge_litert.interpreter import Interpreter

    from edgekit.codegen import compile_model

    folder = tmp_path / "c"
    compile_model(tiny_tflite(), folder, board="coral-devboard")
    code = ("import sys; sys.modules['ai_edge_litert'] = None; sys.modules['tflite_micro'] = None\n"
            "from pathlib import Path; from edgekit.catalog import get_board; from edgekit.firmware.build import build\n"
            f"r = build(get_board('coral-devboard'), Path({str(folder)!r}), Path({str(tmp_path / 'b')!r}))\n"
            "print(r.model_dir.resolve())")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "EDGEKIT_STATE": str(state)}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == str(folder.resolve())
    cfg = (tmp_path / "b" / "config" / "ek_app_config.h").read_text()
    it = Interpreter(model_path=str(tiny_tflite()))
    sig = it.get_signature_runner(next(iter(it.get_signature_list())))
    by_name = {n: d for n, d in sig.get_output_details().items()}
    order = [d["index"] for d in it.get_output_details()]
    angle = by_name[sorted(by_name)[0]]
    assert f"#define EK_OUT_ANGLE_INDEX {order.index(angle['index'])}" in cfg
    assert f"#define EK_OUT_ANGLE_SCALE {float(angle['quantization'][0])!r}f" in cfg
