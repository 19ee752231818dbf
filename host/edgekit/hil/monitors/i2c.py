"""Linux i2c-dev access for register-based monitors: select the device with ioctl(I2C_SLAVE), then
plain write()/read() on /dev/i2c-N (the kernel's Documentation/i2c/dev-interface.rst).

Register devices like the INA219/INA226 use a register pointer: writing one byte sets it, writing
three bytes sets it and writes a 16-bit register (MSB first); a 2-byte read returns the register the
pointer names (MSB first). Any object with the same `write(addr, data)` / `read(addr, n)` methods
is a bus (fake_i2c.RegisterFileBus is the simulated one the tests use).
"""
from __future__ import annotations

import fcntl
import os
import threading

from edgekit.errors import ToolError
from edgekit.provenance import i2c_bus_provenance

I2C_SLAVE = 0x0703


class LinuxI2CBus:
    def __init__(self, bus: int) -> None:
        self.path = f"/dev/i2c-{bus}"
        try:
            self._fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise ToolError(f"cannot open {self.path}: {exc.strerror} (is i2c-dev loaded and are you in group i2c?)") from None
        self._addr: int | None = None
        self._lock = threading.Lock()
        self.provenance = i2c_bus_provenance(bus)   # the kernel's i2c-stub is a register file, not a chip

    def _select(self, addr: int) -> None:
        if addr != self._addr:
            fcntl.ioctl(self._fd, I2C_SLAVE, addr)
            self._addr = addr

    def write(self, addr: int, data: bytes) -> None:
        with self._lock:
            self._select(addr)
            os.write(self._fd, bytes(data))

    def read(self, addr: int, n: int) -> bytes:
        with self._lock:
            self._select(addr)
            return os.read(self._fd, n)

    def close(self) -> None:
        os.close(self._fd)


def read_register(bus, addr: int, reg: int) -> int:
    """16-bit register, MSB first, unsigned."""
    bus.write(addr, bytes([reg]))
    hi, lo = bus.read(addr, 2)
    return (hi << 8) | lo


def write_register(bus, addr: int, reg: int, value: int) -> None:
    bus.write(addr, bytes([reg, (value >> 8) & 0xFF, value & 0xFF]))


def signed16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value
