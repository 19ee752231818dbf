"""Closed-loop driving mechanics, the runners and the `edgekit sim` CLI."""
import json

import numpy as np
import pytest

from edgekit.cli import main
from edgekit.errors import UserError
from edgekit.sim.drive import TRACE_FIELDS, drive
from edgekit.sim.runners import make_runner


class Scripted:
    """A runner that ignores the frame: steers left gently at a constant throttle."""

    def __init__(self, angle, throttle):
        self.cmd, self.frames = (angle, throttle), 0

    def __call__(self, frame):
        assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
        self.frames += 1
        return self.cmd

    def close(self):
        pass


def test_drive_reports_a_crash_with_its_figures():
    runner = Scripted(0.0, 0.5)  # straight on: leaves the oval at the first bend
    res = drive(runner, "oval", laps=1)
    assert not res.completed and res.end_reason.startswith("crashed") and res.laps_completed == 0
    assert res.off_track_events == 1 and res.max_abs_cte_m > 0.4
    assert runner.frames == res.steps and all(len(res.trace[k]) == res.steps for k in TRACE_FIELDS)
    assert np.allclose(np.diff(res.trace["t"]), 0.05)  # 20 Hz
    figs = res.figures()
    assert figs["mean_abs_cte"]["provenance"] == "modelled"
    assert figs["real_time_factor"]["provenance"] == "measured-host"


def test_stalled_car_ends_the_run():
    res = drive(Scripted(0.0, 0.0), "oval", laps=1, stall_s=2.0)
    assert res.end_reason.startswith("stalled") and res.sim_s == pytest.approx(2.05, abs=0.06)


def test_latency_delays_the_command():
    res = drive(Scripted(0.0, 1.0), "oval", laps=1)
    speed = res.trace["speed"]
    assert speed[0] == 0.0 and speed[1] > 0  # 60 ms latency: acts during the second 50 ms step


@pytest.fixture(scope="module")
def untrained_tflite(tmp_path_factory):
    pytest.importorskip("tensorflow")
    from edgekit.models.pilot import build_pilot
    from edgekit.models.train import export_tflite

    d = tmp_path_factory.mktemp("pilot")
    return export_tflite(build_pilot(), d / "untrained.tflite")


def test_cli_drive_and_bench_print_json(untrained_tflite, capsys, tmp_path):
    assert main(["sim", "drive", "--model", str(untrained_tflite), "--track", "winding", "--laps", "1", "--json",
                 "--trace", str(tmp_path / "trace.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["track"] == "winding" and out["laps_completed"]["provenance"] == "modelled"
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert set(trace) == set(TRACE_FIELDS)
    assert main(["sim", "bench", "--model", str(untrained_tflite), "--steps", "50"]) == 0
    bench = json.loads(capsys.readouterr().out)
    assert bench["real_time_factor"]["provenance"] == "measured-host" and bench["real_time_factor"]["value"] > 1


def test_cli_record(tmp_path, capsys):
    assert main(["sim", "record", "--track", "oval", "--laps", "1", "--out", str(tmp_path / "t"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] > 150


def test_bad_inputs_are_user_errors(tmp_path):
    with pytest.raises(UserError):
        make_runner(tmp_path / "missing.tflite")
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(UserError):
        make_runner(tmp_path / "m.onnx")
    assert main(["sim", "drive", "--model", str(tmp_path / "m.onnx"), "--track", "nowhere"]) == 2
