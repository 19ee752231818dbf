"""What every board session shares: the DUT/drive link, closing it, one model input, the failsafe wait."""
from __future__ import annotations

import time
from typing import Any

import numpy as np


class Unavailable(Exception):
    """A bench capability this checkout or rig cannot provide (the reason is the message)."""


class BoardSession:
    """A DriveLink to the board under test; subclasses say what the board is and how it is timed."""

    link: Any = None   # a DriveLink once the session is open
    provenance = "modelled"   # each driver sets it from what its link really is
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
        return input_bytes()

    def wait_failsafe(self, timeout: float = 60.0) -> dict:
        return wait_failsafe(self.link, timeout)


def input_bytes() -> bytes:
    """One camera frame as int8 model input (pixel − 128: scale 1/255, zero point −128)."""
    y, x = np.mgrid[0:120, 0:160]
    frame = np.stack([(x * 255 // 159), (y * 255 // 119), ((x + y) % 256)], axis=-1).astype(np.uint8)
    return (frame.astype(np.int16) - 128).astype(np.int8).tobytes()


def wait_failsafe(link, timeout: float = 60.0) -> dict:
    """Arm the drive loop (`drive step%` makes the link fresh), then send nothing: wait for the
    firmware's t-failsafe-[t_act, last_fresh, dt] (its board-clock timestamps)."""
    link.drive("step")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = link.readline(timeout=timeout)
        if line.startswith("t-failsafe-["):
            t_act, last, dt = (int(v) for v in line[len("t-failsafe-["):-1].split(","))
            return {"t_actuate_us": t_act, "last_fresh_us": last, "stop_after_us": dt}
        if line.startswith("t-"):
            link.telemetry.append(line)
    raise Unavailable(f"no t-failsafe within {timeout:g} s of link silence")
