"""Emulated twins: QEMU running a board's firmware, its UART on a local TCP port (or a pty).

One class, two boot modes:
- kernel: `-kernel IMAGE` (a firmware image linked at 0x0, or the Linux app under qemu-aarch64);
- flash (mps2 boards with the edgekit bootloader): `-kernel bootloader.elf` plus the board's
  persistent flash file `flash.bin` preloaded at 0x10000 — the bootloader boots what `edgekit
  flash` wrote (edgekit.flash.twin.FlashTwin adds the flash-file helpers and the power switch).

    with Twin("coral", image) as twin:          # start(); stop() on every exit path
        link = serial.serial_for_url(twin.url)   # socket://127.0.0.1:PORT
        twin.write_frame(seq, pixels)            # the camera side channel (a file in the state dir)

QEMU runs with its working directory in the board's state folder (state_dir()/twins/<board>/):
semihosting (mps2) and the Linux app read `camera.bin` and keep `storage.bin` / `flash.bin`
there, so storage persists between runs as a real board keeps its flash. QEMU gets
PR_SET_PDEATHSIG so even a killed host process does not leave an orphan busy-polling a core
(docs/SOURCES.md §5).
"""
from __future__ import annotations

import ctypes
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import tty
from pathlib import Path

from edgekit.catalog import Board, get_board
from edgekit.errors import ToolError, UserError
from edgekit.paths import state_dir

FRAME_MAGIC = 0x4643454B  # "EKCF": u32 magic, seq, length, 0, then the pixels
STOP_GRACE_S = 1.0            # SIGTERM, then SIGKILL: a twin is down within ~1 s of stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _flash_file_base() -> int:
    from edgekit.flash.build import FLASH_FILE_BASE   # flash.bin covers slot 0 .. end of code memory
    return FLASH_FILE_BASE


def twin_state_dir(board: str) -> Path:
    d = state_dir() / "twins" / board
    d.mkdir(parents=True, exist_ok=True)
    return d


