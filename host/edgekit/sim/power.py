"""Drive power of the car from speed and acceleration (for range figures; all `modelled`).

Tractive force F = m·a + m·g·C_rr + ½·ρ·C_dA·v² (flat floor); wheel power F·v. The battery
supplies wheel power / drivetrain efficiency when driving; braking recovers nothing unless the
car YAML says `regen: true` (then wheel power × efficiency flows back). The motor's no-load
losses grow with its speed: `motor_no_load_w_per_m_s` × v. Parameters and their
sources: the `power` section of the car YAML.
"""
from __future__ import annotations

import numpy as np

from edgekit.provenance import figure
from edgekit.sim.car import DEFAULT_CAR, load_car

G = 9.81


def drive_power_w(speed, accel, params: dict | None = None) -> np.ndarray:
    """Battery-side drive power (W) for arrays of speed (m/s) and acceleration (m/s²)."""
    p = (params or load_car(DEFAULT_CAR))["power"]
    v = np.asarray(speed, dtype=float)
    a = np.asarray(accel, dtype=float)
    force = p["mass_kg"] * a + p["mass_kg"] * G * p["rolling_coefficient"] * (v > 0) \
        + 0.5 * p["air_density_kg_m3"] * p["drag_area_m2"] * v ** 2
    wheel = force * v
    eta = p["drivetrain_efficiency"]
    back = wheel * eta if p.get("regen") else 0.0
    motor_spin = p.get("motor_no_load_w_per_m_s", 0.0) * v  # no-load (friction, eddy) losses
    return np.where(wheel >= 0, wheel / eta, back) + motor_spin


def trace_energy(trace: dict, params: dict | None = None, dt: float | None = None) -> dict:
    """Energy and mean power over a drive trace (`DriveResult.trace`): figures with provenance."""
    t = np.asarray(trace["t"], float)
    if len(t) == 0:
        raise ValueError("empty trace")
    dt = dt or (float(np.diff(t).mean()) if len(t) > 1 else float(t[0]))
    power = drive_power_w(trace["speed"], trace["accel"], params)
    energy = float(power.sum() * dt)
    distance = float(np.asarray(trace["speed"], float).sum() * dt)
    duration = float(len(t) * dt)
    return {
        "drive_energy": figure(round(energy, 2), "J", "modelled"),
        "mean_drive_power": figure(round(energy / duration, 3), "W", "modelled"),
        "peak_drive_power": figure(round(float(power.max()), 3), "W", "modelled"),
        "energy_per_metre": figure(round(energy / max(distance, 1e-9), 3), "J/m", "modelled"),
        "distance": figure(round(distance, 2), "m", "modelled"),
    }
