"""The HIL pytest plugin (loaded by hil_tests/conftest.py): options, fixtures, and the one place that
writes the figures during the run and reads them back into results.json and report.html at the end.

During the run: tests record figures (value, unit, provenance) with `record`, traces with
`record.trace`, and pass/fail limits with `check` (a *device check* when the figure is a measurement,
a *model check* when it is modelled). At the end (pytest_sessionfinish) the plugin writes
results.json and report.html with the verdict (verdict.py): PASSED, FAILED, or INCOMPLETE when a
required test did not run (no board, link or measurement).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from edgekit.hil.bench import QUICK_COUNT, QUICK_WARMUP, Bench, NotRun, Unavailable, need


def pytest_addoption(parser):
    g = parser.getgroup("edgekit-hil")
    g.addoption("--board", default=os.environ.get("EDGEKIT_HIL_BOARD", "coral"))
    g.addoption("--rig", default=os.environ.get("EDGEKIT_HIL_RIG", "sim"))
    g.addoption("--model", default=os.environ.get("EDGEKIT_HIL_MODEL") or None)
    g.addoption("--port", default=None, help="the board's serial port or URL (overrides the rig's link: kind serial)")
    g.addoption("--image", default=None, help="the signed image `edgekit flash` wrote: the flash twin boots it (kind twin)")
    g.addoption("--key", default=None, help="the signing key the flash twin was provisioned with (default: edgekit's)")
    g.addoption("--hil-out", default=os.environ.get("EDGEKIT_HIL_OUT", "build/hil"))
    g.addoption("--twin-camera", default=None, help="a farm place's twin: its twin host's camera URL (edgekit.farm)")
    g.addoption("--link-kind", default=None, choices=("measured-hw", "emulated"),
                help="what --port really reaches, vouched for by its farm place's resources (provenance.vouch)")
    g.addoption("--standin", action="store_true", help="the model is the untrained timing stand-in (standin.py)")
    g.addoption("--quick", action="store_true", default=os.environ.get("EDGEKIT_HIL_QUICK") == "1",
                help="fewer timed inferences than the rig asks (a smoke run; the results say so)")


def _lg_env(config) -> bool:
    """labgrid's pytest plugin is on with an environment (`pytest --lg-env ENV.yaml`)."""
    return bool(getattr(config.option, "lg_env", None))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if _lg_env(config) and not getattr(config.option, "xmlpath", None):   # the same junit.xml as `hil run`
        config.option.xmlpath = str(Path(config.getoption("--hil-out")) / "junit.xml")


# --- writing figures, traces and checks (during the run) ------------------------------------------

