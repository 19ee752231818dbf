"""One line of `edgekit doctor`: what was checked, whether it is there, and the command that fixes it.
A leaf module, so every stage's doctor section (edgekit.doctor, edgekit.accel, edgekit.car) can
build checks without importing the doctor that collects them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    what: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = True  # False: optional (e.g. a vendor library only real hardware needs)


def apt_fix(packages: list[str]) -> str:
    return "sudo apt-get install -y --no-install-recommends " + " ".join(packages)
