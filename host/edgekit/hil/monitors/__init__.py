"""Power monitors behind one interface (base.PowerMonitor): start, stop, mark, samples, energy between marks.

One file per driver: simulated.py, ina219.py, ina226.py (over i2c.py's Linux i2c-dev bus),
joulescope.py (import guarded). `open_monitor(rig, board)` picks the rig's driver.
"""
from __future__ import annotations

from edgekit.errors import UserError
from edgekit.hil.monitors.base import PowerMonitor, Sample


def open_monitor(rig, board, bus=None) -> PowerMonitor:
    m = rig.monitor
    if m.kind == "simulated":
        from edgekit.hil.monitors.simulated import SimulatedMonitor
        return SimulatedMonitor(board, sample_hz=m.sample_hz, supply_v=rig.battery.cells * 3.7)
    if m.kind in ("ina219", "ina226"):
        from edgekit.hil.monitors.i2c import LinuxI2CBus
        mod = __import__(f"edgekit.hil.monitors.{m.kind}", fromlist=["x"])
        cls = mod.INA219 if m.kind == "ina219" else mod.INA226
        chip = cls(bus or LinuxI2CBus(m.i2c_bus), m.address, m.shunt_ohms, m.max_current_a)
        from edgekit.hil.monitors.base import PolledMonitor
        return PolledMonitor(chip.read, m.sample_hz, name=m.kind)   # provenance: the chip's bus
    if m.kind == "joulescope":
        from edgekit.hil.monitors.joulescope import JoulescopeMonitor
        return JoulescopeMonitor(serial=m.serial)
    raise UserError(f"unknown power monitor kind {m.kind!r}")


__all__ = ["PowerMonitor", "Sample", "open_monitor"]
