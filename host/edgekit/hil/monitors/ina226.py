"""TI INA226 (datasheet SBOS547): 16-bit current/voltage/power monitor on I2C.

Registers: 0 config, 1 shunt voltage (signed, 2.5 µV LSB), 2 bus voltage (1.25 mV LSB),
3 power (25 × current LSB), 4 current (signed × current LSB), 5 calibration =
trunc(0.00512 / (current_LSB · R_shunt)), 6 mask/enable, 7 alert limit,
0xFE manufacturer ID (0x5449 "TI"), 0xFF die ID (0x2260).
"""
from __future__ import annotations

import math

from edgekit.errors import ToolError
from edgekit.hil.monitors.i2c import read_register
from edgekit.hil.monitors.ina_base import REG_BUS, TiPowerMonitor

REG_MANUFACTURER_ID, REG_DIE_ID = 0xFE, 0xFF
MANUFACTURER_ID = 0x5449
# averages 1, 1.1 ms bus and shunt conversion, continuous shunt and bus: the power-on default.
CONFIG_DEFAULT = 0x4127
SHUNT_LSB_V = 2.5e-6
BUS_LSB_V = 1.25e-3


def calibration(current_lsb_a: float, shunt_ohms: float) -> int:
    return math.trunc(0.00512 / (current_lsb_a * shunt_ohms))


class INA226(TiPowerMonitor):
    chip = "INA226"
    power_lsb_factor = 25
    shunt_lsb_v = SHUNT_LSB_V
    cal_limit = 0x8000
    calibration = staticmethod(calibration)

    def __init__(self, bus, address: int = 0x40, shunt_ohms: float = 0.01, max_current_a: float = 8.0,
                 config: int = CONFIG_DEFAULT) -> None:
        mid = read_register(bus, address, REG_MANUFACTURER_ID)
        if mid != MANUFACTURER_ID:
            raise ToolError(f"no INA226 at 0x{address:02x}: manufacturer ID 0x{mid:04x}, expected 0x{MANUFACTURER_ID:04x}")
        super().__init__(bus, address, shunt_ohms, max_current_a, config)

    def bus_voltage(self) -> float:
        return self._reg(REG_BUS) * BUS_LSB_V
