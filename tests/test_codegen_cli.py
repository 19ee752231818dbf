"""`edgekit verify` and `edgekit bench` from the command line, with --json."""
from __future__ import annotations

import json

import pytest

from edgekit.paths import MLPERF_TINY

AD01 = MLPERF_TINY / "ad01_int8.tflite"


@pytest.fixture
def ad01():
    assert AD01.exists(), f'{AD01} is missing: the repository carries models/mlperf-tiny/'
    return AD01


def test_verify_cli_json(ad01, capsys):
    from edgekit.cli import main
    assert main(["verify", str(ad01), "--inputs", "5", "--layers", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["bit_identical_inputs"] == 5 and rep["first_divergence"] is None
    assert rep["latency_ms"]["provenance"] == "measured-host"
    assert rep["arena_bytes"]["value"] < rep["tflm_arena_bytes"]["value"]


def test_bench_cli_json(ad01, capsys):
    from edgekit.cli import main
    assert main(["bench", str(ad01), "--runs", "3", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert set(rep["runtimes"]) == {"edgekit C", "TFLM", "LiteRT (no delegates)", "LiteRT default (XNNPACK)"}
    assert all(r["median_ms"]["provenance"] == "measured-host" and r["runs"] == 3 for r in rep["runtimes"].values())


def test_compile_for_edge_tpu_board_carries_the_compatibility_report(pilot_int8_path, tmp_path, capsys):
    from edgekit.cli import main
    assert main(["compile", str(pilot_int8_path), "--board", "coral-devboard", "--out", str(tmp_path / "c"),
                 "--no-size", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    tpu = rep["edgetpu"]
    assert tpu["board"] == "coral-devboard" and tpu["fully_mapped"] and tpu["fits_on_chip_cache"]
    assert tpu["parameter_bytes_on_edgetpu"]["provenance"] == "modelled"
    # a CPU-only board carries none
    assert main(["compile", str(pilot_int8_path), "--board", "host", "--out", str(tmp_path / "h"),
                 "--no-size", "--json"]) == 0
    assert "edgetpu" not in json.loads(capsys.readouterr().out)
