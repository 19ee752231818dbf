"""Data files of the wheel: the non-Python folders of the design card, under <prefix>/share/edgekit/.

Everything else is in pyproject.toml. edgekit.paths finds these folders in a checkout first and in
<prefix>/share/edgekit/ when edgekit is installed from a wheel.
"""
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
DATA_FOLDERS = ["firmware", "boards", "hil_tests", "docs", "models/mlperf-tiny"]
SKIP = {"__pycache__", ".pio", "build"}


ROOTS = ["host", "models", "quantize"]  # each holds a portion of the `edgekit` namespace package


def packages() -> dict[str, str]:
    """Every package folder under the roots, mapped to its folder (the folder path is the import path)."""
    found: dict[str, str] = {}
    for root in ROOTS:
        for init in sorted((HERE / root / "edgekit").rglob("*.py")):
            rel = init.parent.relative_to(HERE / root)
            if "__pycache__" not in rel.parts:
                found[".".join(rel.parts)] = str(Path(root) / rel)
    return found


def data_files():
    groups: dict[str, list[str]] = {}
    for folder in DATA_FOLDERS:
        for path in sorted((HERE / folder).rglob("*")):
            rel = path.relative_to(HERE)
            if path.is_file() and not SKIP.intersection(rel.parts) and path.suffix not in {".pyc", ".o", ".so"}:
                groups.setdefault(str(Path("share/edgekit") / rel.parent), []).append(str(rel))
    return sorted(groups.items())


PACKAGES = packages()
setup(packages=sorted(PACKAGES), package_dir=PACKAGES, data_files=data_files())
