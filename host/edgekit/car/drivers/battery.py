"""The car's battery through the existing INA219 driver (edgekit.hil.monitors.ina219) on the PWM
board's i2c bus, over SMBus word transfers: the INA219 speaks them (datasheet SBOS448 §8.5.5, MSB
first, so the bytes are swapped against SMBus's LSB-first words), and so does the kernel's i2c-stub
of the VM twin, which refuses the plain read()/write() transfers of hil.monitors.i2c.LinuxI2CBus."""
from __future__ import annotations

from edgekit.errors import ToolError
from edgekit.provenance import i2c_bus_provenance


class SMBusRegisterBus:
    """hil.monitors' bus interface (`write(addr, data)`, `read(addr, n)` with a register pointer)
    on top of smbus2 word transfers."""

    def __init__(self, bus: int):
        try:
            from smbus2 import SMBus
            self.bus = SMBus(bus)
        except ImportError:
            raise ToolError("the battery monitor needs smbus2: pip install smbus2") from None
        except OSError as exc:
            raise ToolError(f"cannot open /dev/i2c-{bus} for the battery monitor: {exc.strerror}") from None
        self.pointer: dict[int, int] = {}
        self.provenance = i2c_bus_provenance(bus)   # the kernel's i2c-stub is a register file: emulated

    def write(self, addr: int, data: bytes) -> None:
        reg, *val = bytes(data)
        self.pointer[addr] = reg
        if len(val) == 2:
            self.bus.write_word_data(addr, reg, val[1] << 8 | val[0])
        elif val:
            raise ToolError(f"battery monitor: unexpected {len(data)}-byte write")

    def read(self, addr: int, n: int) -> bytes:
        if n != 2 or addr not in self.pointer:
            raise ToolError("battery monitor: only 16-bit register reads after a pointer write")
        w = self.bus.read_word_data(addr, self.pointer[addr])
        return bytes([w & 0xFF, w >> 8])       # MSB first, as the chip sends it

    def close(self) -> None:
        self.bus.close()


def open_battery(bus: int, cfg):
    """An INA219 at the car YAML's `battery` address; `read()` → (volts, amps, watts)."""
    from edgekit.hil.monitors.ina219 import INA219
    return INA219(SMBusRegisterBus(bus), cfg.address, cfg.shunt_ohms, cfg.max_current_a)
