"""`edgekit farm up`: a farm on one machine, loopback only — a labgrid coordinator, one exporter
publishing two coral twins (each a twin host: serial port + power switch) and a place per twin.

Every process is a child started with PR_SET_PDEATHSIG and stopped by `Farm.stop()` on every exit
path, so a killed `farm up` leaves nothing behind. The coordinator keeps its places in its own
folder (state_dir()/farm/PORT), started fresh each time."""
from __future__ import annotations

import select
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from edgekit.errors import ToolError
from edgekit.farm.exporter_config import render, twin_group
from edgekit.farm.lg import DEFAULT_COORDINATOR, Client, check_coordinator, lg_bin
from edgekit.firmware.twin import _die_with_parent
from edgekit.paths import state_dir

EXPORTER = "edgekit-twins"


def _host_port(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def _wait(what: str, ready, procs: dict[str, subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        for name, p in procs.items():
            if p.poll() is not None:
                raise ToolError(f"{what}: the {name} exited ({p.returncode}) before it was ready")
        if time.monotonic() > deadline:
            raise ToolError(f"{what} not ready within {timeout:g} s")
        time.sleep(0.2)


def default_key() -> Path:
    """The key `edgekit flash` signs with by default (made like `edgekit flash` makes it): the twins
    trust it, so `edgekit flash --port` from this checkout flashes them."""
    from edgekit.flash import keys
    path = keys.default_key_path()
    if not path.exists():
        keys.generate(path)
    return path


def factory_image(board: str, folder: Path) -> Path:
    """The signed slot-0 image a twin is factory-programmed with: the stand-in pilot's app, built the
    way `edgekit flash` builds it (flash origin of slot 0, with SMP management)."""
    from edgekit.catalog import get_board
    from edgekit.firmware.build import build
    from edgekit.flash import keys
    from edgekit.flash.build import HEADER_SIZE, SLOT_BASES
    from edgekit.flash.flow import sign_quiet
    from edgekit.hil.standin import standin_pilot

    b = get_board(board)
    if getattr(getattr(b, "flash", None), "method", None) != "mcuboot-smp":
        from edgekit.firmware.runner import firmware_for
        return firmware_for(board, standin_pilot())   # no flash twin: its twins boot the build with -kernel
    res = build(b, standin_pilot(), state_dir() / "flash-builds" / board / "slot0",
                flash_origin=hex(SLOT_BASES[0] + HEADER_SIZE), with_mgmt=True)
    data = sign_quiet(Path(res.binary).read_bytes(), keys.load(default_key()), "0.0.1+1", board, 0)
    out = folder / f"factory-{board}-slot0.signed.bin"
    out.write_bytes(data)
    return out


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


class Farm:
    def __init__(self, coordinator: str = DEFAULT_COORDINATOR, board: str = "coral", count: int = 2,
                 image: Path | None = None, timeout: float = 120.0):
        self.coordinator = check_coordinator(coordinator)
        self.board, self.count, self.image, self.timeout = board, count, image, timeout
        self.folder = state_dir() / "farm" / str(_host_port(coordinator)[1])
        self.procs: dict[str, subprocess.Popen] = {}
        self.places: dict[str, dict] = {}

    def _spawn(self, name: str, cmd: list[str], **kw) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        try:
            p = subprocess.Popen(cmd, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=kw.pop("stdout", log),
                                 stderr=log, preexec_fn=_die_with_parent, **kw)
        finally:
            log.close()
        self.procs[name] = p
        return p

    def start(self, status=print) -> "Farm":
        try:
            self._start(status)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, status) -> None:
        host, port = _host_port(self.coordinator)
        if _listening(host, port):
            raise ToolError(f"something already listens on {self.coordinator} (another farm or coordinator?); "
                            "pass --coordinator HOST:PORT for another port")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        if self.image is None:
            status(f"farm: building the {self.board} twins' factory image (stand-in pilot; cached after the first time)")
            self.image = factory_image(self.board, self.folder)
        coord = self._spawn("coordinator", [lg_bin("labgrid-coordinator"), "-l", self.coordinator])
        _wait(f"coordinator {self.coordinator}", lambda: _listening(host, port), {"coordinator": coord}, self.timeout)
        groups = {}
        for i in range(1, self.count + 1):
            name = f"{self.board}-{i}"
            p = self._spawn(f"twin-{name}", [sys.executable, "-m", "edgekit", "farm", "twin-host", "--board", self.board,
                                             "--image", str(self.image), "--state", str(self.folder / name),
                                             "--key", str(default_key())],
                            stdout=subprocess.PIPE)
            serial_port, power_port = self._read_ports(p, name)
            info = f"http://127.0.0.1:{power_port}/info"
            groups[name] = twin_group(self.board, serial_port, power_port, info)
            self.places[name] = {"serial": f"socket://127.0.0.1:{serial_port}", "power": info.replace("/info", "/power")}
        cfg = self.folder / "exporter.yaml"
        cfg.write_text(render(groups, f"{self.count} {self.board} twins on loopback (edgekit farm up)"))
        exp = self._spawn("exporter", [lg_bin("labgrid-exporter"), "-c", self.coordinator, "--name", EXPORTER,
                                       "--hostname", "127.0.0.1", str(cfg)])
        client = Client(self.coordinator)

        def published() -> bool:
            out = client.call("resources", check=False).stdout
            return all(f"{EXPORTER}/{g}/NetworkSerialPort" in out for g in groups)
        _wait(f"exporter {EXPORTER}", published, {"coordinator": coord, "exporter": exp}, self.timeout)
        for g in groups:
            client.create_place(g, f"{EXPORTER}/{g}/*")
        status(f"farm: coordinator {self.coordinator} (pid {coord.pid}), exporter {EXPORTER} (pid {exp.pid}), "
               f"places {', '.join(groups)}")

    def _read_ports(self, p: subprocess.Popen, name: str) -> tuple[int, int]:
        deadline = time.monotonic() + self.timeout
        out = p.stdout
        assert out is not None
        while time.monotonic() < deadline:
            if select.select([out], [], [], 0.5)[0]:
                line = out.readline().decode()
                if line.startswith("twin-host: serial "):
                    _, _, s, _, w = line.split()
                    return int(s), int(w)
                if not line:
                    break
        raise ToolError(f"twin host {name} did not start (see {self.folder / f'twin-{name}.log'})")

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            p = self.procs[name]
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
