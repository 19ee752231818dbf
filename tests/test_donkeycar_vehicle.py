"""edgekit's DonkeyCar parts in DonkeyCar's own `Vehicle` loop (donkeycar from PyPI, in a venv of
its own), run in the Linux VM twin: the camera part reads the kernel's vivid V4L2 device, the pilot
part is a compiled tiny pilot (generated C via edgekit.runtime), the actuator part writes a PCA9685
on the kernel's i2c-stub (tests/donkey_vehicle.py is the vehicle).

Proves: the parts meet DonkeyCar's part contract (threaded camera, run/run_threaded/update/shutdown)
in DonkeyCar's loop; the pilot answers exactly what edgekit.runtime (and TFLM) give for the frames
the loop saw; the PCA9685 registers hold DonkeyCar's own PWMSteering/PWMThrottle pulses for the
pilot's outputs; shutdown leaves neutral. Does not prove: aarch64, a real PCA9685's pulses (i2c-stub
is a register file), a Pi camera (vivid is a test pattern generator), DonkeyCar's Keras parts.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgekit.car.drivers.pca9685 import PWMActuator
from edgekit.codegen import compile_model
from edgekit.paths import state_dir
from edgekit.sim.car import load_car
from edgekit.sim.car_schema import Pwm
from edgekit.sim.runners import CompiledRunner, output_order

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent
HOST = HERE.parent / "host"
LOOPS = 12
# donkeycar with --no-deps, plus exactly what `donkeycar` (its __init__, vehicle, memory, utils,
# parts.actuator) imports and what edgekit's parts need (numpy, cffi, smbus2, pydantic, yaml).
# numpy < 2: donkeycar 5.3's own requirement.
DONKEYCAR = "donkeycar==5.3.0"
PINS = ["numpy==1.26.4", "pillow==13.0.0", "pyfiglet==1.0.4", "prettytable==3.18.0", "wcwidth==0.9.4",
        "cffi==2.1.1", "pycparser==3.12", "smbus2==0.6.1", "pydantic==2.14.3", "pydantic_core==2.50.4",
        "annotated-types==0.8.0", "typing_extensions==4.16.0", "typing-inspection==0.4.5", "PyYAML==6.0.3"]


@pytest.fixture(scope="session")
def donkey_python() -> Path:
    """A venv (no system site packages) with donkeycar from PyPI, cached by the pinned set."""
    tag = hashlib.sha256(" ".join([sys.version, DONKEYCAR, *PINS]).encode()).hexdigest()[:12]
    venv = state_dir() / f"donkey-venv-{tag}"
    py = venv / "bin" / "python"
    with open(state_dir() / "donkey-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / "ready").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            pip = [str(py), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check"]
            subprocess.run(pip + [DONKEYCAR, *PINS], check=True, timeout=900)
            (venv / "ready").write_text(" ".join([DONKEYCAR, *PINS]))
    return py


@pytest.fixture(scope="module")
def tiny_pilot(tmp_path_factory):
    """Pilot-shaped (120×160×3 in, angle and throttle out) and small, so TCG runs it at loop rate."""
    import keras
    from keras import layers

    from int8_models import convert_int8

    keras.utils.set_random_seed(11)
    img = keras.Input(shape=(120, 160, 3), batch_size=1, name="img_in")
    x = layers.Conv2D(4, 5, strides=4, activation="relu")(img)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu")(x)
    model = keras.Model(img, [layers.Dense(1, name="angle")(x), layers.Dense(1, name="throttle")(x)])
    calib = np.random.default_rng(4).random((16, 120, 160, 3), dtype=np.float32)
    tfl = convert_int8(model, calib[:, None], tmp_path_factory.mktemp("tiny") / "tiny_int8.tflite")
    out = tmp_path_factory.mktemp("tiny_c") / "pilot"
    compile_model(tfl, out, name="pilot")
    return tfl, out


@pytest.fixture(scope="module")
def vm(tmp_path_factory):
    from edgekit.vm.linux_vm import LinuxVM
    with LinuxVM("rpi4-coral-usb", state=tmp_path_factory.mktemp("vm")) as v:
        yield v


def test_donkeycar_vehicle_drives_edgekit_parts(donkey_python, tiny_pilot, vm):
    tfl, pilot_dir = tiny_pilot
    # the guest builds its own shared library (its CPU is not the host's): a copy on its disk
    tar = subprocess.run(["tar", "-C", str(pilot_dir.parent), "-cf", "-", "pilot"], capture_output=True,
                         check=True).stdout
    vm.ssh("rm -rf /mnt/dk && mkdir -p /mnt/dk && tar -C /mnt/dk -xf -", input=tar)
    r = vm.ssh(f"cd /mnt/dk && env PYTHONPATH={HOST}:{HERE} EDGEKIT_STATE=/mnt/edgekit-state "
               f"{donkey_python} {HERE / 'donkey_vehicle.py'} /mnt/dk/pilot 0 {LOOPS} /mnt/dk/run.npz "
               f"&& base64 -w0 /mnt/dk/run.npz", timeout=900, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "using donkey v5.3.0" in r.stdout + r.stderr          # DonkeyCar's own package ran the loop
    assert "Traceback" not in r.stderr, r.stderr[-3000:]         # nor did a part's thread (camera update) die
    got = np.load(io.BytesIO(base64.b64decode(r.stdout.strip().splitlines()[-1])))

    assert int(got["loops"]) == LOOPS and len(got["outputs"]) == LOOPS
    assert str(got["camera_driver"]) == "vivid" and int(got["camera_frames"]) >= 1
    print(f"emulated: {LOOPS} DonkeyCar loops in {float(got['seconds']):.2f} s in the VM twin (TCG), "
          f"{int(got['camera_frames'])} camera frames")

    # the pilot: exactly edgekit.runtime's answer for the frame that loop saw
    host = CompiledRunner(pilot_dir)
    for frame, (angle, throttle) in zip(got["frames"], got["outputs"]):
        assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
        assert host(frame) == (angle, throttle)
    assert len({f.tobytes() for f in got["frames"]}) > 1               # live frames, not one frame repeated

    # ... and TFLM's (the golden) for the last one: the runner's int8 input (frame / 255 through the
    # input's scale and zero point), TFLM's int8 outputs dequantized, angle and throttle by name
    from edgekit.golden import tflm_invoke
    frame, inp = got["frames"][-1], host.inp
    x = np.clip(np.round(frame.astype(np.float32) / 255 / inp.scale + inp.zero_point), -128, 127)
    ys = tflm_invoke(tfl, [x.astype(np.int8).reshape(inp.shape)])
    vals = [(np.asarray(y, np.float32).ravel() - o.zero_point) * o.scale for o, y in zip(host.outs, ys)]
    a, t = output_order([o.name for o in host.outs])
    assert (float(vals[a][0]), float(vals[t][0])) == tuple(got["outputs"][-1])

    # the actuator: registers = DonkeyCar's PWMSteering/PWMThrottle pulses = edgekit's calibration
    calib = Pwm(**load_car("donkey_1_10")["pwm"])
    act = PWMActuator(None, calib)
    print("pilot (angle, throttle) → PCA9685 (steering, throttle) counts:",
          [(round(float(a), 4), round(float(t), 4), tuple(int(v) for v in r))
           for (a, t), r in zip(got["outputs"], got["registers"])])
    for (angle, throttle), regs, dk in zip(got["outputs"], got["registers"], got["donkey"]):
        assert tuple(regs) == tuple(dk) == act.pulses(angle, throttle)
    assert tuple(got["after_shutdown"]) == act.pulses(0.0, 0.0) == (375, calib.throttle_stopped_pwm)
