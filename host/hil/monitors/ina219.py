"""TI INA219 (datasheet SBOS448): 12-bit current/voltage/power monitor on I2C.

Registers: 0 config, 1 shunt voltage (signed, 10 µV LSB), 2 bus voltage (bits 15:3 × 4 mV,
bit 1 CNVR, bit 0 OVF), 3 power (20 × current LSB), 4 current (signed × current LSB),
5 calibration = trunc(0.04096 / (current_LSB · R_shunt)), current_LSB = max_current / 2^15.
"""
from __future__ import annotations

import math

from edgekit.errors import ToolError
from edgekit.hil.monitors.i2c import read_register, signed16, write_register

REG_CONFIG, REG_SHUNT, REG_BUS, REG_POWER, REG_CURRENT, REG_CALIBRATION = range(6)
# 32 V range, ±320 mV shunt (PGA /8), 12-bit ADCs, continuous shunt and bus: the power-on default.
CONFIG_DEFAULT = 0x399F
SHUNT_LSB_V = 10e-6
BUS_LSB_V = 4e-3


def calibration(current_lsb_a: float, shunt_ohms: float) -> int:
    return math.trunc(0.04096 / (current_lsb_a * shunt_ohms))


class INA219:
    power_lsb_factor = 20

    def __init__(self, bus, address: int = 0x40, shunt_ohms: float = 0.1, max_current_a: float = 3.2,
                 config: int = CONFIG_DEFAULT) -> None:
        self.bus, self.address, self.shunt_ohms = bus, address, shunt_ohms
        self.current_lsb = max_current_a / 2**15
        self.cal = calibration(self.current_lsb, shunt_ohms)
        if not 0 < self.cal < 0x10000:
            raise ToolError(f"INA219 calibration {self.cal} out of range: check shunt_ohms and max_current_a")
        write_register(bus, address, REG_CONFIG, config)
        write_register(bus, address, REG_CALIBRATION, self.cal)

    def shunt_voltage(self) -> float:
        return signed16(read_register(self.bus, self.address, REG_SHUNT)) * SHUNT_LSB_V

    def bus_voltage(self) -> float:
        raw = read_register(self.bus, self.address, REG_BUS)
        if raw & 0x1:
            raise ToolError("INA219 math overflow (OVF): current beyond the calibrated range")
        return (raw >> 3) * BUS_LSB_V

    def current(self) -> float:
        return signed16(read_register(self.bus, self.address, REG_CURRENT)) * self.current_lsb

    def power(self) -> float:
        return read_register(self.bus, self.address, REG_POWER) * self.power_lsb_factor * self.current_lsb

    def read(self) -> tuple[float, float, float]:
        """(bus volts, amps, watts), as the chip computed them."""
        return self.bus_voltage(), self.current(), self.power()
