"""`edgekit demo`: the stage plan (the full run takes minutes: see the HIL issue note for its timing)."""
import argparse
import json
import subprocess
from pathlib import Path

from edgekit.cli import demo


def test_stage_plan_is_the_whole_pipeline_in_order(tmp_path):
    args = argparse.Namespace(laps=3, epochs=6, full=False)
    stages = demo._stages(tmp_path, args)
    assert [s[0] for s in stages] == ["record", "record", "train", "quantize", "compile", "flash", "hil"]
    hil = stages[-1][1]
    assert hil[:6] == ["hil", "run", "--board", "coral", "--rig", "sim"] and "--quick" in hil
    assert "--quick" not in demo._stages(tmp_path, argparse.Namespace(laps=3, epochs=6, full=True))[-1][1]
    for name, argv, required, background in stages:
        assert demo._available(argv[0]), f"edgekit {argv[0]} is missing"


def test_a_missing_stage_is_skipped_and_a_failing_one_reported(tmp_path, monkeypatch):
    calls = []

    class FakeProc:
        def __init__(self, cmd, **kw):
            calls.append(cmd[3])
            self.returncode = 1 if cmd[3] == "flash" else 0

        def wait(self):
            return self.returncode

    monkeypatch.setattr(subprocess, "Popen", FakeProc)
    monkeypatch.setattr(demo, "_available", lambda group: group != "compile")
    args = argparse.Namespace(out=str(tmp_path), laps=1, epochs=1, full=False, json=True)
    assert demo.run(args) == 1                                   # flash failed: not a stopper, but reported
    summary = json.loads((Path(tmp_path) / "demo.json").read_text())
    outcomes = [(s["stage"], s["outcome"]) for s in summary["stages"]]
    assert ("compile", "skipped") in outcomes and ("flash", "failed") in outcomes and outcomes[-1] == ("hil", "passed")
    assert "compile" not in calls and summary["total"]["provenance"] == "measured-host"


def test_the_flash_stage_hands_its_image_to_the_hil_stage(tmp_path, monkeypatch):
    calls = {}

    class FakeProc:
        def __init__(self, cmd, stdout=None, **kw):
            calls[cmd[3]] = cmd[4:]
            if cmd[3] == "flash":   # what `edgekit flash --json` prints
                stdout.write('progress\n{\n  "image": "/x/app-0.1.0-slot1.signed.bin",\n  "hash": "ab"\n}\n')
            self.returncode = 0

        def wait(self):
            return self.returncode

    monkeypatch.setattr(subprocess, "Popen", FakeProc)
    demo.run(argparse.Namespace(out=str(tmp_path), laps=1, epochs=1, full=False, json=True))
    assert "--json" in calls["flash"] and calls["hil"][-2:] == ["--image", "/x/app-0.1.0-slot1.signed.bin"]


def test_the_closed_loop_pilot_runs_on_the_host_for_a_board_with_another_isa(tmp_path, monkeypatch, pilot_int8_path):
    """coral's folder uses the armv7e-m-dsp kernels, which the host cannot run: the closed loop runs
    the same model compiled for the host (make demo's battery and driving tests once errored here)."""
    import numpy as np

    from edgekit.catalog import get_board
    from edgekit.codegen import compiled_for
    from edgekit.codegen.artifact import load_report
    from edgekit.hil.bench import Bench
    from edgekit.hil.rig import load_rig

    monkeypatch.setenv("EDGEKIT_STATE", str(tmp_path / "state"))
    board_dir = compiled_for(pilot_int8_path, "coral")
    assert load_report(board_dir)["variant"]["selected"] == "armv7e-m-dsp"
    pilot = Bench(get_board("coral"), load_rig("sim"), board_dir, tmp_path).pilot_runner()
    try:
        steer, throttle = pilot.runner(np.zeros((120, 160, 3), np.uint8))
        assert -1.5 < steer < 1.5 and -1.5 < throttle < 1.5 and "compiled for this host" in pilot.description
    finally:
        pilot.runner.close()
