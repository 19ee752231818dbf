"""The drive rules the Linux car runtime uses are the firmware's own C (firmware/app/ek_rules.h),
compiled into a shared library; and the PCA9685 calibration maps like DonkeyCar's PWMSteering/PWMThrottle."""
from __future__ import annotations

import re

from edgekit.car.drivers.pca9685 import PWMActuator
from edgekit.car.rules import Limits, Rules, to_milli
from edgekit.paths import FIRMWARE
from edgekit.sim.car import load_car
from edgekit.sim.car_schema import Pwm


def test_rules_are_the_firmware_header():
    r = Rules()
    hdr = (FIRMWARE / "app" / "ek_rules.h").read_text()
    assert r.control_hz == int(re.search(r"#define EK_CONTROL_HZ (\d+)", hdr)[1])
    assert r.failsafe_s * 1e6 == int(re.search(r"#define EK_FAILSAFE_US (\d+)", hdr)[1])
    assert r.failsafe_s < 0.1 and r.control_hz >= 20
    assert '#include "ek_rules.h"' in (FIRMWARE / "app" / "ek_drive.c").read_text()


def test_limits_slew_and_override():
    r = Rules()
    lim = Limits(steer_max=500, throttle_max=300, steer_slew=100, throttle_slew=50)
    assert r.step(lim, None, 900, 900, 0, 0) == ("auto", 100, 50)          # slewed from 0
    assert r.step(lim, None, 900, 900, 450, 280) == ("auto", 500, 300)     # then limited
    assert r.step(lim, None, -900, -900, 0, 0) == ("auto", -100, -50)
    assert r.step(lim, (800, -2000), 900, 900, 0, 0) == ("manual", 800, -1000)  # the stick wins, unslewed
    assert r.failsafe_due(1_000_000, 1_000_000 - 90_000) and not r.failsafe_due(1_000_000, 1_000_000 - 89_999)
    assert not r.failsafe_due(5, 10)                                       # a fresher stamp is never stale
    assert to_milli(-0.0005) == -1 and to_milli(0.0004) == 0


def test_calibration_maps_like_donkeycar():
    c = Pwm(**load_car("donkey_1_10")["pwm"])
    a = PWMActuator(None, c)
    assert a.pulses(-1, 0) == (c.steering_left_pwm, c.throttle_stopped_pwm)
    assert a.pulses(1, 1)[0] in (c.steering_right_pwm, c.steering_right_pwm + 1)
    assert a.pulses(0, 1)[1] == c.throttle_forward_pwm
    assert a.pulses(0, -1)[1] == c.throttle_reverse_pwm
    assert a.pulses(0, 0) == (375, 370)                # centre: (460 + 290) / 2; stopped
    assert a.pulses(0, 0.5)[1] == 435                  # 370 + 0.5 · (500 − 370)
