"""The bench: the capabilities the HIL suite asks for (latencies, closed loop, drive power), over
the board session (sessions/: one driver per kind of board connection) and the power monitor.

Each measurement either comes from a real component (the firmware's DUT client over the board's link,
the simulator's drive loop and power model) or raises `Unavailable` with the reason; the test that
needs it then did not run, and the run is INCOMPLETE (plugin.py). Nothing here invents a measurement:
modelled figures come from range.py and say so.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from _pytest.outcomes import Skipped

from edgekit.hil.monitors import open_monitor
from edgekit.hil.sessions.base import BoardSession, Unavailable

QUICK_COUNT, QUICK_WARMUP = 10, 1   # `--quick`: a smoke run's timed inferences (the rig asks ≥ 200)


class NotRun(Skipped):
    """A required test that could not run: no board, link or measurement. Reported as skipped by
    pytest, and it makes the run INCOMPLETE (plugin.py), never PASSED."""


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
    def __init__(self, board, rig, model: Path | None, out_dir: Path, image: Path | None = None,
                 key: Path | None = None, twin_camera: str | None = None) -> None:
        self.board, self.rig, self.model, self.out_dir = board, rig, model, out_dir
        self.twin_camera = twin_camera        # a farm place's twin host takes camera frames here
        self.image, self.key = image, key     # image: the signed image `edgekit flash` wrote (flash twin)
        self._monitor = None
        self.cache: dict = {}
        self.stopped: str | None = None       # why the run was stopped (the board runs another image)

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

    # --- the board twin ------------------------------------------------------------------------
    def twin(self) -> BoardSession:
        """The board under test on its link: a real board on a serial port (kind serial) running what
        was flashed; the flash twin booting the image `edgekit flash` wrote (kind twin, with an image);
        or the emulated twin booting the model's firmware build with -kernel (kind twin, no image)."""
        if "twin" not in self.cache:
            try:
                if self.rig.link.kind == "serial" and self.twin_camera:   # a farm place's twin (edgekit.farm)
                    from edgekit.farm.session import PlaceTwinSession
                    self.cache["twin"] = PlaceTwinSession(self.board, self.rig.link.port, self.rig.link.baud, self.model,
                                                          self.twin_camera)
                elif self.rig.link.kind == "serial":
                    from edgekit.hil.sessions.serial import SerialSession
                    self.cache["twin"] = SerialSession(self.board, self.rig.link.port, self.rig.link.baud, self.model)
                elif self.image is not None:
                    self.cache["twin"] = self._flashed()
                else:
                    from edgekit.hil.sessions.twin import TwinSession
                    self.cache["twin"] = TwinSession(self.board, self.require_model(), self.out_dir / "twin")
            except ImportError as exc:
                self.cache["twin"] = Unavailable(f"the firmware DUT client (edgekit.firmware) is not available ({exc})")
            except Unavailable as exc:
                self.cache["twin"] = exc
        tw = self.cache["twin"]
        if isinstance(tw, Exception):
            raise tw
        return tw

    def _flashed(self) -> BoardSession:
        import pytest

        from edgekit.flash import keys
        from edgekit.hil.sessions.flashed import FlashedTwinSession, ImageMismatch

        try:
            return FlashedTwinSession(self.board, self.image, self.key or keys.default_key_path())
        except ImageMismatch as exc:   # nothing measured would be about the named image: stop the run
            self.stopped = str(exc)
            pytest.exit(str(exc), returncode=1)
            raise   # not reached

    def close(self) -> None:
        tw = self.cache.get("twin")
        if isinstance(tw, BoardSession):
            tw.close()

    def inference_latencies(self, count: int, warmup: int, on_each=None) -> Latencies:
        """`count` timed inferences after `warmup`, each timed by the board's own clock (DUT protocol)."""
        tw = self.twin()
        tw.link.load(tw.input_bytes())
        tw.link.infer(1, warmup, timeout=600)
        us = []
        for _ in range(count):
            us.append(tw.link.infer(1, 0, timeout=600).latency_us)
            if on_each:
                on_each()
        return Latencies(np.array(us) / 1e3, tw.provenance, tw.description, tw.clock_note)

    # --- closed loop -------------------------------------------------------------------------
    def twin_steps(self, steps: int):
        """The board twin drives the simulated car for `steps` lockstep control steps; returns
        (DriveResult, [firmware Command]) with capture/inference/actuation times on the board clock."""
        if self.rig.car.kind != "simulated":
            raise Unavailable("a real car reports its commands through telemetry (not wired yet)")
        from edgekit.sim.drive import drive

        tw = self.twin()
        if not hasattr(tw, "lockstep_runner"):
            raise Unavailable("a real board reads its own camera: lockstep frames need the twin "
                              "(camera→actuator from a real board's t-cmd telemetry is not wired yet)")
        pilot = tw.lockstep_runner()
        hz = self.rig.inference.rate_hz
        result = drive(pilot, self.rig.car.track, laps=1, control_hz=hz, max_sim_s=steps / hz - 1e-9)
        return result, pilot.commands

    def pilot_runner(self) -> PilotRunner:
        """The pilot for whole laps: the model's generated C natively on the host (the same C the
        firmware runs; the twin is far slower than real time, so it drives only `twin_steps`)."""
        model = self.require_model()
        if self.rig.car.kind != "simulated":
            raise Unavailable("a real car drives itself: closed-loop figures come from its telemetry (not wired yet)")
        try:
            from edgekit.sim.runners import CompiledRunner
        except ImportError as exc:
            raise Unavailable(f"the compiled-model runner is not available ({exc})") from None
        from edgekit.codegen import compiled_for
        from edgekit.codegen.artifact import load_report

        # The board's folder may use another ISA's kernel tier (armv7e-m-dsp on coral): the host runs
        # the same generated C compiled for itself; every tier is bit-identical to the portable one.
        source = model / load_report(model)["source"]["file"] if model.is_dir() else model
        host_dir = compiled_for(source, "host")
        tier = load_report(host_dir)["variant"]["selected"]
        return PilotRunner(CompiledRunner(host_dir), "measured-host",
                           f"the pilot's generated C compiled for this host ({tier} kernels, bit-identical to the "
                           "board's), run natively (cffi)", False)

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

    def expert_drive(self, laps: int) -> ClosedLoop:
        """The simulator's expert (pure pursuit on the centreline) drives the laps: the car's
        drive-power trace when the pilot under test cannot drive (the untrained stand-in)."""
        try:
            from edgekit.sim.drive import drive_policy
            from edgekit.sim.loop import expert_policy
        except ImportError as exc:
            raise Unavailable(f"the simulator is not available ({exc})") from None
        hz = self.rig.inference.rate_hz
        # The one simulator loop (record, drive and the HIL share it); the expert is its policy.
        result = drive_policy(expert_policy(), self.rig.car.track, laps, control_hz=hz, render=False,
                              crash_margin_m=None, stall_s=None, max_sim_s=laps * 600)
        return ClosedLoop(result, PilotRunner(None, "modelled", "the simulator's expert driver (pure pursuit)", False),
                          np.zeros(0))

    def drive_power(self, trace: dict) -> tuple[np.ndarray, str]:
        """Traction power per control step of a drive trace (W) and where it comes from."""
        try:
            from edgekit.sim.power import drive_power_w
        except ImportError:
            drive_power_w = None
        if drive_power_w is not None and "speed" in trace and "accel" in trace:
            return (np.asarray(drive_power_w(trace["speed"], trace["accel"]), dtype=float),
                    "edgekit.sim.power.drive_power_w(speed, accel) of the simulated car (modelled)")
        n = len(trace["t"])
        return np.full(n, self.rig.car.drive_power_w), f"rig car.drive_power_w = {self.rig.car.drive_power_w} W (constant, modelled)"


def need(fn, *args, **kwargs):
    """In a HIL test: call a bench capability; when unavailable the test did not run (NotRun, with
    the bench's reason)."""
    try:
        return fn(*args, **kwargs)
    except Unavailable as exc:
        raise NotRun(str(exc)) from None


def latencies_if_any(request):
    """In a HIL test: the `latencies` fixture's value when the bench can measure it, else None."""
    try:
        return request.getfixturevalue("latencies")
    except Skipped:
        return None
