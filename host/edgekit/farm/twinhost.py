"""An emulated twin as a bench on an exporter: what a labgrid exporter publishes for it.

- serial: a fixed TCP port (labgrid's NetworkSerialPort, raw) bridged to the QEMU twin's UART,
  whose own port changes every boot;
- power: an HTTP switch in labgrid's `simplerest` NetworkPowerPort form (GET /power/1 boots QEMU,
  /power/0 kills it, /power reads 1 or 0): a twin's power is QEMU start/kill;
- flash: given a signed MCUboot image, the twin is the board's flash twin in its own folder: a trust
  anchor (the given key's public half), the bootloader built around it, and a flash file
  factory-programmed with that image in slot 0. Power-on boots the bootloader, which boots the
  active slot; clients flash it over the serial port with SMP (`edgekit flash --port`), and what
  they wrote survives power cycles (flash.bin). Given a plain firmware image, QEMU boots it with
  -kernel instead (no flashing);
- GET /info: what actually runs behind the port (JSON), for a place's provenance;
- POST /camera?seq=N: one camera frame for the twin (its camera is a file next to QEMU; a real
  board reads its own camera), so a remote HIL run can drive it in lockstep.

While powered off the serial port accepts and closes at once (no board there)."""
from __future__ import annotations

import json
import queue
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from edgekit.firmware.twin import Twin
from edgekit.flash.image import IMAGE_MAGIC


class TwinHost:
    def __init__(self, board: str, image: Path, state: Path, key: Path | None = None, serial_port: int = 0,
                 power_port: int = 0):
        self.board, self.image, self.state = board, Path(image), Path(state)
        self.twin: Twin | None = None
        self.bootloader: Path | None = None
        if self.image.read_bytes()[:4] == IMAGE_MAGIC.to_bytes(4, "little"):
            self._provision(key)
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", serial_port))
        self.serial_port = self.listener.getsockname()[1]
        self.http = ThreadingHTTPServer(("127.0.0.1", power_port), _handler(self))
        self.power_port = self.http.server_address[1]
        self.stopping = threading.Event()
        self.jobs: queue.Queue = queue.Queue()
        self.owner = threading.current_thread()

    # ---- power ------------------------------------------------------------------------------
    def powered(self) -> bool:
        return bool(self.twin and self.twin.alive())

    def set_power(self, on: bool, timeout: float = 120.0) -> None:
        """Switch from any thread; the switching itself runs on serve()'s thread, because QEMU dies
        with the thread that started it (PR_SET_PDEATHSIG follows the parent thread)."""
        if threading.current_thread() is self.owner:
            return self._switch(on)
        job: dict[str, Any] = {"on": on, "done": threading.Event(), "error": None}
        self.jobs.put(job)
        if not job["done"].wait(timeout):
            raise TimeoutError(f"power {'on' if on else 'off'} did not finish within {timeout:g} s")
        if job["error"]:
            raise job["error"]

    def _switch(self, on: bool) -> None:
        with self.lock:
            self._drop_conns()
            if self.twin:
                self.twin.stop()
                self.twin = None
            if on:  # -icount 0: the twin's clock is deterministic, as `edgekit hil run` times it
                if self.bootloader:
                    from edgekit.flash.twin import FlashTwin
                    twin = FlashTwin(self.state, self.bootloader, icount=0)
                    twin.start()
                    self.twin = twin
                else:
                    self.twin = Twin(self.board, self.image, state=self.state, icount=0).start()

    def _provision(self, key: Path | None) -> None:
        """A fresh flash twin in `state`, like a factory programmer: trust anchor, bootloader, slot 0."""
        from edgekit.errors import UserError
        from edgekit.flash import keys
        from edgekit.flash.twin import FlashTwin, bootloader_for, provision_anchor

        if key is None:
            raise UserError("a signed image needs --key: the public key the twin's bootloader trusts")
        provision_anchor(self.board, keys.load(key), key, folder=self.state, erase=True)
        self.bootloader = bootloader_for(self.board, self.state)
        twin = FlashTwin(self.state, self.bootloader)
        twin.erase_all()
        twin.provision(self.image.read_bytes(), slot=0)

    def info(self) -> dict:
        t = self.twin
        boot = ({"boots": "the bootloader, from the active slot of its flash file (flash over SMP on the serial port)",
                 "factory_image": str(self.image)} if self.bootloader else
                {"boots": "a firmware image with -kernel (no flashing)", "image": str(self.image)})
        return {"board": self.board, "kind": "emulated-twin", "emulator": "qemu", **boot,
                "powered": self.powered(), "qemu_pid": t.proc.pid if t and t.proc and t.alive() else None}

    # ---- serial bridge ----------------------------------------------------------------------
    def _drop_conns(self) -> None:
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.conns.clear()

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                twin = self.twin
                if twin is None or not self.powered():
                    client.close()
                    continue
                try:
                    board = socket.create_connection(("127.0.0.1", twin.port or 0), timeout=5)
                except OSError:
                    client.close()
                    continue
                board.settimeout(None)
                for s in (client, board):
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.conns += [client, board]
            for a, b in ((client, board), (board, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def serve(self, on_ready=None) -> None:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.owner = threading.current_thread()
        if on_ready:
            on_ready(self)
        while not self.stopping.is_set():
            try:
                job = self.jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self._switch(job["on"])
            except Exception as exc:  # noqa: BLE001 - handed to the HTTP caller
                job["error"] = exc
            job["done"].set()

    def close(self) -> None:
        self.stopping.set()
        self.http.shutdown()
        self.listener.close()
        self._switch(False)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):  # one side hung up: close both, so the other end sees it too
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _handler(host: TwinHost):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            path = self.path.rstrip("/")
            try:
                if path in ("/power/1", "/power/0"):
                    host.set_power(path.endswith("1"))
                    body, ctype = ("1" if host.powered() else "0"), "text/plain"
                elif path == "/power":
                    body, ctype = ("1" if host.powered() else "0"), "text/plain"
                elif path == "/info":
                    body, ctype = json.dumps(host.info()), "application/json"
                else:
                    self.send_error(404)
                    return
            except Exception as exc:  # noqa: BLE001 - a twin that fails to boot: tell the caller
                self.send_error(500, str(exc)[:200])
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802
            from urllib.parse import parse_qs, urlparse
            u = urlparse(self.path)
            seq = parse_qs(u.query).get("seq", [""])[0]
            if u.path != "/camera" or not seq.isdigit():
                self.send_error(404)
                return
            pixels = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            twin = host.twin
            if twin is None or not host.powered():
                self.send_error(409, "the twin is powered off")
                return
            twin.write_frame(int(seq), pixels)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler
