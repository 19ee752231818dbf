"""Range arithmetic: modelled inference times, compute power, D = E_usable / (e_drive + P_compute / v)."""
import pytest

from edgekit.catalog import get_board
from edgekit.hil.battery import BatteryParams, runtime_at_power
from edgekit.hil.range import PILOT_MACS, compute_cost, modelled_inference_time, option_row, project_range
from edgekit.hil.rig import Option, load_rig


@pytest.fixture(scope="module")
def rig():
    return load_rig("sim")


def test_accelerator_time_comes_from_the_fitted_latency_model():
    from edgekit.accel.latency import predict_from_macs
    for name in ("coral", "rpi5-hailo"):
        board = get_board(name)
        t = modelled_inference_time(board, "accelerator", PILOT_MACS, 0.25)
        assert t.seconds == pytest.approx(predict_from_macs(board, PILOT_MACS)["latency"]["value"] / 1e3)
        assert t.provenance == "modelled" and "MAC/s" in t.arithmetic


def test_cpu_time_and_unsustainable_rate():
    coral = get_board("coral")
    t = modelled_inference_time(coral, "cpu", PILOT_MACS, 0.25)
    assert t.seconds == pytest.approx(47.8e6 / (1000e6 * 0.5))            # 95.6 ms on the M7
    cost = compute_cost(coral, "cpu", t.seconds, 20)
    assert not cost.sustainable and cost.duty == 1.0
    assert cost.achieved_rate_hz == pytest.approx(1 / t.seconds)
    assert cost.power_w == pytest.approx(coral.power.active_w)


def test_compute_power_formulas():
    coral = get_board("coral")
    cpu = compute_cost(coral, "cpu", 0.010, 20)                            # duty 0.2
    assert cpu.power_w == pytest.approx(0.4 + (1.2 - 0.4) * 0.2)
    assert cpu.energy_per_inference_j == pytest.approx(1.2 * 0.010)
    acc = compute_cost(coral, "accelerator", 0.001, 20)                    # duty 0.02
    assert acc.power_w == pytest.approx(0.4 + 2.0 * 0.02)
    assert acc.energy_per_inference_j == pytest.approx((0.4 + 2.0) * 0.001)


def test_range_formula_matches_battery_runtime(rig):
    bp = BatteryParams.from_rig(rig.battery)
    r = project_range(bp, speed_mps=2.0, p_drive_w=15.0, p_compute_w=3.0)
    d = runtime_at_power(bp, 18.0)
    assert r.minutes == pytest.approx(d.duration_s / 60)
    assert r.km == pytest.approx(2.0 * d.duration_s / 1000, rel=1e-6)      # D = v·t
    e_j = d.energy_out_wh * 3600
    assert r.km == pytest.approx(e_j / (15.0 / 2.0 + 3.0 / 2.0) / 1000, rel=1e-9)
    base = project_range(bp, 2.0, 15.0, 0.0)
    assert base.km > r.km
    # compute is a constant drain: its range cost grows as the car slows down
    slow = project_range(bp, 0.5, 15.0 * 0.25, 3.0), project_range(bp, 0.5, 15.0 * 0.25, 0.0)
    assert 1 - slow[0].km / slow[1].km > 1 - r.km / base.km


def test_option_row_carries_units_provenance_and_arithmetic(rig):
    bp = BatteryParams.from_rig(rig.battery)
    row = option_row(Option(label="x", board="rpi5-hailo", backend="accelerator", rate_hz=20), get_board("rpi5-hailo"),
                     rig, bp, 15.0)
    for key in ("inference_time", "compute_power", "energy_per_inference", "range", "minutes", "range_without_compute",
                "compute_share"):
        assert row[key]["provenance"] == "modelled" and "unit" in row[key], key
    assert "D = E_usable" in row["range"]["arithmetic"]
    assert row["range"]["value"] < row["range_without_compute"]["value"]
    assert row["compute_share"]["value"] == pytest.approx(row["compute_power"]["value"] / (row["compute_power"]["value"] + 15.0))


def test_cli_hil_range_json(capsys):
    import json

    from edgekit.cli import main

    assert main(["hil", "range", "--rig", "sim", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    labels = [r["label"] for r in out["rows"]]
    assert "coral Edge TPU 20 Hz" in labels and "rpi5 Hailo-8L 20 Hz" in labels
    assert all(r["range"]["provenance"] == "modelled" for r in out["rows"])


def test_macs_are_counted_from_the_model():
    """MACs per op from tensor shapes, against the MLPerf Tiny paper's published counts
    (Banbury et al. 2021: ResNet-8 12.5 M, FC autoencoder 264 K, MobileNetV1-0.25 ~7.5 M)."""
    from edgekit.hil.macs import model_profile
    from edgekit.paths import MLPERF_TINY

    root = MLPERF_TINY
    ic = model_profile(root / "pretrainedResnet_quant.tflite")
    assert ic["macs"] == pytest.approx(12.5e6, rel=0.01) and ic["op_mix"]["ADD"]["count"] == 3
    assert model_profile(root / "ad01_int8.tflite")["macs"] == pytest.approx(264e3, rel=0.01)
    assert model_profile(root / "vww_96_int8.tflite")["macs"] == pytest.approx(7.5e6, rel=0.02)


def test_range_rows_follow_the_tested_model(rig):
    """A smaller model costs less modelled time on the same board: the row's MACs are the model's."""
    from edgekit.hil.macs import model_profile
    from edgekit.paths import MLPERF_TINY

    params = BatteryParams.from_rig(rig.battery)
    opt = Option(label="coral M7", board="coral", backend="cpu", rate_hz=20)
    kws = model_profile(MLPERF_TINY / "kws_ref_model.tflite")
    row = option_row(opt, get_board("coral"), rig, params, 15.0, profile=kws)
    fallback = option_row(opt, get_board("coral"), rig, params, 15.0)
    assert row["macs"] == kws["macs"] != PILOT_MACS and "kws_ref_model" in row["macs_source"]
    assert row["inference_time"]["value"] == pytest.approx(fallback["inference_time"]["value"] * kws["macs"] / PILOT_MACS)
    assert "no model given" in fallback["macs_source"]
