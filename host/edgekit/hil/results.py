"""The verdict and results.json of one HIL run, from what the plugin recorded (plugin.py).

Verdict:
  FAILED      a test's assertion or check failed (the names are listed), or the run was stopped
              (the board runs another image than the one named);
  INCOMPLETE  nothing failed, but a required test did not run (no board, link or measurement:
              skipped with NotRun, or an error before it could measure), or no device check ran
              at all; the names of the tests that did not run are listed;
  PASSED      every required test ran and every check held.
A skip that is not a missing measurement (the board has no accelerator, the stand-in cannot drive)
is "skipped" and does not make a run incomplete.
"""
from __future__ import annotations

import json
from pathlib import Path

from edgekit.version import __version__
from edgekit.provenance import PROVENANCES

EXIT_CODES = {"PASSED": 0, "FAILED": 1, "INCOMPLETE": 3}   # 2 is bad input (UserError)


def verdict(tests: list[dict], checks: list[dict], stopped: str | None = None) -> dict:
    failed = [t["name"] for t in tests if t["outcome"] == "failed"]
    not_run = [{"name": t["name"], "outcome": t["outcome"], "reason": t["message"]}
               for t in tests if t["outcome"] in ("not-run", "error")]
    device = [c for c in checks if c["kind"] == "device"]
    if stopped:
        v, why = "FAILED", f"stopped: {stopped}"
    elif failed:
        v, why = "FAILED", f"{len(failed)} failed: {', '.join(failed)}"
    elif not_run:
        v, why = "INCOMPLETE", f"{len(not_run)} required tests did not run: {', '.join(t['name'] for t in not_run)}"
    elif not device:
        v, why = "INCOMPLETE", "no device check ran (every check was on modelled figures)"
    else:
        v, why = "PASSED", f"{len(device)} device checks and {len(checks) - len(device)} model checks held"
    return {"verdict": v, "why": why, "failed": failed, "did_not_run": not_run}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _load_traces(out: Path) -> dict:
    return {f.stem: json.loads(f.read_text()) for f in sorted((out / "traces").glob("*.json"))}


def write_results(out: Path, *, board: str, rig, model: str | None, standin: bool, quick: bool,
                  tests: list[dict], started, seconds: float, pytest_exit: int, stopped: str | None = None) -> dict:
    from edgekit.catalog import get_board
    from edgekit.hil.report import write_report

    b = get_board(board)
    figures = {}
    for rec in read_jsonl(out / "figures.jsonl"):
        figures[rec.pop("name")] = rec
    checks = read_jsonl(out / "checks.jsonl")
    traces = _load_traces(out)
    v = verdict(tests, checks, stopped)
    summary = {k: sum(t["outcome"] == k for t in tests) for k in ("passed", "failed", "error", "skipped", "not-run")}
    profile = None
    if model and Path(model).exists():
        from edgekit.hil.macs import model_profile
        profile = model_profile(Path(model))
    results = {
        "edgekit": __version__,
        "created_utc": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        **v,
        "passed": v["verdict"] == "PASSED",
        "exit_code": EXIT_CODES[v["verdict"]],
        "board": {"name": b.name, "title": b.title, "power": b.power.model_dump(),
                  "accelerator": b.accelerator.model_dump() if b.accelerator else None, "cpu": b.cpu.model_dump()},
        "rig": rig.model_dump(),
        "model": model,
        "model_profile": profile,
        "standin": standin,
        "quick": quick,
        "image": traces.get("image") or {"image": None, "reason": stopped or "no session with the board was opened: nothing ran on it"},
        "pytest_exit": pytest_exit,
        "summary": summary,
        "tests": tests,
        "checks": {"device": [c for c in checks if c["kind"] == "device"],
                   "model": [c for c in checks if c["kind"] == "model"]},
        "provenance_legend": {p: d for p, d in zip(PROVENANCES, (
            "measured on real hardware", "measured on this host", "measured on an emulated twin",
            "computed from a model or a datasheet figure (board YAML, battery model)"))},
        "figures": figures,
        "range_comparison": traces.get("range_options", {}),
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    write_report(results, traces, out / "report.html")
    return results
