"""`edgekit car run` inside the Linux VM twin (Debian kernel in QEMU): frames from the kernel's vivid
camera, PWM written to an i2c-stub PCA9685 and read back from its registers over i2c-dev.

The VM runs TCG with an instruction-counted clock (`-icount shift=0`: 1 ns per guest instruction, a
1-GIPS CPU; no hardware KVM here, docs/SOURCES.md §5), so the rate and the failsafe times below are
the guest's own and a busy host cannot stretch them. The scenario runs in the guest
(tests/vm_car_guest.py): the runtime's log and a register poller share the guest's clock.

Proves: the V4L2 ioctls, the PCA9685 register traffic, the calibration, the control rate and the
failsafe against real kernel drivers. Does not prove: aarch64 code (the guest is x86-64), a real
PCA9685's pulses, a Pi camera's timing (vivid is a test pattern generator)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from edgekit.codegen import compile_model
from edgekit.sim.car import load_car
from edgekit.sim.car_schema import Gamepad, Pwm
from edgekit.car.drivers.pca9685 import PWMActuator

pytestmark = pytest.mark.slow
PY = "/work/wt-car/.venv/bin/python"


@pytest.fixture(scope="module")
def vm(tmp_path_factory):
    import sys
    from edgekit.vm.linux_vm import LinuxVM
    global PY
    PY = sys.executable
    with LinuxVM("rpi4-coral-usb", state=tmp_path_factory.mktemp("vm"), icount_shift=0) as v:
        yield v


@pytest.fixture(scope="module")
def small_pilot(tmp_path_factory):
    """Pilot-shaped (120×160×3 in, angle and throttle out) but small (0.38 M MACs, real generated C):
    the full pilot's ~48 M MACs take longer than the failsafe on the VM's 1-GIPS clock."""
    import keras
    import numpy as np
    from keras import layers
    from int8_models import convert_int8

    keras.utils.set_random_seed(5)
    img = keras.Input(shape=(120, 160, 3), batch_size=1, name="img_in")
    x = layers.Conv2D(4, 5, strides=4, activation="relu")(img)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu")(x)
    model = keras.Model(img, [layers.Dense(1, name="angle")(x), layers.Dense(1, name="throttle")(x)])
    calib = np.random.default_rng(3).random((16, 120, 160, 3), dtype=np.float32)
    return convert_int8(model, calib[:, None], tmp_path_factory.mktemp("small") / "small_int8.tflite")


@pytest.fixture(scope="module")
def guest_model(vm, small_pilot, tmp_path_factory):
    out = tmp_path_factory.mktemp("pilot_c") / "pilot"
    compile_model(small_pilot, out, name="pilot")
    tar = subprocess.run(["tar", "-C", str(out.parent), "-cf", "-", "pilot"], capture_output=True, check=True).stdout
    vm.ssh("rm -rf /mnt/models && mkdir -p /mnt/models && tar -C /mnt/models -xf -", input=tar)
    return "/mnt/models/pilot"


def _ssh_read(vm, command):
    r = vm.ssh(command, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _read_pulse(vm, channel):
    # i2cget (i2c-tools): an independent reader of the stub's registers (OFF_L, OFF_H)
    # byte by byte: i2c-stub keeps each register separately, as the PCA9685 does with auto-increment
    lo, hi = (int(_ssh_read(vm, f"i2cget -y 0 0x40 {0x06 + 4 * channel + k} b").strip(), 16) for k in (2, 3))
    return lo | (hi & 0x0F) << 8


def test_pca9685_driver_registers_equal_calibration(vm):
    """The driver's i2c traffic lands in the kernel's i2c-stub registers as the calibration says."""
    calib = Pwm(**load_car("donkey_1_10")["pwm"])
    act = PWMActuator(None, calib)
    cases = [(-1.0, 0.0), (0.0, 1.0), (0.37, -0.5), (1.0, 0.25)]
    code = ("from edgekit.car.drivers.pca9685 import PCA9685, PWMActuator\n"
            "from edgekit.sim.car import load_car\nfrom edgekit.sim.car_schema import Pwm\n"
            "import sys\nc = Pwm(**load_car('donkey_1_10')['pwm'])\n"
            "a = PWMActuator(PCA9685(0, c.address, c.frequency_hz), c)\n"
            "print(a.write(float(sys.argv[1]), float(sys.argv[2])))\n")
    vm.ssh("cat > /tmp/pwm.py", input=code.encode())
    for s, t in cases:
        vm.ssh(f"EDGEKIT_STATE=/mnt/edgekit-state {PY} /tmp/pwm.py {s} {t}")
        assert (_read_pulse(vm, calib.steering_channel), _read_pulse(vm, calib.throttle_channel)) == act.pulses(s, t)
    prescale = int(_ssh_read(vm, "i2cget -y 0 0x40 0xfe b").strip(), 16)
    assert prescale == round(25e6 / (4096 * calib.frequency_hz)) - 1


GUEST = Path(__file__).with_name("vm_car_guest.py")


def _scenario(vm, model, fault, steady_s, extra=""):
    """Run tests/vm_car_guest.py in the guest; its JSON result and the runtime's log."""
    r = vm.ssh(f"cd /mnt && EDGEKIT_STATE=/mnt/edgekit-state {PY} {GUEST} {model} 0 {fault} {steady_s} {extra}",
               timeout=1200, check=False)
    assert r.returncode == 0, f"guest scenario {fault}: {r.stderr[-3000:]}"   # the whole reason, not its last line
    out = r.stdout
    res = json.loads(out.strip().splitlines()[-1])
    log = [json.loads(l) for l in _ssh_read(vm, "cat /tmp/car.log").splitlines() if l]
    return res, log


