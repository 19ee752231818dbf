"""Closed loop: camera→actuator latency (board twin in lockstep, board clock) and the driving score
over whole laps (the firmware's generated C on the host driving the simulated car: model checks)."""
import numpy as np
import pytest

from edgekit.provenance import figure


def test_camera_to_actuator_latency(twin_loop, bench, rig, record, check):
    result, commands = twin_loop
    assert len(commands) >= 2, "the board produced fewer than 2 commands"
    prov = bench.twin().provenance          # what the session's link really is
    ms = np.array([(c.t_actuate_us - c.t_capture_us) / 1e3 for c in commands])
    src = {"what": "board clock: camera frame read → actuators set (preprocess + inference + limits + PWM update)",
           "steps": len(commands), "track": result.track}
    p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    record("camera_to_actuator_p50", figure(p50, "ms", prov, **src))
    fig = record("camera_to_actuator_p99", figure(p99, "ms", prov, **src))
    record.trace("camera_to_actuator_ms", {"ms": ms, "provenance": prov})
    assert all(c.mode == "auto" for c in commands), [c.mode for c in commands]
    check("camera_to_actuator_p99", fig, rig.thresholds.camera_to_actuator_ms)


def test_driving_score(closed_loop, rig, record, check, standin):
    if standin:
        pytest.skip("the untrained timing stand-in cannot drive: pass --model (a trained pilot, e.g. from `edgekit demo`)")
    r = closed_loop.result
    figs = r.figures()
    for key in ("laps_completed", "mean_abs_cte", "max_abs_cte", "off_track_events", "avg_speed", "distance"):
        record(f"drive_{key}", {**figs[key], "pilot": closed_loop.pilot.description, "track": r.track, "end": r.end_reason})
    ms = closed_loop.call_ms
    record("pilot_call_host_p50", figure(float(np.percentile(ms, 50)), "ms", closed_loop.pilot.provenance,
                                         pilot=closed_loop.pilot.description))
    check("drive_laps_completed", figs["laps_completed"], rig.thresholds.min_laps, op=">=")
    check("drive_mean_abs_cte", figs["mean_abs_cte"], rig.thresholds.max_cross_track_m)
