"""Capture in the firmware car app on the coral twin (real firmware, real QEMU, real link): an
autopilot drive in the simulator where the person (the expert, through the RC input) takes over
whenever the firmware's pilot strays and hands back once the car is centred; QEMU killed while a window is being written, reboot, pull over SMP.
The torn window is skipped and every window the Python Capture (the same rules and constants)
completed comes home identical; a pull killed mid-transfer and resumed gives the same tub."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edgekit.firmware.runner import DriveLink
from edgekit.firmware.twin import Twin
from edgekit.shadow.capture import Capture, POST, PRE, THRESHOLD
from edgekit.shadow.fwcapture import parse_area
from edgekit.sim.drive import drive_policy
from edgekit.sim.loop import expert_policy
from test_firmware_fixtures import TINY_SHAPE, _TMP

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]


@functools.lru_cache(maxsize=None)
def veering_pilot() -> Path:
    """The tiny net (test_firmware_fixtures) with its heads set to drive forward (throttle ~0.5)
    steering ~0.6 right whatever it sees: a pilot that strays on any track, so the person takes over
    again and again. Real INT8 conversion; a random-weight net instead reverses and stalls."""
    from int8_models import convert_int8

    model = _keras_tiny()
    for name, bias in (("n_outputs0", 0.6), ("n_outputs1", 0.5)):
        layer = model.get_layer(name)
        k, _ = layer.get_weights()
        layer.set_weights([k * 0.02, np.array([bias], np.float32)])
    calib = np.random.default_rng(3).random((16, *TINY_SHAPE), dtype=np.float32)
    return convert_int8(model, calib[:, None], _TMP / "veering_int8.tflite")


def _keras_tiny():
    import keras
    from keras import layers

    keras.utils.set_random_seed(99)
    img = keras.Input(shape=TINY_SHAPE, batch_size=1, name="img_in")
    x = layers.Conv2D(4, 3, strides=2, activation="relu")(img)
    x = layers.Dense(8, activation="relu")(layers.Flatten()(x))
    return keras.Model(img, [layers.Dense(1, name=f"n_outputs{i}")(x) for i in range(2)])


@functools.lru_cache(maxsize=None)
def coral_with_smp():
    from edgekit.catalog import get_board
    from edgekit.firmware.build import build

    return build(get_board("coral"), veering_pilot(), _TMP / "coral-capture", with_mgmt=True)


class Collect:
    """The Python Capture's writer: keeps the windows it completes, in memory."""

    def __init__(self):
        self.windows = []

    def submit(self, header, frames, wait=0.0):
        if header["kind"] == "window":
            self.windows.append((header, frames))


class PowerCut(Exception):
    pass


def capture_counters(link) -> list[int]:
    link.command("capture")
    line = [t for t in link.telemetry if t.startswith("t-capture-")][-1]
    return [int(v) for v in line[len("t-capture-["):-1].split(",")]  # mode events windows dropped errors next worst busy


