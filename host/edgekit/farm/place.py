"""`edgekit hil run --place NAME`: the HIL suite on a labgrid place.

acquire (or wait, or fail clearly) → resolve the place's resources (serial, power, monitor, board)
→ power-cycle the board through labgrid → flash over SMP on the place's serial link (`edgekit flash
--port`: a real board and a twin host's flash twin alike) → run_hil (which reads the image hash back) on the place's serial port, watching the place → power off
→ release, on every exit path. A place whose resources vanish mid-run (its exporter died) ends the
run INCOMPLETE."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from edgekit.errors import ToolError, UserError
from edgekit.farm.lg import Client
from edgekit.provenance import weakest

REAL_MONITORS = ("ina219", "ina226", "joulescope")


def _by_cls(resources: dict) -> dict[str, tuple[str, dict]]:
    """{client-side cls: (resource name, params)}. A path is exporter/group/cls/name; the exporter
    names a resource after its own class (RawSerialPort, USBSerialPort) unless its YAML says `cls:`."""
    out = {}
    for path, r in resources.items():
        parts = path.split("/")
        out[r["cls"]] = (parts[3] if len(parts) > 3 else parts[2], r["params"])
    return out


def serial_url(resources: dict) -> str:
    res = _by_cls(resources).get("NetworkSerialPort")
    if not res:
        raise ToolError("the place has no serial port resource (NetworkSerialPort)")
    p = res[1]
    scheme = "rfc2217" if p.get("protocol") == "rfc2217" else "socket"
    return f"{scheme}://{p['host']}:{p['port']}"


def serial_kind(exp_cls: str, params: dict) -> tuple[str, str]:
    """(measured-hw | emulated, why) for the place's serial link, from what labgrid reports about it:
    the exporter-side class (the resource's name) and the device path the exporter serves through
    ser2net (`extra.path`, which only a tty the exporter opens has). USBSerialPort: udev found a USB
    device on the exporter, hardware.
    RawSerialPort names a path, which labgrid only checks exists: a USB-serial/CDC-ACM node
    (/dev/ttyUSB*, /dev/ttyACM*, /dev/serial/by-*) is a device the kernel made for hardware; a
    pseudo-terminal (/dev/pts/*) is a program; anything else (/dev/ttyS0 exists on every PC) cannot
    be told from the client, so it is not counted as hardware. A NetworkSerialPort published as-is is
    a network endpoint, never hardware by itself."""
    path = str((params.get("extra") or {}).get("path") or "")
    if not path:
        exp_cls = "NetworkSerialPort"   # no tty behind it on the exporter, whatever it is named
    if exp_cls == "USBSerialPort":
        return "measured-hw", f"a USB serial device the exporter found with udev ({path or 'its path unreported'})"
    if exp_cls == "RawSerialPort":
        if path.startswith(("/dev/ttyUSB", "/dev/ttyACM", "/dev/serial/by-id/", "/dev/serial/by-path/")):
            return "measured-hw", f"the exporter's tty {path} (a USB serial / CDC-ACM device node), via ser2net"
        if path.startswith(("/dev/pts/", "/dev/ptmx")):
            return "emulated", f"the exporter's {path} is a pseudo-terminal (a program, not a device)"
        return "emulated", f"the exporter's tty {path or '?'} cannot be told from a device here; not counted as hardware"
    return "emulated", f"a network serial endpoint ({exp_cls or 'no serial resource'}), not a device the exporter found"


def place_provenance(resources: dict) -> dict:
    """What the place's resources really are. The board's link: serial_kind, and a twin host (its
    /info) is always emulated. The monitor: INA219/INA226/Joulescope is measured-hw; a simulated
    one caps the place at emulated (its power is computed, from the board's duty cycle)."""
    by = _by_cls(resources)
    exp_cls, serial_params = by.get("NetworkSerialPort", ("", {}))
    board = by.get("EdgekitBoard", ("", {}))[1]
    twin = _twin_info(board["twin_info"]) if board.get("twin_info") else None
    link, why = ("emulated", "the twin host runs QEMU (its /info)") if twin else serial_kind(exp_cls, serial_params)
    monitor = by.get("EdgekitPowerMonitor", ("", {"kind": "simulated"}))[1].get("kind", "simulated")
    prov = weakest(link, "measured-hw" if monitor in REAL_MONITORS else "emulated")
    return {"provenance": prov, "link": link, "link_why": why, "serial_resource": exp_cls or None, "monitor": monitor,
            "twin": twin, "twin_info_url": board.get("twin_info"), "board": board.get("board")}


def _flash(board: str, model: Path, url: str) -> dict:
    """`edgekit flash --port URL` (SMP: upload to the inactive slot, test, reset, self-test, confirm);
    returns its JSON result (the signed image it wrote and that image's hash)."""
    import fcntl

    from edgekit.paths import state_dir
    from edgekit.progress import status

    # `edgekit flash` builds the app in one folder per board and slot of this checkout: two runs
    # flashing at once (two places) would build into it together, so they take turns here
    lock = state_dir() / "farm" / f"flash-{board}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            status("farm: another run is flashing from this checkout; waiting for its turn")
            fcntl.flock(held, fcntl.LOCK_EX)
        status(f"farm: flashing {Path(model).name} over SMP on {url} (edgekit flash --port)")
        proc = _run_flash(board, model, url)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise ToolError(f"edgekit flash on {url} failed (exit {proc.returncode}): {last[:300]}")
    from edgekit.cli.flash import read_result
    return read_result(proc.stdout)


def _run_flash(board: str, model: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgekit", "flash", "--board", board, "--model", str(model),
                           "--port", url, "--json", "--selftest-timeout", "120"],
                          capture_output=True, text=True, timeout=1800)


def _twin_info(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())
    except OSError:
        return None


def _twin_checks(place: str, prov: dict) -> str:
    """A twin place's twin booted on power-on; returns its twin host's camera URL."""
    info_url = prov["twin_info_url"]
    info = _twin_info(info_url) or {}
    prov["twin"] = info
    if not info.get("powered"):
        raise ToolError(f"place {place}: its twin did not boot (twin host {info_url}: {info or 'no answer'})")
    return info_url.rsplit("/", 1)[0] + "/camera"


def _flashes_over_smp(board: str) -> bool:
    from edgekit.catalog import get_board
    return getattr(getattr(get_board(board), "flash", None), "method", None) == "mcuboot-smp"


class Watch:
    """Polled by run_hil while the suite runs: the place's resources must stay there and available."""

    def __init__(self, client: Client, place: str, want: set[str], every: float = 5.0):
        self.client, self.place, self.want, self.every = client, place, want, every
        self.next = time.monotonic() + every
        self.lost: str | None = None

    def __call__(self) -> str | None:
        if self.lost or time.monotonic() < self.next:
            return self.lost
        self.next = time.monotonic() + self.every
        try:
            now = self.client.resources(self.place)
        except ToolError as exc:
            self.lost = f"the coordinator stopped answering for place {self.place}: {exc}"
            return self.lost
        gone = sorted(p for p in self.want if p not in now or not now[p].get("avail", False))
        if gone:
            self.lost = f"place {self.place} lost its resources mid-run (exporter gone?): {', '.join(gone)}"
        return self.lost


def run_on_place(place: str, coordinator: str, board: str | None, rig: str, out: Path, model: Path | None,
                 wait: float, show_progress: bool, **hil_kw) -> dict:
    from edgekit.hil.run import run_hil
    from edgekit.progress import status

    client = Client(coordinator)
    client.acquire(place, wait)
    powered = False
    try:
        resources = client.resources(place)
        if not resources:
            raise ToolError(f"place {place} has no resources (is its exporter running?)")
        by = _by_cls(resources)
        prov = place_provenance(resources)
        board = board or prov["board"]
        if not board:
            raise UserError(f"place {place} names no board (EdgekitBoard resource): pass --board")
        if prov["board"] and prov["board"] != board:
            raise UserError(f"place {place} holds a {prov['board']} board, not {board}")
        url = serial_url(resources)
        if "NetworkPowerPort" in by or "USBPowerPort" in by or "SysfsGPIO" in by:
            status(f"farm: {place}: power-cycling the board through labgrid")
            client.power(place, "off")
            client.power(place, "on")
            powered = True
        camera = image = None
        if prov["twin"]:
            camera = _twin_checks(place, prov)
        if _flashes_over_smp(board) and (prov["twin"] or model is not None):
            # the strategy's "flashed" state: the run's model (a twin: default the stand-in) goes onto
            # the board over the place's own serial link; the suite reads its hash back before measuring
            from edgekit.hil.standin import standin_pilot
            image = Path(_flash(board, model if model is not None else standin_pilot(), url)["image"])
        watch = Watch(client, place, set(resources))
        results = run_hil(board, rig, out, model, show_progress=show_progress, port=url, watch=watch,
                          twin_camera=camera, image=image, link_kind=prov["link"], **hil_kw)
        results = record_place(out, results, place, coordinator, resources, prov, watch.lost)
        return results
    finally:
        if powered:
            try:
                client.power(place, "off")
            except ToolError:
                pass   # the exporter is gone: nothing left to switch
        client.release(place)


def record_place(out: Path, results: dict, place: str, coordinator: str, resources: dict, prov: dict,
                  lost: str | None) -> dict:
    from edgekit.hil.report import write_report
    from edgekit.hil.results import EXIT_CODES, _load_traces

    results["place"] = {"name": place, "coordinator": coordinator, "resources": sorted(resources), **prov,
                        "lost": lost}
    if lost and results["verdict"] != "FAILED":
        results.update(verdict="INCOMPLETE", why=f"{lost}; the suite was stopped", passed=False,
                       exit_code=EXIT_CODES["INCOMPLETE"])
    (out / "results.json").write_text(json.dumps(results, indent=2))
    write_report(results, _load_traces(out), out / "report.html")
    return results


def ready_target(target, coordinator: str) -> dict:
    """Under labgrid's pytest plugin (`pytest --lg-env`, in .venv-labgrid): bring the place's target
    to "ready" with EdgekitStrategy (power off → flashed over SMP → running → answers the DUT
    protocol) and say what the HIL suite needs: the serial URL, what the place's resources are
    (the same place_provenance as `hil run --place`), the twin host's camera, the image flashed."""
    place = next((r.name for r in target.resources if type(r).__name__ == "RemotePlace"), None)
    if place is None:
        raise UserError("the --lg-env target has no RemotePlace: write one with `edgekit farm env --place NAME`")
    strategy = target.get_driver("EdgekitStrategy")
    strategy.transition("ready")
    resources = Client(coordinator).resources(place)
    prov = place_provenance(resources)
    camera = _twin_checks(place, prov) if prov["twin"] else None
    return {"place": place, "coordinator": coordinator, "port": strategy.port_url(), "resources": resources,
            "prov": prov, "camera": camera, "flashed": strategy.flashed or {}}