def _jsonable(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return str(x)


class Recorder:
    """Appends figures and checks (one JSON line each) and traces (one JSON file each) to the output folder."""

    def __init__(self, out: Path) -> None:
        self.out = out
        (out / "traces").mkdir(parents=True, exist_ok=True)
        self.test = ""

    def _append(self, file: str, rec: dict) -> None:
        with (self.out / file).open("a") as f:
            f.write(json.dumps(rec, default=_jsonable) + "\n")

    def __call__(self, name: str, fig: dict) -> dict:
        self._append("figures.jsonl", {"name": name, "test": self.test, **fig})
        return fig

    def trace(self, name: str, data: dict) -> None:
        (self.out / "traces" / f"{name}.json").write_text(json.dumps(data, default=_jsonable))

    def check(self, name: str, fig: dict, limit: float, op: str = "<=") -> None:
        """Compare a figure with a limit; a modelled figure makes it a model check, else a device check.
        Recorded either way; a failed check fails the test."""
        v = float(fig["value"])
        ok = v <= limit if op == "<=" else v >= limit
        kind = "model" if fig["provenance"] == "modelled" else "device"
        self._append("checks.jsonl", {"name": name, "kind": kind, "value": v, "unit": fig.get("unit", ""),
                                      "provenance": fig["provenance"], "op": op, "limit": limit, "ok": ok,
                                      "test": self.test})
        assert ok, f"{kind} check {name}: {v:.4g} {fig.get('unit', '')} ({fig['provenance']}) not {op} {limit:g}"


# --- test outcomes ----------------------------------------------------------------------------------

_RUN: dict = {}


def pytest_sessionstart(session):
    out = Path(session.config.getoption("--hil-out"))
    for stale in ("figures.jsonl", "checks.jsonl", "results.json", "report.html"):   # this run's records only
        (out / stale).unlink(missing_ok=True)
    for trace in (out / "traces").glob("*.json"):
        trace.unlink()
    _RUN.clear()
    _RUN.update(started=dt.datetime.now(dt.timezone.utc), t0=time.monotonic(), tests={}, not_run=set())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if call.excinfo is not None and call.excinfo.errisinstance(NotRun):
        _RUN["not_run"].add(item.nodeid)
    return rep


def pytest_runtest_logreport(report):
    t = _RUN["tests"].setdefault(report.nodeid, {"id": report.nodeid, "name": report.nodeid.split("::")[-1],
                                                  "outcome": "passed", "seconds": 0.0, "message": ""})
    t["seconds"] += report.duration
    if report.skipped:
        t["outcome"] = "skipped"
        t["message"] = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        t["message"] = t["message"].removeprefix("Skipped: ").removeprefix("edgekit.hil.bench.NotRun: ")
    elif report.failed:
        t["outcome"] = "failed" if report.when == "call" else "error"
        t["message"] = _failure_line(report)


def _failure_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message.splitlines()[0] if crash is not None and crash.message else str(report.longrepr).splitlines()[-1]


def pytest_sessionfinish(session, exitstatus):
    if "tests" not in _RUN or session.config.option.collectonly:
        return
    from edgekit.hil.results import write_results
    for nodeid in _RUN["not_run"]:
        if nodeid in _RUN["tests"]:
            _RUN["tests"][nodeid]["outcome"] = "not-run"
    opt = session.config.getoption
    results = write_results(Path(opt("--hil-out")), board=opt("--board"), rig=_RUN.get("rig") or _rig(session.config), model=opt("--model"),
                  standin=bool(opt("--standin")), quick=bool(opt("--quick")), tests=list(_RUN["tests"].values()),
                  started=_RUN["started"], seconds=time.monotonic() - _RUN["t0"], pytest_exit=int(exitstatus),
                  stopped=getattr(_RUN.get("bench"), "stopped", None) or _RUN.get("stopped"))
    lg = _RUN.get("lg")
    if lg:   # under --lg-env: the place, as `hil run --place` records it
        from edgekit.farm.place import record_place
        record_place(Path(opt("--hil-out")), results, lg["place"], lg["coordinator"], lg["resources"], lg["prov"], None)


# --- fixtures ---------------------------------------------------------------------------------------

def _rig(config):
    from edgekit.hil.rig import load_rig, with_port
    r = load_rig(config.getoption("--rig"))
    port = config.getoption("--port")
    if port and config.getoption("--link-kind"):
        from edgekit.provenance import vouch
        vouch(port, config.getoption("--link-kind"))
    return with_port(r, port) if port else r


def _read_back(board, port: str, image: Path) -> dict:
    """The board on `port` is asked over SMP which image it runs, before anything is measured (as the
    flash twin session does); another hash than `image`'s stops the run (FAILED)."""
    from edgekit.flash import image as mcuboot, smp
    from edgekit.hil.sessions.flashed import ImageMismatch

    want = mcuboot.inspect(image.read_bytes())
    b = smp.wait_for_board(port, timeout=120)
    try:
        slots = b.state()
    finally:
        b.close()
    running = next((s for s in slots if s["active"]), None) or {}
    info = {"image": str(image), "hash": want.hash, "version": running.get("version"), "slot": running.get("slot"),
            "reported_hash": running.get("hash"), "hash_matches": running.get("hash") == want.hash, "slots": slots,
            "how": f"the board's own SMP image state read on {port}, before any measurement"}
    if not info["hash_matches"]:
        raise ImageMismatch(f"the {board.name} board on {port} runs image {running.get('hash', 'none')}, not the "
                            f"image just flashed {image.name} ({want.hash})")
    return info


@pytest.fixture(scope="session")
def board(pytestconfig):
    from edgekit.catalog import get_board
    return get_board(pytestconfig.getoption("--board"))


@pytest.fixture(scope="session")
def lg_place(pytestconfig, request):
    """Under `pytest --lg-env ENV.yaml` (`edgekit farm env`): the acquired place's target, brought to
    "ready" by EdgekitStrategy (edgekit.farm.place.ready_target); None otherwise."""
    if not _lg_env(pytestconfig):
        return None
    from edgekit.farm.place import ready_target
    env = request.getfixturevalue("env")
    _RUN["lg"] = ready_target(request.getfixturevalue("target"), env.config.get_option("coordinator_address"))
    return _RUN["lg"]


@pytest.fixture(scope="session")
def rig(pytestconfig, lg_place):
    if lg_place is None:
        return _rig(pytestconfig)
    from edgekit.hil.rig import with_port
    from edgekit.provenance import vouch
    vouch(lg_place["port"], lg_place["prov"]["link"])
    _RUN["rig"] = with_port(_rig(pytestconfig), lg_place["port"])
    return _RUN["rig"]


@pytest.fixture(scope="session")
def out_dir(pytestconfig) -> Path:
    out = Path(pytestconfig.getoption("--hil-out"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def recorder(out_dir) -> Recorder:
    return Recorder(out_dir)


@pytest.fixture
def record(recorder, request) -> Recorder:
    recorder.test = request.node.nodeid
    return recorder


@pytest.fixture
def check(record) -> Recorder:
    return record.check


@pytest.fixture(scope="session")
def bench(board, rig, out_dir, pytestconfig, recorder, lg_place):
    model, image, key = (pytestconfig.getoption(o) for o in ("--model", "--image", "--key"))
    camera = pytestconfig.getoption("--twin-camera")
    if lg_place is not None:
        camera, image = lg_place["camera"], lg_place["flashed"].get("image") or image
    if image and rig.link.kind == "serial":   # flashed over this port just before the run (a farm place)
        from edgekit.hil.sessions.flashed import ImageMismatch
        try:
            _RUN["image_read"] = _read_back(board, rig.link.port, Path(image))
        except ImageMismatch as exc:
            _RUN["stopped"] = str(exc)
            recorder.trace("image", {"image": image, "reason": str(exc)})
            pytest.exit(str(exc), returncode=1)
    b = _RUN["bench"] = Bench(board, rig, Path(model) if model else None, out_dir,
                              Path(image) if image else None, Path(key) if key else None, camera)
    b.monitor.start()
    yield b
    tw = b.cache.get("twin")
    if tw is not None and not isinstance(tw, Exception):
        recorder.trace("image", {**tw.image_info(), **_RUN.get("image_read", {})})
    b.close()
    b.monitor.stop()
    ss = b.monitor.samples()
    if ss:   # the whole power trace for the report (at most ~5000 points)
        step = max(1, len(ss) // 5000)
        recorder.trace("power", {
            "t_s": [s.t_s for s in ss[::step]], "watts": [s.watts for s in ss[::step]],
            "board_w": [s.board_w for s in ss[::step]], "marks": b.monitor.marks(),
            "provenance": b.monitor.provenance, "monitor": type(b.monitor).__name__})


@pytest.fixture(scope="session")
def model_profile(bench):
    """MACs and op mix of the model under test (macs.py), or None without a model."""
    if bench.model is None or not Path(bench.model).exists():
        return None
    from edgekit.hil.macs import model_profile as profile
    return profile(bench.model)


@pytest.fixture(scope="session")
def quick(pytestconfig) -> bool:
    return bool(pytestconfig.getoption("--quick"))


@pytest.fixture(scope="session")
def latencies(bench, rig, quick):
    """≥ 200 timed inferences after warm-up (--quick: fewer), inside monitor marks infer-start / infer-end."""
    if "latencies" not in bench.cache:
        try:
            count, warmup = (QUICK_COUNT, QUICK_WARMUP) if quick else (rig.inference.count, rig.inference.warmup)
            bench.monitor.mark("infer-start")
            lat = bench.inference_latencies(count, warmup)
            lat.extra["warmup"] = warmup
            if hasattr(bench.monitor, "advance"):   # simulated monitor: the board ran flat out for Σt
                bench.monitor.advance(float(lat.ms.sum()) / 1e3, duty=1.0)
            bench.monitor.mark("infer-end")
            bench.cache["latencies"] = lat
        except Unavailable as exc:
            bench.cache["latencies"] = exc
    lat = bench.cache["latencies"]
    if isinstance(lat, Unavailable):
        raise NotRun(str(lat))
    return lat


@pytest.fixture(scope="session")
def standin(pytestconfig) -> bool:
    return bool(pytestconfig.getoption("--standin"))


@pytest.fixture(scope="session")
def closed_loop(bench, rig, standin):
    """The pilot drives the simulated car for the rig's laps; shared by the closed-loop tests.
    The untrained stand-in cannot drive: then the simulator's expert drives the laps."""
    if standin:
        return need(bench.expert_drive, rig.car.laps)
    return need(bench.drive, rig.car.laps)


@pytest.fixture(scope="session")
def twin_loop(bench, rig):
    """The board twin drives the simulated car for the rig's `car.twin_steps` lockstep steps."""
    if "twin_loop" not in bench.cache:
        try:
            bench.cache["twin_loop"] = bench.twin_steps(rig.car.twin_steps)
        except Unavailable as exc:
            bench.cache["twin_loop"] = exc
    if isinstance(bench.cache["twin_loop"], Unavailable):
        raise NotRun(str(bench.cache["twin_loop"]))
    return bench.cache["twin_loop"]
