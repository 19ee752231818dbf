"""A Thevenin equivalent-circuit battery: OCV(SOC) − R0·I − one RC pair, with a cutoff voltage.

    V   = OCV(z) − I·R0 − v1
    dv1 = (I − v1/R1) / C1 · dt           (solved exactly over a step: v1 relaxes with τ = R1·C1)
    dz  = −I·dt / (3600·Q)

Sources: G. Plett, "Battery Management Systems, Vol. 1: Battery Modeling" (Artech House 2015),
ch. 2 (the Thevenin/ECM model and its exact discretisation); X. Hu, S. Li, H. Peng, "A comparative
study of equivalent circuit models for Li-ion batteries", J. Power Sources 198 (2012) 359–367
(one RC pair is the usual accuracy/complexity trade-off). The LiPo resting-voltage curve is the
chart RC hobby suppliers publish (4.20 V full, ~3.84 V at 50 %, ~3.27 V empty per cell): approximate.

The load is a power (the car and its computer draw watts), so each step solves
P = (OCV − v1 − I·R0)·I for the current; when no real root exists the pack cannot deliver P.
All results are `modelled`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# State of charge (0..1) → open-circuit voltage of one LiPo cell at rest (approximate chart).
LIPO_SOC = np.array([0.00, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50,
                     0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 1.00])
LIPO_OCV = np.array([3.27, 3.61, 3.69, 3.71, 3.73, 3.75, 3.77, 3.79, 3.80, 3.82, 3.84,
                     3.85, 3.87, 3.91, 3.95, 3.98, 4.02, 4.08, 4.11, 4.15, 4.20])
LIPO_NOMINAL_V = 3.7


@dataclass
class BatteryParams:
    cells: int
    capacity_ah: float
    r0_ohm: float
    r1_ohm: float = 0.01
    c1_farad: float = 2000.0
    cutoff_v_per_cell: float = 3.3
    initial_soc: float = 1.0

    @classmethod
    def from_rig(cls, battery) -> "BatteryParams":
        return cls(battery.cells, battery.capacity_ah, battery.r0_ohm, battery.r1_ohm,
                   battery.c1_farad, battery.cutoff_v_per_cell, battery.initial_soc)

    @property
    def nominal_wh(self) -> float:
        """Label energy: capacity × nominal voltage (3.7 V per LiPo cell)."""
        return self.capacity_ah * LIPO_NOMINAL_V * self.cells

    def ocv(self, soc: float) -> float:
        return self.cells * float(np.interp(soc, LIPO_SOC, LIPO_OCV))

    def ocv_energy_wh(self, soc_from: float = 1.0, soc_to: float = 0.0) -> float:
        """∫ OCV dQ: the chemical energy between two SOCs with no losses."""
        z = np.linspace(soc_to, soc_from, 2001)
        v = self.cells * np.interp(z, LIPO_SOC, LIPO_OCV)
        return float(np.trapezoid(v, z) * self.capacity_ah)


@dataclass
class Discharge:
    """The battery's response to a power trace; arrays share one time base (s)."""
    t_s: np.ndarray
    power_w: np.ndarray
    soc: np.ndarray
    voltage_v: np.ndarray
    current_a: np.ndarray
    cutoff_reached: bool
    cutoff_reason: str = ""
    energy_out_wh: float = 0.0      # delivered to the load
    loss_wh: float = 0.0            # dissipated in R0 and R1
    extra: dict = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1]) if len(self.t_s) else 0.0


def _current_for_power(e_v: float, r0: float, p_w: float) -> float | None:
    """Solve P = (E − I·R0)·I for the smaller root I; None when P exceeds E²/(4·R0)."""
    if p_w <= 0:
        return p_w / e_v if e_v > 0 else 0.0
    if r0 == 0:
        return p_w / e_v
    disc = e_v * e_v - 4 * r0 * p_w
    if disc < 0:
        return None
    return (e_v - math.sqrt(disc)) / (2 * r0)


def discharge(params: BatteryParams, power_w, dt_s: float, repeat: bool = False,
              max_s: float = 24 * 3600.0) -> Discharge:
    """Apply a power trace sampled every dt_s. With repeat=True the trace loops until cutoff
    (or max_s): that is how a lap's trace becomes a whole charge."""
    trace = np.atleast_1d(np.asarray(power_w, dtype=float))
    n_max = int(max_s / dt_s) if repeat else len(trace)
    cutoff = params.cutoff_v_per_cell * params.cells
    decay = math.exp(-dt_s / (params.r1_ohm * params.c1_farad)) if params.r1_ohm > 0 else 0.0
    z, v1 = params.initial_soc, 0.0
    ts, ps, zs, vs, is_ = [0.0], [0.0], [z], [params.ocv(z)], [0.0]
    e_out = loss = 0.0
    reason = ""
    for k in range(n_max):
        p = float(trace[k % len(trace)])
        e = params.ocv(z) - v1
        i = _current_for_power(e, params.r0_ohm, p)
        if i is None:
            reason = f"pack cannot deliver {p:.1f} W at SOC {z:.2f}"
            break
        v = e - i * params.r0_ohm
        if v < cutoff:
            reason = f"loaded voltage {v:.2f} V below cutoff {cutoff:.2f} V"
            break
        z_next = z - i * dt_s / (3600.0 * params.capacity_ah)
        if z_next <= 0:
            reason = "state of charge reached 0"
            break
        e_out += v * i * dt_s / 3600.0
        loss += (i * i * params.r0_ohm + (v1 * v1 / params.r1_ohm if params.r1_ohm > 0 else 0.0)) * dt_s / 3600.0
        v1 = v1 * decay + params.r1_ohm * (1 - decay) * i
        z = z_next
        ts.append((k + 1) * dt_s); ps.append(p); zs.append(z); vs.append(v); is_.append(i)
    return Discharge(np.array(ts), np.array(ps), np.array(zs), np.array(vs), np.array(is_),
                     cutoff_reached=bool(reason), cutoff_reason=reason, energy_out_wh=e_out, loss_wh=loss)


def runtime_at_power(params: BatteryParams, power_w: float, dt_s: float = 1.0) -> Discharge:
    """Constant-power discharge from initial SOC to cutoff."""
    return discharge(params, [power_w], dt_s, repeat=True)
