"""Closed loop: camera→actuator latency (board twin in lockstep, board clock) and the driving
score over whole laps (the firmware's generated C on the host: the twin is far slower than real time)."""
import numpy as np

from edgekit.provenance import figure


def test_camera_to_actuator_latency(twin_loop, rig, record):
    result, commands = twin_loop
    assert len(commands) >= 2, "the twin produced no commands"
    ms = np.array([(c.t_actuate_us - c.t_capture_us) / 1e3 for c in commands])
    src = {"what": "board clock: camera frame read → actuators set (preprocess + inference + limits + PWM update)",
           "steps": len(commands), "track": result.track}
    p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    record("camera_to_actuator_p50", figure(p50, "ms", "emulated", **src))
    record("camera_to_actuator_p99", figure(p99, "ms", "emulated", **src))
    record.trace("camera_to_actuator_ms", {"ms": ms, "provenance": "emulated"})
    assert all(c.mode == "auto" for c in commands)
    assert p99 <= rig.thresholds.camera_to_actuator_ms, f"p99 {p99:.1f} ms > {rig.thresholds.camera_to_actuator_ms:g} ms"


def test_driving_score(closed_loop, rig, record, standin):
    if standin:
        import pytest
        pytest.skip("the untrained timing stand-in cannot drive: pass --model (a trained pilot, e.g. from `edgekit demo`)")
    r = closed_loop.result
    figs = r.figures()
    for key in ("laps_completed", "mean_abs_cte", "max_abs_cte", "off_track_events", "avg_speed", "distance"):
        record(f"drive_{key}", {**figs[key], "pilot": closed_loop.pilot.description, "track": r.track, "end": r.end_reason})
    ms = closed_loop.call_ms
    record("pilot_call_host_p50", figure(float(np.percentile(ms, 50)), "ms", closed_loop.pilot.provenance,
                                         pilot=closed_loop.pilot.description))
    assert r.laps_completed >= rig.thresholds.min_laps, f"{r.laps_completed} laps ({r.end_reason})"
    assert r.mean_abs_cte_m <= rig.thresholds.max_cross_track_m
