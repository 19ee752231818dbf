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


QUICK_COUNT, QUICK_WARMUP = 10, 1   # `--quick`: a smoke run's timed inferences (the rig asks ≥ 200)


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


@dataclass
class ExpertLaps:
    """The fields of a DriveResult the battery test uses, for laps driven by the expert."""
    track: str
    laps_completed: int
    sim_s: float
    distance_m: float
    control_hz: float
    trace: dict


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

    # --- the board twin ------------------------------------------------------------------------
    def twin(self) -> "BoardSession":
        """The board under test on its link: the emulated twin running the model's firmware
        (link kind twin), or a real board on a serial port (kind serial) running what was flashed."""
        if "twin" not in self.cache:
            try:
                if self.rig.link.kind == "serial":
                    self.cache["twin"] = SerialSession(self.board, self.rig.link.port, self.rig.link.baud, self.model)
                else:
                    self.cache["twin"] = TwinSession(self.board, self.require_model(), self.out_dir / "twin")
            except ImportError as exc:
                self.cache["twin"] = Unavailable(f"the firmware DUT client (edgekit.firmware) is not available ({exc})")
            except Unavailable as exc:
                self.cache["twin"] = exc
        tw = self.cache["twin"]
        if isinstance(tw, Exception):
            raise tw
        return tw

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
        if not isinstance(tw, TwinSession):
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
            from edgekit.firmware.runner import firmware_for
            from edgekit.sim.runners import CompiledRunner
        except ImportError as exc:
            raise Unavailable(f"the compiled-model runner is not available ({exc})") from None
        image = firmware_for(self.board.name, model)
        return PilotRunner(CompiledRunner(image.parent / "model"), "measured-host",
                           "the firmware's generated C model, run natively on the host (cffi)", False)

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
            from edgekit.sim.car import load_car
            from edgekit.sim.expert import PurePursuit
            from edgekit.sim.tracks import make_track
            from edgekit.sim.world import World
        except ImportError as exc:
            raise Unavailable(f"the simulator is not available ({exc})") from None
        hz = self.rig.inference.rate_hz
        world = World(make_track(self.rig.car.track), load_car(), control_hz=hz)
        expert = PurePursuit()
        trace = {k: [] for k in ("t", "speed", "accel", "cte")}
        while world.laps < laps and world.t < laps * 600:
            world.apply(*expert(world))
            s = world.car.state
            for k, v in zip(trace, (world.t, s.v, s.accel, world.cte)):
                trace[k].append(v)
        result = ExpertLaps(self.rig.car.track, world.laps, world.t, max(world.progress, 0.0), hz,
                            {k: np.asarray(v) for k, v in trace.items()})
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


class BoardSession:
    """A DriveLink to the board under test; subclasses say what the board is and how it is timed."""

    link = None
    provenance = "measured-hw"
    description = ""
    clock_note: dict = {}

    def image_info(self) -> dict:
        return {"image": None, "ran_on": self.description, "how": "the image already flashed on the board"}

    def close(self) -> None:
        try:
            self.link.drive("off")
            self.link.close()
        except Exception:  # noqa: BLE001 - closing must not mask the run's own error
            pass

    def input_bytes(self) -> bytes:
        return _input_bytes()

    def wait_failsafe(self, timeout: float = 60.0) -> dict:
        return _wait_failsafe(self.link, timeout)


class SerialSession(BoardSession):
    """A real board on a serial port running the model's firmware (flash it first:
    `edgekit flash --board B --model M.tflite --port PORT`). Its clock is the board's own."""

    def __init__(self, board, port: str, baud: int, model: Path | None) -> None:
        from edgekit.firmware.runner import DriveLink

        try:
            import serial
            ser = serial.serial_for_url(port, baudrate=baud, timeout=60)
        except Exception as exc:  # noqa: BLE001 - any open failure: the board is not there
            raise Unavailable(f"cannot open the board's serial port {port}: {exc}") from None
        self.link = DriveLink(ser, timeout=60)
        self.link.sync()
        self.description = f"{board.name} on {port} ({self.link.name()})"
        self.clock_note = {"clock": "the board's own clock (m-lap-us)"}
        self.model = model

    def image_info(self) -> dict:
        return {"image": None, "ran_on": self.description, "model": str(self.model) if self.model else None,
                "how": "the image flashed on the board (edgekit flash --board B --model M --port PORT)"}


