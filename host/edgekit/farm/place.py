"""`edgekit hil run --place NAME`: the HIL suite on a labgrid place.

acquire (or wait, or fail clearly) → resolve the place's resources (serial, power, monitor, board)
→ power-cycle the board through labgrid → flash (a real board: `edgekit flash --port`; a twin host
boots the firmware it serves) → run_hil on the place's serial port, watching the place → power off
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
LOCAL_TTY = ("USBSerialPort", "RawSerialPort")   # the exporter found a tty and serves it via ser2net


def _by_cls(resources: dict) -> dict[str, tuple[str, dict]]:
    """{client-side cls: (exporter-side cls from the path, params)}."""
    out = {}
    for path, r in resources.items():
        out[r["cls"]] = (path.split("/")[2], r["params"])
    return out


def serial_url(resources: dict) -> str:
    res = _by_cls(resources).get("NetworkSerialPort")
    if not res:
        raise ToolError("the place has no serial port resource (NetworkSerialPort)")
    p = res[1]
    scheme = "rfc2217" if p.get("protocol") == "rfc2217" else "socket"
    return f"{scheme}://{p['host']}:{p['port']}"


def place_provenance(resources: dict) -> dict:
    """What the place's resources really are. The board: a tty the exporter found on its machine
    (USBSerialPort/RawSerialPort, served through ser2net) is real hardware; a NetworkSerialPort
    published as-is is a network endpoint (a twin host here) and never counts as hardware — a twin
    host says what it runs on its /info. The monitor: INA219/INA226/Joulescope is measured-hw; a
    simulated one caps the place at emulated (its power is computed, from the board's duty cycle)."""
    by = _by_cls(resources)
    exp_cls = by.get("NetworkSerialPort", ("", {}))[0]
    board = by.get("EdgekitBoard", ("", {}))[1]
    twin = _twin_info(board["twin_info"]) if board.get("twin_info") else None
    link = "measured-hw" if exp_cls in LOCAL_TTY and not twin else "emulated"
    monitor = by.get("EdgekitPowerMonitor", ("", {"kind": "simulated"}))[1].get("kind", "simulated")
    prov = weakest(link, "measured-hw" if monitor in REAL_MONITORS else "emulated")
    return {"provenance": prov, "link": link, "serial_resource": exp_cls or None, "monitor": monitor,
            "twin": twin, "twin_info_url": board.get("twin_info"), "board": board.get("board")}


def _flash(board: str, model: Path, url: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "edgekit", "flash", "--board", board, "--model", str(model),
                           "--port", url, "--json"], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise ToolError(f"edgekit flash on {url} failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")


def _twin_info(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())
    except OSError:
        return None


def _twin_checks(place: str, board: str, model: Path | None, prov: dict) -> str:
    """A twin place boots the firmware its twin host serves: the run's model (default: the stand-in)
    must be the one that firmware was built from. Returns the twin host's camera URL."""
    from edgekit.firmware.runner import firmware_for
    from edgekit.hil.standin import standin_pilot

    info_url = prov["twin_info_url"]
    info = _twin_info(info_url) or {}
    prov["twin"] = info
    if not info.get("powered"):
        raise ToolError(f"place {place}: its twin did not boot (twin host {info_url}: {info or 'no answer'})")
    want = firmware_for(board, model if model is not None else standin_pilot())
    if Path(info.get("image", "")).resolve() != want.resolve():
        raise UserError(f"place {place} runs firmware {info.get('image')}, not the build of "
                        f"{model or 'the stand-in pilot'} ({want}); a twin place boots what its twin host serves")
    return info_url.rsplit("/", 1)[0] + "/camera"


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
        camera = None
        if prov["twin"]:
            camera = _twin_checks(place, board, model, prov)
        elif model is not None and prov["link"] == "measured-hw":
            status(f"farm: {place}: flashing {model} over SMP on {url}")
            _flash(board, model, url)
        watch = Watch(client, place, set(resources))
        results = run_hil(board, rig, out, model, show_progress=show_progress, port=url, watch=watch,
                          twin_camera=camera, **hil_kw)
        results = _record_place(out, results, place, coordinator, resources, prov, watch.lost)
        return results
    finally:
        if powered:
            try:
                client.power(place, "off")
            except ToolError:
                pass   # the exporter is gone: nothing left to switch
        client.release(place)


def _record_place(out: Path, results: dict, place: str, coordinator: str, resources: dict, prov: dict,
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
