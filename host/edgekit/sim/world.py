"""One simulated run: a car on a track seen by its camera, stepped at the control rate.

`World.frame()` renders what the camera sees now; `World.apply(angle, throttle)` sends a command
(it takes effect after the car's latency) and advances one control period. Progress along the
track is unwrapped so laps count only forward driving.
"""
from __future__ import annotations

import numpy as np

from edgekit.sim.camera import Renderer
from edgekit.sim.car import Car
from edgekit.sim.tracks import DS, Track


class World:
    def __init__(self, track: Track, car_params: dict, control_hz: float = 20.0, substeps: int = 4,
                 seed: int = 0, lighting: bool = True, renderer: Renderer | None = None):
        self.track = track
        self.params = car_params
        self.dt = 1.0 / control_hz
        self.substeps = substeps
        self.renderer = renderer or Renderer(track, car_params["camera"], seed)
        self.rng = np.random.default_rng(seed)
        self.lighting = lighting
        self.car = Car(car_params, *track.start_pose())
        self.idx, self.cte = track.project(self.car.state.x, self.car.state.y)
        self.progress = 0.0  # metres driven forward along the centreline
        self._new_gain()

    def _new_gain(self):
        self.gain = float(self.rng.uniform(0.7, 1.3)) if self.lighting else 1.0

    @property
    def t(self) -> float:
        return self.car.t

    @property
    def laps(self) -> int:
        return int(self.progress // self.track.length)

    @property
    def on_track(self) -> bool:
        return abs(self.cte) <= self.track.width / 2

    def frame(self) -> np.ndarray:
        s = self.car.state
        return self.renderer.render(s.x, s.y, s.yaw, self.gain, self.rng if self.lighting else None)

    def apply(self, angle: float, throttle: float) -> None:
        self.car.command(angle, throttle)
        laps_before = self.laps
        for _ in range(self.substeps):
            self.car.step(self.dt / self.substeps)
        s = self.car.state
        idx, self.cte = self.track.project(s.x, s.y, hint=self.idx)
        n = len(self.track.xy)
        step = (idx - self.idx + n // 2) % n - n // 2
        self.progress += step * DS
        self.idx = idx
        if self.laps != laps_before:
            self._new_gain()  # lighting changes from lap to lap
