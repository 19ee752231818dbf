"""TI INA226 (datasheet SBOS547): 16-bit current/voltage/power monitor on I2C.

Registers: 0 config, 1 shunt voltage (signed, 2.5 µV LSB), 2 bus voltage (1.25 mV LSB),
3 power (25 × current LSB), 4 current (signed × current LSB), 5 calibration =
trunc(0.00512 / (current_LSB · R_shunt)), 6 mask/enable, 7 alert limit,
0xFE manufacturer ID (0x5449 "TI"), 0xFF die ID (0x2260).
"""
from __future__ import annotations

import math

from edgekit.errors import ToolError
from edgekit.hil.monitors.i2c import read_register, signed16, write_register

REG_CONFIG, REG_SHUNT, REG_BUS, REG_POWER, REG_CURRENT, REG_CALIBRATION = range(6)
REG_MANUFACTURER_ID, REG_DIE_ID = 0xFE, 0xFF
MANUFACTURER_ID = 0x5449
# averages 1, 1.1 ms bus and shunt conversion, continuous shunt and bus: the power-on default.
CONFIG_DEFAULT = 0x4127
SHUNT_LSB_V = 2.5e-6
BUS_LSB_V = 1.25e-3


def calibration(current_lsb_a: float, shunt_ohms: float) -> int:
    return math.trunc(0.00512 / (current_lsb_a * shunt_ohms))


class INA226:
    power_lsb_factor = 25

    def __init__(self, bus, address: int = 0x40, shunt_ohms: float = 0.01, max_current_a: float = 8.0,
                 config: int = CONFIG_DEFAULT) -> None:
        self.bus, self.address, self.shunt_ohms = bus, address, shunt_ohms
        mid = read_register(bus, address, REG_MANUFACTURER_ID)
        if mid != MANUFACTURER_ID:
            raise ToolError(f"no INA226 at 0x{address:02x}: manufacturer ID 0x{mid:04x}, expected 0x{MANUFACTURER_ID:04x}")
        self.current_lsb = max_current_a / 2**15
        self.cal = calibration(self.current_lsb, shunt_ohms)
        if not 0 < self.cal < 0x8000:
            raise ToolError(f"INA226 calibration {self.cal} out of range: check shunt_ohms and max_current_a")
        write_register(bus, address, REG_CONFIG, config)
        write_register(bus, address, REG_CALIBRATION, self.cal)

    def shunt_voltage(self) -> float:
        return signed16(read_register(self.bus, self.address, REG_SHUNT)) * SHUNT_LSB_V

    def bus_voltage(self) -> float:
        return read_register(self.bus, self.address, REG_BUS) * BUS_LSB_V

    def current(self) -> float:
        return signed16(read_register(self.bus, self.address, REG_CURRENT)) * self.current_lsb

    def power(self) -> float:
        return read_register(self.bus, self.address, REG_POWER) * self.power_lsb_factor * self.current_lsb

    def read(self) -> tuple[float, float, float]:
        return self.bus_voltage(), self.current(), self.power()
