"""The 1/10 car: a kinematic bicycle with steering/speed/acceleration limits and a delay from
command to actuation. Parameters come from a car YAML (`cars/*.yaml`).

Sign conventions follow DonkeyCar: `angle` +1 steers fully right, -1 fully left; `throttle` +1 is
the top speed (a speed-controlled ESC: throttle sets the target speed). World yaw is
counter-clockwise, so steering right makes the yaw rate negative.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from edgekit.errors import UserError
from edgekit.sim.car_schema import CarSpec
from edgekit.yamlfile import load_validated

CARS_DIR = Path(__file__).parent / "cars"
DEFAULT_CAR = "donkey_1_10"


def load_car(name_or_path: str = DEFAULT_CAR) -> dict:
    path = Path(name_or_path)
    if not path.suffix:
        path = CARS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise UserError(f"no car YAML {name_or_path!r} (built-in: {', '.join(p.stem for p in CARS_DIR.glob('*.yaml'))})")
    return load_validated(path, CarSpec, "car").model_dump(exclude={"path"})


@dataclass
class CarState:
    x: float
    y: float
    yaw: float
    v: float = 0.0
    steer: float = 0.0   # road-wheel angle, rad (+ left, the world convention)
    accel: float = 0.0


class Car:
    """`command(t, angle, throttle)` queues a command that takes effect `latency` s later;
    `step(dt)` integrates the bicycle model."""

    def __init__(self, params: dict, x: float, y: float, yaw: float):
        g, lim = params["geometry"], params["limits"]
        self.wheelbase = g["wheelbase_m"]
        self.max_steer = math.radians(lim["max_steer_deg"])
        self.max_steer_rate = math.radians(lim["max_steer_rate_deg_s"])
        self.max_speed = lim["max_speed_m_s"]
        self.max_accel = lim["max_accel_m_s2"]
        self.max_brake = lim["max_brake_m_s2"]
        self.tau = lim["speed_time_constant_s"]
        self.latency = params["latency"]["command_s"]
        self.state = CarState(x, y, yaw)
        self.t = 0.0
        self._pending: deque = deque()
        self._active = (0.0, 0.0)

    def command(self, angle: float, throttle: float) -> None:
        angle = min(max(float(angle), -1.0), 1.0)
        throttle = min(max(float(throttle), -1.0), 1.0)
        self._pending.append((self.t + self.latency, angle, throttle))

    def step(self, dt: float) -> None:
        while self._pending and self._pending[0][0] <= self.t + 1e-9:
            _, a, th = self._pending.popleft()
            self._active = (a, th)
        angle, throttle = self._active
        s = self.state
        target_steer = -angle * self.max_steer
        s.steer += min(max(target_steer - s.steer, -self.max_steer_rate * dt), self.max_steer_rate * dt)
        target_v = max(throttle, 0.0) * self.max_speed  # reverse is not modelled: throttle<0 brakes
        s.accel = min(max((target_v - s.v) / self.tau, -self.max_brake), self.max_accel)
        v_new = max(s.v + s.accel * dt, 0.0)
        v_mid = 0.5 * (s.v + v_new)
        s.yaw += v_mid / self.wheelbase * math.tan(s.steer) * dt
        s.x += v_mid * math.cos(s.yaw) * dt
        s.y += v_mid * math.sin(s.yaw) * dt
        s.v = v_new
        self.t += dt