def _failsafe_times(res, log, neutral):
    """(runtime's own since-fresh ms, register poller's since-fresh ms) for the injected fault."""
    writes = [x for x in log if "pulses" in x]
    fresh = max(x["t_pwm"] for x in writes if "mode" in x)
    assert fresh < res["t_fault"] + 1.0       # nothing fresh after the fault but work in flight
    fs = [x for x in writes if x.get("event") == "failsafe" and x["t_pwm"] > fresh]
    assert fs, "the runtime never wrote the failsafe"
    seen = [t for t, p in res["polls"] if t > fresh and p == neutral]
    assert seen, "the throttle register never read neutral"
    before = [p for t, p in res["polls"] if t < fresh]
    assert before and before[-1] != neutral, "the throttle was neutral before the fault: the test proves nothing"
    return fs[0]["since_fresh_ms"], (seen[0] - fresh) * 1e3, fs[0]["why"]


def test_car_run_in_vm(vm, guest_model):
    """≥ 20 Hz from vivid to the i2c-stub registers, the registers equal the pilot's outputs through
    the rules and the calibration, the tub records every step; then vivid drops every buffer (a frozen
    camera) and the throttle register reads neutral within 100 ms of the last fresh command."""
    calib = Pwm(**load_car("donkey_1_10")["pwm"])
    act = PWMActuator(None, calib)
    vm.ssh("rm -rf /mnt/tub")
    res, log = _scenario(vm, guest_model, "freeze-camera", 8, "--tub /mnt/tub")
    summary = res["summary"]
    steps = [x for x in log if "mode" in x]
    assert summary["provenance"] == "emulated"
    assert summary["camera_frames"] > len(steps) >= 100
    for x in steps:   # what was written = the pilot's outputs through the rules and the calibration
        assert x["mode"] == "auto"
        assert x["steer_milli"] == max(-1000, min(1000, round(x["angle"] * 1000)))
        assert tuple(x["pulses"]) == act.pulses(x["steer_milli"] / 1000, x["throttle_milli"] / 1000)
    # the registers, read by the guest while driving, hold the last write (or the next one, when
    # the read fell between the runtime's steering and throttle writes)
    writes = [x for x in log if "pulses" in x]
    exact = 0
    for t0, _t1, s, t in res["samples"]:
        k = max(i for i, x in enumerate(writes) if x["t_pwm"] <= t0)
        allowed = [writes[i]["pulses"] for i in (k, k + 1) if i < len(writes)]
        assert s in {a[0] for a in allowed} and t in {a[1] for a in allowed}, (t0, s, t, allowed)
        exact += [s, t] == writes[k]["pulses"]
    assert exact >= 0.9 * len(res["samples"]) >= 100
    # the rate over the steady window, on the guest's clock: every 20 Hz tick a fresh command
    t0, t1 = res["samples"][0][0], res["samples"][-1][1]
    win = [x for x in steps if t0 <= x["t_pwm"] <= t1]
    rate = (len(win) - 1) / (win[-1]["t_pwm"] - win[0]["t_pwm"])
    lat = summary["dequeue_to_pwm_ms"]
    since_fresh, by_register, why = _failsafe_times(res, log, calib.throttle_stopped_pwm)
    print(f"\nemulated (VM {vm.accel}): {len(win)} steps in {t1 - t0:.1f} s = {rate:.2f} Hz; "
          f"dequeue→PWM p50 {lat['p50']:.1f} p90 {lat['p90']:.1f} p99 {lat['p99']:.1f} max {lat['max']:.1f} ms; "
          f"inference p50 {summary['inference_ms']['p50']:.1f} ms; frozen camera ({why}): neutral written "
          f"{since_fresh:.1f} ms, register neutral {by_register:.1f} ms after the last fresh command")
    assert rate >= 19.9      # the ticks are 50 ms apart; the window's ends add a tick's jitter
    assert why == "camera"
    assert since_fresh <= 100 and by_register <= 100
    assert log[-1]["event"] == "stopped"
    n = int(vm.ssh("grep -c pilot /mnt/tub/catalog_0.catalog").stdout.strip())
    assert n == len(steps)


