"""The simulated power monitor: board power from its YAML (idle/active watts × duty cycle), plus the
car's drive power, on a virtual clock the bench advances. Its figures are `modelled` (the duty cycle
may come from an emulated or measured latency; the watts come from the board YAML)."""
from __future__ import annotations

from edgekit.hil.monitors.base import PowerMonitor, Sample


class SimulatedMonitor(PowerMonitor):
    provenance = "modelled"

    def __init__(self, board, sample_hz: float = 50.0, supply_v: float = 7.4) -> None:
        super().__init__()
        self.board, self.dt, self.supply_v = board, 1.0 / sample_hz, supply_v
        self._t = 0.0

    def now(self) -> float:
        return self._t

    def start(self) -> None:
        super().start()
        self._t = 0.0

    def board_power(self, duty: float, accelerator: bool = False) -> float:
        """Board watts at a duty cycle (0..1) of inference; an accelerator adds its watts while busy."""
        duty = min(max(duty, 0.0), 1.0)
        p = self.board.power
        if accelerator:
            return p.idle_w + self.board.accelerator.watts * duty
        return p.idle_w + (p.active_w - p.idle_w) * duty

    def advance(self, seconds: float, duty: float, drive_w: float = 0.0, accelerator: bool = False) -> None:
        """Let `seconds` of virtual time pass at this load, one sample every 1/sample_hz
        (at least one sample at the end, so short bursts are still integrated exactly)."""
        board_w = self.board_power(duty, accelerator)
        total = board_w + drive_w
        if not self._samples:
            self._samples.append(Sample(self._t, self.supply_v, total / self.supply_v, total, board_w))
        end = self._t + seconds
        while self._t < end - 1e-12:
            step = min(self.dt, end - self._t)
            # a sample at the start of the new load level, so the trapezoid sees a step, not a ramp
            if self._samples[-1].watts != total or self._samples[-1].board_w != board_w:
                self._samples.append(Sample(self._t, self.supply_v, total / self.supply_v, total, board_w))
            self._t += step
            self._samples.append(Sample(self._t, self.supply_v, total / self.supply_v, total, board_w))