class Twin:
    """A board's QEMU twin. `image` boots with -kernel; `bootloader` boots the flash state."""

    def __init__(self, board: str | Board | None = None, image: str | Path | None = None, *,
                 state: Path | None = None, pty: bool = False, icount: int | None = None,
                 extra_args: list[str] | None = None, start_timeout: float = 15.0,
                 bootloader: str | Path | None = None, machine: str | None = None):
        self.board = get_board(board) if isinstance(board, str) else board
        self.bootloader = Path(bootloader).resolve() if bootloader else None
        if self.bootloader is None:
            if self.board is None:
                raise UserError("a twin needs a board (kernel mode) or a bootloader (flash mode)")
            image = image if image is not None else self._last_image()
        self.image = Path(image).resolve() if image is not None else None
        if self.image is not None and not self.image.is_file():
            raise UserError(f"{self.image}: no such firmware image")
        self.machine = machine or (self.board.twin.machine if self.board else None) or "mps2-an500"
        name = self.board.name if self.board else "twin"
        self.state = Path(state) if state else twin_state_dir(name)
        self.state.mkdir(parents=True, exist_ok=True)
        self.pty, self.icount, self.extra_args = pty, icount, list(extra_args or [])
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.bridge: PtyBridge | None = None
        self.log_path = self.state / ("console.log" if self.bootloader else "twin.log")

    def _last_image(self) -> Path:
        from edgekit.firmware.build import last_image

        image = last_image(self.board.name)
        if image is None:
            hint = (f" (or `edgekit flash --board {self.board.name}`, then the twin boots what it flashed)"
                    if getattr(getattr(self.board, "flash", None), "method", None) == "mcuboot-smp" else "")
            raise UserError(f"no image for {self.board.name}: run `edgekit build --board {self.board.name} "
                            f"--model M.tflite` first or pass --image FILE{hint}")
        return image

    @property
    def mode(self) -> str:
        return "flash" if self.bootloader else "kernel"

    @property
    def name(self) -> str:
        return self.board.name if self.board else self.state.name

    # ---- lifecycle -------------------------------------------------------------------------
    def command(self, port: int) -> list[str]:
        if self.bootloader:
            cmd = ["qemu-system-arm", "-M", self.machine, "-nographic", "-monitor", "none",
                   "-semihosting-config", "enable=on,target=native",
                   "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on",
                   "-kernel", str(self.bootloader), "-device", f"loader,file=flash.bin,addr={_flash_file_base():#x}"]
            if self.icount is not None:
                cmd[1:1] = ["-icount", f"shift={self.icount}"]
            return cmd + self.extra_args
        kind = self.board.twin.kind
        cmd = [a.replace("{image}", str(self.image)).replace("{port}", str(port)) for a in self.board.twin.command]
        if kind == "qemu-system-arm":
            if self.icount is not None:
                cmd[1:1] = ["-icount", f"shift={self.icount}"]
            return cmd + self.extra_args
        if kind == "qemu-aarch64":
            return cmd + ["--listen", "0", "--camera", "camera.bin", "--storage", "storage.bin"] + self.extra_args
        raise UserError(f"board {self.board.name!r} has no emulated twin (kind {kind!r})")

    def _tcp_serial(self) -> bool:
        return bool(self.bootloader) or self.board.twin.kind == "qemu-system-arm"

    def start(self) -> "Twin":
        self.stop()
        for attempt in range(3):  # a free port can be taken between probing and QEMU's bind
            try:
                return self._start_once()
            except ToolError as exc:
                if "in use" not in str(exc) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self) -> "Twin":
        port = free_port() if self._tcp_serial() else 0
        cmd = self.command(port)
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(cmd, cwd=self.state, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        except FileNotFoundError as exc:
            pkgs = " ".join(self.board.twin.debian_packages) if self.board else "qemu-system-arm"
            raise ToolError(f"{exc.filename} not found; install {pkgs}") from None
        finally:
            log.close()
        try:
            # QEMU waits for the first client before starting the guest: return once it listens
            # (that client is the caller's session; a probe would start the guest and hang up).
            self.port = self._wait_listening(port)
            self.url = f"socket://127.0.0.1:{self.port}"
            if self.pty:
                self.bridge = PtyBridge(self.port, lazy=True)
                self.url = self.bridge.path
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_listening(self, port: int) -> int:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if port and f"tcp:127.0.0.1:{port},server=on" in text:
                return port
            for line in text.splitlines():
                if line.startswith("ek: listening on 127.0.0.1:"):
                    return int(line.rsplit(":", 1)[1])
            if self.proc.poll() is not None:
                raise ToolError(f"twin of {self.name} exited ({self.proc.returncode}): {text.strip()[-300:]}")
            time.sleep(0.02)
        raise ToolError(f"twin of {self.name} did not open its serial port within {self.start_timeout:g} s")

    def stop(self, grace: float = STOP_GRACE_S) -> int | None:
        """Power off: SIGTERM, SIGKILL after `grace` seconds; the pty bridge closes too."""
        proc = self.proc
        if proc and proc.poll() is None:
            if grace > 0:
                proc.terminate()
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.bridge:
            self.bridge.close()
            self.bridge = None
        return proc.returncode if proc else None

    def kill(self) -> int | None:
        """Power cut: SIGKILL, no chance to flush anything."""
        return self.stop(grace=0)

    def __enter__(self) -> "Twin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)

    def console(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ---- camera side channel ---------------------------------------------------------------
    def write_frame(self, seq: int, pixels: bytes) -> None:
        """Publish one camera frame (atomically: the board never reads half a frame)."""
        tmp = self.state / "camera.bin.tmp"
        tmp.write_bytes(struct.pack("<4I", FRAME_MAGIC, seq & 0xFFFFFFFF, len(pixels), 0) + bytes(pixels))
        os.replace(tmp, self.state / "camera.bin")


class PtyBridge:
    """A pty whose other end is a twin's TCP serial port, for tools that only open device paths
    (e.g. `smpmgr --port /dev/pts/N`). `lazy=True` connects to the board only once a tool opens
    the pty, so nothing the board sends at boot is lost (QEMU starts the guest on connect)."""

    def __init__(self, tcp_port: int, lazy: bool = False):
        self.port = tcp_port
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave: int | None = slave
        if lazy:                       # POLLHUP on the master tells us when a tool holds it
            os.close(slave)
            self._slave = None
        self.sock: socket.socket | None = None if lazy else self._connect()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _pump(self) -> None:
        if self.sock is None:
            poller = select.poll()
            poller.register(self.master, select.POLLIN)
            while not self._stop.is_set():
                if not any(ev & select.POLLHUP for _, ev in poller.poll(50)):
                    break
                time.sleep(0.05)
            if self._stop.is_set():
                return
            try:
                self.sock = self._connect()
            except OSError:
                return
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self.master, self.sock], [], [], 0.1)
                if self.sock in r:
                    data = self.sock.recv(65536)
                    if not data:
                        return            # the twin powered off
                    os.write(self.master, data)
                if self.master in r:
                    self.sock.sendall(os.read(self.master, 65536))
            except OSError:               # no tool holds the pty right now: wait for the next
                time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self.master, self._slave):
            if fd is not None:
                os.close(fd)
        if self.sock:
            self.sock.close()
