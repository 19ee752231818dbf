"""Shadow mode and autopilot-with-takeover in the simulator, through the one loop (edgekit.sim.loop).

The expert (pure pursuit, edgekit.sim.expert) plays the person with the transmitter. Both modes
run the pilot on every frame and give the capture (edgekit.shadow.capture) both commands:
- `shadow`: the expert drives, the pilot only shadows; disagreements open capture windows.
- `autopilot`: the pilot drives; when |cross-track error| exceeds `takeover_cte_m` the expert takes
  over (an intervention, a capture window) until the car is back within `release_cte_m` of the
  centreline for `release_s`, then hands the car back to the pilot.
Every figure here is `modelled` (the simulator), as in edgekit.sim.drive.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from edgekit.errors import UserError
from edgekit.provenance import figure
from edgekit.sim.drive import DriveResult, drive_policy
from edgekit.sim.loop import expert_policy
from edgekit.sim.tracks import make_track
from edgekit.shadow.capture import MODES, Capture


@dataclass
class ShadowResult:
    mode: str
    drive: DriveResult
    interventions: int
    disagreements: int
    windows: int
    dropped_windows: int
    human_s: float                                       # sim seconds the expert drove
    events: list = field(default_factory=list)           # [{t, reason, track_m}]

    @property
    def km(self) -> float:
        return self.drive.distance_m / 1000.0

    @property
    def interventions_per_km(self) -> float:
        return self.interventions / self.km if self.km > 0 else float("inf")

    def figures(self) -> dict:
        return {
            "mode": self.mode, **self.drive.figures(),
            "interventions": figure(self.interventions, "events", "modelled"),
            "interventions_per_km": figure(round(self.interventions_per_km, 2), "1/km", "modelled"),
            "disagreements": figure(self.disagreements, "events", "modelled"),
            "human_driving_time": figure(round(self.human_s, 2), "s", "modelled"),
            "capture_windows": self.windows, "capture_windows_dropped": self.dropped_windows,
            "events": self.events,
        }


def shadow_drive(runner, track, mode: str = "autopilot", laps: int = 2, capture: Capture | None = None,
                 takeover_cte_m: float = 0.25, release_cte_m: float = 0.08, release_s: float = 1.0,
                 seed: int = 0, car: str = "donkey_1_10", control_hz: float = 20.0) -> ShadowResult:
    """Drive `laps` laps in `mode` with `runner` as the pilot; captures go to `capture`."""
    if mode not in MODES:
        raise UserError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    track = make_track(track) if isinstance(track, str) else track
    if capture is not None:
        capture.meta.setdefault("track", track.name)
    expert = expert_policy()
    st: dict = {"human": mode == "shadow", "since": 0.0, "interventions": 0, "human_steps": 0}
    events: list[dict] = []

    def policy(frame, state):
        w = state.world
        pilot = runner(frame)
        human = expert(frame, state)
        takeover = False
        if mode == "autopilot":
            if not st["human"] and abs(w.cte) > takeover_cte_m:
                st["human"], st["since"], takeover = True, w.t, True
                st["interventions"] += 1
            elif st["human"] and abs(w.cte) > release_cte_m:
                st["since"] = w.t
            elif st["human"] and w.t - st["since"] >= release_s:
                st["human"] = False
        st["human_steps"] += st["human"]
        track_m = round(w.progress % w.track.length, 3)
        if capture is not None:
            event = capture.step(frame, pilot, human, mode, takeover=takeover, driver="human" if st["human"] else "pilot",
                                 t=w.t, track_m=track_m, cte=w.cte, x=w.car.state.x, y=w.car.state.y)
        else:
            event = "takeover" if takeover else None
        if event:
            events.append({"t": round(w.t, 2), "reason": event, "track_m": track_m})
        return human if st["human"] else pilot

    # the person keeps the car on the track: no crash end in autopilot mode, the stall end stays
    res = drive_policy(policy, track, laps=laps, car=car, control_hz=control_hz, seed=seed,
                       crash_margin_m=None, stall_s=5.0)
    if capture is not None:
        capture.flush(mode=mode, provenance="modelled", distance_m=round(res.distance_m, 3), sim_s=round(res.sim_s, 2),
                      track_length_m=round(track.length, 3), interventions=st["interventions"])
    dropped = getattr(capture.writer, "dropped", 0) if capture is not None else 0
    return ShadowResult(mode, res, st["interventions"], capture.events["disagreement"] if capture else 0,
                        capture.windows if capture else 0, dropped, st["human_steps"] / control_hz, events)
