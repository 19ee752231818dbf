"""Schema of a car YAML (host/sim/cars/*.yaml): bad fields are one-line errors, not KeyErrors."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Geometry(_Strict):
    wheelbase_m: float = Field(gt=0)
    width_m: float = Field(gt=0)


class Limits(_Strict):
    max_steer_deg: float = Field(gt=0, lt=90)
    max_steer_rate_deg_s: float = Field(gt=0)
    max_speed_m_s: float = Field(gt=0)
    max_accel_m_s2: float = Field(gt=0)
    max_brake_m_s2: float = Field(gt=0)
    speed_time_constant_s: float = Field(gt=0)


class Latency(_Strict):
    command_s: float = Field(ge=0)


class Camera(_Strict):
    height_m: float = Field(gt=0)
    pitch_deg: float
    hfov_deg: float = Field(gt=0, lt=180)
    width_px: int = Field(gt=0)      # the frame the pilot sees (the driver resizes to it)
    height_px: int = Field(gt=0)
    # which driver captures on a real car (edgekit.car.drivers.open_camera); capture size before resizing
    driver: Literal["v4l2", "picamera2"] = "v4l2"
    device: str = "/dev/video0"      # v4l2 only
    capture_width_px: int = Field(default=640, gt=0)
    capture_height_px: int = Field(default=480, gt=0)


class Power(_Strict):
    mass_kg: float = Field(gt=0)
    rolling_coefficient: float = Field(ge=0)
    drag_area_m2: float = Field(ge=0)
    air_density_kg_m3: float = Field(gt=0)
    drivetrain_efficiency: float = Field(gt=0, le=1)
    motor_no_load_w_per_m_s: float = Field(ge=0)
    regen: bool


class Pwm(_Strict):
    """DonkeyCar's PCA9685 calibration (myconfig.py names, 12-bit pulse counts at `frequency_hz`)."""
    i2c_bus: int = Field(default=1, ge=0)
    address: int = Field(default=0x40, ge=0x03, le=0x77)
    frequency_hz: float = Field(default=60.0, ge=24, le=1526)
    steering_channel: int = Field(default=1, ge=0, le=15)
    throttle_channel: int = Field(default=0, ge=0, le=15)
    steering_left_pwm: int = Field(default=460, ge=0, le=4095)
    steering_right_pwm: int = Field(default=290, ge=0, le=4095)
    throttle_forward_pwm: int = Field(default=500, ge=0, le=4095)
    throttle_stopped_pwm: int = Field(default=370, ge=0, le=4095)
    throttle_reverse_pwm: int = Field(default=220, ge=0, le=4095)


class Gamepad(_Strict):
    """Manual driving and takeover over evdev (`edgekit car run --gamepad`). Axis and button names are
    the kernel's (linux/input-event-codes.h); defaults fit an Xbox/PS-style pad's Linux mapping."""
    steering_axis: str = "ABS_X"          # left stick, left = negative
    throttle_axis: str = "ABS_RY"         # right stick, up = negative on Linux pads
    invert_throttle: bool = True          # so stick up = forward
    deadzone: float = Field(default=0.08, ge=0, lt=1)   # of full deflection: a resting stick reads 0
    mode_button: str = "BTN_SOUTH"        # A / cross: toggles user (the stick drives) and pilot


class Battery(_Strict):
    """The INA219 on the PWM board's bus (`edgekit car run --battery`) and the low-voltage cutoff."""
    address: int = Field(default=0x41, ge=0x03, le=0x77)
    shunt_ohms: float = Field(default=0.1, gt=0)
    max_current_a: float = Field(default=3.2, gt=0)
    cutoff_v: float = Field(default=6.4, ge=0)    # 2S LiPo at 3.2 V per cell: stop before damage


class CarSpec(_Strict):
    name: str
    geometry: Geometry
    limits: Limits
    latency: Latency
    camera: Camera
    power: Power
    pwm: Pwm = Pwm()
    gamepad: Gamepad = Gamepad()
    battery: Battery = Battery()
    path: str | None = None
