"""Closed-loop driving: a pilot runner drives the simulated car from its camera frames.

Each control period (default 20 Hz): render the frame, run the pilot, send its command (it acts
after the car's latency), advance the car. A run ends after `laps` laps, or when the car leaves
the track by more than `crash_margin_m` beyond the lane line, or stops making progress.
The loop itself is edgekit.sim.loop (shared with recording and the HIL); this module keeps the
runner-facing `drive()`, `drive_policy()` (one run of any policy) and the run's summary, `DriveResult`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from edgekit.provenance import figure
from edgekit.sim.car import DEFAULT_CAR, load_car
from edgekit.sim.loop import TRACE_FIELDS, LoopResult, Policy, run_loop, runner_policy
from edgekit.sim.tracks import Track, make_track
from edgekit.sim.world import World

__all__ = ["TRACE_FIELDS", "DriveResult", "drive", "drive_policy"]


@dataclass
class DriveResult:
    track: str
    laps_target: int
    laps_completed: int
    completed: bool
    end_reason: str
    sim_s: float
    distance_m: float
    mean_abs_cte_m: float
    max_abs_cte_m: float
    off_track_events: int
    avg_speed_m_s: float
    wall_s: float
    cpu_s: float
    pilot_s: float
    steps: int
    control_hz: float
    trace: dict = field(repr=False)  # each of TRACE_FIELDS -> np.ndarray, one entry per control step

    @classmethod
    def from_loop(cls, res: LoopResult, laps: int, control_hz: float) -> "DriveResult":
        w, tr, steps = res.world, res.trace, res.steps
        cte = np.abs(tr["cte"]) if steps else np.zeros(1)
        return cls(
            track=w.track.name, laps_target=laps, laps_completed=min(w.laps, laps), completed=w.laps >= laps,
            end_reason=res.end_reason, sim_s=w.t, distance_m=max(w.progress, 0.0),
            mean_abs_cte_m=float(cte.mean()), max_abs_cte_m=float(cte.max()), off_track_events=res.off_track_events,
            avg_speed_m_s=float(tr["speed"].mean()) if steps else 0.0, wall_s=res.wall_s, cpu_s=res.cpu_s,
            pilot_s=res.pilot_s, steps=steps, control_hz=control_hz, trace=tr)

    @property
    def real_time_factor(self) -> float:
        return self.sim_s / self.wall_s if self.wall_s > 0 else float("inf")

    @property
    def real_time_factor_cpu(self) -> float:
        """Simulated seconds per CPU second of this process: the speed on one free core, which a
        shared machine's wall clock understates."""
        return self.sim_s / self.cpu_s if self.cpu_s > 0 else float("inf")

    def figures(self) -> dict:
        """The reported figures with provenance (JSON-ready)."""
        return {
            "track": self.track, "laps_target": self.laps_target, "completed": self.completed,
            "end_reason": self.end_reason,
            "laps_completed": figure(self.laps_completed, "laps", "modelled"),
            "mean_abs_cte": figure(round(self.mean_abs_cte_m, 4), "m", "modelled"),
            "max_abs_cte": figure(round(self.max_abs_cte_m, 4), "m", "modelled"),
            "off_track_events": figure(self.off_track_events, "events", "modelled"),
            "avg_speed": figure(round(self.avg_speed_m_s, 3), "m/s", "modelled"),
            "distance": figure(round(self.distance_m, 2), "m", "modelled"),
            "sim_time": figure(round(self.sim_s, 2), "s", "modelled"),
            "control_rate": figure(self.control_hz, "Hz", "modelled"),
            "wall_time": figure(round(self.wall_s, 3), "s", "measured-host"),
            "pilot_ms_per_step": figure(round(1e3 * self.pilot_s / max(self.steps, 1), 3), "ms", "measured-host"),
            "real_time_factor": figure(round(self.real_time_factor, 1), "x", "measured-host"),
            "cpu_time": figure(round(self.cpu_s, 3), "s", "measured-host"),
            "real_time_factor_cpu": figure(round(self.real_time_factor_cpu, 1), "x", "measured-host"),
            "host_load_1min": figure(round(os.getloadavg()[0], 2), "", "measured-host"),
        }

    def to_json(self, with_trace: bool = False) -> dict:
        out = self.figures()
        if with_trace:
            out["trace"] = {k: np.asarray(v).tolist() for k, v in self.trace.items()}
        return out



def drive_policy(policy: Policy, track: Track | str, laps: int = 3, car: str = DEFAULT_CAR,
                 control_hz: float = 20.0, seed: int = 0, lighting: bool = True,
                 crash_margin_m: float | None = 0.5, stall_s: float | None = 5.0,
                 max_sim_s: float | None = None, render: bool = True, on_step=None):
    """`policy` drives `laps` laps of `track` in a fresh world; returns a DriveResult.
    A run also ends on a crash, a stall (None disables either) or after `max_sim_s` (default: laps at
    an average of 0.3 m/s, plus 10 s)."""
    if isinstance(track, str):
        track = make_track(track)
    world = World(track, load_car(car), control_hz=control_hz, seed=seed, lighting=lighting)
    res = run_loop(world, policy, laps=laps, max_sim_s=max_sim_s or laps * track.length / 0.3 + 10,
                   crash_margin_m=crash_margin_m, stall_s=stall_s, render=render, on_step=on_step)
    return DriveResult.from_loop(res, laps, control_hz)


def drive(runner, track: Track | str, laps: int = 3, car: str = DEFAULT_CAR, control_hz: float = 20.0,
          seed: int = 0, lighting: bool = True, crash_margin_m: float = 0.5, stall_s: float = 5.0,
          max_sim_s: float | None = None, on_step=None) -> DriveResult:
    """Drive `runner` (frame -> (angle, throttle)) for `laps` laps of `track`, through the one loop
    (drive_policy). `on_step(world, angle, throttle)` is called after every step
    (for live displays / HIL hooks)."""
    hook = (lambda st: on_step(st.world, *st.executed)) if on_step else None
    return drive_policy(runner_policy(runner), track, laps=laps, car=car, control_hz=control_hz, seed=seed,
                        lighting=lighting, crash_margin_m=crash_margin_m, stall_s=stall_s, max_sim_s=max_sim_s,
                        on_step=hook)
