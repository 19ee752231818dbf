"""Joulescope JS110/JS220 through its Python package (`pip install joulescope`; import guarded).

Streams in chunks on a thread with `device.read(contiguous_duration=…)` (the package README:
`joulescope.scan_require_one(config="auto")`, `read` → N×2 array), which returns an N×2 array
of (current A, voltage V) at the device's sampling rate (~1 MS/s, reduced here to chunk means at
`chunk_s` resolution to keep memory small).
"""
from __future__ import annotations

import threading
import time

import numpy as np

from edgekit.errors import ToolError
from edgekit.hil.monitors.base import PowerMonitor, Sample


class JoulescopeMonitor(PowerMonitor):
    provenance = "measured-hw"   # only constructible with a real instrument attached

    def __init__(self, serial: str | None = None, chunk_s: float = 0.01, points_per_chunk: int = 10) -> None:
        super().__init__()
        try:
            import joulescope  # noqa: F401
        except ImportError:
            raise ToolError("the Joulescope monitor needs the `joulescope` package: pip install joulescope") from None
        self._serial, self.chunk_s, self.points = serial, chunk_s, points_per_chunk
        self._stop = threading.Event()
        self._thread = None
        self._t0 = 0.0
        self._device = None

    def now(self) -> float:
        return time.monotonic() - self._t0

    def start(self) -> None:
        import joulescope
        super().start()
        devices = joulescope.scan(config="auto")
        if self._serial:
            devices = [d for d in devices if self._serial in str(d)]
        if len(devices) != 1:
            raise ToolError(f"expected one Joulescope{' ' + self._serial if self._serial else ''}, found {len(devices)}")
        self._device = devices[0]
        self._device.open()
        self._t0 = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            t_start = self.now()
            data = np.asarray(self._device.read(contiguous_duration=self.chunk_s))
            for k, part in enumerate(np.array_split(data, self.points)):
                if len(part):
                    a, v = float(part[:, 0].mean()), float(part[:, 1].mean())
                    t = t_start + (k + 0.5) * self.chunk_s / self.points
                    with self._lock:
                        self._samples.append(Sample(t, v, a, v * a))

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        if self._device is not None:
            self._device.close()
