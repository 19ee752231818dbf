"""The car runtime on a Linux car computer: camera → pilot → drive rules → PWM, at the rules'
control rate, with per-stage timestamps, the failsafe and DonkeyCar tub recording.

Processes and threads: the camera is read by a thread (latest frame wins); the pilot runs in its own
process (edgekit.runtime via CompiledRunner), so a crashed or stuck pilot cannot take the control
loop with it; the control loop (main thread) wakes at least every 4 ms to check the failsafe.
Failsafe (firmware/app/ek_rules.h, the same C as the firmware): nothing fresh for EK_FAILSAFE_US —
no new frame, or no pilot answer — → throttle neutral and steering centre at once. SIGTERM/SIGINT →
neutral, then exit. With a gamepad (drivers/gamepad_evdev.py) its button takes over: the stick drives
through the rules' manual path. With a battery monitor, LOW_READINGS readings below the cutoff latch
neutral. What it cannot cover: SIGKILL of this process or a power loss (the PCA9685
keeps its last pulse; a real car needs the ESC's own signal-loss failsafe for that).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import queue
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from edgekit.car.rules import Limits, Rules, to_milli

LOW_READINGS = 3       # battery readings in a row below the cutoff that stop the car (one per step)
TUB_BATTERY = (["car/battery_v", "car/battery_a"], ["float", "float"])   # extra tub inputs with --battery


def _pilot_main(model_dir, conn):
    from edgekit.sim.runners import CompiledRunner
    runner = CompiledRunner(model_dir)
    conn.send(("ready", None))
    while True:
        msg = conn.recv()
        if msg is None:
            return
        seq, frame = msg
        angle, throttle = runner(frame)
        conn.send((seq, (float(angle), float(throttle), time.monotonic())))


class PilotProcess:
    """The pilot in a child process; `pid` so it can be killed, `poll()` for its answer."""

    def __init__(self, model_dir, timeout: float = 300.0):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_pilot_main, args=(str(model_dir), child), daemon=True)
        self.proc.start()
        if not self.conn.poll(timeout) or self.conn.recv()[0] != "ready":
            raise RuntimeError("the pilot process did not start")
        self.busy = False

    @property
    def pid(self):
        return self.proc.pid

    def submit(self, seq, frame) -> bool:
        if self.busy or not self.proc.is_alive():
            return False
        try:
            self.conn.send((seq, frame))
        except OSError:               # killed after is_alive() looked: it never answers (failsafe: pilot)
            self.busy = True
            return False
        self.busy = True
        return True

    def poll(self, timeout: float):
        try:
            if self.conn.poll(timeout):
                self.busy = False
                return self.conn.recv()
        except (EOFError, OSError):
            self.busy = True          # a dead pilot never answers again
            time.sleep(timeout)
        return None

    def close(self):
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(1)
        if self.proc.is_alive():
            self.proc.kill()


class CameraThread(threading.Thread):
    def __init__(self, camera):
        super().__init__(daemon=True)
        self.camera, self.latest, self.stop_evt = camera, None, threading.Event()
        self.frames = 0

    def run(self):
        while not self.stop_evt.is_set():
            got = self.camera.read(timeout=0.05, decode=False)   # decoded only if the pilot takes it
            if got is not None:
                seq, t_cap, raw = got
                self.latest = (seq, t_cap, time.monotonic(), raw)
                self.frames += 1


@dataclass
class CarStats:
    records: list = field(default_factory=list)
    failsafes: list = field(default_factory=list)
    frames: int = 0            # frames the camera delivered (used or not)


class CarRuntime:
    def __init__(self, camera, pilot, actuator, limits: Limits | None = None, tub=None, log=None,
                 gamepad=None, capture=None, capture_mode: str = "shadow", battery=None,
                 cutoff_v: float | None = None, watchdog=None):
        self.camera, self.pilot, self.act = camera, pilot, actuator
        self.capture, self.capture_mode = capture, capture_mode  # edgekit.shadow.capture.Capture
        self.watchdog = watchdog      # called every loop pass (edgekit.car.service.Watchdog: sd_notify)
        self.rules, self.limits = Rules(), limits or Limits()
        self.tub, self.log, self.gamepad = tub, log, gamepad
        self.battery, self.cutoff_v, self._low = battery, cutoff_v, 0   # battery.read() → (V, A, W)
        self.stop_evt = threading.Event()
        self.stats = CarStats()

    def _neutral(self, why: str, last_fresh: float):
        pulses = self.act.neutral()
        t = time.monotonic()
        ev = {"event": "failsafe", "why": why, "t_pwm": t, "since_fresh_ms": (t - last_fresh) * 1e3,
              "pulses": list(pulses)}
        self.stats.failsafes.append(ev)
        self._emit(ev)

    def _emit(self, rec):
        if self.log is not None:
            self.log.write(json.dumps(rec) + "\n")
            self.log.flush()

    def run(self, seconds: float | None = None) -> CarStats:
        cam = CameraThread(self.camera)
        cam.start()
        tub_q: queue.Queue = queue.Queue(maxsize=64)
        tub_t = threading.Thread(target=self._tub_writer, args=(tub_q,), daemon=True) if self.tub else None
        if tub_t:
            tub_t.start()
        old = ({s: signal.signal(s, lambda *_: self.stop_evt.set()) for s in (signal.SIGTERM, signal.SIGINT)}
               if threading.current_thread() is threading.main_thread() else {})
        period, fs = 1.0 / self.rules.control_hz, self.rules.failsafe_s
        steer = thr = 0
        t0 = time.monotonic()
        last_fresh = t0
        failsafe = False
        next_tick, last_seq, inflight, had_rc = t0, None, None, False
        self.act.neutral()
        try:
            while not self.stop_evt.is_set() and (seconds is None or time.monotonic() - t0 < seconds):
                if self.watchdog:
                    self.watchdog()
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = max(next_tick + period, now)
                    lat = cam.latest
                    if lat is not None and lat[0] != last_seq and not self.pilot.busy:
                        seq, t_cap, t_dq, raw = lat
                        img = self.camera.decode(raw)
                        t_sent = time.monotonic()
                        if self.pilot.submit(seq, img):
                            last_seq, inflight = seq, (seq, t_cap, t_dq, t_sent, img)
                got = self.pilot.poll(min(0.004, max(0.0, next_tick - time.monotonic())))  # failsafe checked every ≤ 4 ms
                now = time.monotonic()
                if got is not None and inflight is not None and got[0] == inflight[0]:
                    seq, t_cap, t_dq, t_sent, img = inflight
                    angle, throttle, t_inf = got[1]
                    if now - t_dq > fs:          # an answer about a stale frame is not fresh: drop it
                        inflight = None
                        self._emit({"event": "stale", "seq": seq, "t_capture": t_cap, "t_dequeue": t_dq,
                                    "t_sent": t_sent, "t_inferred": t_inf, "t_now": now})
                        continue
                    batt = self._battery()
                    rc = self.gamepad.stick() if self.gamepad else None
                    if self._low >= LOW_READINGS:    # latched: neutral until restarted on a charged pack
                        mode, steer, thr = "low_battery", 0, 0
                        pulses = self.act.neutral()
                    else:
                        mode, steer, thr = self.rules.step(self.limits, rc, to_milli(angle), to_milli(throttle),
                                                           steer, thr)
                        pulses = self.act.write(steer / 1000, thr / 1000)
                    t_pwm = time.monotonic()
                    last_fresh, failsafe, inflight = t_pwm, False, None
                    rec = {"seq": seq, "t_capture": t_cap, "t_dequeue": t_dq, "t_sent": t_sent, "t_inferred": t_inf,
                           "t_pwm": t_pwm, "angle": angle, "throttle": throttle, "steer_milli": steer,
                           "throttle_milli": thr, "pulses": list(pulses), "mode": mode}
                    if batt is not None:
                        rec["battery_v"], rec["battery_a"] = batt
                    self.stats.records.append(rec)
                    self._emit(rec)
                    if self.capture is not None:  # shadow mode: both commands; a writer thread stores windows
                        human = None if rc is None else (rc[0] / 1000, rc[1] / 1000)
                        self.capture.step(img, (angle, throttle), human, self.capture_mode, t=round(t_pwm - t0, 4),
                                          takeover=self.capture_mode == "autopilot" and human is not None and not had_rc,
                                          driver="pilot" if human is None else "human")
                        had_rc = human is not None
                    if tub_t and mode != "low_battery":
                        try:
                            tub_q.put_nowait((img, steer / 1000, thr / 1000, "user" if mode == "manual" else "pilot",
                                              batt))
                        except queue.Full:
                            pass           # recording never slows the car down
                elif not failsafe and self.rules.failsafe_due(int(now * 1e6), int(last_fresh * 1e6)):
                    failsafe = True
                    steer = thr = 0
                    why = "pilot" if self.pilot.busy else "camera"
                    self._neutral(why, last_fresh)
        finally:
            self.act.neutral()
            if self.capture is not None:
                self.capture.flush(mode=self.capture_mode)
            self._emit({"event": "stopped", "t_pwm": time.monotonic()})
            cam.stop_evt.set()
            cam.join(1)
            for s, h in old.items():
                signal.signal(s, h)
            if tub_t:
                tub_q.put(None)
                tub_t.join(10)
        self.stats.frames = cam.frames
        return self.stats

    def _battery(self):
        """(volts, amps) or None; counts readings in a row below the cutoff (one reading can sag
        under a throttle burst, so LOW_READINGS of them latch the cutoff)."""
        if self.battery is None:
            return None
        v, a, _ = self.battery.read()
        if self._low < LOW_READINGS:       # once latched, a pack recovering at rest does not restart
            self._low = self._low + 1 if self.cutoff_v is not None and v < self.cutoff_v else 0
            if self._low == LOW_READINGS:
                self._emit({"event": "low_battery", "battery_v": v, "cutoff_v": self.cutoff_v,
                            "t_pwm": time.monotonic()})
        return v, a

    def _tub_writer(self, q):
        while True:
            item = q.get()
            if item is None:
                return
            img, a, t, mode, batt = item
            rec = {"cam/image_array": img, "user/angle": a, "user/throttle": t, "user/mode": mode}
            if batt is not None:
                rec["car/battery_v"], rec["car/battery_a"] = batt
            self.tub.write_record(rec)


def latency_summary(records) -> dict:
    """Camera→PWM latency (ms) and loop rate from the records (provenance decided by the caller)."""
    if len(records) < 2:
        return {"records": len(records)}
    lat = np.array([(r["t_pwm"] - r["t_capture"]) * 1e3 for r in records])
    # from the runtime's own dequeue: what a camera's buffer timestamp cannot skew (vivid stamps
    # buffers with their nominal frame time, which can lie after the dequeue)
    deq = np.array([(r["t_pwm"] - r["t_dequeue"]) * 1e3 for r in records])
    infer = np.array([(r["t_inferred"] - r["t_sent"]) * 1e3 for r in records])
    span = records[-1]["t_pwm"] - records[0]["t_pwm"]
    pct = lambda a, q: float(np.percentile(a, q))
    return {"records": len(records), "rate_hz": (len(records) - 1) / span if span > 0 else 0.0,
            "latency_ms": {"p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99), "max": float(lat.max())},
            "dequeue_to_pwm_ms": {"p50": pct(deq, 50), "p90": pct(deq, 90), "p99": pct(deq, 99),
                                  "max": float(deq.max())},
            "inference_ms": {"p50": pct(infer, 50), "max": float(infer.max())}}
