"""The mps2-an500 twin with persistent flash, a burned-in trust anchor and a power switch.

`FlashTwin` is edgekit.firmware.twin.Twin in flash mode: QEMU runs in the board's state folder
(`.edgekit/twins/<board>/`), `-kernel bootloader.elf` puts the bootloader at 0x0 and
`-device loader,file=flash.bin,addr=0x10000` preloads both slots and the storage area from
`flash.bin` (0x10000..0x400000, 0xFF when erased). The firmware writes flash through
ek_flash_twin.c, which also writes the same bytes into `flash.bin` with semihosting, so `kill()`
(SIGKILL) is a power cut: the next `start()` sees exactly what was written before.

Power cuts the way MCUboot's simulator does them: `start(cut_after=N)` preloads a power block
in PSRAM; the firmware counts completed flash writes/erases (bootloader and app alike, across
warm resets) and the board loses power right after operation N (QEMU exits with code
POWER_CUT_EXIT). `start(trace=True)` logs every operation to `flash-ops.log`.

Trust anchor: `provision_anchor(board, key)` fixes the twin's bootloader key once (a key burned
into a real board); `bootloader_for(board)` builds the bootloader around that key, whoever flashes.
The semihosting console (bootloader log) goes to `console.log`.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import time
from pathlib import Path

from edgekit.errors import ToolError, UserError
from edgekit.firmware.twin import PtyBridge, Twin, free_port, twin_state_dir
from edgekit.flash.build import FLASH_END, FLASH_FILE_BASE, SLOT_BASES, SLOT_SIZE
from edgekit.flash.image import IMAGE_MAGIC

__all__ = ["FlashTwin", "PtyBridge", "free_port", "twin_dir", "provision_anchor", "anchor", "bootloader_for",
           "POWER_CUT_EXIT", "boot_slot"]

BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
# The slot trailer (the last 64 bytes of a slot): firmware/mgmt/ek_slots.c TR_SEQ/TR_TRIAL/TR_OK/TR_MAGIC
TR_LEN, TR_SEQ, TR_TRIAL, TR_OK, TR_MAGIC = 64, 0, 16, 32, 48
SLOT_HEADER = IMAGE_MAGIC.to_bytes(4, "little")   # the first bytes of a slot holding an image
POWER_ADDR = 0x60FFFF00        # firmware/mgmt/ek_flash_twin.c: EK_POWER_ADDR (unused PSRAM)
POWER_MAGIC = 0x5057524B
POWER_CUT_EXIT = 86
ANCHOR_FILE = "trust-anchor.json"

twin_dir = twin_state_dir


class FlashTwin(Twin):
    def __init__(self, folder: Path, bootloader_elf: Path, machine: str = "mps2-an500", **kw):
        if shutil.which("qemu-system-arm") is None:
            raise ToolError("qemu-system-arm not found (apt-get install qemu-system-arm)")
        super().__init__(None, state=Path(folder), bootloader=bootloader_elf, machine=machine, **kw)
        self.dir = self.state
        self.flash = self.dir / "flash.bin"
        self.port = 0

    # -- flash file -----------------------------------------------------------------------
    def erase_all(self) -> None:
        self.flash.write_bytes(b"\xff" * (FLASH_END - FLASH_FILE_BASE))

    def ensure_flash(self) -> None:
        if not self.flash.exists() or self.flash.stat().st_size != FLASH_END - FLASH_FILE_BASE:
            self.erase_all()

    def write(self, addr: int, data: bytes) -> None:
        with open(self.flash, "r+b") as f:
            f.seek(addr - FLASH_FILE_BASE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def read(self, addr: int, n: int) -> bytes:
        with open(self.flash, "rb") as f:
            f.seek(addr - FLASH_FILE_BASE)
            return f.read(n)

    def has_image(self) -> bool:
        return self.flash.exists() and any(self.read(b, 4) == SLOT_HEADER for b in SLOT_BASES)

    def provision(self, signed_image: bytes, slot: int = 0, seq: int = 1) -> None:
        """Factory-install a confirmed image (what a production programmer would do)."""
        self.ensure_flash()
        base = SLOT_BASES[slot]
        self.write(base + SLOT_SIZE - 0x1000, b"\xff" * 0x1000)
        self.write(base, signed_image)
        trailer = bytearray(b"\xff" * TR_LEN)
        trailer[TR_SEQ:TR_SEQ + 4] = struct.pack("<I", seq)
        trailer[TR_OK] = 1
        trailer[TR_MAGIC:TR_MAGIC + 16] = BOOT_MAGIC
        self.write(base + SLOT_SIZE - TR_LEN, bytes(trailer))

    # -- power ------------------------------------------------------------------------------
    def start(self, cut_after: int | None = None, trace: bool = False) -> str:  # type: ignore[override]
        """Power on; returns the pyserial URL of the board's UART (the guest starts on connect).
        `cut_after=N`: the board loses power right after its N-th flash write/erase."""
        self.ensure_flash()
        extra = list(self.extra_args)
        power = self.dir / "power.bin"
        if cut_after or trace:
            power.write_bytes(struct.pack("<4I", POWER_MAGIC, cut_after or 0, 0, int(trace)))
            self.extra_args = extra + ["-device", f"loader,file={power.name},addr={POWER_ADDR:#x}"]
        try:
            super().start()
        finally:
            self.extra_args = extra
        return self.url

    def power_was_cut(self) -> bool:
        """True when the board lost power at the chosen write (its QEMU exited with the cut code)."""
        return bool(self.proc and self.proc.poll() == POWER_CUT_EXIT)

    def wait_power_cut(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.power_was_cut()

    def flash_ops(self) -> list[tuple[str, int, int]]:
        """The traced flash operations since the log was last cleared: (W|E, address, length)."""
        p = self.dir / "flash-ops.log"
        if not p.exists():
            return []
        return [(k, int(a, 16), int(n, 16)) for k, a, n in (line.split() for line in p.read_text().splitlines())]

    def clear_flash_ops(self) -> None:
        (self.dir / "flash-ops.log").unlink(missing_ok=True)

    def stop(self, grace: float = 0) -> int | None:  # type: ignore[override]
        return super().stop(grace)   # the flash twin's stop is a power cut, as it always was

    def __enter__(self) -> "FlashTwin":
        return self


def boot_slot(flash: Path) -> tuple[int, bool] | None:
    """(slot, confirmed) the bootloader will boot from this flash file, by its trailer rule
    (firmware/bootloader/boot_main.c): the bootable slot with the highest seq, slot 0 on a tie;
    bootable = confirmed, or set for test and not yet trial-booted. The image's signature is not
    checked here (the bootloader does that): only that a slot starts with an image header."""
    if not Path(flash).exists():
        return None
    data = Path(flash).read_bytes()
    slots = []
    for s, base in enumerate(SLOT_BASES):
        tr = data[base - FLASH_FILE_BASE + SLOT_SIZE - TR_LEN:][:TR_LEN]
        magic = tr[TR_MAGIC:TR_MAGIC + 16] == BOOT_MAGIC
        ok, trial = tr[TR_OK] == 1, tr[TR_TRIAL] == 1
        seq = struct.unpack_from("<I", tr, TR_SEQ)[0] if magic else 0
        has_image = data[base - FLASH_FILE_BASE:][:4] == SLOT_HEADER
        slots.append((seq, s, ok, has_image and (ok or (magic and not trial))))
    order = sorted(slots, key=lambda t: (-t[0], t[1]))
    return next(((s, ok) for _, s, ok, bootable in order if bootable), None)


# -- trust anchor -------------------------------------------------------------------------------
def anchor(board: str, folder: Path | None = None) -> dict | None:
    """The twin's provisioned trust anchor ({"public_key": hex, ...}) or None."""
    p = Path(folder or twin_dir(board)) / ANCHOR_FILE
    return json.loads(p.read_text()) if p.exists() else None


def provision_anchor(board: str, key, key_path: Path | None = None, folder: Path | None = None,
                     erase: bool = True) -> dict:
    """Burn `key`'s public half into the twin's bootloader (re-provisioning erases the flash:
    images signed for the old key would no longer boot)."""
    from edgekit.flash import keys

    folder = Path(folder or twin_dir(board))
    folder.mkdir(parents=True, exist_ok=True)
    rec = {"board": board, "public_key": keys.public_raw(key).hex(),
           "key": str(key_path) if key_path else None, "provisioned": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = folder / (ANCHOR_FILE + ".tmp")
    tmp.write_text(json.dumps(rec, indent=1) + "\n")
    os.replace(tmp, folder / ANCHOR_FILE)
    if erase and (folder / "flash.bin").exists():
        (folder / "flash.bin").unlink()
    return rec


def bootloader_for(board: str, folder: Path | None = None) -> Path:
    """The bootloader ELF built around the twin's own key (never the flashing key)."""
    from edgekit.flash import build

    rec = anchor(board, folder)
    if rec is None:
        raise UserError(f"the {board} twin has no trust anchor yet: run `edgekit keys provision --board {board}`")
    return build.build_bootloader(bytes.fromhex(rec["public_key"]), board)
