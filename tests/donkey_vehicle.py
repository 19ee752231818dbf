"""Run inside the DonkeyCar venv (in the VM twin) by tests/test_donkeycar_vehicle.py: DonkeyCar's own
`Vehicle` drives edgekit's parts — the V4L2 camera (vivid), the compiled pilot, the PCA9685 (i2c-stub)
— for N loops. A probe part, last in the loop, records what the pilot saw and said and reads the
PCA9685's pulse registers back byte by byte on a separate i2c-dev handle; DonkeyCar's own
PWMSteering/PWMThrottle (on a recording controller) give the pulses DonkeyCar would have sent.

usage: python donkey_vehicle.py MODEL_DIR I2C_BUS LOOPS OUT.npz
"""
from __future__ import annotations

import sys

import numpy as np
from donkeycar.parts.actuator import PWMSteering, PWMThrottle
from donkeycar.vehicle import Vehicle
from smbus2 import SMBus

from edgekit.car.donkey_parts import EdgekitActuator, EdgekitCamera, EdgekitPilot
from edgekit.car.drivers.v4l2 import V4L2Camera

LED0 = 0x06


class PulseRecorder:
    """DonkeyCar's controller interface (`set_pulse`): keeps the last pulse it was given."""
    pulse = None

    def set_pulse(self, pulse):
        self.pulse = pulse


def read_pulses(bus, address, calib):
    def one(ch):
        lo, hi = (bus.read_byte_data(address, LED0 + 4 * ch + k) for k in (2, 3))
        return lo | (hi & 0x0F) << 8
    return one(calib.steering_channel), one(calib.throttle_channel)


class Probe:
    def __init__(self, bus_no, calib):
        self.bus, self.c = SMBus(bus_no), calib
        self.frames, self.outputs, self.registers, self.donkey = [], [], [], []
        self.steer = PWMSteering(PulseRecorder(), calib.steering_left_pwm, calib.steering_right_pwm)
        self.thr = PWMThrottle(PulseRecorder(), calib.throttle_forward_pwm, calib.throttle_reverse_pwm,
                               calib.throttle_stopped_pwm)

    def run(self, img, angle, throttle):
        self.frames.append(np.array(img))
        self.outputs.append((angle, throttle))
        self.registers.append(read_pulses(self.bus, self.c.address, self.c))
        self.steer.run_threaded(angle)
        self.thr.run_threaded(throttle)
        self.donkey.append((self.steer.pulse, self.thr.pulse))


def main(model_dir, bus_no, loops, out):
    V = Vehicle()
    # the car YAML's camera section selects the driver (v4l2, /dev/video0: vivid here)
    cam = EdgekitCamera.from_car("donkey_1_10", capture_width_px=320, capture_height_px=180)
    assert isinstance(cam.driver, V4L2Camera)
    act = EdgekitActuator.from_car("donkey_1_10", i2c_bus=bus_no)
    probe = Probe(bus_no, act.calibration)
    V.add(cam, outputs=["cam/image_array"], threaded=True)
    V.add(EdgekitPilot(model_dir), inputs=["cam/image_array"], outputs=["pilot/angle", "pilot/throttle"])
    V.add(act, inputs=["pilot/angle", "pilot/throttle"])
    V.add(probe, inputs=["cam/image_array", "pilot/angle", "pilot/throttle"])
    result = V.start(rate_hz=20, max_loop_count=loops)     # stops every part (shutdown) at the end
    if result is None:
        sys.exit("the Vehicle loop raised (traceback above)")
    n, seconds = result
    after = read_pulses(probe.bus, act.calibration.address, act.calibration)
    np.savez(out, loops=n, seconds=seconds, frames=np.stack(probe.frames), outputs=np.array(probe.outputs),
             registers=np.array(probe.registers), donkey=np.array(probe.donkey), after_shutdown=np.array(after),
             camera_frames=cam.frames, camera_driver=cam.driver.driver)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
