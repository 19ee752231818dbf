"""What the TI INA219 and INA226 share: signed shunt and current registers, a power register in
units of `power_lsb_factor` × current LSB, and a calibration register written at start-up.
Each chip's own file gives its LSBs, calibration constant and checks."""
from __future__ import annotations

from edgekit.errors import ToolError
from edgekit.hil.monitors.i2c import read_register, signed16, write_register

REG_CONFIG, REG_SHUNT, REG_BUS, REG_POWER, REG_CURRENT, REG_CALIBRATION = range(6)


class TiPowerMonitor:
    chip = ""
    power_lsb_factor = 1
    shunt_lsb_v = 0.0
    cal_limit = 0x10000  # calibration must be 0 < cal < cal_limit

    def __init__(self, bus, address: int, shunt_ohms: float, max_current_a: float, config: int) -> None:
        self.bus, self.address, self.shunt_ohms = bus, address, shunt_ohms
        self.current_lsb = max_current_a / 2**15
        self.cal = self.calibration(self.current_lsb, shunt_ohms)
        if not 0 < self.cal < self.cal_limit:
            raise ToolError(f"{self.chip} calibration {self.cal} out of range: check shunt_ohms and max_current_a")
        write_register(bus, address, REG_CONFIG, config)
        write_register(bus, address, REG_CALIBRATION, self.cal)

    @staticmethod
    def calibration(current_lsb_a: float, shunt_ohms: float) -> int:
        raise NotImplementedError

    @property
    def provenance(self) -> str:
        """measured-hw only on a real /dev/i2c-N; the register-file fake (or any other bus) is emulated."""
        return getattr(self.bus, "provenance", "emulated")

    def _reg(self, reg: int) -> int:
        return read_register(self.bus, self.address, reg)

    def shunt_voltage(self) -> float:
        return signed16(self._reg(REG_SHUNT)) * self.shunt_lsb_v

    def bus_voltage(self) -> float:
        raise NotImplementedError

    def current(self) -> float:
        return signed16(self._reg(REG_CURRENT)) * self.current_lsb

    def power(self) -> float:
        return self._reg(REG_POWER) * self.power_lsb_factor * self.current_lsb

    def read(self) -> tuple[float, float, float]:
        """(bus volts, amps, watts), as the chip computed them."""
        return self.bus_voltage(), self.current(), self.power()
