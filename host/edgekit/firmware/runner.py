"""Firmware in the loop: `TwinRunner(board, model)` is a simulator Runner (docs/CONTRACTS.md)
whose pilot is the car firmware on the board's emulated twin.

Lockstep: for each frame the runner writes the pixels to the twin's camera side channel
(`camera.bin` in the twin's state folder, read by semihosting on mps2 or a plain file on Linux),
announces it on the link with `frame SEQ%`, and waits for the firmware's `t-cmd-[...]` reply:
the command after preprocessing, inference, limits and slew, as actuated. So a run is
reproducible whatever the emulation speed.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.errors import ToolError, UserError
from edgekit.firmware.dut import DutClient, DutError
from edgekit.firmware.twin import Twin
from edgekit.paths import state_dir

_CMD = re.compile(r"t-cmd-\[(.*)\]")


@dataclass
class Command:
    seq: int
    steering: float  # as actuated, [-1, 1]
    throttle: float
    mode: str  # auto | manual
    t_capture_us: int
    t_infer_us: int
    t_actuate_us: int
    model_angle: float
    model_throttle: float

    @classmethod
    def parse(cls, line: str) -> "Command":
        v = _CMD.match(line).group(1).split(",")
        n = [int(x) for x in v[:9]]
        return cls(n[0], n[1] / 1000, n[2] / 1000, v[9], n[3], n[4], n[5], n[6] / 1000, n[7] / 1000)


class DriveLink(DutClient):
    """The drive commands of the firmware on top of the DUT protocol client."""

    def drive(self, mode: str) -> None:  # step | run | off
        self.command(f"drive {mode}")

    def heartbeat(self) -> None:
        self.send("hb")

    def rc(self, steering: float | None, throttle: float = 0.0) -> None:
        self.command("rc off" if steering is None else f"rc {round(steering * 1000)} {round(throttle * 1000)}")

    def limits(self, steer_max=None, throttle_max=None, steer_slew=None, throttle_slew=None) -> list[int]:
        args = [steer_max, throttle_max, steer_slew, throttle_slew]
        cmd = "limits" if all(a is None for a in args) else "limits " + " ".join(str(round(a * 1000)) for a in args)
        self.command(cmd)
        line = [t for t in self.telemetry if t.startswith("t-limits-")][-1]
        return [int(x) for x in line[len("t-limits-["):-1].split(",")]

    def frame(self, seq: int, timeout: float | None = None) -> Command:
        start = len(self.telemetry)
        self.command(f"frame {seq}", timeout)
        for line in self.telemetry[start:]:
            if line.startswith("t-cmd-"):
                cmd = Command.parse(line)
                if cmd.seq == seq:
                    return cmd
        raise DutError(f"no command for frame {seq}: {self.telemetry[start:]}")


def source_key(model_dir: Path) -> str:
    """Hash of the compiled folder (its report names the .tflite's hash; its C is the model) and
    of every firmware source the image depends on (a stale cache must not run)."""
    from edgekit.paths import FIRMWARE

    h = hashlib.sha256()
    files = [p for p in Path(model_dir).rglob("*") if p.suffix in (".c", ".h", ".json") and ".host" not in p.parts]
    files += [p for d in ("app", "bsp", "platform", "mgmt") for p in (FIRMWARE / d).rglob("*") if p.is_file()]
    files += list(Path(__file__).resolve().parent.glob("*.py"))  # the firmware build shapes the image too
    for p in sorted(files):
        if "__pycache__" not in p.parts:
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:16]


def firmware_for(board: str, model_path: Path) -> Path:
    """The firmware image for (board, model), built once and cached in the state folder; the model
    is a .tflite (compiled once, edgekit.codegen.compiled_for) or a compiled folder."""
    from edgekit.catalog import get_board
    from edgekit.codegen import compiled_for
    from edgekit.firmware.build import build

    b = get_board(board)
    model_dir = compiled_for(Path(model_path), b)
    out = state_dir() / "builds" / board / source_key(model_dir)
    image = out / ("firmware.elf" if b.bsp == "mps2" else "firmware")
    if not image.exists():
        build(b, model_dir, out)
    return image


class TwinRunner:
    def __init__(self, board: str, model_path, *, image: Path | None = None, state: Path | None = None,
                 frame_timeout: float = 120.0):
        self.board = board
        self.image = Path(image) if image else firmware_for(board, Path(model_path))
        self.twin = Twin(board, self.image, state=state).start()
        try:
            self.link = DriveLink(self.twin.url, timeout=30)
            self.link.sync()
            self.link.drive("step")
        except BaseException:
            self.twin.stop()
            raise
        self.frame_timeout = frame_timeout
        self.seq = 0
        self.commands: list[Command] = []

    def __call__(self, frame: np.ndarray) -> tuple[float, float]:
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        self.seq += 1
        self.twin.write_frame(self.seq, frame.tobytes())
        try:
            cmd = self.link.frame(self.seq, self.frame_timeout)
        except DutError as exc:
            raise ToolError(f"twin {self.board}: {exc}") from None
        self.commands.append(cmd)
        return cmd.steering, cmd.throttle

    def close(self) -> None:
        stop_drive_session(self.twin, self.link)


def stop_drive_session(twin, link) -> None:
    """Drive off, close the link, stop the twin; errors while closing never mask the run's own."""
    try:
        if twin.alive():
            link.drive("off")
        link.close()
    except Exception:  # noqa: BLE001
        pass
    finally:
        twin.stop()
