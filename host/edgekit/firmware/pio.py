"""Run PlatformIO offline on the in-repo dev-platform (firmware/platform/, docs/SOURCES.md §6).

The registry is unreachable, so the one core package PlatformIO needs, `tool-scons`, is seeded
from the `scons` wheel installed in this venv into a workspace-local PLATFORMIO_CORE_DIR.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import SCons

from edgekit.errors import ToolError
from edgekit.paths import FIRMWARE, state_dir

SCONS_PKG_VERSION = "4.41101.0"  # what platformio 6.2 asks for (~4.41101.0)
_LAUNCHER = "import sys, os\nsys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scons-local'))\nfrom SCons.Script import main\nmain()\n"


def core_dir() -> Path:
    return state_dir() / "platformio"


def seed_core(core: Path | None = None) -> Path:
    """Create $core/packages/tool-scons from the installed SCons, once."""
    core = core or core_dir()
    pkg = core / "packages" / "tool-scons"
    if (pkg / ".piopm").exists():
        return core
    tmp = pkg.with_name("tool-scons.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(Path(SCons.__file__).parent, tmp / "scons-local" / "SCons",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "scons.py").write_text(_LAUNCHER)
    (tmp / "package.json").write_text(json.dumps({"name": "tool-scons", "version": SCONS_PKG_VERSION,
                                                  "description": "SCons from the PyPI wheel (seeded offline)"}))
    (tmp / ".piopm").write_text(json.dumps({
        "type": "tool", "name": "tool-scons", "version": SCONS_PKG_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None}}))
    shutil.rmtree(pkg, ignore_errors=True)
    tmp.rename(pkg)
    return core


def pio_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(PLATFORMIO_CORE_DIR=str(seed_core()), PLATFORMIO_SETTING_ENABLE_TELEMETRY="No",
               PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="3650", PLATFORMIO_NO_ANSI="true")
    return env


def pio_run(board: str, build_dir: Path, extra_env: dict[str, str]) -> str:
    """`pio run -e BOARD` in firmware/ with the build under build_dir; returns the log."""
    env = pio_env()
    env.update(extra_env)
    env["PLATFORMIO_BUILD_DIR"] = str(build_dir)
    pio = Path(sys.executable).with_name("pio")
    cmd = [str(pio), "run", "-d", str(FIRMWARE), "-e", board]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-25:])
        raise ToolError(f"PlatformIO build for {board} failed:\n{tail}")
    return log
