"""The image a HIL run tests on a board with a flash twin: the one `edgekit flash` wrote.

`edgekit hil run --image SIGNED.bin` names it. Without --image, when the flash twin can run with a
deterministic clock (FlashTwin takes `icount`), the run flashes the model with the public
`edgekit flash --board B --model M --json` (sign, SMP upload, trial boot, self-test, confirm) and
names what it wrote; a later run with the same model reuses that image when the twin's flash file
still boots it (confirmed, in the slot the bootloader picks), else flashes it again. A FlashTwin
without -icount times inference on the host clock (load-dependent latency), so then the default
stays the -kernel build and the results say why. Either way a flashed session asks the board which
image it runs (sessions/flashed.py) and stops on a mismatch.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from edgekit.errors import ToolError, UserError


def has_flash_twin(board) -> bool:
    flash = getattr(board, "flash", None)
    return getattr(flash, "method", None) == "mcuboot-smp" and board.twin is not None and board.twin.kind == "qemu-system-arm"


def flash_twin_timed() -> bool:
    """The flash twin can run with -icount (the unified twin class): a deterministic board clock."""
    from edgekit.flash.twin import FlashTwin
    from edgekit.hil.sessions.flashed import accepts_icount
    return accepts_icount(FlashTwin)


WHY_KERNEL = ("this FlashTwin takes no -icount, so a flashed twin's latency would follow host load: the "
              "-kernel build ran; pass --image (an image `edgekit flash` wrote) to test a flashed image")


def _record(board: str) -> Path:
    from edgekit.paths import state_dir
    return state_dir() / "hil" / f"flashed-{board}.json"


def _boots(board: str, image: bytes) -> bool:
    """The signed image sits in the slot the twin's bootloader boots, confirmed (read from its flash
    file): an image left in the other slot, or pending a trial boot, does not count."""
    from edgekit.flash.build import FLASH_FILE_BASE, SLOT_BASES
    from edgekit.flash.twin import boot_slot, twin_dir

    flash = twin_dir(board) / "flash.bin"
    booting = boot_slot(flash)
    if booting is None or not booting[1]:
        return False
    with open(flash, "rb") as f:
        f.seek(SLOT_BASES[booting[0]] - FLASH_FILE_BASE)
        return f.read(len(image)) == image


def flashed_image(board: str, model: Path, key_path: Path | None = None) -> Path:
    """The signed image for `model` on the board's flash twin: reused when still there, else flashed."""
    from edgekit.hil.macs import model_tflite

    tflite = model_tflite(model)
    sha = hashlib.sha256(tflite.read_bytes()).hexdigest()
    rec_path = _record(board)
    if rec_path.exists():
        rec = json.loads(rec_path.read_text())
        img = Path(rec.get("image", ""))
        if rec.get("model_sha256") == sha and img.is_file() and _boots(board, img.read_bytes()):
            return img
    from edgekit.progress import status
    status(f"hil: flashing {tflite.name} onto the {board} twin (edgekit flash)")
    cmd = [sys.executable, "-m", "edgekit", "flash", "--board", board, "--model", str(tflite), "--json",
           "--selftest-timeout", "120"]
    if key_path:
        cmd += ["--key", str(key_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise ToolError(f"edgekit flash failed (exit {proc.returncode}): {last[:300]}")
    from edgekit.cli.flash import read_result
    res = read_result(proc.stdout)
    running = next((s for s in res["slots"] if s["active"]), None)
    if not running or running["hash"] != res["hash"] or not running["confirmed"]:
        raise ToolError(f"edgekit flash left the {board} twin running {running}, not its image {res['hash']}")
    rec_path.parent.mkdir(parents=True, exist_ok=True)
    rec_path.write_text(json.dumps({"model": str(tflite), "model_sha256": sha, "image": res["image"], "hash": res["hash"]}))
    return Path(res["image"])


def check_image(path: Path) -> Path:
    from edgekit.flash import image

    if not Path(path).is_file():
        raise UserError(f"no image at {path}")
    image.inspect(Path(path).read_bytes())   # a UserError unless it is an MCUboot image
    return Path(path)
