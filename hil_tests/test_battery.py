"""Battery drain over the closed-loop laps and the range it projects (Thevenin model, battery.py)."""
import numpy as np

from edgekit.hil.battery import BatteryParams, discharge
from edgekit.provenance import figure
from edgekit.hil.bench import latencies_if_any


def _compute_power(lat, board, rig):
    """Board watts at the control rate, from the board YAML and the measured per-inference time."""
    if lat is None:
        return None, "no on-device latency measured"
    t_ms = float(np.median(lat.ms))
    duty = min(1.0, t_ms / 1e3 * rig.inference.rate_hz)
    p = board.power.idle_w + (board.power.active_w - board.power.idle_w) * duty
    return p, f"P_idle + (P_active − P_idle)·duty = {board.power.idle_w:g} + {board.power.active_w - board.power.idle_w:g}·{duty:.3g} (t50 {t_ms:.3g} ms × {rig.inference.rate_hz:g} Hz)"


def test_battery_drain_over_laps(closed_loop, bench, board, rig, record, check, request):
    if closed_loop.result.laps_completed < rig.car.laps:
        # the pilot did not finish the laps (its score says so): drain the battery over the expert's laps
        closed_loop = bench.expert_drive(rig.car.laps)
    r = closed_loop.result
    tr = r.trace
    dt = 1.0 / r.control_hz
    drive_w, drive_src = bench.drive_power(tr)
    p_compute, compute_src = _compute_power(latencies_if_any(request), board, rig)
    if p_compute is None:   # closed loop ran but no board latency: the board at full load (upper bound)
        p_compute, compute_src = board.power.active_w, f"P_active = {board.power.active_w:g} W (upper bound: no on-device latency measured)"
    mon = bench.monitor
    if hasattr(mon, "advance"):
        mon.mark("laps-start")
        duty = (p_compute - board.power.idle_w) / max(board.power.active_w - board.power.idle_w, 1e-9)
        for w in drive_w:
            mon.advance(dt, duty=duty, drive_w=float(w))
        mon.mark("laps-end")
        dt_b = 1.0   # the battery sees the monitor's trace as 1 s means (RC time constant ≫ 1 s)
        power = mon.resampled("laps-start", "laps-end", dt_b)
    else:   # a real monitor measured the board rail; the car's drive power is the simulator's
        dt_b = 1.0
        board_w = mon.resampled("drive-start", "drive-end", dt_b)
        steps = int(round(dt_b / dt))
        drive_1s = np.asarray(drive_w)[: len(board_w) * steps].reshape(-1, steps).mean(axis=1)
        power = board_w[: len(drive_1s)] + drive_1s
    params = BatteryParams.from_rig(rig.battery)
    laps = discharge(params, power, dt_b)
    soc_drop = params.initial_soc - float(laps.soc[-1])
    prov = "modelled"   # the battery is a Thevenin model, whatever fed it
    src = {"drive_power": drive_src, "compute_power": compute_src, "laps": r.laps_completed, "pilot": closed_loop.pilot.description}
    record("battery_soc_drop", figure(100 * soc_drop, "%", prov, **src))
    record("battery_energy_over_laps", figure(laps.energy_out_wh, "Wh", prov, **src))
    record("battery_voltage_end", figure(float(laps.voltage_v[-1]), "V", prov))
    record.trace("battery_laps", {"t_s": laps.t_s, "soc": laps.soc, "voltage_v": laps.voltage_v, "power_w": laps.power_w})
    v_min = record("battery_voltage_min", figure(float(np.min(laps.voltage_v)), "V", prov))
    check("battery_voltage_min", v_min, rig.battery.cutoff_v_per_cell * rig.battery.cells, op=">=")

    # the lap trace repeated to cutoff: minutes and km per charge, with and without the computer
    dist_per_s = r.distance_m / max(r.sim_s, 1e-9)
    for label, trace in (("with_compute", power), ("without_compute", power - p_compute)):
        full = discharge(params, trace, dt_b, repeat=True)
        km = full.duration_s * dist_per_s / 1000
        fig = record(f"laps_range_{label}", figure(km, "km", prov, minutes=full.duration_s / 60,
                                                   arithmetic=f"{full.duration_s:.0f} s to cutoff × {dist_per_s:.3g} m/s (lap trace repeated)",
                                                   cutoff=full.cutoff_reason))
        if label == "with_compute":
            record.trace("battery_full", {"t_s": full.t_s[::60], "soc": full.soc[::60], "voltage_v": full.voltage_v[::60],
                                          "mean_w": float(np.mean(trace)), "drive_power": drive_src})
            check("laps_range_with_compute", fig, rig.thresholds.min_range_km, op=">=")