def tree(path: Path) -> dict:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def powercut(tmp_path_factory):
    """Drive until two windows are complete and a third is being written, then kill QEMU."""
    state = tmp_path_factory.mktemp("coral")
    image = coral_with_smp().image
    ref = Collect()
    cap = Capture(ref, pre=PRE, post=POST, threshold=round(THRESHOLD * 1000))  # milli units, as the firmware
    expert = expert_policy()
    seq = [0]
    twin = Twin("coral", image, state=state, icount=0).start()
    link = DriveLink(twin.url, timeout=30)
    link.sync()
    assert capture_counters(link)[0] == 0
    link.command("capture autopilot")
    link.drive("step")
    stop, person = {}, {"drives": False, "since": 0.0}

    def policy(frame, st):
        # autopilot with takeover, as edgekit.shadow.sim: the person takes the car when it strays
        w, takeover = st.world, False
        if not person["drives"] and abs(w.cte) > 0.25:
            person.update(drives=True, since=w.t)
            takeover = True
        elif person["drives"] and abs(w.cte) > 0.08:
            person["since"] = w.t
        elif person["drives"] and w.t - person["since"] >= 1.0:
            person["drives"] = False
        human = [round(v * 1000) for v in expert(frame, st)] if person["drives"] else None
        small = np.ascontiguousarray(frame[::frame.shape[0] // TINY_SHAPE[0], ::frame.shape[1] // TINY_SHAPE[1]])
        seq[0] += 1
        link.rc(None if human is None else human[0] / 1000, 0 if human is None else human[1] / 1000)
        twin.write_frame(seq[0], small.tobytes())
        c = link.frame(seq[0])
        pilot = (round(c.model_angle * 1000), round(c.model_throttle * 1000))
        cap.step(small, pilot, human, "autopilot", takeover=takeover)
        if len(ref.windows) >= 2 and cap.open is not None and len(cap.open["items"]) - cap.open["trigger"] >= 3:
            stop["counters"] = capture_counters(link)
            raise PowerCut  # a window is mid-write: pull the plug now
        return c.steering, c.throttle  # what the firmware actuated: the person's stick or the pilot

    try:
        drive_policy(policy, "winding", laps=3, crash_margin_m=None)
    except PowerCut:
        pass
    assert stop, f"the shadow drive raised only {len(ref.windows)} windows in 3 laps"
    twin.kill()  # power cut: SIGKILL, no flush, no goodbye
    link.close()
    return state, image, ref.windows, stop["counters"], seq[0]


def test_power_cut_loses_only_the_window_being_written(powercut, tmp_path):
    state, image, expected, counters, steps = powercut
    mode, events, committed, dropped, errors, next_id, worst_us, busy = counters
    assert (mode, committed, dropped, errors, busy) == (2, len(expected), 0, 0, 1), counters
    assert next_id == len(expected) + 1  # the third window had its id and was being written
    print(f"autopilot drive: {steps} frames, {events} events (takeovers, disagreements), {committed} windows committed before the cut; "
          f"worst capture time per control step {worst_us} us (emulated, -icount board clock)")
    with Twin("coral", image, state=state, icount=0) as twin:  # reboot
        from edgekit.shadow import smp_pull

        s = smp_pull.pull(twin.url, tmp_path / "tub")
        area = (tmp_path / ".tub.pull" / "capture.img").read_bytes()
        with DriveLink(twin.url, timeout=30) as link:
            link.sync()
            assert capture_counters(link)[5] == len(expected)  # the torn window's id was never committed
    got = parse_area(area, TINY_SHAPE)
    assert s["windows"] == len(got) == len(expected)
    for w, (h, frames) in zip(got, expected):
        assert (w.header["reason"], w.header["reasons"], w.header["trigger"]) == (h["reason"], h["reasons"], h["trigger"])
        assert np.array_equal(w.frames, frames)
        assert [r["pilot"] for r in w.header["records"]] == [[p / 1000 for p in r["pilot"]] for r in h["records"]]
        assert [r["human"] for r in w.header["records"]] == [
            None if r["human"] is None else [p / 1000 for p in r["human"]] for r in h["records"]]
        assert [r["driver"] for r in w.header["records"]] == ["pilot" if r["human"] is None else "human" for r in h["records"]]
    assert "takeover" in [h["reason"] for h, _ in expected]
    assert s["records"] == sum(len(f) for _, f in expected)


def test_interrupted_pull_resumes_to_the_same_tub(powercut, tmp_path):
    state, image, expected, *_ = powercut
    env = dict(os.environ, EDGEKIT_STATE=str(tmp_path / "ek"))
    with Twin("coral", image, state=state, icount=0) as twin:
        cmd = [sys.executable, "-m", "edgekit", "data", "pull", "--port", twin.url, "--json"]
        assert subprocess.run(cmd + ["--out", str(tmp_path / "whole")], env=env, capture_output=True).returncode == 0
        staged = tmp_path / ".cut.pull" / "capture.img"
        total = (tmp_path / ".whole.pull" / "capture.img").stat().st_size
        proc = subprocess.Popen(cmd + ["--out", str(tmp_path / "cut")], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None and (not staged.exists() or staged.stat().st_size < total // 3):
            time.sleep(0.01)  # wait for a third of the area to arrive, then drop the link
        proc.kill()
        proc.wait()
        cut_at = staged.stat().st_size
        assert 0 < cut_at < total, "the pull finished before it could be interrupted"
        out = subprocess.run(cmd + ["--out", str(tmp_path / "cut")], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
    import json

    res = json.loads(out.stdout)
    assert res["bytes_resumed"] == cut_at and res["bytes_transferred"] == total - cut_at
    assert tree(tmp_path / "cut") == tree(tmp_path / "whole")
    assert res["windows"] == len(expected)
