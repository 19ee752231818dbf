"""Capture in the Linux car runtime (edgekit.car.runtime's hook into edgekit.shadow): the real
control loop with the firmware's rules (cffi), a paced frame source, a stand-in pilot process and a
gamepad that takes the car from the pilot; the takeover's window lands in the capture store with both
commands and comes home through `data pull --from`. The kernel drivers and the pilot process itself
are covered by tests/test_car_runtime.py and tests/test_vm_car.py."""
from __future__ import annotations

import time

import numpy as np

from edgekit.car.runtime import CarRuntime
from edgekit.shadow.capture import Capture
from edgekit.shadow.pull import pull
from edgekit.shadow.store import WindowStore, WindowWriter, read_windows
from edgekit.sim.tub import read_records


class Camera:
    def __init__(self):
        self.seq, self.next, self.rng = 0, time.monotonic(), np.random.default_rng(0)

    def read(self, timeout=1.0, decode=True):
        self.next = max(self.next + 1 / 30, time.monotonic())
        time.sleep(max(0.0, self.next - time.monotonic()))
        self.seq += 1
        return self.seq, time.monotonic(), self.rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)

    def decode(self, raw):
        return raw


class Pilot:
    """Answers every frame at once: steer 0.1, throttle 0.3 (the pilot process's protocol)."""
    busy = False

    def __init__(self):
        self.pending = None

    def submit(self, seq, img):
        self.pending = seq
        return True

    def poll(self, timeout):
        if self.pending is None:
            time.sleep(timeout)
            return None
        seq, self.pending = self.pending, None
        return seq, (0.1, 0.3, time.monotonic())


class Actuator:
    def write(self, s, t):
        return (int(s * 1000), int(t * 1000))

    def neutral(self):
        return self.write(0.0, 0.0)


class Gamepad:
    """The person: hands off for the first 0.6 s, then takes the car (steer -0.7)."""

    def __init__(self):
        self.t0 = time.monotonic()

    def stick(self):
        return (-700, 200) if time.monotonic() - self.t0 > 0.6 else None


def test_takeover_window_from_the_car_runtime(tmp_path):
    writer = WindowWriter(WindowStore(tmp_path / "captures"))
    cap = Capture(writer, pre=4, post=4)
    rt = CarRuntime(Camera(), Pilot(), Actuator(), gamepad=Gamepad(), capture=cap, capture_mode="autopilot")
    stats = rt.run(1.5)
    writer.close()
    assert writer.error is None and writer.dropped == 0
    wins = [w for w in read_windows(tmp_path / "captures") if w.header["kind"] == "window"]
    assert cap.events["takeover"] == 1 and wins and wins[0].header["reason"] == "takeover"
    recs = wins[0].header["records"]
    trig = wins[0].header["trigger"]
    assert [r["driver"] for r in recs[:trig]] == ["pilot"] * trig and recs[trig]["human"] == [-0.7, 0.2]
    assert all(r["pilot"] == [0.1, 0.3] for r in recs)
    assert len(stats.records) >= 20  # the loop kept its rate (20 Hz for 1.5 s, a busy host allowed for)
    s = pull(tmp_path / "captures", tmp_path / "tub")
    assert s["windows"] == len(wins) and {r["user/mode"] for r in read_records(tmp_path / "tub")} == {"user", "local"}
