"""The board under test, seen from the HIL suite: one place that adapts the other stages' APIs.

Each measurement either comes from a real component (the firmware's DUT client over the board's link,
the simulator's drive loop and power model) or raises `Unavailable` with the reason, and the test
that needs it skips. Nothing here invents a measurement: modelled figures come from range.py and
say so.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekit.hil.monitors import open_monitor


class Unavailable(Exception):
    """A bench capability this checkout or rig cannot provide (the reason is the message)."""


@dataclass
class Latencies:
    ms: np.ndarray
    provenance: str
    source: str
    extra: dict = field(default_factory=dict)


@dataclass
class PilotRunner:
    runner: object
    provenance: str
    description: str
    on_board: bool


class TimedRunner:
    """Wraps a runner and keeps each call's wall time: frame handed over → command back."""

    def __init__(self, runner) -> None:
        self.runner, self.ms = runner, []

    def __call__(self, frame):
        t0 = time.perf_counter()
        out = self.runner(frame)
        self.ms.append((time.perf_counter() - t0) * 1e3)
        return out

    def close(self) -> None:
        self.runner.close()


@dataclass
class ClosedLoop:
    result: object          # edgekit.sim.drive.DriveResult
    pilot: PilotRunner
    call_ms: np.ndarray     # per control step: camera frame handed to the pilot → command back


class Bench:
    def __init__(self, board, rig, model: Path | None, out_dir: Path) -> None:
        self.board, self.rig, self.model, self.out_dir = board, rig, model, out_dir
        self._monitor = None
        self.cache: dict = {}

    # --- power -------------------------------------------------------------------------------
    @property
    def monitor(self):
        if self._monitor is None:
            self._monitor = open_monitor(self.rig, self.board)
        return self._monitor

    # --- the model ---------------------------------------------------------------------------
    def require_model(self) -> Path:
        if self.model is None:
            raise Unavailable("no pilot model: pass --model (a .tflite or compiled folder) or run `edgekit demo` first")
        if not Path(self.model).exists():
            raise Unavailable(f"model {self.model} does not exist")
        return Path(self.model)

    # --- on-device inference latency ---------------------------------------------------------
    def inference_latencies(self, count: int, warmup: int) -> Latencies:
        """`count` timed inferences after `warmup`, timed by the board's own clock (DUT protocol)."""
        model = self.require_model()
        if self.rig.link.kind == "twin":
            try:
                from edgekit.firmware import dut  # noqa: F401  (the firmware helper's DUT client)
            except ImportError as exc:
                raise Unavailable(f"the firmware DUT client (edgekit.firmware) is not available yet ({exc})") from None
            return _twin_latencies(self.board, model, count, warmup)
        raise Unavailable("serial DUT benches need the firmware DUT client over the rig's port (not wired yet)")

    # --- closed loop -------------------------------------------------------------------------
    def pilot_runner(self) -> PilotRunner:
        model = self.require_model()
        if self.rig.car.kind != "simulated":
            raise Unavailable("a real car drives itself: closed-loop figures come from its telemetry (not wired yet)")
        try:
            from edgekit.firmware.runner import TwinRunner
        except ImportError:
            TwinRunner = None
        if TwinRunner is not None and self.rig.link.kind == "twin":
            return PilotRunner(TwinRunner(self.board.name, model), "emulated", f"{self.board.name} twin", True)
        raise Unavailable("the board twin runner (edgekit.firmware.runner.TwinRunner) is not available yet")

    def drive(self, laps: int):
        try:
            from edgekit.sim.drive import drive
        except ImportError as exc:
            raise Unavailable(f"the simulator's drive loop is not available ({exc})") from None
        key = ("drive", laps)
        if key not in self.cache:
            pilot = self.pilot_runner()
            timed = TimedRunner(pilot.runner)
            self.monitor.mark("drive-start")   # a real monitor samples the board rail during the drive
            try:
                result = drive(timed, self.rig.car.track, laps=laps, control_hz=self.rig.inference.rate_hz)
            finally:
                self.monitor.mark("drive-end")
                pilot.runner.close()
            self.cache[key] = ClosedLoop(result, pilot, np.array(timed.ms))
        return self.cache[key]

    def drive_power(self, trace: dict) -> tuple[np.ndarray, str]:
        """Traction power per control step of a drive trace (W) and where it comes from."""
        try:
            from edgekit.sim import power as car_power
        except ImportError:
            car_power = None
        fn = getattr(car_power, "drive_power", None) if car_power else None
        if fn is not None:
            return np.asarray(fn(trace), dtype=float), "edgekit.sim.power.drive_power (modelled)"
        n = len(trace["t"])
        return np.full(n, self.rig.car.drive_power_w), f"rig car.drive_power_w = {self.rig.car.drive_power_w} W (constant, modelled)"


def _twin_latencies(board, model: Path, count: int, warmup: int) -> Latencies:
    raise Unavailable("twin latency measurement is not wired to edgekit.firmware yet")


def need(fn, *args, **kwargs):
    """In a HIL test: call a bench capability, skip the test with the bench's reason when unavailable."""
    import pytest

    try:
        return fn(*args, **kwargs)
    except Unavailable as exc:
        pytest.skip(str(exc))
