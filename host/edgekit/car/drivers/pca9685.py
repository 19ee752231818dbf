"""PCA9685 16-channel PWM over i2c-dev (smbus2): the steering servo and the ESC, DonkeyCar-style.

Pulses are 12-bit counts of a 4096-step period (DonkeyCar's STEERING_LEFT_PWM etc.), so the
calibration numbers from a DonkeyCar myconfig.py carry over unchanged. Registers (NXP datasheet):
MODE1 0x00 (AI bit 5, SLEEP bit 4), MODE2 0x01, LEDn_ON_L = 0x06 + 4n (ON_L, ON_H, OFF_L, OFF_H),
PRE_SCALE 0xFE = round(25 MHz / (4096 · f)) − 1, written only while asleep.
"""
from __future__ import annotations

import time

from edgekit.errors import ToolError

MODE1, MODE2, LED0, PRESCALE = 0x00, 0x01, 0x06, 0xFE
OSC_HZ = 25_000_000


def map_range(x: float, x_min: float, x_max: float, y_min: int, y_max: int) -> int:
    """Linear map, floored to an integer pulse, in DonkeyCar's utils.map_range's own float order
    (divide by the range ratio), so pulses match PWMSteering/PWMThrottle to the last count."""
    return int(((x - x_min) / ((x_max - x_min) / (y_max - y_min)) + y_min) // 1)


class PCA9685:
    def __init__(self, bus: int = 1, address: int = 0x40, frequency_hz: float = 60.0):
        try:
            from smbus2 import SMBus
            self.bus = SMBus(bus)
        except (OSError, FileNotFoundError) as exc:
            raise ToolError(f"PCA9685: cannot open /dev/i2c-{bus} ({exc.strerror or exc}): "
                            "enable I2C (raspi-config) or modprobe i2c-dev") from None
        self.address = address
        prescale = round(OSC_HZ / (4096 * frequency_hz)) - 1
        try:
            self.bus.write_byte_data(address, MODE1, 0x10)        # sleep: the prescaler is writable
            self.bus.write_byte_data(address, PRESCALE, prescale)
            self.bus.write_byte_data(address, MODE2, 0x04)        # totem-pole outputs
            self.bus.write_byte_data(address, MODE1, 0x20)        # wake, register auto-increment
        except OSError as exc:
            raise ToolError(f"PCA9685: no answer at 0x{address:02x} on /dev/i2c-{bus} ({exc.strerror})") from None
        time.sleep(0.0005)                                         # oscillator start-up, 500 µs

    def set_pulse(self, channel: int, pulse: int) -> None:
        off = max(0, min(4095, int(pulse)))
        self.bus.write_i2c_block_data(self.address, LED0 + 4 * channel, [0, 0, off & 0xFF, off >> 8])

    def read_pulse(self, channel: int) -> int:
        b = self.bus.read_i2c_block_data(self.address, LED0 + 4 * channel, 4)
        return b[2] | (b[3] & 0x0F) << 8

    def close(self) -> None:
        self.bus.close()


class PWMActuator:
    """Steering and throttle in [-1, 1] → pulses through the car YAML's `pwm` calibration."""

    def __init__(self, pwm, calib):
        self.pwm, self.c = pwm, calib

    def pulses(self, steering: float, throttle: float) -> tuple[int, int]:
        c = self.c
        s = map_range(max(-1.0, min(1.0, steering)), -1, 1, c.steering_left_pwm, c.steering_right_pwm)
        t = max(-1.0, min(1.0, throttle))
        t = (map_range(t, 0, 1, c.throttle_stopped_pwm, c.throttle_forward_pwm) if t > 0 else
             map_range(t, -1, 0, c.throttle_reverse_pwm, c.throttle_stopped_pwm))
        return s, t

    def write(self, steering: float, throttle: float) -> tuple[int, int]:
        s, t = self.pulses(steering, throttle)
        self.pwm.set_pulse(self.c.throttle_channel, t)   # throttle first: it is the one that matters
        self.pwm.set_pulse(self.c.steering_channel, s)
        return s, t

    def neutral(self) -> tuple[int, int]:
        return self.write(0.0, 0.0)
