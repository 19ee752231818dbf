"""The expert driver: pure pursuit on the centreline, speed from the curvature ahead.

For data diversity the *executed* steering gets Ornstein-Uhlenbeck noise while the *recorded*
label stays the clean expert command (DART-style noise injection): the car wanders off the
centreline and the labels show how to come back.
"""
from __future__ import annotations

import math

import numpy as np

from edgekit.sim.world import World


class PurePursuit:
    def __init__(self, cruise_m_s: float = 2.0, lateral_accel_m_s2: float = 1.6,
                 lookahead_m: float = 0.5, lookahead_per_m_s: float = 0.25):
        self.cruise = cruise_m_s
        self.a_lat = lateral_accel_m_s2
        self.l0, self.lk = lookahead_m, lookahead_per_m_s

    def __call__(self, world: World) -> tuple[float, float]:
        s, car, track = world.car.state, world.car, world.track
        ld = self.l0 + self.lk * s.v
        px, py = track.point_at(world.idx, ld)
        dx, dy = px - s.x, py - s.y
        alpha = math.atan2(dy, dx) - s.yaw
        delta = math.atan2(2 * car.wheelbase * math.sin(alpha), math.hypot(dx, dy))
        angle = max(-1.0, min(1.0, -delta / car.max_steer))
        kappa = track.max_curvature_ahead(world.idx, 0.5 + 0.5 * s.v)
        v_target = min(self.cruise, math.sqrt(self.a_lat / max(kappa, 1e-6)))
        return angle, v_target / car.max_speed


class SteeringNoise:
    """Ornstein-Uhlenbeck noise: `sigma` stationary std, `tau` s correlation time."""

    def __init__(self, sigma: float = 0.25, tau: float = 0.6, dt: float = 0.05, seed: int = 0):
        self.sigma, self.a = sigma, math.exp(-dt / tau)
        self.rng = np.random.default_rng(seed)
        self.value = 0.0

    def __call__(self) -> float:
        self.value = self.a * self.value + self.sigma * math.sqrt(1 - self.a ** 2) * self.rng.normal()
        return self.value
