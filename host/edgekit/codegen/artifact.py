"""The compiled folder is the artifact of the compile stage (docs/CONTRACTS.md): build, flash, HIL
and the twins consume it. `compiled_for(model, board)` returns one for a .tflite (compiled once
into a content-addressed cache) or checks one the user compiled with `edgekit compile`."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from edgekit.errors import UserError

FORMAT = "edgekit-compiled/1"  # report.json "format": bump when a consumer's fields change


def generator_sources() -> list[Path]:
    """Everything that shapes a compiled folder: the code generator, the .tflite reader and the
    C runtime it copies (a stale cache must never be used)."""
    from edgekit.paths import FIRMWARE

    codegen = Path(__file__).resolve().parent
    files = list(codegen.rglob("*.py"))
    files += [p for p in (FIRMWARE / "runtime").rglob("*") if p.is_file()]
    return sorted(p for p in files if "__pycache__" not in p.parts)


def cache_key(tflite: Path, board: str, name: str | None = None) -> str:
    h = hashlib.sha256(Path(tflite).read_bytes())
    h.update(f"\0board={board}\0name={name or ''}\0".encode())
    for p in generator_sources():
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:20]


def load_report(model_dir: Path) -> dict:
    """report.json of a compiled folder; a one-line UserError when the folder is not one."""
    model_dir = Path(model_dir)
    path = model_dir / "report.json"
    if not (model_dir / "ek_model.h").is_file() or not path.is_file():
        raise UserError(f"{model_dir}: not a compiled model folder (no ek_model.h/report.json; run edgekit compile)")
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable report ({exc})") from None
    if report.get("format") != FORMAT:
        raise UserError(f"{model_dir}: compiled by another edgekit (report format {report.get('format')!r}, "
                        f"need {FORMAT!r}); compile it again")
    return report


def _board_name(board) -> str:
    return "host" if board is None else board if isinstance(board, str) else board.name


def compiled_for(model, board=None, name: str | None = None) -> Path:
    """The compiled folder for model M on board B: M is a .tflite (compiled once into
    state_dir()/compiled/<key>/, key = hash of the .tflite, the generator and runtime sources, the
    board and the symbol name) or a folder from `edgekit compile` (checked, returned as is)."""
    from edgekit.paths import state_dir

    model, bname = Path(model), _board_name(board)
    if model.is_dir():
        report = load_report(model)
        if bname != "host" and report["board"] != bname:   # board-specific parts (Makefile, partitions)
            raise UserError(f"{model}: compiled for board {report['board']!r}, not {bname!r} "
                            f"(edgekit compile {report['source']['path']} --board {bname})")
        return model
    if not model.is_file():
        raise UserError(f"no such model: {model}")
    if model.suffix != ".tflite":
        raise UserError(f"{model}: expected an INT8 .tflite or a compiled model folder")
    out = state_dir() / "compiled" / cache_key(model, bname, name)
    if (out / "report.json").is_file():
        return out
    from edgekit.codegen import compile_model

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    try:
        compile_model(model, tmp, board=None if bname == "host" else bname, name=name)
        try:
            os.rename(tmp, out)   # atomic; a concurrent compile of the same key may have won
        except OSError:
            if not (out / "report.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
