"""Where the project's non-Python folders live (firmware/, boards/, hil_tests/, models/mlperf-tiny/).

From a checkout (an editable install, `make test`) they are the checkout's own folders, found from
this file: host/edgekit/paths.py → the repository root. A wheel (`pip install edgekit-*.whl`)
carries them as data files under `<prefix>/share/edgekit/` (see setup.py), and working state then
lives in the user's cache folder instead of the read-only install.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]
_IN_CHECKOUT = (_CHECKOUT / "firmware").is_dir() and (_CHECKOUT / "boards").is_dir()

REPO = _CHECKOUT if _IN_CHECKOUT else Path(sys.prefix) / "share" / "edgekit"
FIRMWARE = REPO / "firmware"
BOARDS = REPO / "boards"
HIL_TESTS = REPO / "hil_tests"
DOCS = REPO / "docs"
MLPERF_TINY = REPO / "models" / "mlperf-tiny"
# Where builds and caches go: the checkout itself, or the user's cache for an installed wheel.
WORK = _CHECKOUT if _IN_CHECKOUT else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgekit"


def state_dir() -> Path:
    """Per-user working state (twin flash images, caches); EDGEKIT_STATE overrides."""
    root = Path(os.environ.get("EDGEKIT_STATE", WORK / ".edgekit"))
    root.mkdir(parents=True, exist_ok=True)
    return root
