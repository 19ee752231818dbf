"""Closed loop: camera→actuator latency and the driving score (laps, cross-track error)."""
import numpy as np

from edgekit.provenance import figure


def test_camera_to_actuator_latency(closed_loop, rig, record):
    ms = closed_loop.call_ms
    prov = closed_loop.pilot.provenance
    src = {"pilot": closed_loop.pilot.description, "steps": len(ms),
           "what": "host wall time from the camera frame handed to the pilot to its command back (link round trip + inference)"}
    p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    record("camera_to_actuator_p50", figure(p50, "ms", prov, **src))
    record("camera_to_actuator_p99", figure(p99, "ms", prov, **src))
    record.trace("camera_to_actuator_ms", {"ms": ms, "provenance": prov})
    assert p99 <= rig.thresholds.camera_to_actuator_ms


def test_driving_score(closed_loop, rig, record):
    r = closed_loop.result
    figs = r.figures()
    for key in ("laps_completed", "mean_abs_cte", "max_abs_cte", "off_track_events", "avg_speed", "distance"):
        record(f"drive_{key}", {**figs[key], "pilot": closed_loop.pilot.description, "track": r.track})
    assert r.laps_completed >= rig.thresholds.min_laps, f"{r.laps_completed} laps ({r.end_reason})"
    assert r.mean_abs_cte_m <= rig.thresholds.max_cross_track_m
