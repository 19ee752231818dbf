"""A simulated I2C register file with the same write()/read() calls as i2c.LinuxI2CBus.

Not hardware: it stands in for /dev/i2c-N so the INA drivers' register maths can be tested. The chip
models compute their result registers the way the datasheets say the silicon does:
INA219 (SBOS448 §8.5): current = shunt·CAL/4096, power = current·bus/5000 (bus = register >> 3);
INA226 (SBOS547 §7.5): current = shunt·CAL/2048, power = current·bus/20000.
"""
from __future__ import annotations

import errno


class RegisterFileBus:
    provenance = "emulated"   # figures read through it are a model of the chip, not a measurement

    def __init__(self) -> None:
        self.devices: dict[int, "SimulatedINA"] = {}
        self.transactions: list[tuple[str, int, bytes]] = []

    def attach(self, addr: int, device: "SimulatedINA") -> "SimulatedINA":
        self.devices[addr] = device
        return device

    def _device(self, addr: int) -> "SimulatedINA":
        if addr not in self.devices:
            raise OSError(errno.EREMOTEIO, f"no ACK from 0x{addr:02x}")
        return self.devices[addr]

    def write(self, addr: int, data: bytes) -> None:
        self.transactions.append(("w", addr, bytes(data)))
        dev = self._device(addr)
        dev.pointer = data[0]
        if len(data) == 3:
            dev.write_register(data[0], (data[1] << 8) | data[2])
        elif len(data) != 1:
            raise OSError(errno.EIO, "register write must be 1 or 3 bytes")

    def read(self, addr: int, n: int) -> bytes:
        value = self._device(addr).read_register()
        self.transactions.append(("r", addr, value.to_bytes(2, "big")))
        return value.to_bytes(2, "big")[:n]


def _u16(x: int) -> int:
    return x & 0xFFFF


class SimulatedINA:
    """Common part: registers, a physical load to measure, and the derived result registers."""

    shunt_lsb = bus_lsb = 0.0
    current_div = power_div = 1
    bus_shift = 0
    read_only: tuple[int, ...] = (1, 2, 3, 4)

    def __init__(self, shunt_ohms: float) -> None:
        self.shunt_ohms = shunt_ohms
        self.regs: dict[int, int] = {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
        self.pointer = 0

    def set_load(self, bus_volts: float, amps: float) -> None:
        """The physical truth: what flows through the shunt and what the bus sits at."""
        shunt = round(amps * self.shunt_ohms / self.shunt_lsb)
        bus = round(bus_volts / self.bus_lsb)
        self.regs[1] = _u16(shunt)
        self.regs[2] = self._bus_register(bus)
        self._convert()

    def _bus_register(self, bus: int) -> int:
        return bus & 0xFFFF

    def _convert(self) -> None:
        shunt = self.regs[1] - 0x10000 if self.regs[1] & 0x8000 else self.regs[1]
        current = int(shunt * self.regs[5] / self.current_div)          # truncates like the silicon
        bus = self.regs[2] >> self.bus_shift
        power = int(abs(current) * bus / self.power_div)
        self.regs[4] = _u16(current)
        self.regs[3] = _u16(power)

    def write_register(self, reg: int, value: int) -> None:
        if reg not in self.regs or reg in self.read_only:
            raise OSError(errno.EIO, f"register 0x{reg:02x} is not writable")
        self.regs[reg] = value
        if reg == 5:
            self._convert()

    def read_register(self) -> int:
        if self.pointer not in self.regs:
            raise OSError(errno.EREMOTEIO, f"no register 0x{self.pointer:02x}")
        return self.regs[self.pointer]


class SimulatedINA219(SimulatedINA):
    shunt_lsb, bus_lsb, current_div, power_div, bus_shift = 10e-6, 4e-3, 4096, 5000, 3

    def __init__(self, shunt_ohms: float) -> None:
        super().__init__(shunt_ohms)
        self.regs[0] = 0x399F

    def _bus_register(self, bus: int) -> int:
        return ((bus << 3) | 0x2) & 0xFFFF   # CNVR set: a conversion is ready


class SimulatedINA226(SimulatedINA):
    shunt_lsb, bus_lsb, current_div, power_div, bus_shift = 2.5e-6, 1.25e-3, 2048, 20000, 0

    def __init__(self, shunt_ohms: float) -> None:
        super().__init__(shunt_ohms)
        self.regs.update({0: 0x4127, 6: 0, 7: 0, 0xFE: 0x5449, 0xFF: 0x2260})
        self.read_only = (1, 2, 3, 4, 0xFE, 0xFF)
