"""A farm place's emulated twin as a HIL board session: the place's serial port (its twin host's
NetworkSerialPort) for the DUT protocol, and the twin host's camera endpoint for lockstep frames
(a twin's camera is a file next to QEMU on the exporter's machine)."""
from __future__ import annotations

import urllib.request

import numpy as np

from edgekit.hil.sessions.base import Unavailable
from edgekit.hil.sessions.serial import SerialSession


class PlaceTwinSession(SerialSession):
    def __init__(self, board, port: str, baud: int, model, camera_url: str) -> None:
        super().__init__(board, port, baud, model)
        self.camera_url = camera_url
        self.description = f"{board.name} twin on a farm place, {port} ({self.link.name()})"

    def image_info(self) -> dict:
        return {"image": None, "ran_on": self.description, "model": str(self.model) if self.model else None,
                "how": "what the place's twin runs: the image flashed over SMP on its serial link (edgekit flash --port)"}

    def lockstep_runner(self) -> "PlaceLockstep":
        self.link.drive("step")
        return PlaceLockstep(self)


class PlaceLockstep:
    """frame → the twin host's camera → `frame SEQ%` → the firmware's `t-cmd-` (board clock)."""

    def __init__(self, session: PlaceTwinSession) -> None:
        self.s, self.seq = session, 0
        self.commands: list = []

    def __call__(self, frame):
        self.seq += 1
        data = np.ascontiguousarray(frame, dtype=np.uint8).tobytes()
        req = urllib.request.Request(f"{self.s.camera_url}?seq={self.seq}", data=data, method="POST")
        try:
            urllib.request.urlopen(req, timeout=60).close()
        except OSError as exc:
            raise Unavailable(f"the place's twin host took no camera frame: {exc}") from None
        cmd = self.s.link.frame(self.seq, timeout=600)
        self.commands.append(cmd)
        return cmd.steering, cmd.throttle

    def close(self) -> None:
        pass
