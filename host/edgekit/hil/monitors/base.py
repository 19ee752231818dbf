"""The power-monitor interface and a polling sampler for register-based monitors (INA219/INA226)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Sample:
    t_s: float          # seconds since start()
    volts: float
    amps: float
    watts: float
    board_w: float | None = None   # simulated monitor only: the board's share of `watts`


class PowerMonitor:
    """start() → mark("a") … mark("b") → stop(); energy_between("a", "b") integrates watts (J).
    `provenance` says what the samples really are; each driver sets it from what it talks to."""

    provenance = "modelled"

    def __init__(self) -> None:
        self._samples: list[Sample] = []
        self._marks: dict[str, float] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self._samples.clear()
        self._marks.clear()

    def stop(self) -> None:
        pass

    def now(self) -> float:
        raise NotImplementedError

    def mark(self, label: str) -> float:
        t = self.now()
        self._marks[label] = t
        return t

    def marks(self) -> dict[str, float]:
        return dict(self._marks)

    def samples(self, start: str | None = None, end: str | None = None) -> list[Sample]:
        t0 = self._marks[start] if start else -np.inf
        t1 = self._marks[end] if end else np.inf
        with self._lock:
            return [s for s in self._samples if t0 <= s.t_s <= t1]

    def energy_between(self, start: str, end: str, field: str = "watts") -> float:
        """Trapezoidal integral of power between two marks, in joules."""
        ss = self.samples(start, end)
        if len(ss) < 2:
            raise ValueError(f"fewer than 2 samples between marks {start!r} and {end!r}")
        t = np.array([s.t_s for s in ss])
        p = np.array([getattr(s, field) for s in ss], dtype=float)
        return float(np.trapezoid(p, t))

    def resampled(self, start: str, end: str, dt_s: float, field: str = "watts") -> np.ndarray:
        """Mean power in consecutive dt_s bins between two marks (energy-preserving)."""
        ss = self.samples(start, end)
        t = np.array([s.t_s for s in ss])
        p = np.array([getattr(s, field) for s in ss], dtype=float)
        e = np.concatenate([[0.0], np.cumsum(np.diff(t) * (p[1:] + p[:-1]) / 2)])
        edges = np.arange(t[0], t[-1] + 1e-9, dt_s)
        if len(edges) < 2:
            return np.array([float(np.mean(p))])
        return np.diff(np.interp(edges, t, e)) / dt_s

    def mean_power_between(self, start: str, end: str, field: str = "watts") -> float:
        span = self._marks[end] - self._marks[start]
        return self.energy_between(start, end, field) / span


class PolledMonitor(PowerMonitor):
    """Polls `read() -> (volts, amps, watts)` at sample_hz on a thread (wall clock). Its provenance
    is the chip's (a bound `read` of an INA driver: what its bus really is), unless given."""

    def __init__(self, read: Callable[[], tuple[float, float, float]], sample_hz: float, name: str = "",
                 provenance: str | None = None) -> None:
        super().__init__()
        self._read, self._period, self.name = read, 1.0 / sample_hz, name
        self.provenance: str = provenance or str(getattr(getattr(read, "__self__", None), "provenance", "emulated"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    def now(self) -> float:
        return time.monotonic() - self._t0

    def start(self) -> None:
        super().start()
        self._t0 = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            v, a, w = self._read()
            with self._lock:
                self._samples.append(Sample(self.now(), v, a, w))
            next_t += self._period
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
