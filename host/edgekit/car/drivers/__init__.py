"""Car drivers, one file per device: camera (V4L2), PWM (PCA9685), gamepad (evdev), battery (INA219)."""
