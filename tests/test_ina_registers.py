"""INA219/INA226 drivers against a simulated I2C register file (not hardware: fake_i2c.py)."""
import errno
import time

import pytest

from edgekit.errors import ToolError
from edgekit.hil.monitors.base import PolledMonitor
from edgekit.hil.monitors.fake_i2c import RegisterFileBus, SimulatedINA219, SimulatedINA226
from edgekit.hil.monitors.i2c import LinuxI2CBus, read_register
from edgekit.hil.monitors.ina219 import INA219
from edgekit.hil.monitors.ina219 import calibration as cal219
from edgekit.hil.monitors.ina226 import INA226
from edgekit.hil.monitors.ina226 import calibration as cal226


def test_calibration_formulas_match_the_datasheets():
    assert cal219(100e-6, 0.1) == 4096               # 0.04096 / (100 µA · 0.1 Ω)
    assert cal219(3.2 / 2**15, 0.1) == 4194
    assert cal226(1e-3, 0.002) == 2560               # 0.00512 / (1 mA · 2 mΩ)
    assert cal226(8.0 / 2**15, 0.01) == 2097


def test_ina219_reads_bus_current_power_of_a_known_load():
    bus = RegisterFileBus()
    chip = bus.attach(0x40, SimulatedINA219(shunt_ohms=0.1))
    ina = INA219(bus, 0x40, shunt_ohms=0.1, max_current_a=3.2)
    assert chip.regs[5] == ina.cal == 4194
    assert ("w", 0x40, bytes([0x05, 0x10, 0x62])) in bus.transactions     # CAL written MSB first
    chip.set_load(bus_volts=5.0, amps=0.8)
    v, a, w = ina.read()
    assert v == pytest.approx(5.0, abs=4e-3)                  # 4 mV LSB
    assert a == pytest.approx(0.8, abs=2 * ina.current_lsb)
    assert w == pytest.approx(4.0, abs=20 * ina.current_lsb * 5 + 1e-3)
    assert ina.shunt_voltage() == pytest.approx(0.08, abs=10e-6)
    chip.set_load(bus_volts=5.0, amps=-0.25)                 # reverse current is signed
    assert ina.current() == pytest.approx(-0.25, abs=2 * ina.current_lsb)


def test_ina219_bus_register_flag_bits_are_masked():
    bus = RegisterFileBus()
    chip = bus.attach(0x45, SimulatedINA219(shunt_ohms=0.1))
    ina = INA219(bus, 0x45)
    chip.set_load(12.0, 1.0)
    assert read_register(bus, 0x45, 2) & 0x2                # CNVR set by the chip
    assert ina.bus_voltage() == pytest.approx(12.0, abs=4e-3)


def test_ina226_reads_a_known_load_and_checks_its_id():
    bus = RegisterFileBus()
    chip = bus.attach(0x40, SimulatedINA226(shunt_ohms=0.01))
    ina = INA226(bus, 0x40, shunt_ohms=0.01, max_current_a=8.0)
    assert chip.regs[5] == 2097
    chip.set_load(bus_volts=7.4, amps=2.5)
    v, a, w = ina.read()
    assert v == pytest.approx(7.4, abs=1.25e-3)
    assert a == pytest.approx(2.5, abs=2 * ina.current_lsb)
    assert w == pytest.approx(18.5, abs=25 * ina.current_lsb * 2)
    assert ina.shunt_voltage() == pytest.approx(0.025, abs=2.5e-6)


def test_ina226_refuses_another_chip():
    bus = RegisterFileBus()
    bus.attach(0x40, SimulatedINA219(shunt_ohms=0.1))      # no ID register: NACK
    with pytest.raises(OSError) as err:
        INA226(bus, 0x40)
    assert err.value.errno == errno.EREMOTEIO
    bus2 = RegisterFileBus()
    chip = bus2.attach(0x40, SimulatedINA226(shunt_ohms=0.01))
    chip.regs[0xFE] = 0x1234
    with pytest.raises(ToolError, match="manufacturer ID"):
        INA226(bus2, 0x40)


def test_absent_device_and_bus():
    with pytest.raises(OSError):
        INA219(RegisterFileBus(), 0x40)
    with pytest.raises(ToolError, match="/dev/i2c-99"):
        LinuxI2CBus(99)


def test_polled_monitor_integrates_energy_between_marks():
    bus = RegisterFileBus()
    chip = bus.attach(0x40, SimulatedINA226(shunt_ohms=0.01))
    ina = INA226(bus, 0x40, shunt_ohms=0.01, max_current_a=8.0)
    chip.set_load(5.0, 1.0)                                  # 5 W
    mon = PolledMonitor(ina.read, sample_hz=500)
    mon.start()
    time.sleep(0.05)
    mon.mark("a")
    time.sleep(0.3)
    mon.mark("b")
    time.sleep(0.05)
    mon.stop()
    span = mon.marks()["b"] - mon.marks()["a"]
    assert mon.energy_between("a", "b") == pytest.approx(5.0 * span, rel=0.1)
    assert mon.mean_power_between("a", "b") == pytest.approx(5.0, rel=0.1)


def test_a_register_file_is_not_hardware():
    """The drivers' figures over the fake register file are emulated, not measured-hw: only a real
    /dev/i2c-N bus (not the kernel's i2c-stub) makes them measurements."""
    bus = RegisterFileBus()
    bus.attach(0x41, SimulatedINA226(shunt_ohms=0.01))
    ina = INA226(bus, 0x41, shunt_ohms=0.01, max_current_a=8.0)
    assert ina.provenance == "emulated"
    assert PolledMonitor(ina.read, sample_hz=100).provenance == "emulated"
