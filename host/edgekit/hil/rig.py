"""A HIL rig: the board's link, the power monitor, the car, the battery and the test thresholds.

Rigs are YAML files in hil_tests/rigs/ (by name) or any path; validated with pydantic, bad input is
a one-line UserError naming the file and field (same style as the board catalogue).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import UserError
from edgekit.paths import HIL_TESTS
from edgekit.yamlfile import load_validated

RIGS = HIL_TESTS / "rigs"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Link(_Strict):
    kind: Literal["twin", "serial"] = Field(description="twin: the board's emulated twin; serial: a real UART")
    port: str | None = Field(default=None, description="serial device, e.g. /dev/ttyACM0 (kind serial)")
    baud: int = Field(default=115200, gt=0)


class Monitor(_Strict):
    kind: Literal["simulated", "ina219", "ina226", "joulescope"]
    i2c_bus: int | None = Field(default=None, ge=0, description="/dev/i2c-N for INA219/INA226")
    address: int = Field(default=0x40, ge=0x03, le=0x77)
    shunt_ohms: float = Field(default=0.1, gt=0)
    max_current_a: float = Field(default=3.2, gt=0, description="sets the current LSB (max / 2^15)")
    sample_hz: float = Field(default=500, gt=0)
    serial: str | None = Field(default=None, description="Joulescope serial number (None: the only one)")


class Car(_Strict):
    kind: Literal["simulated", "real"]
    track: str = Field(default="oval", description="simulator track name")
    laps: int = Field(default=2, ge=1, description="laps for the battery-drain and driving-score tests")
    speed_mps: float = Field(gt=0, description="cruise speed for range projection")
    drive_power_w: float = Field(gt=0, description="mean traction power at cruise speed (used when the simulator's power model is absent)")
    lap_length_m: float = Field(default=60.0, gt=0, description="fallback lap length when no simulator track is available")
    twin_steps: int = Field(default=10, ge=2, description="control steps the board twin drives in lockstep (a twin is far slower than real time)")
    source: str = Field(description="where the car figures come from")


class Battery(_Strict):
    chemistry: Literal["lipo"]
    cells: int = Field(ge=1, le=12, description="cells in series")
    capacity_ah: float = Field(gt=0)
    r0_ohm: float = Field(ge=0, description="pack ohmic resistance")
    r1_ohm: float = Field(default=0.01, ge=0, description="RC pair resistance (polarisation)")
    c1_farad: float = Field(default=2000.0, gt=0, description="RC pair capacitance")
    cutoff_v_per_cell: float = Field(default=3.3, gt=2.5, lt=4.2, description="stop when the loaded cell voltage falls below this")
    initial_soc: float = Field(default=1.0, gt=0, le=1.0)
    source: str


class Thresholds(_Strict):
    latency_p99_ms: float | None = Field(default=None, gt=0, description="default: one frame period (1/rate)")
    camera_to_actuator_ms: float = Field(gt=0)
    energy_per_inference_mj: float = Field(gt=0)
    min_range_km: float = Field(gt=0)
    max_compute_share: float = Field(gt=0, le=1, description="compute energy / total energy at most this")
    min_laps: int = Field(ge=0)
    max_cross_track_m: float = Field(gt=0)
    failsafe_ms: float = Field(gt=0, description="throttle must be zero this long after the link drops")


class Inference(_Strict):
    rate_hz: float = Field(default=20, gt=0)
    warmup: int = Field(default=10, ge=0)
    count: int = Field(default=200, ge=200, description="timed inferences (the issue asks ≥ 200)")


class Option(_Strict):
    """One alternative for the range comparison."""
    label: str
    board: str
    backend: Literal["cpu", "accelerator"]
    rate_hz: float = Field(gt=0)
    model: str = "pilot"
    macs: float | None = Field(default=None, gt=0, description="MACs per inference (default: the pilot's)")


class Rig(_Strict):
    name: str
    title: str
    link: Link
    monitor: Monitor
    car: Car
    battery: Battery
    thresholds: Thresholds
    inference: Inference = Inference()
    accelerator_utilisation: float = Field(default=0.25, gt=0, le=1, description="assumed fraction of peak TOPS reached (modelled figures)")
    options: list[Option] = []
    path: str | None = None

    @property
    def simulated(self) -> bool:
        return self.link.kind == "twin" and self.monitor.kind == "simulated" and self.car.kind == "simulated"


def with_port(rig: Rig, port: str) -> Rig:
    """The rig with its board on a serial port (`edgekit hil run --port`); the figures' provenance is
    still decided by what that port turns out to be (edgekit.provenance.link_provenance)."""
    return rig.model_copy(update={"link": Link(kind="serial", port=port, baud=rig.link.baud)})


def rig_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return RIGS / f"{name_or_path}.yaml"


def load_rig(name_or_path: str) -> Rig:
    path = rig_path(name_or_path)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in RIGS.glob("*.yaml")))
        raise UserError(f"unknown rig {name_or_path!r}; known rigs: {known} (or a path to a rig YAML)")
    rig = load_validated(path, Rig, "rig")
    if rig.monitor.kind in ("ina219", "ina226") and rig.monitor.i2c_bus is None:
        raise UserError(f"{path}: field 'monitor.i2c_bus': required for an {rig.monitor.kind}")
    if rig.link.kind == "serial" and not rig.link.port:
        raise UserError(f"{path}: field 'link.port': required for a serial link")
    return rig
