"""The HIL suite runs against one board and one rig: `edgekit hil run --board B --rig R` (or
`pytest hil_tests --board B --rig R [--model M] [--hil-out DIR]`).

Tests record their figures (value, unit, provenance) with the `record` fixture; run.py turns the
recorded figures and traces into results.json and report.html. A test whose measurement this
checkout or rig cannot make skips with the reason; it never substitutes a made-up number.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from edgekit.catalog import get_board
from edgekit.hil.bench import QUICK_COUNT, QUICK_WARMUP, Bench, Unavailable, need
from edgekit.hil.rig import load_rig


def pytest_addoption(parser):
    g = parser.getgroup("edgekit-hil")
    g.addoption("--board", default=os.environ.get("EDGEKIT_HIL_BOARD", "coral"))
    g.addoption("--rig", default=os.environ.get("EDGEKIT_HIL_RIG", "sim"))
    g.addoption("--model", default=os.environ.get("EDGEKIT_HIL_MODEL") or None)
    g.addoption("--hil-out", default=os.environ.get("EDGEKIT_HIL_OUT", "build/hil"))
    g.addoption("--standin", action="store_true", help="the model is the untrained timing stand-in (standin.py)")
    g.addoption("--quick", action="store_true", default=os.environ.get("EDGEKIT_HIL_QUICK") == "1",
                help="fewer timed inferences than the rig asks (a smoke run; the results say so)")


class Recorder:
    """Appends figures (one JSON line each) and traces (one JSON file each) to the output folder."""

    def __init__(self, out: Path) -> None:
        self.out = out
        (out / "traces").mkdir(parents=True, exist_ok=True)
        self.path = out / "figures.jsonl"
        self.test = ""

    def __call__(self, name: str, fig: dict) -> dict:
        with self.path.open("a") as f:
            f.write(json.dumps({"name": name, "test": self.test, **fig}, default=_jsonable) + "\n")
        return fig

    def trace(self, name: str, data: dict) -> None:
        (self.out / "traces" / f"{name}.json").write_text(json.dumps(data, default=_jsonable))


def _jsonable(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return str(x)


@pytest.fixture(scope="session")
def board(pytestconfig):
    return get_board(pytestconfig.getoption("--board"))


@pytest.fixture(scope="session")
def rig(pytestconfig):
    return load_rig(pytestconfig.getoption("--rig"))


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


@pytest.fixture(scope="session")
def bench(board, rig, out_dir, pytestconfig) -> Bench:
    model = pytestconfig.getoption("--model")
    b = Bench(board, rig, Path(model) if model else None, out_dir)
    b.monitor.start()
    yield b
    tw = b.cache.get("twin")
    if tw is not None and not isinstance(tw, Exception):
        Recorder(out_dir).trace("image", tw.image_info())
    b.close()
    b.monitor.stop()
    ss = b.monitor.samples()
    if ss:   # the whole power trace for the report (at most ~5000 points)
        step = max(1, len(ss) // 5000)
        Recorder(out_dir).trace("power", {
            "t_s": [s.t_s for s in ss[::step]], "watts": [s.watts for s in ss[::step]],
            "board_w": [s.board_w for s in ss[::step]], "marks": b.monitor.marks(),
            "provenance": b.monitor.provenance, "monitor": rig.monitor.kind})




@pytest.fixture(scope="session")
def quick(pytestconfig) -> bool:
    return bool(pytestconfig.getoption("--quick"))


@pytest.fixture(scope="session")
def latencies(bench, rig, quick):
    """≥ 200 timed inferences after warm-up (--quick: 20), inside monitor marks infer-start / infer-end."""
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
        pytest.skip(str(lat))
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
        bench.cache["twin_loop"] = need(bench.twin_steps, rig.car.twin_steps)
    return bench.cache["twin_loop"]
