"""`edgekit demo [--out DIR] [--full]`: the whole pipeline on the emulated `coral` and the `sim` rig.

record (expert driver, DonkeyCar tub) → train (pilot CNN) → quantize (full INT8) → compile (static C)
→ flash (MCUboot/SMP onto the coral twin) → HIL (`edgekit hil run --board coral --rig sim`).
Each stage is the public CLI command, run as its own process and timed (measured-host); a stage
whose command this checkout lacks is reported as skipped and the rest still runs. By default the
HIL stage is `--quick` (10 timed inferences) to keep the demo within ~5 minutes on 2 cores;
`--full` runs the rig's ≥ 200.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

BOARD, RIG = "coral", "sim"


def register(sub) -> None:
    p = sub.add_parser("demo", help="record → train → quantize → compile → flash → HIL on the emulated coral + sim rig")
    p.add_argument("--out", default="build/demo", help="working folder (default: build/demo)")
    p.add_argument("--laps", type=int, default=3, help="laps the expert records (default 3)")
    p.add_argument("--epochs", type=int, default=5, help="training epochs (default 5, batch 32: the pilot then laps the oval)")
    p.add_argument("--full", action="store_true", help="HIL with the rig's ≥ 200 timed inferences (slower)")
    p.add_argument("--json", action="store_true", help="print the stage timings as JSON")
    p.set_defaults(func=run)


def _stages(out: Path, args) -> list[tuple[str, list[str], bool, bool]]:
    """(name, edgekit arguments, required, background): a required stage that fails stops the demo;
    a background stage would run beside the next one (none does: on a loaded 2-core host a flash
    beside the HIL twin timed out its SMP requests)."""
    tub_a, tub_b = out / "tub-a", out / "tub-b"
    keras_model, int8 = out / "pilot.keras", out / "pilot_int8.tflite"
    hil = ["hil", "run", "--board", BOARD, "--rig", RIG, "--model", str(int8), "--out", str(out / "hil")]
    # two recordings with different seeds and steering noise (the recipe tests/test_train_pilot.py
    # shows closing the loop on the oval)
    return [
        ("record", ["sim", "record", "--track", "oval", "--laps", str(args.laps), "--seed", "21", "--noise", "0.3",
                    "--out", str(tub_a)], True, False),
        ("record", ["sim", "record", "--track", "oval", "--laps", "2", "--seed", "22", "--noise", "0.5",
                    "--out", str(tub_b)], True, False),
        ("train", ["train", str(tub_a), str(tub_b), "--out", str(keras_model), "--epochs", str(args.epochs),
                   "--batch-size", "32", "--threads", "2", "--no-tflite"], True, False),
        ("quantize", ["quantize", str(keras_model), "--calib", str(tub_a), "--out", str(int8), "--samples", "64",
                      "--layer-frames", "2", "--report", str(out / "quantize.json")], True, False),
        ("compile", ["compile", str(int8), "--board", BOARD, "--out", str(out / "compiled"), "--no-size"], True, False),
        ("flash", ["flash", "--board", BOARD, "--model", str(int8), "--confirm", "--json"], False, False),
        ("hil", hil + ([] if args.full else ["--quick"]), False, False),
    ]


def _finish(job, stages, figure, status) -> str | None:
    name, proc, t0, log, log_path, required = job
    proc.wait()
    log.close()
    secs = time.perf_counter() - t0
    outcome = "passed" if proc.returncode == 0 else "failed"
    stages.append({"stage": name, "outcome": outcome, "exit": proc.returncode,
                   "seconds": figure(round(secs, 1), "s", "measured-host"), "log": str(log_path)})
    status(f"demo: {name}: {outcome} in {secs:.1f} s (measured-host)")
    return name if proc.returncode != 0 and required else None


def _flashed_image(log_path: Path) -> str | None:
    """The signed image the flash stage (`edgekit flash --json`) wrote."""
    from edgekit.cli.flash import read_result
    try:
        return read_result(log_path.read_text())["image"]
    except (ValueError, KeyError):
        return None


def _available(group: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(f"edgekit.cli.{group}") is not None


def run(args) -> int:
    from edgekit.errors import ToolError
    from edgekit.progress import status
    from edgekit.provenance import figure, fmt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import shutil
    for tub in out.glob("tub-*"):   # a tub appends: start each demo from fresh recordings
        shutil.rmtree(tub)
    # the demo's twins, builds and signing key live in its own state folder, so it neither
    # disturbs nor is disturbed by other twins of the same board (tests, `edgekit twin`)
    env = {**os.environ, "EDGEKIT_STATE": os.environ.get("EDGEKIT_STATE") or str((out / "state").resolve())}
    stages, t_all = [], time.perf_counter()
    failed, background, flashed = None, [], None
    for k, (name, argv, required, in_background) in enumerate(_stages(out, args)):
        if not _available(argv[0]):
            stages.append({"stage": name, "outcome": "skipped", "reason": f"`edgekit {argv[0]}` is not in this checkout"})
            status(f"demo: {name}: skipped (edgekit {argv[0]} not available)")
            continue
        if name == "hil" and flashed:   # the flash stage's artifact: the HIL boots and checks that image
            argv = [*argv, "--image", flashed]
        status(f"demo: {name}: edgekit {' '.join(argv)}" + (" (in the background)" if in_background else ""))
        log_path = out / f"{k}-{name}.log"
        log = log_path.open("w")
        # the HIL stage draws its own progress bar on the terminal; the others log to a file
        proc = subprocess.Popen([sys.executable, "-m", "edgekit", *argv], stdout=log, env=env,
                                stderr=None if name == "hil" else subprocess.STDOUT)
        job = (name, proc, time.perf_counter(), log, log_path, required)
        if in_background:
            background.append(job)
            continue
        failed = _finish(job, stages, figure, status) or failed
        if failed:
            break
        if name == "flash" and proc.returncode == 0:
            flashed = _flashed_image(log_path)
    for job in background:
        _finish(job, stages, figure, status)
    total = figure(round(time.perf_counter() - t_all, 1), "s", "measured-host")
    summary = {"board": BOARD, "rig": RIG, "stages": stages, "total": total, "out": str(out),
               "report": str(out / "hil" / "report.html")}
    (out / "demo.json").write_text(json.dumps(summary, indent=2))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for s in stages:
            took = fmt(s["seconds"]) if "seconds" in s else s.get("reason", "")
            print(f"{s['stage']:<9} {s['outcome']:<8} {took}")
        print(f"total     {fmt(total)}; report: {summary['report']}")
    if failed:
        raise ToolError(f"demo stopped: stage {failed} failed; see its log in {out}")
    return 0 if all(s["outcome"] != "failed" for s in stages) else 1
