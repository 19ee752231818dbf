"""Shadow-mode capture: a ring of the last frames, turned into a window around each event.

Every control step the car gives `Capture.step(frame, pilot, human, mode, **info)` both commands:
the pilot's (run on every frame, driving or not) and the person's (RC transmitter, gamepad; in the
simulator the expert). An event opens a window of `pre` frames before it and `post` after:
- `disagreement`: |pilot angle - human angle| rises above `threshold` (shadow mode, the person drives);
- `takeover`: the person takes the car from the pilot (autopilot mode; `takeover=True` on that step).
An event while a window is still collecting its `post` frames joins that window. A finished window
goes to the writer (edgekit.shadow.store.WindowWriter: bounded, power-cut safe, off the control
thread). No simulator imports: the Linux car runtime shares this module.
"""
from __future__ import annotations

import time
from collections import deque

import numpy as np

MODES = ("shadow", "autopilot")
# The capture rules' one home: the Python Capture's defaults and the firmware's build config
# (edgekit.firmware.build writes them into ek_app_config.h for firmware/app/ek_capture.c).
PRE, POST, THRESHOLD = 20, 20, 0.3
FIRMWARE_SLOTS = 8  # window slots in a board's storage (the oldest is overwritten)
FLUSH_WAIT_S = 10.0  # end of run: how long flush waits for the writer before it drops (a hung disk)


class Capture:
    def __init__(self, writer, pre: int = PRE, post: int = POST, threshold: float = THRESHOLD, meta: dict | None = None):
        self.writer, self.pre, self.post, self.threshold = writer, pre, post, threshold
        self.meta = dict(meta or {})
        self.ring: deque = deque(maxlen=pre)
        self.open: dict | None = None  # the window collecting its post frames
        self.disagreeing = False
        self.events = {"disagreement": 0, "takeover": 0}
        self.windows = 0

    def step(self, frame: np.ndarray, pilot: tuple[float, float], human: tuple[float, float] | None,
             mode: str, takeover: bool = False, **info) -> str | None:
        """Record one control step; returns the event it raised, if any."""
        rec = {"pilot": [round(float(pilot[0]), 6), round(float(pilot[1]), 6)],
               "human": None if human is None else [round(float(human[0]), 6), round(float(human[1]), 6)],
               "mode": mode, **{k: round(float(v), 4) if isinstance(v, float) else v for k, v in info.items()}}
        event = None
        if takeover:
            event = "takeover"
        elif human is not None:
            disagree = abs(pilot[0] - human[0]) > self.threshold
            if disagree and not self.disagreeing:
                event = "disagreement"
            self.disagreeing = disagree
        item = (np.asarray(frame, np.uint8), rec)
        in_window = self.open is not None or event is not None
        if self.open is not None:
            self.open["items"].append(item)
            if event:
                self.open["reasons"].append(event)
            if len(self.open["items"]) - self.open["trigger"] > self.post:
                self._emit()
        elif event:
            self.open = {"items": list(self.ring) + [item], "trigger": len(self.ring), "reasons": [event]}
            self.ring.clear()
        if event:
            rec["event"] = event  # the frame that raised it (firmware records flag it the same way)
            self.events[event] += 1
        if not in_window:  # a frame goes into one window at most
            self.ring.append(item)
        return event

    def _emit(self, wait: float = 0.0) -> None:
        w, self.open = self.open, None
        assert w is not None
        frames = np.stack([f for f, _ in w["items"]])
        header = {**self.meta, "kind": "window", "wall_time": round(time.time(), 3), "reason": w["reasons"][0], "reasons": w["reasons"], "trigger": w["trigger"],
                  "records": [r for _, r in w["items"]]}
        self.writer.submit(header, frames, wait=wait)
        self.windows += 1

    def flush(self, **session) -> None:
        """End of a run: a window still collecting is written with the frames it has, then a
        frameless session record (`session`: distance driven, mode, …) for per-km statistics.
        Off the control loop, so both wait for the writer's queue (a full queue would drop them)."""
        if self.open is not None:
            self._emit(wait=FLUSH_WAIT_S)
        self.writer.submit({**self.meta, **session, "kind": "session", "wall_time": round(time.time(), 3),
                            "events": dict(self.events), "windows": self.windows}, np.zeros((0, 1, 1, 3), np.uint8),
                           wait=FLUSH_WAIT_S)
