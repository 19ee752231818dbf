"""Emulated twins: QEMU running a board's firmware image, its UART on a local TCP port (or a pty).

    with Twin("coral", image) as twin:          # start(); stop() on every exit path
        link = serial.serial_for_url(twin.url)   # socket://127.0.0.1:PORT
        twin.write_frame(seq, pixels)            # the camera side channel (a file in the state dir)

QEMU runs with its working directory in the board's state folder (state_dir()/twins/<board>/):
semihosting (mps2) and the Linux app read `camera.bin` and keep `storage.bin` there, so storage
persists between runs as a real board keeps its flash. QEMU gets PR_SET_PDEATHSIG so even a
killed host process does not leave an orphan busy-polling a core (docs/SOURCES.md §5).
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def twin_state_dir(board: str) -> Path:
    d = state_dir() / "twins" / board
    d.mkdir(parents=True, exist_ok=True)
    return d


class Twin:
    def __init__(self, board: str | Board, image: str | Path | None = None, *, state: Path | None = None,
                 pty: bool = False, icount: int | None = None, extra_args: list[str] | None = None,
                 start_timeout: float = 15.0):
        self.board = get_board(board) if isinstance(board, str) else board
        if image is None:
            from edgekit.firmware.build import last_image

            image = last_image(self.board.name)
            if image is None:
                raise UserError(f"no image for {self.board.name}: run `edgekit build --board {self.board.name} "
                                "--model M.tflite` first or pass --image FILE")
        self.image = Path(image).resolve()
        if not self.image.is_file():
            raise UserError(f"{self.image}: no such firmware image")
        self.state = Path(state) if state else twin_state_dir(self.board.name)
        self.state.mkdir(parents=True, exist_ok=True)
        self.pty, self.icount, self.extra_args = pty, icount, list(extra_args or [])
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.url: str | None = None
        self._bridge: threading.Thread | None = None
        self._stop = threading.Event()

    # ---- lifecycle -------------------------------------------------------------------------
    def command(self, port: int) -> list[str]:
        kind = self.board.twin.kind
        cmd = [a.replace("{image}", str(self.image)).replace("{port}", str(port)) for a in self.board.twin.command]
        if kind == "qemu-system-arm":
            if self.icount is not None:
                cmd[1:1] = ["-icount", f"shift={self.icount}"]
            return cmd + self.extra_args
        if kind == "qemu-aarch64":
            return cmd + ["--listen", "0", "--camera", "camera.bin", "--storage", "storage.bin"] + self.extra_args
        raise UserError(f"board {self.board.name!r} has no emulated twin (kind {kind!r})")

    def start(self) -> "Twin":
        for attempt in range(3):  # a free port can be taken between probing and QEMU's bind
            try:
                return self._start_once()
            except ToolError as exc:
                if "in use" not in str(exc) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self) -> "Twin":
        self._stop.clear()
        port = _free_port() if self.board.twin.kind == "qemu-system-arm" else 0
        self.log_path = self.state / "twin.log"
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self.command(port), cwd=self.state, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, preexec_fn=_die_with_parent)
        except FileNotFoundError as exc:
            raise ToolError(f"{exc.filename} not found; install {' '.join(self.board.twin.debian_packages)}") from None
        finally:
            log.close()
        try:
            self.port = self._wait_listening(port)
            self.url = f"socket://127.0.0.1:{self.port}"
            if self.pty:
                self.url = self._start_pty_bridge()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self, port: int) -> int:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if port and "waiting for connection" in text:
                return port
            for line in text.splitlines():
                if line.startswith("ek: listening on 127.0.0.1:"):
                    return int(line.rsplit(":", 1)[1])
            if self.proc.poll() is not None:
                raise ToolError(f"twin of {self.board.name} exited ({self.proc.returncode}): {text.strip()[-300:]}")
            time.sleep(0.02)
        raise ToolError(f"twin of {self.board.name} did not open its serial port within {self.start_timeout:g} s")

    def stop(self) -> int | None:
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._bridge:
            self._bridge.join(2)
        return self.proc.returncode if self.proc else None

    def __enter__(self) -> "Twin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)

    # ---- camera side channel ---------------------------------------------------------------
    def write_frame(self, seq: int, pixels: bytes) -> None:
        """Publish one camera frame (atomically: the board never reads half a frame)."""
        tmp = self.state / "camera.bin.tmp"
        tmp.write_bytes(struct.pack("<4I", FRAME_MAGIC, seq & 0xFFFFFFFF, len(pixels), 0) + bytes(pixels))
        os.replace(tmp, self.state / "camera.bin")

    # ---- pty ---------------------------------------------------------------------------------
    def _start_pty_bridge(self) -> str:
        """A pty whose other end is connected to the board's TCP serial only once a tool opens it,
        so nothing the board sends is lost before then (QEMU waits for the TCP client)."""
        master, slave = os.openpty()
        tty.setraw(slave)
        name = os.ttyname(slave)
        os.close(slave)
        self._bridge = threading.Thread(target=self._bridge_loop, args=(master,), daemon=True)
        self._bridge.start()
        return name

    def _bridge_loop(self, master: int) -> None:
        poller = select.poll()
        poller.register(master, select.POLLIN)
        try:
            while not self._stop.is_set():  # POLLHUP while nobody holds the slave end
                if not any(ev & select.POLLHUP for _, ev in poller.poll(50)):
                    break
                time.sleep(0.05)
            if self._stop.is_set():
                return
            sock = socket.create_connection(("127.0.0.1", self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not self._stop.is_set():
                r, _, _ = select.select([master, sock], [], [], 0.1)
                if sock in r:
                    data = sock.recv(65536)
                    if not data:
                        return
                    os.write(master, data)
                if master in r:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # the tool closed the pty: wait for the next one
                        time.sleep(0.05)
                        continue
                    sock.sendall(data)
        finally:
            os.close(master)
