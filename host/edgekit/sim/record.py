"""`record()`: the expert drives a track with noise injection while a DonkeyCar tub v2 is written.

The expert is a policy of the one simulator loop (edgekit.sim.loop); the tub writer and the
progress bar are its per-step hooks. The executed steering gets the noise, the recorded label is
the expert's clean command (DART-style, see expert.py).
"""
from __future__ import annotations

from pathlib import Path

from edgekit.errors import UserError
from edgekit.progress import progress
from edgekit.sim.car import DEFAULT_CAR, load_car
from edgekit.sim.expert import SteeringNoise
from edgekit.sim.loop import Step, expert_policy, run_loop
from edgekit.sim.tracks import Track, make_track
from edgekit.sim.tub import TubWriter
from edgekit.sim.world import World


class TubRecorder:
    """A loop hook: each step's camera frame and the policy's command as a tub record."""

    def __init__(self, tub: TubWriter, mode: str = "user"):
        self.tub, self.mode = tub, mode

    def __call__(self, step: Step) -> None:
        angle, throttle = step.command
        self.tub.write_record({"cam/image_array": step.frame, "user/angle": angle, "user/throttle": throttle,
                               "user/mode": self.mode})


def record(track: Track | str, laps: int, out_dir, seed: int = 0, noise: float = 0.25,
           car: str = DEFAULT_CAR, control_hz: float = 20.0, cruise_m_s: float = 2.0,
           lighting: bool = True, show_progress: bool = True) -> dict:
    """Drive `laps` laps with the expert; returns a summary (records, sim seconds, off-track steps)."""
    if isinstance(track, str):
        track = make_track(track)
    if laps < 1:
        raise UserError("--laps must be at least 1")
    params = load_car(car)
    world = World(track, params, control_hz=control_hz, seed=seed, lighting=lighting)
    wobble = SteeringNoise(sigma=noise, dt=1 / control_hz, seed=seed + 7)
    meta = {"source": "edgekit sim", "track": track.name, "track_width_m": track.width, "car": params["name"],
            "seed": seed, "noise": noise, "control_hz": control_hz}
    max_steps = int(laps * track.length / 0.3 * control_hz)  # gives up below 0.3 m/s average
    with TubWriter(Path(out_dir), metadata=meta) as tub, progress("recording", total=laps, enabled=show_progress) as advance:
        recorder, done = TubRecorder(tub), [0]

        def on_step(step: Step) -> None:
            recorder(step)
            if step.world.laps > done[0]:
                advance(step.world.laps - done[0])
                done[0] = step.world.laps

        res = run_loop(world, expert_policy(cruise_m_s), laps=laps, max_steps=max_steps,
                       perturb=(lambda a, t: (a + wobble(), t)) if noise > 0 else None, on_step=on_step)
    off = int((~res.trace["on_track"].astype(bool)).sum())
    return {"records": res.steps, "sim_s": round(world.t, 2), "laps": world.laps, "off_track_steps": off,
            "track": track.name, "out": str(out_dir)}
