"""Where the project's non-Python folders live (firmware/, boards/, hil_tests/).

edgekit is installed editable from its checkout (scripts/bootstrap.sh), so the folders of the
design card are found beside the `host/` package folder.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRMWARE = REPO / "firmware"
BOARDS = REPO / "boards"
HIL_TESTS = REPO / "hil_tests"
SHARED = REPO.parent / "shared"
MLPERF_TINY = SHARED / "models" / "mlperf-tiny"


def state_dir() -> Path:
    """Per-user working state (twin flash images, caches); EDGEKIT_STATE overrides."""
    root = Path(os.environ.get("EDGEKIT_STATE", REPO / ".edgekit"))
    root.mkdir(parents=True, exist_ok=True)
    return root
