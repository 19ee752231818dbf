"""TI INA219 (datasheet SBOS448): 12-bit current/voltage/power monitor on I2C.

Registers: 0 config, 1 shunt voltage (signed, 10 µV LSB), 2 bus voltage (bits 15:3 × 4 mV,
bit 1 CNVR, bit 0 OVF), 3 power (20 × current LSB), 4 current (signed × current LSB),
5 calibration = trunc(0.04096 / (current_LSB · R_shunt)), current_LSB = max_current / 2^15.
"""
from __future__ import annotations

import math

from edgekit.errors import ToolError
from edgekit.hil.monitors.ina_base import REG_BUS, TiPowerMonitor

# 32 V range, ±320 mV shunt (PGA /8), 12-bit ADCs, continuous shunt and bus: the power-on default.
CONFIG_DEFAULT = 0x399F
SHUNT_LSB_V = 10e-6
BUS_LSB_V = 4e-3


def calibration(current_lsb_a: float, shunt_ohms: float) -> int:
    return math.trunc(0.04096 / (current_lsb_a * shunt_ohms))


class INA219(TiPowerMonitor):
    chip = "INA219"
    power_lsb_factor = 20
    shunt_lsb_v = SHUNT_LSB_V
    calibration = staticmethod(calibration)

    def __init__(self, bus, address: int = 0x40, shunt_ohms: float = 0.1, max_current_a: float = 3.2,
                 config: int = CONFIG_DEFAULT) -> None:
        super().__init__(bus, address, shunt_ohms, max_current_a, config)

    def bus_voltage(self) -> float:
        raw = self._reg(REG_BUS)
        if raw & 0x1:
            raise ToolError("INA219 math overflow (OVF): current beyond the calibrated range")
        return (raw >> 3) * BUS_LSB_V
