"""edgekit's pilot, camera and PWM actuator as DonkeyCar parts, for a DonkeyCar `manage.py`:

    V.add(EdgekitCamera.from_car("donkey_1_10"), outputs=["cam/image_array"], threaded=True)
    V.add(EdgekitPilot("build/pilot"), inputs=["cam/image_array"], outputs=["pilot/angle", "pilot/throttle"])
    V.add(EdgekitActuator.from_car("donkey_1_10"), inputs=["pilot/angle", "pilot/throttle"])

DonkeyCar's part contract (donkeycar/vehicle.py): `run(*inputs)` is called once per loop and its
return value goes to the `outputs` keys; a part added with `threaded=True` gets `update()` in a
thread of its own and `run_threaded(*inputs)` per loop; `shutdown()` when the vehicle stops.
Nothing here imports donkeycar: edgekit does not depend on it (docs/DONKEYCAR.md).
"""
from __future__ import annotations

import threading

import numpy as np

from edgekit.errors import ToolError


class EdgekitPilot:
    """`run(img_arr)` → (angle, throttle) like DonkeyCar's KerasPilot.run. The model is an
    `edgekit compile` folder (generated C through edgekit.runtime), a .tflite or .keras file, or any
    runner `frame → (angle, throttle)`. Pre-processing is the runner's own (edgekit.sim.runners:
    uint8 HxWx3 → the int8 input through the model's quantization), so this pilot answers exactly
    what `edgekit sim` and `edgekit car run` would for the same frame."""

    def __init__(self, model, board: str | None = None):
        if callable(model):
            self.runner = model
        else:
            from edgekit.sim.runners import make_runner
            self.runner = make_runner(model, board)

    def run(self, img_arr, *other):
        if img_arr is None:                  # no frame yet (a threaded camera warming up): stand still
            return 0.0, 0.0
        angle, throttle = self.runner(np.asarray(img_arr, np.uint8))
        return float(angle), float(throttle)

    def shutdown(self):
        close = getattr(self.runner, "close", None)
        if close:
            close()


class EdgekitCamera:
    """A camera driver (edgekit.car.drivers: V4L2Camera, Picamera2Camera — anything with
    `read(timeout) → (seq, t, uint8[h, w, 3]) | None` and `close()`) as a DonkeyCar camera part.

    Threaded (as DonkeyCar adds cameras): `update()` keeps reading, `run_threaded()` returns the
    newest frame. Unthreaded: `run()` reads the next frame itself. The constructor waits for the
    first frame (as DonkeyCar's PiCamera does), so the loop never starts on None."""

    def __init__(self, driver, first_frame_timeout: float = 5.0):
        self.driver, self.on = driver, True
        self.frame = self.seq = self.t_capture = None
        self.frames = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()           # no update() thread inside the driver
        self._idle.set()
        if self._grab(first_frame_timeout) is None:
            driver.close()
            raise ToolError(f"camera: no frame within {first_frame_timeout:g} s")

    @classmethod
    def from_car(cls, car: str = "donkey_1_10", **overrides) -> "EdgekitCamera":
        from edgekit.car.drivers import open_camera
        return cls(open_camera(car, **overrides))

    def _grab(self, timeout: float):
        got = self.driver.read(timeout=timeout)
        if got is not None:
            with self._lock:
                self.seq, self.t_capture, self.frame = got
                self.frames += 1
            return got[2]
        return None

    def run(self):
        frame = self._grab(1.0)
        return frame if frame is not None else self.frame

    def update(self):
        self._idle.clear()
        try:
            while self.on:
                self._grab(0.05)
        finally:
            self._idle.set()

    def run_threaded(self):
        with self._lock:
            return self.frame

    def shutdown(self):
        self.on = False
        self._idle.wait(5.0)                     # close only once the reader thread is out of read()
        self.driver.close()


class EdgekitActuator:
    """Steering and throttle in [-1, 1] → PCA9685 pulses with DonkeyCar's calibration semantics
    (PWMSteering: angle −1..1 → left..right pulse; PWMThrottle: −1..0 → reverse..stopped,
    0..1 → stopped..forward), through edgekit's PWMActuator and PCA9685 driver. One part for
    both channels: `inputs=["pilot/angle", "pilot/throttle"]`, no outputs (`run` returns None, as
    DonkeyCar's actuators do; the last pulses are in `.pulses`). `shutdown()` writes neutral."""

    def __init__(self, pwm, calibration):
        from edgekit.car.drivers.pca9685 import PWMActuator
        self.pwm, self.calibration = pwm, calibration
        self.act = PWMActuator(pwm, calibration)
        self.pulses = self.act.neutral()

    @classmethod
    def from_car(cls, car: str = "donkey_1_10", i2c_bus: int | None = None) -> "EdgekitActuator":
        """The car YAML's `pwm` calibration (DonkeyCar's myconfig.py names) on a real PCA9685."""
        from edgekit.car.drivers.pca9685 import PCA9685
        from edgekit.sim.car import load_car
        from edgekit.sim.car_schema import Pwm
        c = Pwm(**load_car(car)["pwm"])
        return cls(PCA9685(c.i2c_bus if i2c_bus is None else i2c_bus, c.address, c.frequency_hz), c)

    def run(self, angle, throttle):
        # DonkeyCar passes None before a pilot has answered: treat it as centre / stopped
        self.pulses = self.act.write(0.0 if angle is None else float(angle),
                                     0.0 if throttle is None else float(throttle))

    def shutdown(self):
        self.pulses = self.act.neutral()
        close = getattr(self.pwm, "close", None)
        if close:
            close()
