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


# --- provenance decided by what happened -------------------------------------------------------

def weakest(*provenances: str) -> str:
    """A figure computed from others is only as strong as its weakest input (measured × modelled =
    modelled). Order of strength: measured-hw, measured-host, emulated, modelled."""
    for p in provenances:
        if p not in PROVENANCES:
            raise ValueError(f"unknown provenance {p!r}; use one of {PROVENANCES}")
    return max(provenances, key=PROVENANCES.index) if provenances else "modelled"


def derived(value: Any, unit: str, *inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A figure computed from other figures: its provenance is the weakest of theirs."""
    return figure(value, unit, weakest(*(f["provenance"] for f in inputs)), **extra)


_VOUCHED: dict[str, str] = {}


def vouch(port: str, kind: str) -> None:
    """Record what a network serial URL really reaches, when something that knows vouches for it: a
    labgrid place whose exporter found a USB serial device and serves it through ser2net
    (edgekit.farm.place.place_provenance) is hardware behind `socket://`; a twin place is emulated.
    Only `measured-hw` or `emulated`; the URL alone never makes a link hardware."""
    if kind not in ("measured-hw", "emulated"):
        raise ValueError(f"a serial link is measured-hw or emulated, not {kind!r}")
    _VOUCHED[port] = kind


def port_provenance(port: str) -> str:
    """What a serial link's port really is: a tty backed by a device (/sys/class/tty/NAME/device: a
    USB-serial adapter, a SoC UART; /dev/serial/by-id links resolve to one) is real hardware; a
    pseudo-terminal (a program's end), any other file, or a pyserial network URL (socket://,
    rfc2217://, loop://: here, an emulated twin's UART) is not, unless vouched for (`vouch`).
    Unknown is never measured-hw."""
    import os

    if port in _VOUCHED:
        return _VOUCHED[port]
    if "://" in port:
        return "emulated"
    real = os.path.realpath(port)
    if not real.startswith("/dev/") or real.startswith("/dev/pts/"):
        return "emulated"
    return "measured-hw" if os.path.exists(f"/sys/class/tty/{os.path.basename(real)}/device") else "emulated"


def link_provenance(ser: Any) -> str:
    """Provenance of figures timed over an opened pyserial object, from its class: a socket/loop
    URL handler is a network endpoint (an emulated twin here), a PosixSerial is decided by its port."""
    module = type(ser).__module__
    if module.startswith("serial.urlhandler"):
        return _VOUCHED.get(str(getattr(ser, "port", "")), "emulated")
    port = getattr(ser, "port", None)
    return port_provenance(str(port)) if port else "emulated"


def i2c_bus_provenance(bus_number: int) -> str:
    """A /dev/i2c-N bus is real hardware unless the kernel says it is the i2c-stub register file."""
    try:
        with open(f"/sys/bus/i2c/devices/i2c-{bus_number}/name") as f:
            name = f.read().strip()
    except OSError:
        return "measured-hw"
    return "emulated" if "stub" in name.lower() else "measured-hw"
