"""Runs inside the Linux VM twin (tests/test_vm_car.py): starts `edgekit car run`, reads the i2c-stub
PCA9685 registers while it drives, injects one fault and times when the throttle register reads
neutral — all on the guest's own clock (time.monotonic, the runtime's clock too), so nothing the
host does between SSH commands enters the figures. Prints one JSON line.

    python vm_car_guest.py MODEL_DIR I2C_BUS freeze-camera|kill-pilot|low-battery|gamepad STEADY_S EXTRA_CAR_ARGS...

gamepad: a virtual pad made through /dev/uinput (python-evdev's UInput) is handed to the runtime;
the script takes over with its mode button, moves the sticks, and hands back to the pilot.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

from smbus2 import SMBus

from edgekit.sim.car import load_car
from edgekit.sim.car_schema import Pwm

LOG = "/tmp/car.log"


def pulse(bus, addr, ch):
    """OFF count of one PCA9685 channel: one 4-byte block read (ON_L, ON_H, OFF_L, OFF_H), atomic
    against the runtime's block write because the i2c core locks the adapter per transfer."""
    b = bus.read_i2c_block_data(addr, 0x06 + 4 * ch, 4)
    return b[2] | (b[3] & 0x0F) << 8


def ina219_set(bus, volts, amps):
    """Put a battery into the i2c-stub INA219 at 0x41: bus voltage (reg 2, 4 mV << 3) and current
    (reg 4, 3.2 A / 2^15 per count, the car YAML's calibration); SMBus words are LSB first, the chip
    is MSB first."""
    for reg, raw in ((2, round(volts / 4e-3) << 3), (4, round(amps / (3.2 / 2**15)))):
        bus.write_word_data(0x41, reg, (raw & 0xFF) << 8 | raw >> 8)


def steps():
    with open(LOG) as f:
        return sum(1 for line in f if '"mode"' in line)


def vivid_drop(percent):
    subprocess.run(["v4l2-ctl", "-d", "/dev/video0", "-c", f"percentage_of_dropped_buffers={percent}"], check=True)


def pilot_pid(parent):
    """The runtime's spawned pilot process (not multiprocessing's resource tracker)."""
    with open(f"/proc/{parent}/task/{parent}/children") as f:
        for pid in f.read().split():
            with open(f"/proc/{pid}/cmdline", "rb") as c:
                cmd = c.read()
            if b"spawn_main" in cmd:
                return int(pid)
    raise SystemExit("no pilot process under the car runtime")


def stop_car(car):
    car.send_signal(signal.SIGTERM)
    out, err = car.communicate()   # no timeout: guest time leaps while it waits on 9p reads (SOURCES §5)
    vivid_drop(0)
    if car.returncode != 0:
        with open(LOG) as f:
            tail = f.readlines()[-3:]
        sys.exit(f"car run exited {car.returncode}: {err[-1500:]}; log ends {''.join(tail)[-600:]}")
    return json.loads(out.strip().splitlines()[-1])


def drive_by_hand(pad, sample_for, seconds):
    """Take over, hold two stick positions, hand back; returns the timed events."""
    from evdev import ecodes as e
    events = []

    def sticks(x, ry):
        pad.write(e.EV_ABS, e.ABS_X, x)
        pad.write(e.EV_ABS, e.ABS_RY, ry)
        pad.syn()
        events.append((time.monotonic(), "sticks", x, ry))

    def button(what):
        pad.write(e.EV_KEY, e.BTN_SOUTH, 1)
        pad.syn()
        pad.write(e.EV_KEY, e.BTN_SOUTH, 0)
        pad.syn()
        events.append((time.monotonic(), what))
    sample_for(0.5)
    sticks(16384, -16384)            # half right, half forward (up is negative on the throttle stick)
    button("takeover")
    sample_for(seconds / 2)
    sticks(-32768, 40)               # full left; throttle inside the deadzone
    sample_for(seconds / 2)
    button("release")
    sample_for(0.5)
    return events


def main():
    model, i2c, fault, steady_s, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5:]
    c = Pwm(**load_car("donkey_1_10")["pwm"])
    bus = SMBus(i2c)
    vivid_drop(0)                     # also brings v4l2-ctl into the page cache before the run
    ina219_set(bus, 7.4, 1.2)         # a charged 2S pack
    if os.path.exists(LOG):
        os.remove(LOG)
    pad = None
    if fault == "gamepad":
        from evdev import AbsInfo, UInput, ecodes as e
        axis = AbsInfo(value=0, min=-32768, max=32767, fuzz=16, flat=128, resolution=0)
        pad = UInput({e.EV_ABS: [(e.ABS_X, axis), (e.ABS_RY, axis)], e.EV_KEY: [e.BTN_SOUTH]},
                     name="edgekit-test-gamepad")
        extra = [*extra, "--gamepad", pad.device.path]
    car = subprocess.Popen([sys.executable, "-m", "edgekit", "car", "run", "--model", model,
                            "--camera", "/dev/video0", "--camera-size", "320x180", "--i2c-bus", str(i2c),
                            "--log", LOG, "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not os.path.exists(LOG) or steps() < 20:    # started and driving
        if car.poll() is not None:
            sys.exit(f"car run exited {car.returncode}: {car.stderr.read()[-1500:]}")
        time.sleep(0.2)
    samples = []                      # (t_before, t_after, steering, throttle) while driving

    def sample_for(seconds):
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            s, t = pulse(bus, c.address, c.steering_channel), pulse(bus, c.address, c.throttle_channel)
            samples.append((t0, time.monotonic(), s, t))
            time.sleep(0.05)
    if pad is not None:
        print(json.dumps({"samples": samples, "events": drive_by_hand(pad, sample_for, steady_s)}))
        stop_car(car)
        return
    sample_for(steady_s)
    polls, stop = [], threading.Event()

    def poller():                     # the throttle register every ~2 ms, with the guest's clock
        while not stop.is_set():
            polls.append((time.monotonic(), pulse(bus, c.address, c.throttle_channel)))
            time.sleep(0.002)
    th = threading.Thread(target=poller)
    th.start()
    time.sleep(0.1)
    t_fault = time.monotonic()
    if fault == "freeze-camera":
        vivid_drop(100)
    elif fault == "low-battery":
        ina219_set(bus, 6.0, 1.2)     # below the car YAML's cutoff_v
    elif fault == "kill-pilot":
        os.kill(pilot_pid(car.pid), signal.SIGKILL)
    else:
        sys.exit(f"unknown fault {fault!r}")
    while not any(p == c.throttle_stopped_pwm for t, p in polls if t > t_fault):
        time.sleep(0.01)
    time.sleep(0.3)                   # and it stays there
    stop.set()
    th.join()
    summary = stop_car(car)
    print(json.dumps({"summary": summary, "samples": samples, "polls": polls, "t_fault": t_fault}))


if __name__ == "__main__":
    main()
