"""The board's flash twin booting what `edgekit flash` wrote: the C bootloader verifies and boots
the active slot of the twin's flash file, and the car app answers SMP and the DUT protocol on the
same UART (firmware/app/README.md). Before anything is measured the board itself is asked, over
SMP (image state read), which image it runs; a hash other than the named image's stops the run.

The FlashTwin is used through its public API only (edgekit.flash.flow.twin_for, start, url, kill).
When FlashTwin accepts `icount` (the unified twin class) it runs with -icount shift=0, so the board
clock reads guest instructions as nanoseconds; otherwise the board clock follows the host clock and
latency includes emulation speed and host load: the clock note says which.
"""
from __future__ import annotations

import inspect
import os
import struct
from pathlib import Path

import numpy as np

from edgekit.errors import ToolError
from edgekit.hil.sessions.base import BoardSession
from edgekit.provenance import link_provenance

class ImageMismatch(ToolError):
    """The board runs another image than the one named: nothing it measures would be about that image."""


def accepts_icount(cls) -> bool:
    params = inspect.signature(cls.__init__).parameters.values()
    return any(p.name == "icount" or p.kind is p.VAR_KEYWORD for p in params)


class FlashedTwinSession(BoardSession):
    def __init__(self, board, image_path: Path, key_path: Path) -> None:
        from edgekit.firmware.runner import DriveLink
        from edgekit.flash import image as mcuboot, keys, smp
        from edgekit.flash.flow import twin_for
        from edgekit.flash.twin import FlashTwin

        self.board, self.image = board, Path(image_path)
        self.expected = mcuboot.inspect(self.image.read_bytes())
        twin = twin_for(board.name, keys.load(key_path))
        self.icount = 0 if accepts_icount(FlashTwin) else None
        if self.icount is not None:   # the same twin (folder, bootloader), with a deterministic clock
            twin = FlashTwin(twin.dir, twin.bootloader, icount=0)  # type: ignore[call-arg]  # the unified twin's kw
        self.twin = twin
        url = twin.start()
        try:
            b = smp.wait_for_board(url, timeout=120)
            try:
                self.slots = b.state()
            finally:
                b.close()
            running = next((s for s in self.slots if s["active"]), None)
            self.reported = running or {}
            if running is None or running["hash"] != self.expected.hash:
                raise ImageMismatch(
                    f"the {board.name} twin runs image {running['hash'] if running else 'none'} "
                    f"(version {running['version'] if running else '-'}), not the named image {self.image.name} "
                    f"({self.expected.hash}): flash it first (edgekit flash --board {board.name})")
            self.link = DriveLink(url, timeout=60)
            self.link.sync()
        except BaseException:
            twin.kill()
            raise
        self.provenance = link_provenance(self.link.ser)
        self.description = (f"{board.name} flash twin ({board.twin.machine}) running {self.image.name} "
                            f"(version {self.reported['version']}, slot {self.reported['slot']})")
        self.clock_note = ({"clock": "QEMU -icount shift=0: 1 guest instruction = 1 ns (an M7 at 1 GHz at CPI 1); not cycle-accurate",
                            "icount": 0} if self.icount is not None else
                           {"clock": "QEMU without -icount (this FlashTwin takes none): the board clock follows the host "
                                     "clock, so latency includes emulation speed and host load", "icount": None})

    def image_info(self) -> dict:
        return {"image": str(self.image), "hash": self.expected.hash, "version": self.reported.get("version"),
                "slot": self.reported.get("slot"), "reported_hash": self.reported.get("hash"),
                "hash_matches": self.reported.get("hash") == self.expected.hash, "slots": self.slots,
                "ran_on": self.description, "booted": "the bootloader, from the flash twin's active slot",
                "how": "the board's own SMP image state read, before any measurement"}

    def write_frame(self, seq: int, pixels: bytes) -> None:
        """One camera frame into the twin's folder, atomically (the app reads camera.bin by semihosting)."""
        if hasattr(self.twin, "write_frame"):
            self.twin.write_frame(seq, pixels)
            return
        from edgekit.firmware.twin import FRAME_MAGIC   # the camera side channel's header (firmware/app/README.md)

        tmp = Path(self.twin.dir) / "camera.bin.tmp"
        tmp.write_bytes(struct.pack("<4I", FRAME_MAGIC, seq & 0xFFFFFFFF, len(pixels), 0) + bytes(pixels))
        os.replace(tmp, Path(self.twin.dir) / "camera.bin")

    def lockstep_runner(self) -> "FlashedLockstep":
        self.link.drive("step")
        return FlashedLockstep(self)

    def close(self) -> None:
        try:
            self.link.drive("off")
            self.link.close()
        except Exception:  # noqa: BLE001 - closing must not mask the run's own error
            pass
        finally:
            self.twin.kill()


class FlashedLockstep:
    """A simulator Runner whose pilot is the flashed app: frame → camera.bin → `frame SEQ%` → `t-cmd-`."""

    def __init__(self, session: FlashedTwinSession) -> None:
        self.s, self.seq = session, 0
        self.commands: list = []

    def __call__(self, frame):
        self.seq += 1
        self.s.write_frame(self.seq, np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        cmd = self.s.link.frame(self.seq, timeout=600)
        self.commands.append(cmd)
        return cmd.steering, cmd.throttle

    def close(self) -> None:
        pass
