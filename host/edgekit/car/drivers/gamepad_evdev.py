"""A gamepad over evdev (python-evdev) for manual driving and takeover: one stick axis steers,
another drives the throttle (deadzone around the centre), a button toggles user mode (the stick
drives, the shared rules' manual path) and pilot mode. Events are read by a thread; `stick()` is
what the control loop asks each step."""
from __future__ import annotations

import threading

from edgekit.errors import ToolError, UserError


def find_device(spec: str, needs_abs, needs_key):
    """`spec` is an /dev/input/event* path, or "auto": the first device with the axes and the button."""
    try:
        import evdev
    except ImportError:
        raise ToolError("the gamepad needs python-evdev: pip install evdev") from None
    paths = [spec] if spec != "auto" else evdev.list_devices()
    for path in paths:
        try:
            dev = evdev.InputDevice(path)
        except OSError as exc:
            if spec != "auto":
                raise UserError(f"--gamepad {spec}: {exc.strerror}") from None
            continue
        caps = dev.capabilities()
        axes = {c[0] if isinstance(c, tuple) else c for c in caps.get(evdev.ecodes.EV_ABS, [])}
        if set(needs_abs) <= axes and set(needs_key) <= set(caps.get(evdev.ecodes.EV_KEY, [])):
            return dev
        if spec != "auto":
            raise UserError(f"--gamepad {spec} ({dev.name}): lacks the configured axes or mode button")
        dev.close()
    raise UserError("--gamepad auto: no input device with the configured axes and mode button")


class EvdevGamepad:
    def __init__(self, spec: str, cfg):
        from evdev import ecodes
        try:
            self.steer_code = ecodes.ecodes[cfg.steering_axis]
            self.thr_code = ecodes.ecodes[cfg.throttle_axis]
            self.button = ecodes.ecodes[cfg.mode_button]
        except KeyError as exc:
            raise UserError(f"car YAML gamepad: unknown evdev code {exc.args[0]}") from None
        self.cfg = cfg
        self.dev = find_device(spec, (self.steer_code, self.thr_code), (self.button,))
        self.ranges = {c: (self.dev.absinfo(c).min, self.dev.absinfo(c).max) for c in (self.steer_code, self.thr_code)}
        self.values = {c: self.dev.absinfo(c).value for c in self.ranges}
        self.user = False             # starts in pilot mode; the button takes over
        self.toggles = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @property
    def name(self) -> str:
        return self.dev.name

    def _read(self):
        from evdev import ecodes
        try:
            for ev in self.dev.read_loop():
                with self._lock:
                    if ev.type == ecodes.EV_ABS and ev.code in self.values:
                        self.values[ev.code] = ev.value
                    elif ev.type == ecodes.EV_KEY and ev.code == self.button and ev.value == 1:
                        self.user = not self.user
                        self.toggles += 1
        except OSError:               # unplugged: hand the car back to the pilot (the failsafe still holds)
            with self._lock:
                self.user = False

    def _milli(self, code) -> int:
        lo, hi = self.ranges[code]
        v = 2.0 * (self.values[code] - lo) / (hi - lo) - 1.0 if hi > lo else 0.0
        if abs(v) < self.cfg.deadzone:
            return 0
        return max(-1000, min(1000, round(v * 1000)))

    def stick(self) -> tuple[int, int] | None:
        """(steering, throttle) in milli-units while in user mode, None while the pilot drives."""
        with self._lock:
            if not self.user:
                return None
            thr = self._milli(self.thr_code)
            return self._milli(self.steer_code), -thr if self.cfg.invert_throttle else thr

    def close(self):
        try:
            self.dev.close()
        except OSError:
            pass
