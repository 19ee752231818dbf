"""Compute cost and driving range per option (board × backend × model × rate).

Range per charge at a steady cruise (docs/SOURCES.md §8):

    D = E_usable / (e_drive + P_compute / v)        e_drive = P_drive / v   [J/m]

where E_usable is what the Thevenin battery (battery.py) delivers to the load from full to cutoff at
the total power P_drive + P_compute (so R0 losses grow with the load). Compute is a constant drain:
it costs most range at low speed.

Compute power at an inference rate f with per-inference time t:
    CPU:          P = P_idle + (P_active − P_idle) · min(1, t·f)
    accelerator:  P = P_idle + P_accel · min(1, t_acc·f)        (host CPU idles while the accelerator runs)
Energy per inference is the board's energy while one inference runs: P_active·t (CPU) or
(P_idle + P_accel)·t_acc (accelerator) — what a power monitor integrates between marks.

Inference times are measured when the bench measured them (emulated twin, real board) and
otherwise `modelled`: t = MACs / (f_clk · MACs_per_cycle) on one CPU core, and
the accelerator latency model of edgekit.accel.latency (fitted to published figures) on an
accelerator; the assumptions are written next to each figure. MACs are the model's own (macs.py
counts them from the .tflite under test); an option may set its own; PILOT_MACS is only the
fallback when no model is given, and the row says so.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from edgekit.hil.battery import BatteryParams, runtime_at_power
from edgekit.provenance import figure, weakest

PILOT_MACS = 47.8e6  # docs/SOURCES.md §4: DonkeyCar KerasLinear, 120×160×3 input (fallback without a model)

# Effective int8 MACs per cycle of one core running a straightforward int8 kernel library
# (assumptions, not measurements: ~¼ of the SIMD peak; M7 SMLAD 2 MAC/instr, A76 SDOT 16 MAC/instr on 2 pipes).
CPU_MACS_PER_CYCLE = {
    "cortex-m4": 0.25, "cortex-m7": 0.5, "cortex-m33": 0.3, "cortex-m55": 1.0,
    "cortex-a53": 2.0, "cortex-a72": 4.0, "cortex-a76": 8.0, "x86-64": 16.0,
}


@dataclass
class InferenceTime:
    seconds: float
    provenance: str
    arithmetic: str
    assumptions: dict = field(default_factory=dict)


def modelled_inference_time(board, backend: str, macs: float, utilisation: float) -> InferenceTime:
    if backend == "accelerator":
        if board.accelerator is None:
            raise ValueError(f"board {board.name} has no accelerator")
        # The latency model fitted to published figures (edgekit.accel.latency, docs/ACCELERATORS.md);
        # `utilisation` no longer applies to accelerators.
        from edgekit.accel.latency import predict_from_macs
        lat = predict_from_macs(board, macs)["latency"]
        return InferenceTime(lat["value"] / 1e3, "modelled", lat["arithmetic"],
                             {"macs": macs, "model": "edgekit.accel.latency.predict_from_macs (pilot's layers and I/O)",
                              "fit_rms_error_pct": lat["fit_rms_error_pct"], "source": "docs/ACCELERATORS.md"})
    mpc = CPU_MACS_PER_CYCLE.get(board.cpu.core)
    if mpc is None:
        raise ValueError(f"no MACs/cycle assumption for core {board.cpu.core}")
    t = macs / (board.cpu.clock_mhz * 1e6 * mpc)
    return InferenceTime(t, "modelled",
                         f"t = MACs / (clock·MACs_per_cycle) = {macs:.4g} / ({board.cpu.clock_mhz:g}e6·{mpc:g}) = {t * 1e3:.4g} ms",
                         {"macs": macs, "clock_mhz": board.cpu.clock_mhz, "macs_per_cycle": mpc,
                          "source": f"board YAML {board.name}.cpu; MACs/cycle is an assumption (edgekit.hil.range.CPU_MACS_PER_CYCLE), one core"})


@dataclass
class ComputeCost:
    rate_hz: float
    duty: float
    sustainable: bool
    achieved_rate_hz: float
    power_w: float
    energy_per_inference_j: float
    arithmetic: str


def compute_cost(board, backend: str, t_s: float, rate_hz: float) -> ComputeCost:
    raw_duty = t_s * rate_hz
    duty = min(1.0, raw_duty)
    achieved = rate_hz if raw_duty <= 1 else 1.0 / t_s
    idle, active = board.power.idle_w, board.power.active_w
    if backend == "accelerator":
        pa = board.accelerator.watts
        p = idle + pa * duty
        e = (idle + pa) * t_s
        arith = f"P = P_idle + P_accel·duty = {idle:g} + {pa:g}·{duty:.4g} = {p:.4g} W; E_inf = (P_idle+P_accel)·t = {e * 1e3:.4g} mJ"
    else:
        p = idle + (active - idle) * duty
        e = active * t_s
        arith = f"P = P_idle + (P_active−P_idle)·duty = {idle:g} + {active - idle:g}·{duty:.4g} = {p:.4g} W; E_inf = P_active·t = {e * 1e3:.4g} mJ"
    if raw_duty > 1:
        arith += f"; t·f = {raw_duty:.3g} > 1: {rate_hz:g} Hz is not sustainable, {achieved:.3g} Hz at most"
    return ComputeCost(rate_hz, duty, raw_duty <= 1, achieved, p, e, arith)


@dataclass
class RangeResult:
    p_drive_w: float
    p_compute_w: float
    speed_mps: float
    energy_usable_wh: float
    minutes: float
    km: float
    arithmetic: str
    cutoff_reason: str


def project_range(battery: BatteryParams, speed_mps: float, p_drive_w: float, p_compute_w: float) -> RangeResult:
    d = runtime_at_power(battery, p_drive_w + p_compute_w)
    e_j = d.energy_out_wh * 3600
    e_drive = p_drive_w / speed_mps
    per_m = e_drive + p_compute_w / speed_mps
    km = e_j / per_m / 1000
    arith = (f"D = E_usable / (e_drive + P_compute/v) = {e_j:.5g} J / ({e_drive:.4g} + {p_compute_w:.4g}/{speed_mps:g}) J/m"
             f" = {km:.4g} km; t = E_usable / (P_drive + P_compute) = {d.duration_s / 60:.4g} min")
    return RangeResult(p_drive_w, p_compute_w, speed_mps, d.energy_out_wh, d.duration_s / 60, km, arith, d.cutoff_reason)


def macs_for(option, profile: dict | None) -> tuple[float, dict]:
    """MACs per inference for a row and where they come from."""
    if option.macs:
        return option.macs, {"macs_source": f"rig option {option.label!r}: macs"}
    if profile is not None:
        return float(profile["macs"]), {"macs_source": f"counted from {profile['path']}",
                                        "op_mix": {k: v["count"] for k, v in profile["op_mix"].items()}}
    return PILOT_MACS, {"macs_source": "no model given: the DonkeyCar pilot's ~47.8 M MACs (docs/SOURCES.md §4)"}


def option_row(option, board, rig, battery: BatteryParams, p_drive_w: float,
               measured: InferenceTime | None = None, profile: dict | None = None) -> dict:
    """One row of the range comparison, every figure with unit, provenance and its arithmetic.
    `profile`: the tested model's MACs and op mix (macs.model_profile)."""
    macs, macs_note = macs_for(option, profile)
    t = measured or modelled_inference_time(board, option.backend, macs, rig.accelerator_utilisation)
    if measured is None:
        t.assumptions.update(macs_note)
    cost = compute_cost(board, option.backend, t.seconds, option.rate_hz)
    rng = project_range(battery, rig.car.speed_mps, p_drive_w, cost.power_w)
    base = project_range(battery, rig.car.speed_mps, p_drive_w, 0.0)
    # compute power and energy are board-YAML watts × t: modelled whatever t's provenance (the weakest input)
    prov = weakest(t.provenance, "modelled")
    return {
        "label": option.label, "board": option.board, "backend": option.backend, "model": option.model,
        "rate_hz": option.rate_hz, "macs": macs, **macs_note,
        "inference_time": figure(t.seconds * 1e3, "ms", t.provenance, arithmetic=t.arithmetic, assumptions=t.assumptions),
        "duty": figure(cost.duty, "", "modelled"),
        "sustainable": cost.sustainable,
        "achieved_rate": figure(cost.achieved_rate_hz, "Hz", "modelled"),
        "compute_power": figure(cost.power_w, "W", "modelled", arithmetic=cost.arithmetic,
                                inputs={"idle_w": board.power.idle_w, "active_w": board.power.active_w,
                                        "accel_w": board.accelerator.watts if board.accelerator else None}),
        "energy_per_inference": figure(cost.energy_per_inference_j * 1e3, "mJ", prov),
        "range": figure(rng.km, "km", "modelled", arithmetic=rng.arithmetic),
        "minutes": figure(rng.minutes, "min", "modelled"),
        "range_without_compute": figure(base.km, "km", "modelled", arithmetic=base.arithmetic),
        "minutes_without_compute": figure(base.minutes, "min", "modelled"),
        "range_cost": figure(100 * (1 - rng.km / base.km), "%", "modelled",
                             arithmetic=f"1 − {rng.km:.4g}/{base.km:.4g}"),
        "compute_share": figure(cost.power_w / (cost.power_w + p_drive_w), "", "modelled",
                                arithmetic=f"P_compute / (P_compute + P_drive) = {cost.power_w:.4g} / ({cost.power_w:.4g} + {p_drive_w:g})"),
        "energy_usable": figure(rng.energy_usable_wh, "Wh", "modelled", cutoff=rng.cutoff_reason),
    }


def as_dict(obj) -> dict:
    return asdict(obj)
