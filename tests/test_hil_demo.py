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
