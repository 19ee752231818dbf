"""Projected range per option (board × backend × model × rate) and the board under test's share.

Rows use the bench's measured inference time for the board under test's CPU when the latency test
measured one, and the tested model's own MACs (macs.py); every other figure is modelled from the
board YAML (range.py) and labelled so. Its limits are model checks.
"""
import numpy as np

from edgekit.catalog import get_board
from edgekit.hil.battery import BatteryParams
from edgekit.hil.range import InferenceTime, option_row
from edgekit.hil.rig import Option
from edgekit.provenance import figure
from edgekit.hil.bench import latencies_if_any


def _options(rig, board):
    opts = list(rig.options)
    if not any(o.board == board.name for o in opts):   # always compare the board under test
        opts.append(Option(label=f"{board.name} CPU {rig.inference.rate_hz:g} Hz", board=board.name,
                           backend="cpu", rate_hz=rig.inference.rate_hz))
        if board.accelerator:
            opts.append(Option(label=f"{board.name} {board.accelerator.name} {rig.inference.rate_hz:g} Hz",
                               board=board.name, backend="accelerator", rate_hz=rig.inference.rate_hz))
    return opts


def test_projected_range(bench, board, rig, record, check, request, model_profile):
    params = BatteryParams.from_rig(rig.battery)
    lat = latencies_if_any(request)
    measured = None
    if lat is not None:
        measured = InferenceTime(float(np.median(lat.ms)) / 1e3, lat.provenance,
                                 f"median of {len(lat.ms)} on-device inferences ({lat.source})", dict(lat.extra))
    rows = []
    for opt in _options(rig, board):
        rows.append(option_row(opt, get_board(opt.board), rig, params, rig.car.drive_power_w, profile=model_profile))
        if measured and opt.board == board.name and opt.backend == "cpu":
            # the same option with the bench's measured latency (a real board replaces the model;
            # a twin's figure sits beside it, labelled emulated)
            m_opt = opt.model_copy(update={"label": f"{opt.label} ({measured.provenance} latency)"})
            rows.append(option_row(m_opt, board, rig, params, rig.car.drive_power_w, measured, profile=model_profile))
    record.trace("range_options", {"rows": rows, "car": rig.car.model_dump(), "battery": rig.battery.model_dump(),
                                   "formula": "D = E_usable / (e_drive + P_compute / v)", "model": model_profile})
    base = rows[0]["range_without_compute"]
    record("range_without_compute", {**base, "speed_mps": rig.car.speed_mps, "drive_power_w": rig.car.drive_power_w})
    record("minutes_without_compute", rows[0]["minutes_without_compute"])
    mine = [r for r in rows if r["board"] == board.name]
    for r in mine:
        tag = f"{r['backend']}_{r['rate_hz']:g}hz"
        if r["inference_time"]["provenance"] != "modelled":
            tag += f"_{r['inference_time']['provenance']}"
        record(f"range_{tag}", {**r["range"], "option": r["label"]})
        record(f"minutes_{tag}", {**r["minutes"], "option": r["label"]})
        record(f"compute_share_{tag}", {**r["compute_share"], "option": r["label"]})
    sustainable = [r for r in mine if r["sustainable"] and r["rate_hz"] == rig.inference.rate_hz]
    check(f"options_sustaining_{rig.inference.rate_hz:g}hz", figure(len(sustainable), "options", "modelled"), 1, op=">=")
    for r in sustainable:
        tag = f"{r['backend']}_{r['rate_hz']:g}hz"
        check(f"range_{tag}", r["range"], rig.thresholds.min_range_km, op=">=")
        check(f"compute_share_{tag}", r["compute_share"], rig.thresholds.max_compute_share)
    # SOC over a whole charge at constant power for this board's options and without the computer
    from edgekit.hil.battery import runtime_at_power
    soc = {}
    for label, p in [("without compute", 0.0)] + [(r["label"], r["compute_power"]["value"]) for r in mine]:
        d = runtime_at_power(params, rig.car.drive_power_w + p, dt_s=5.0)
        soc[label] = {"t_min": d.t_s / 60, "soc": d.soc, "voltage_v": d.voltage_v}
    record.trace("soc_modelled", {"series": soc, "provenance": "modelled", "drive_w": rig.car.drive_power_w,
                                  "what": f"constant {rig.car.drive_power_w:g} W drive + compute power, Thevenin battery"})
    record("range_best", figure(max(r["range"]["value"] for r in sustainable), "km", "modelled",
                                option=max(sustainable, key=lambda r: r["range"]["value"])["label"]))