def test_killed_pilot_in_vm(vm, guest_model):
    """SIGKILL of the pilot process while driving: the throttle register reads neutral within 100 ms of
    the last fresh command; SIGTERM then stops the runtime with the outputs at neutral."""
    calib = Pwm(**load_car("donkey_1_10")["pwm"])
    res, log = _scenario(vm, guest_model, "kill-pilot", 1)
    since_fresh, by_register, why = _failsafe_times(res, log, calib.throttle_stopped_pwm)
    print(f"\nemulated (VM {vm.accel}): killed pilot: neutral written {since_fresh:.1f} ms, "
          f"register neutral {by_register:.1f} ms after the last fresh command")
    assert why == "pilot"
    assert since_fresh <= 100 and by_register <= 100
    assert log[-1]["event"] == "stopped"
    assert _read_pulse(vm, calib.throttle_channel) == calib.throttle_stopped_pwm


def _pad_milli(v, invert=False):
    """A 16-bit axis (-32768..32767) → milli-units with the car YAML's deadzone, computed here."""
    g = Gamepad(**load_car("donkey_1_10")["gamepad"])
    x = 2.0 * (v + 32768) / 65535 - 1.0
    m = 0 if abs(x) < g.deadzone else round(x * 1000)
    return -m if invert else m


def test_gamepad_takeover_in_vm(vm, guest_model):
    """A uinput gamepad (made in the guest with python-evdev) takes over with its mode button: the
    runtime's records switch to manual, the PWM registers follow the sticks, the tub records `user`
    steps; the button hands back to the pilot."""
    calib = Pwm(**load_car("donkey_1_10")["pwm"])
    act = PWMActuator(None, calib)
    vm.ssh("rm -rf /mnt/tub")
    res, log = _scenario(vm, guest_model, "gamepad", 4, "--tub /mnt/tub")
    ev = {e[1] if e[1] != "sticks" else f"sticks{i}": e for i, e in enumerate(res["events"])}
    t_take, t_move, t_rel = ev["takeover"][0], ev["sticks2"][0], ev["release"][0]
    first = (_pad_milli(16384), _pad_milli(-16384, invert=True))      # (500, 500)
    second = (_pad_milli(-32768), _pad_milli(40, invert=True))        # (-1000, 0): throttle in the deadzone
    steps = [x for x in log if "mode" in x]
    manual = [x for x in steps if x["mode"] == "manual"]
    assert len(manual) >= 40
    for x in steps:
        if x["mode"] == "manual":
            assert t_take < x["t_pwm"] < t_rel + 0.2
            want = first if x["t_pwm"] < t_move else second if x["t_pwm"] > t_move + 0.2 else None
            if want:
                assert (x["steer_milli"], x["throttle_milli"]) == want, (x, want)
            assert tuple(x["pulses"]) == act.pulses(x["steer_milli"] / 1000, x["throttle_milli"] / 1000)
        else:
            assert x["mode"] == "auto" and not (t_take + 0.2 < x["t_pwm"] < t_rel)
    assert any(x["mode"] == "auto" and x["t_pwm"] > t_rel + 0.2 for x in steps)   # handed back
    # the registers follow the sticks (read by the guest while driving by hand)
    n = 0
    for t0, t1, s, t in res["samples"]:
        for lo, hi, want in ((t_take + 0.2, t_move, first), (t_move + 0.2, t_rel, second)):
            if lo < t0 and t1 < hi:
                assert (s, t) == act.pulses(want[0] / 1000, want[1] / 1000)
                n += 1
    assert n >= 20
    takeover_ms = (min(x["t_pwm"] for x in manual) - t_take) * 1e3
    print(f"\nemulated (VM {vm.accel}): gamepad takeover: first manual PWM {takeover_ms:.1f} ms after the "
          f"button; {len(manual)} manual steps, {n} register reads matched the sticks")
    assert int(vm.ssh("grep -c '\"user\"' /mnt/tub/catalog_0.catalog").stdout.strip()) == len(manual)


