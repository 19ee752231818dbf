"""`record()`: the expert drives a track with noise injection while a DonkeyCar tub v2 is written."""
from __future__ import annotations

from pathlib import Path

from edgekit.errors import UserError
from edgekit.progress import progress
from edgekit.sim.car import DEFAULT_CAR, load_car
from edgekit.sim.expert import PurePursuit, SteeringNoise
from edgekit.sim.tracks import Track, make_track
from edgekit.sim.tub import TubWriter
from edgekit.sim.world import World


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
    expert = PurePursuit(cruise_m_s=cruise_m_s)
    wobble = SteeringNoise(sigma=noise, dt=1 / control_hz, seed=seed + 7)
    meta = {"source": "edgekit sim", "track": track.name, "track_width_m": track.width, "car": params["name"],
            "seed": seed, "noise": noise, "control_hz": control_hz}
    max_steps = int(laps * track.length / 0.3 * control_hz)  # gives up below 0.3 m/s average
    n = off = 0
    with TubWriter(Path(out_dir), metadata=meta) as tub, progress("recording", total=laps, enabled=show_progress) as advance:
        while world.laps < laps and n < max_steps:
            frame = world.frame()
            angle, throttle = expert(world)
            tub.write_record({"cam/image_array": frame, "user/angle": angle, "user/throttle": throttle,
                              "user/mode": "user"})
            lap = world.laps
            world.apply(angle + (wobble() if noise > 0 else 0.0), throttle)
            off += not world.on_track
            n += 1
            if world.laps > lap:
                advance(1)
    return {"records": n, "sim_s": round(world.t, 2), "laps": world.laps, "off_track_steps": off,
            "track": track.name, "out": str(out_dir)}
