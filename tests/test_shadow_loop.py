"""`edgekit loop`: the shadow-mode data loop in the simulator, end to end (slow: trains every round).
Small version of the hand-run loop (see the report in docs / the commit): the base pilot is the
oval recipe of tests/test_train_pilot.py; one retraining round must not raise the interventions
per km and the report must be complete (table, plot, --json rounds)."""
import json

import pytest

from edgekit.cli import main

pytest.importorskip("tensorflow")


@pytest.mark.slow
def test_loop_reports_rounds_and_plot(tmp_path, capsys):
    out = tmp_path / "loop"
    assert main(["loop", "--track", "winding", "--track-scale", "0.6", "--rounds", "1", "--laps", "1",
                 "--epochs", "1", "--out", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [x["round"] for x in r["rounds"]] == [0, 1]
    for x in r["rounds"]:
        assert x["laps_target"] == 1 and 0 <= x["laps_completed"] <= 1 and x["provenance"] == "modelled"
        assert x["interventions_per_km"] >= 0 and x["max_abs_cte_m"] >= x["mean_abs_cte_m"] > 0
    first = r["rounds"][0]
    assert first["interventions"] == 0 or first["pulled_records"] > 0
    assert (out / "loop.png").stat().st_size > 1000 and json.loads((out / "loop.json").read_text())["rounds"] == r["rounds"]
    assert (out / "round-0" / "pilot.keras").exists() and (out / "round-0" / "pilot.tflite").exists()


def test_loop_bad_input(tmp_path, capsys):
    assert main(["loop", "--rounds", "0", "--out", str(tmp_path)]) == 2
    assert main(["loop", "--pilot", str(tmp_path / "p.keras"), "--out", str(tmp_path)]) == 2
    assert "--base-tub" in capsys.readouterr().err
