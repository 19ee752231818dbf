"""`edgekit hil run`: run hil_tests/ against a rig in a child pytest and return its results.

The suite's plugin (plugin.py) writes OUT/results.json (the verdict, every figure with unit and
provenance, device and model checks, the range comparison with its arithmetic, the test outcomes)
and report.html (report.py); pytest writes junit.xml. The suite runs in a child pytest so a HIL run
can itself be started from a test.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from edgekit.catalog import get_board
from edgekit.errors import ToolError, UserError
from edgekit.hil.rig import load_rig, with_port
from edgekit.paths import HIL_TESTS


def run_hil(board_name: str, rig_name: str, out: Path, model: Path | None = None,
            show_progress: bool = True, boards_dir: str | None = None, quick: bool = False,
            port: str | None = None, image: Path | None = None, kernel: bool = False, watch=None,
            twin_camera: str | None = None, link_kind: str | None = None) -> dict:
    """`watch`: polled (every second) while the suite runs; a reason it returns interrupts the suite
    (SIGINT: the plugin still writes results; e.g. a farm place lost mid-run). `twin_camera`: the
    port is a farm place's twin, whose twin host takes camera frames at this URL (edgekit.farm;
    with no model, `model` is then the stand-in the twin host runs). `image`: the signed image `edgekit flash` wrote, booted by the flash twin (a board with one);
    without it the run flashes the model (flashing.py). `kernel`: boot the model's build with
    -kernel instead (no flash twin, no image check). With `port`, `image` is what was just flashed
    onto the board there (edgekit flash --port): the suite reads its hash back over SMP first.
    `link_kind`: what the port really is when its owner vouches for it (a farm place's resources;
    provenance.vouch), instead of what the URL looks like."""
    board = get_board(board_name, boards_dir)
    rig = load_rig(rig_name)
    if port:
        rig = with_port(rig, port)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("figures.jsonl", "checks.jsonl", "junit.xml", "results.json", "report.html"):
        (out / stale).unlink(missing_ok=True)
    shutil.rmtree(out / "traces", ignore_errors=True)
    from edgekit.hil.flashing import check_image, flash_twin_timed, flashed_image, has_flash_twin
    if image is not None and port is not None:
        if getattr(getattr(board, "flash", None), "method", None) != "mcuboot-smp":
            raise UserError(f"--image on a port needs a board flashed over SMP ({board.name} is not)")
    elif image is not None and (rig.link.kind != "twin" or not has_flash_twin(board) or kernel):
        raise UserError(f"--image needs a board with a flash twin on a twin link ({board.name} on rig {rig.name})")
    if image is not None:
        image = check_image(image)
    standin = model is None and (rig.link.kind == "twin" or twin_camera is not None)
    if standin:   # timing figures need a model on the board, not a trained one
        from edgekit.hil.standin import standin_pilot
        from edgekit.progress import status
        status("hil: no --model: building the untrained timing stand-in pilot (INT8, seeded random weights)")
        model = standin_pilot()
    if image is None and rig.link.kind == "twin" and has_flash_twin(board) and not kernel and model is not None and flash_twin_timed():
        image = flashed_image(board.name, Path(model))
    cmd = [sys.executable, "-m", "pytest", str(HIL_TESTS), "-p", "no:cacheprovider", "-p", "edgekit.hil.pytest_progress",
           f"--junitxml={out / 'junit.xml'}", "-o", "junit_family=xunit2", "-q", "-rs",
           "--board", board.name, "--rig", str(rig.path),
           "--hil-out", str(out.resolve())]
    if port:
        cmd += ["--port", port]
    if twin_camera:
        cmd += ["--twin-camera", twin_camera]
    if link_kind:
        cmd += ["--link-kind", link_kind]
    if image is not None:
        cmd += ["--image", str(Path(image).resolve())]
    if model:
        cmd += ["--model", str(Path(model).resolve())]
    if quick:
        cmd += ["--quick"]
    if standin:
        cmd += ["--standin"]
    env = {**os.environ, "EDGEKIT_HIL_PROGRESS": "1" if show_progress else "0"}
    if boards_dir:
        env["EDGEKIT_BOARDS"] = str(boards_dir)
    with (out / "pytest.log").open("w") as log:
        proc = subprocess.Popen(cmd, cwd=HIL_TESTS, env=env, stdout=log, stderr=None if show_progress else subprocess.STDOUT)
        _wait_suite(proc, watch)
    if not (out / "results.json").exists():
        raise ToolError(f"the HIL suite did not run (pytest exit {proc.returncode}); see {out / 'pytest.log'}")
    return json.loads((out / "results.json").read_text())


def _wait_suite(proc: subprocess.Popen, watch) -> None:
    try:
        while watch is not None and proc.poll() is None:
            if watch():
                proc.send_signal(signal.SIGINT)
                break
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                pass
        try:
            proc.wait(None if watch is None else 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
