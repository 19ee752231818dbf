"""The mps2-an500 twin with persistent flash and a power switch.

QEMU runs in the board's state folder (`.edgekit/twins/<board>/`): `-kernel bootloader.elf`
puts the bootloader at 0x0 and `-device loader,file=flash.bin,addr=0x10000` preloads both slots
and the storage area from `flash.bin` (0x10000..0x400000, 0xFF when erased). The firmware writes
flash through ek_flash_twin.c, which also writes the same bytes into `flash.bin` with semihosting,
so `kill()` (SIGKILL) is a power cut: the next `start()` sees exactly what was written before.
The semihosting console (bootloader log) goes to `console.log`.
"""
from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

from edgekit.errors import ToolError
from edgekit.flash.build import FLASH_END, FLASH_FILE_BASE, SLOT_BASES, SLOT_SIZE
from edgekit.paths import state_dir

BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")


def twin_dir(board: str) -> Path:
    d = state_dir() / "twins" / board
    d.mkdir(parents=True, exist_ok=True)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FlashTwin:
    def __init__(self, folder: Path, bootloader_elf: Path, machine: str = "mps2-an500"):
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.flash = self.dir / "flash.bin"
        self.bootloader = Path(bootloader_elf)
        self.machine = machine
        self.proc: subprocess.Popen | None = None
        self.port = 0
        if shutil.which("qemu-system-arm") is None:
            raise ToolError("qemu-system-arm not found (apt-get install qemu-system-arm)")

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

    def provision(self, signed_image: bytes, slot: int = 0, seq: int = 1) -> None:
        """Factory-install a confirmed image (what a production programmer would do)."""
        self.ensure_flash()
        base = SLOT_BASES[slot]
        self.write(base + SLOT_SIZE - 0x1000, b"\xff" * 0x1000)
        self.write(base, signed_image)
        trailer = bytearray(b"\xff" * 64)
        trailer[0:4] = struct.pack("<I", seq)
        trailer[32] = 1            # image_ok
        trailer[48:64] = BOOT_MAGIC
        self.write(base + SLOT_SIZE - 64, bytes(trailer))

    # -- power ------------------------------------------------------------------------------
    def start(self) -> str:
        """Power on; returns the pyserial URL of the board's UART (the guest starts on connect)."""
        self.ensure_flash()
        self.stop()
        self.port = free_port()
        cmd = ["qemu-system-arm", "-M", self.machine, "-nographic", "-monitor", "none",
               "-semihosting-config", "enable=on,target=native",
               "-serial", f"tcp:127.0.0.1:{self.port},server=on,wait=on,nodelay=on",
               "-kernel", str(self.bootloader.resolve()),
               "-device", f"loader,file={self.flash.name},addr={FLASH_FILE_BASE:#x}"]
        log = open(self.dir / "console.log", "wb")
        proc = self.proc = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)
        log.close()
        # QEMU waits for the first client before starting the guest: return once it listens
        # (that client is the caller's session; a probe would start the guest and hang up).
        deadline = time.monotonic() + 10
        marker = f"tcp:127.0.0.1:{self.port},server=on".encode()
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ToolError(f"QEMU exited at start (see {self.dir / 'console.log'})")
            if marker in (self.dir / "console.log").read_bytes()[-4096:]:
                return self.url
            time.sleep(0.02)
        self.stop()
        raise ToolError("QEMU did not open its serial port within 10 s")

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """Power cut: SIGKILL, no chance to flush anything."""
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(5)

    stop = kill

    def console(self) -> str:
        p = self.dir / "console.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def __enter__(self) -> "FlashTwin":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


class PtyBridge:
    """A pty whose other end is the twin's TCP serial port, for clients that only open device
    paths (e.g. `smpmgr --port /dev/pts/N`). Runs a forwarding thread until `close()`."""

    def __init__(self, tcp_port: int):
        import pty
        import threading
        import tty

        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.sock = socket.create_connection(("127.0.0.1", tcp_port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._stop = False
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        import select

        while not self._stop:
            r, _, _ = select.select([self.master, self.sock], [], [], 0.1)
            try:
                if self.master in r:
                    self.sock.sendall(os.read(self.master, 4096))
                if self.sock in r:
                    data = self.sock.recv(4096)
                    if not data:
                        return
                    os.write(self.master, data)
            except OSError:
                continue   # no client has the pty open right now

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()
        os.close(self.master)
        os.close(self._slave)