class TwinSession(BoardSession):
    """Twin + DriveLink for one bench. mps2 twins run with -icount shift=0: virtual time advances
    1 ns per guest instruction, so the board clock reads instructions as nanoseconds (an M7 at
    1 GHz at one instruction per cycle) and is independent of how loaded this host is."""

    def __init__(self, board, model: Path, state: Path) -> None:
        from edgekit.firmware.runner import DriveLink, firmware_for
        from edgekit.firmware.twin import Twin

        self.board = board
        self.image = firmware_for(board.name, model)
        self.icount = 0 if board.twin.kind == "qemu-system-arm" else None
        self.twin = Twin(board, self.image, state=state, icount=self.icount).start()
        try:
            self.link = DriveLink(self.twin.url, timeout=60)
            self.link.sync()
        except BaseException:
            self.twin.stop()
            raise
        self.provenance = "emulated"
        self.description = f"{board.name} twin ({board.twin.machine or board.twin.kind}) running {self.image.name}"
        self.clock_note = ({"clock": "QEMU -icount shift=0: 1 guest instruction = 1 ns (an M7 at 1 GHz at CPI 1); not cycle-accurate",
                            "icount": 0} if self.icount is not None else
                           {"clock": "user-mode QEMU: the board clock is the host clock, so latency includes emulation overhead"})

    def image_info(self) -> dict:
        import hashlib
        return {"image": str(self.image), "sha256": hashlib.sha256(self.image.read_bytes()).hexdigest(),
                "ran_on": self.description, "how": "edgekit.firmware.runner.firmware_for (cached build of the model), "
                "booted with -kernel on the twin; `edgekit flash` puts the same model in an MCUboot slot"}

    def lockstep_runner(self) -> "LockstepRunner":
        self.link.drive("step")
        return LockstepRunner(self)

    def close(self) -> None:
        from edgekit.firmware.runner import stop_drive_session

        stop_drive_session(self.twin, self.link)


def _input_bytes() -> bytes:
    """One camera frame as int8 model input (pixel − 128: scale 1/255, zero point −128)."""
    y, x = np.mgrid[0:120, 0:160]
    frame = np.stack([(x * 255 // 159), (y * 255 // 119), ((x + y) % 256)], axis=-1).astype(np.uint8)
    return (frame.astype(np.int16) - 128).astype(np.int8).tobytes()


def _wait_failsafe(link, timeout: float = 60.0) -> dict:
    """Arm the drive loop (`drive step%` makes the link fresh), then send nothing: wait for the
    firmware's t-failsafe-[t_act, last_fresh, dt] (its board-clock timestamps)."""
    import time as _time

    link.drive("step")
    deadline = _time.monotonic() + timeout
    while _time.monotonic() < deadline:
        line = link.readline(timeout=timeout)
        if line.startswith("t-failsafe-["):
            t_act, last, dt = (int(v) for v in line[len("t-failsafe-["):-1].split(","))
            return {"t_actuate_us": t_act, "last_fresh_us": last, "stop_after_us": dt}
        if line.startswith("t-"):
            link.telemetry.append(line)
    raise Unavailable(f"no t-failsafe within {timeout:g} s of link silence")


class LockstepRunner:
    """A simulator Runner whose pilot is the twin's firmware: frame → camera side channel →
    `frame SEQ%` → the firmware's `t-cmd-` (as actuated, with board-clock timestamps)."""

    def __init__(self, session: TwinSession) -> None:
        self.s, self.seq, self.commands = session, 0, []

    def __call__(self, frame):
        self.seq += 1
        self.s.twin.write_frame(self.seq, np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        cmd = self.s.link.frame(self.seq, timeout=600)
        self.commands.append(cmd)
        return cmd.steering, cmd.throttle

    def close(self) -> None:
        pass


def need(fn, *args, **kwargs):
    """In a HIL test: call a bench capability, skip the test with the bench's reason when unavailable."""
    import pytest

    try:
        return fn(*args, **kwargs)
    except Unavailable as exc:
        pytest.skip(str(exc))


def latencies_if_any(request):
    """In a HIL test: the `latencies` fixture's value when the bench can measure it, else None."""
    import pytest

    try:
        return request.getfixturevalue("latencies")
    except pytest.skip.Exception:
        return None
