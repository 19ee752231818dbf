"""Car drivers, one file per device: camera (V4L2, picamera2), PWM (PCA9685), gamepad (evdev), battery (INA219).

Every camera driver has the same interface: `read(timeout=1.0, decode=True)` → (seq, t_capture
monotonic s, uint8[out_h, out_w, 3] RGB) or None on timeout; `decode(raw)`; `close()`; `driver`, `card`."""
from __future__ import annotations


def open_camera(car: str = "donkey_1_10", **overrides):
    """The camera the car YAML's `camera.driver` names (v4l2 | picamera2), giving frames at the
    pilot's input size (`camera.width_px` × `camera.height_px`); the capture size applies to V4L2
    (picamera2 lets the Pi's ISP scale). `overrides` replace `camera` fields."""
    from edgekit.errors import UserError
    from edgekit.sim.car import load_car
    from edgekit.sim.car_schema import Camera

    fields = {**load_car(car)["camera"], **overrides}
    try:
        c = Camera(**fields)
    except ValueError as exc:
        raise UserError(f"camera: {str(exc).splitlines()[-1].strip()} ({', '.join(overrides)})") from None
    out = (c.width_px, c.height_px)
    if c.driver == "picamera2":
        from edgekit.car.drivers.picamera2_camera import Picamera2Camera
        return Picamera2Camera(out_size=out)
    from edgekit.car.drivers.v4l2 import V4L2Camera
    return V4L2Camera(c.device, width=c.capture_width_px, height=c.capture_height_px, out_size=out)
