"""`edgekit hil run`: flash (or reuse) the image, run hil_tests/ against a rig, write the results.

Outputs in OUT/: junit.xml (pytest), results.json (every figure with unit and provenance, the range
comparison with its arithmetic, the test outcomes) and report.html (report.py). The suite runs in a
child pytest so a HIL run can itself be started from a test.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from edgekit.version import __version__
from edgekit.catalog import get_board
from edgekit.errors import ToolError
from edgekit.hil.rig import load_rig
from edgekit.paths import HIL_TESTS
from edgekit.provenance import PROVENANCES


def _junit_tests(path: Path) -> list[dict]:
    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = (el.get("message") or "").strip()
        tests.append({"id": f"{case.get('classname')}::{case.get('name')}", "name": case.get("name"),
                      "outcome": outcome, "seconds": float(case.get("time") or 0), "message": message})
    return tests


def _load_traces(out: Path) -> dict:
    traces = {}
    for f in sorted((out / "traces").glob("*.json")):
        traces[f.stem] = json.loads(f.read_text())
    return traces


def run_hil(board_name: str, rig_name: str, out: Path, model: Path | None = None,
            show_progress: bool = True, boards_dir: str | None = None, quick: bool = False) -> dict:
    board = get_board(board_name, boards_dir)
    rig = load_rig(rig_name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("figures.jsonl", "junit.xml", "results.json", "report.html"):
        (out / stale).unlink(missing_ok=True)
    shutil.rmtree(out / "traces", ignore_errors=True)
    started = dt.datetime.now(dt.timezone.utc)
    standin = model is None and rig.link.kind == "twin"
    if standin:   # timing figures need a model on the board, not a trained one
        from edgekit.hil.standin import standin_pilot
        from edgekit.progress import status
        status("hil: no --model: building the untrained timing stand-in pilot (INT8, seeded random weights)")
        model = standin_pilot()
    cmd = [sys.executable, "-m", "pytest", str(HIL_TESTS), "-p", "no:cacheprovider", "-p", "edgekit.hil.pytest_progress",
           f"--junitxml={out / 'junit.xml'}", "-o", "junit_family=xunit2", "-q", "-rs",
           "--board", board.name, "--rig", str(rig.path), "--hil-out", str(out)]
    if model:
        cmd += ["--model", str(model)]
    if quick:
        cmd += ["--quick"]
    if standin:
        cmd += ["--standin"]
    env = {**os.environ, "EDGEKIT_HIL_PROGRESS": "1" if show_progress else "0"}
    if boards_dir:
        env["EDGEKIT_BOARDS"] = str(boards_dir)
    with (out / "pytest.log").open("w") as log:
        proc = subprocess.run(cmd, cwd=HIL_TESTS, env=env, stdout=log, stderr=None if show_progress else subprocess.STDOUT)
    if not (out / "junit.xml").exists():
        raise ToolError(f"the HIL suite did not run (pytest exit {proc.returncode}); see {out / 'pytest.log'}")
    tests = _junit_tests(out / "junit.xml")
    figures = {}
    if (out / "figures.jsonl").exists():
        for line in (out / "figures.jsonl").read_text().splitlines():
            rec = json.loads(line)
            figures[rec.pop("name")] = rec
    traces = _load_traces(out)
    summary = {k: sum(t["outcome"] == k for t in tests) for k in ("passed", "failed", "error", "skipped")}
    results = {
        "edgekit": __version__,
        "created_utc": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 1),
        "board": {"name": board.name, "title": board.title, "power": board.power.model_dump(),
                  "accelerator": board.accelerator.model_dump() if board.accelerator else None,
                  "cpu": board.cpu.model_dump()},
        "rig": rig.model_dump(),
        "model": str(model) if model else None,
        "standin": standin,
        "quick": quick,
        "image": traces.get("image") or {"image": None, "reason": "no model given: nothing ran on the board"},
        "passed": proc.returncode == 0 and summary["failed"] == 0 and summary["error"] == 0,
        "pytest_exit": proc.returncode,
        "summary": summary,
        "tests": tests,
        "provenance_legend": {p: d for p, d in zip(PROVENANCES, (
            "measured on real hardware", "measured on this host", "measured on an emulated twin",
            "computed from a model or a datasheet figure (board YAML, battery model)"))},
        "figures": figures,
        "range_comparison": traces.get("range_options", {}),
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    from edgekit.hil.report import write_report
    write_report(results, traces, out / "report.html")
    return results
