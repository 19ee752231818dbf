"""The board's QEMU twin booted with -kernel on the model's firmware build (edgekit.firmware).

mps2 twins run with -icount shift=0: virtual time advances 1 ns per guest instruction, so the board
clock reads instructions as nanoseconds (an M7 at 1 GHz at one instruction per cycle) and is
independent of how loaded this host is. Figures are emulated: the link is the twin's TCP socket."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from edgekit.hil.sessions.base import BoardSession
from edgekit.provenance import link_provenance


class TwinSession(BoardSession):
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
        self.provenance = link_provenance(self.link.ser)
        self.description = f"{board.name} twin ({board.twin.machine or board.twin.kind}) running {self.image.name}"
        self.clock_note = ({"clock": "QEMU -icount shift=0: 1 guest instruction = 1 ns (an M7 at 1 GHz at CPI 1); not cycle-accurate",
                            "icount": 0} if self.icount is not None else
                           {"clock": "user-mode QEMU: the board clock is the host clock, so latency includes emulation overhead"})

    def image_info(self) -> dict:
        from edgekit.hil.flashing import WHY_KERNEL, has_flash_twin

        return {"image": str(self.image), "sha256": hashlib.sha256(self.image.read_bytes()).hexdigest(),
                "ran_on": self.description, "booted": "-kernel",
                "how": "edgekit.firmware.runner.firmware_for (cached build of the model), booted with -kernel "
                       "on the twin: not an image `edgekit flash` wrote",
                "why": WHY_KERNEL if has_flash_twin(self.board) else f"{self.board.name} has no flash twin"}

    def lockstep_runner(self) -> "LockstepRunner":
        self.link.drive("step")
        return LockstepRunner(self)

    def close(self) -> None:
        from edgekit.firmware.runner import stop_drive_session

        stop_drive_session(self.twin, self.link)


class LockstepRunner:
    """A simulator Runner whose pilot is the twin's firmware: frame → camera side channel →
    `frame SEQ%` → the firmware's `t-cmd-` (as actuated, with board-clock timestamps)."""

    def __init__(self, session: TwinSession) -> None:
        self.s, self.seq = session, 0
        self.commands: list = []

    def __call__(self, frame):
        self.seq += 1
        self.s.twin.write_frame(self.seq, np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        cmd = self.s.link.frame(self.seq, timeout=600)
        self.commands.append(cmd)
        return cmd.steering, cmd.throttle

    def close(self) -> None:
        pass
