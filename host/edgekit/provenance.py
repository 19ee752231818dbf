"""Every figure edgekit reports says how it was obtained.

- measured-hw:   measured on real hardware (a real board, a real power monitor)
- measured-host: measured on this host machine (x86-64 native code, host wall clock)
- emulated:      measured on an emulated twin (QEMU clocks, instruction counts)
- modelled:      computed from a model or a datasheet figure (board YAML, battery model)
"""
from __future__ import annotations

from typing import Any

PROVENANCES = ("measured-hw", "measured-host", "emulated", "modelled")


def figure(value: Any, unit: str, provenance: str, **extra: Any) -> dict[str, Any]:
    """A reported number with its unit and provenance, ready for JSON."""
    if provenance not in PROVENANCES:
        raise ValueError(f"unknown provenance {provenance!r}; use one of {PROVENANCES}")
    return {"value": value, "unit": unit, "provenance": provenance, **extra}


def fmt(fig: dict[str, Any], digits: int = 3) -> str:
    """Human-readable '12.3 ms (emulated)'."""
    v = fig["value"]
    text = f"{v:.{digits}g}" if isinstance(v, float) else str(v)
    return f"{text} {fig['unit']} ({fig['provenance']})".replace("  ", " ")
