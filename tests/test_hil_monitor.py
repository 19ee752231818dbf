"""The simulated power monitor: board watts × duty from the board YAML, plus drive power."""
import pytest

from edgekit.catalog import get_board
from edgekit.hil.monitors.simulated import SimulatedMonitor


def test_energy_between_marks_is_exact_for_steps():
    mon = SimulatedMonitor(get_board("coral"), sample_hz=10)
    mon.start()
    mon.advance(1.0, duty=0.0)
    mon.mark("a")
    mon.advance(0.25, duty=1.0)                  # 1.2 W for 0.25 s
    mon.mark("b")
    mon.advance(2.0, duty=0.5, drive_w=15.0)
    mon.mark("c")
    assert mon.energy_between("a", "b") == pytest.approx(1.2 * 0.25)
    assert mon.energy_between("b", "c") == pytest.approx((0.4 + 0.8 * 0.5 + 15.0) * 2.0)
    assert mon.energy_between("b", "c", field="board_w") == pytest.approx(0.8 * 2.0)
    assert mon.energy_between("a", "c") == pytest.approx(0.3 + 15.8 * 2.0)


def test_resampled_preserves_energy():
    mon = SimulatedMonitor(get_board("coral"), sample_hz=50)
    mon.start()
    mon.mark("a")
    for k in range(30):
        mon.advance(0.05, duty=k % 2, drive_w=5.0 * (k % 3))
    mon.mark("b")
    bins = mon.resampled("a", "b", 0.5)
    assert bins.sum() * 0.5 == pytest.approx(mon.energy_between("a", "b"), rel=1e-9)


def test_accelerator_power():
    mon = SimulatedMonitor(get_board("rpi5-hailo"))
    assert mon.board_power(0.5, accelerator=True) == pytest.approx(2.7 + 1.5 * 0.5)


def test_joulescope_import_is_guarded():
    import importlib.util

    from edgekit.errors import ToolError
    from edgekit.hil.monitors.joulescope import JoulescopeMonitor

    if importlib.util.find_spec("joulescope") is not None:
        pytest.skip("the joulescope package is installed here")
    with pytest.raises(ToolError, match="pip install joulescope"):
        JoulescopeMonitor()


def test_open_monitor_builds_an_ina226_from_the_rig():
    from edgekit.hil.monitors import open_monitor
    from edgekit.hil.monitors.fake_i2c import RegisterFileBus, SimulatedINA226
    from edgekit.hil.rig import load_rig

    rig = load_rig("example-real")                       # INA226 at 0x40, 0.01 Ω shunt
    bus = RegisterFileBus()
    chip = bus.attach(0x40, SimulatedINA226(rig.monitor.shunt_ohms))
    chip.set_load(5.0, 0.5)
    mon = open_monitor(rig, get_board("coral"), bus=bus)
    assert mon.provenance == "emulated"                  # a register file is not a measurement
    mon.start()
    import time
    time.sleep(0.05)
    mon.stop()
    s = mon.samples()[-1]
    assert s.volts == pytest.approx(5.0, abs=2e-3) and s.watts == pytest.approx(2.5, rel=0.01)
