"""The car runtime's loop, failsafe and timing on the host: the real pilot (generated C through
edgekit.runtime, in its own process) and the firmware's rules (cffi). The camera here is a frame
source paced at 30 Hz and the actuator records its writes: the kernel drivers themselves are
exercised in the VM twin (tests/test_vm_car.py)."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from edgekit.car.drivers.pca9685 import PWMActuator
from edgekit.car.runtime import CarRuntime, PilotProcess, latency_summary
from edgekit.codegen import compile_model
from edgekit.sim.car import load_car
from edgekit.sim.car_schema import Pwm

pytestmark = pytest.mark.slow


class FrameSource:
    def __init__(self, hz=30):
        self.period, self.seq, self.frozen = 1 / hz, 0, threading.Event()
        self.rng = np.random.default_rng(0)
        self.next = time.monotonic()

    def read(self, timeout=1.0, decode=True):
        if self.frozen.is_set():
            time.sleep(timeout)
            return None
        self.next = max(self.next + self.period, time.monotonic())
        time.sleep(max(0.0, self.next - time.monotonic()))
        self.seq += 1
        img = self.rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
        return self.seq, time.monotonic(), img

    def decode(self, raw):
        return raw


class Recorder:
    """The PWM board's side: every write, time-stamped (pulses through the real calibration)."""
    def __init__(self, calib):
        self.act, self.writes, self.first = PWMActuator(None, calib), [], threading.Event()

    def write(self, s, t):
        p = self.act.pulses(s, t)
        self.writes.append((time.monotonic(), p))
        self.first.set()
        return p

    def neutral(self):
        return self.write(0.0, 0.0)


@pytest.fixture(scope="module")
def pilot_dir(pilot_int8_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("car") / "pilot"
    compile_model(pilot_int8_path, out, name="pilot")
    return out


def _drive(pilot_dir, seconds, during=None):
    calib = Pwm(**load_car("donkey_1_10")["pwm"])
    cam, rec, pilot = FrameSource(), Recorder(calib), PilotProcess(pilot_dir)
    rt = CarRuntime(cam, pilot, rec)
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("stats", rt.run(seconds)))
    th.start()
    try:
        if during:
            during(rt, cam, pilot, rec)
        th.join(seconds + 60)
    finally:
        pilot.close()
    return result["stats"], rec, calib


def test_full_pilot_drives_with_stage_timestamps(pilot_dir):
    stats, rec, calib = _drive(pilot_dir, 4.0)
    s = latency_summary(stats.records)
    # The rate is printed, not asserted: on a busy 2-core host the wall clock is not the car's
    # (14.8 Hz was seen at load 12). The 20 Hz goal is asserted in tests/test_vm_car.py on the VM
    # twin's instruction-counted clock, which host load cannot stretch.
    print("measured-host:", s)
    assert len(stats.records) >= 10
    for r in stats.records:
        assert r["t_capture"] <= r["t_sent"] <= r["t_inferred"] <= r["t_pwm"]
        assert tuple(r["pulses"]) == PWMActuator(None, calib).pulses(r["steer_milli"] / 1000, r["throttle_milli"] / 1000)
    assert rec.writes[-1][1] == (375, 370)   # neutral when the run ends


def _neutral_after(rec, t0, calib):
    return next(t for t, p in rec.writes if t >= t0 and p == (375, calib.throttle_stopped_pwm))


@pytest.mark.parametrize("fault", ["kill-pilot", "stall-pilot", "freeze-camera"])
def test_fault_puts_neutral_within_100_ms(pilot_dir, fault):
    marks = {}

    def during(rt, cam, pilot, rec):
        deadline = time.monotonic() + 60
        while len(rt.stats.records) < 5:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        marks["last_fresh"] = lambda: rt.stats.records[-1]["t_pwm"]
        if fault == "kill-pilot":
            os.kill(pilot.pid, signal.SIGKILL)
        elif fault == "stall-pilot":
            os.kill(pilot.pid, signal.SIGSTOP)
        else:
            cam.frozen.set()
        marks["t"] = time.monotonic()
        while not rt.stats.failsafes:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        if fault == "stall-pilot":
            os.kill(pilot.pid, signal.SIGCONT)
        rt.stop_evt.set()

    stats, rec, calib = _drive(pilot_dir, 30.0, during)
    fs = stats.failsafes[0]
    last_cmd = max(r["t_pwm"] for r in stats.records if r["t_pwm"] <= marks["t"] + 1)
    t_neutral = _neutral_after(rec, last_cmd + 1e-6, calib)
    print(fault, "neutral after the last fresh command:", (t_neutral - last_cmd) * 1e3, "ms (measured-host)")
    assert fs["why"] == ("camera" if fault == "freeze-camera" else "pilot")
    assert t_neutral - last_cmd < 0.100


def test_a_pilot_killed_between_the_alive_check_and_the_send(pilot_dir):
    """The race CI met in the VM twin: SIGKILL lands after `submit` saw the pilot alive and before
    its send. The send then fails on the dead pipe; `submit` must report "not sent" and leave the
    pilot busy (the failsafe's "pilot" reason), not raise out of the control loop."""
    pilot = PilotProcess(pilot_dir)
    try:
        os.kill(pilot.pid, signal.SIGKILL)
        pilot.proc.join()                      # dead and reaped: its end of the pipe is closed
        pilot.proc.is_alive = lambda: True     # what is_alive() said a moment before the kill
        frame = np.zeros((120, 160, 3), np.uint8)
        assert pilot.submit(1, frame) is False and pilot.busy
        assert pilot.poll(0.01) is None
    finally:
        pilot.close()