def test_battery_and_low_voltage_cutoff_in_vm(vm, guest_model):
    """`--battery`: the INA219 at 0x41 (an i2c-stub register file holding a 7.4 V, 1.2 A pack) is read
    through hil.monitors' INA219 driver each step, logged and recorded in the tub; when the pack
    reads 6.0 V (below the car YAML's cutoff_v) the runtime latches neutral."""
    from edgekit.car.runtime import LOW_READINGS
    from edgekit.sim.car_schema import Battery
    calib = Pwm(**load_car("donkey_1_10")["pwm"])
    cutoff = Battery(**load_car("donkey_1_10")["battery"]).cutoff_v
    assert 6.0 < cutoff < 7.4
    vm.ssh("rm -rf /mnt/tub")
    res, log = _scenario(vm, guest_model, "low-battery", 1, "--battery --tub /mnt/tub")
    assert res["summary"]["battery_provenance"] == "emulated"
    steps = [x for x in log if "mode" in x]
    before = [x for x in steps if x["t_pwm"] < res["t_fault"]]
    assert len(before) >= 20
    for x in before:
        assert x["mode"] == "auto" and abs(x["battery_v"] - 7.4) < 0.004 and abs(x["battery_a"] - 1.2) < 1e-3
    low = [x for x in log if x.get("event") == "low_battery"]
    assert len(low) == 1 and low[0]["t_pwm"] > res["t_fault"] and abs(low[0]["battery_v"] - 6.0) < 0.004
    after = [x for x in steps if x["t_pwm"] > low[0]["t_pwm"]]
    assert after and all(x["mode"] == "low_battery" and tuple(x["pulses"]) == PWMActuator(None, calib).pulses(0, 0)
                         for x in after)
    seen = [t for t, p in res["polls"] if t > res["t_fault"] and p == calib.throttle_stopped_pwm]
    assert [p for t, p in res["polls"] if t < res["t_fault"]][-1] != calib.throttle_stopped_pwm
    cut_ms = (seen[0] - res["t_fault"]) * 1e3
    print(f"\nemulated (VM {vm.accel}): battery 7.4 V / 1.2 A read each step; 6.0 V → throttle register "
          f"neutral {cut_ms:.1f} ms after the pack was set low ({LOW_READINGS} readings below {cutoff} V)")
    assert cut_ms <= (LOW_READINGS + 1) * 50 + 50     # LOW_READINGS steps at 20 Hz, plus one in flight
    n = int(vm.ssh("grep -c 'car/battery_v' /mnt/tub/catalog_0.catalog").stdout.strip())
    assert n == len([x for x in steps if x["mode"] != "low_battery"])
