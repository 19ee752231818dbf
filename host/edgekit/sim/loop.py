"""The one simulator loop: a world (track + car + camera) driven by a policy.

A policy is `policy(frame, state) -> (steering, throttle)`: `frame` is the camera image
(uint8[120,160,3], or None when the loop runs with `render=False`), `state` a `PolicyState` (the
step, the sim time and the `World`, which only privileged drivers such as the expert look at).
Pilot runners (`runner(frame)`) become policies through `runner_policy`; the expert is
`expert_policy()`.

Each control period: render, ask the policy, optionally perturb what is executed (noise injection
while recording: labels stay the policy's command), apply (acts after the car's latency), advance,
append to the trace, call the hooks (`on_step(Step)`: tub recording, progress, live displays).
Every sim figure is `modelled`; wall/CPU/pilot times are `measured-host`.

`drive(runner, …)` (sim/drive.py), `record(…)` (sim/record.py), `edgekit sim bench` and the HIL
closed loop all run through `run_loop` (`drive_policy` in sim/drive.py wraps it for one run).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from edgekit.sim.world import World

TRACE_FIELDS = ("t", "speed", "accel", "cte", "angle", "throttle", "on_track", "x", "y", "progress")


@dataclass
class PolicyState:
    step: int
    t: float
    world: World


class Policy(Protocol):
    def __call__(self, frame: np.ndarray | None, state: PolicyState) -> tuple[float, float]: ...


@dataclass
class Step:
    """What a hook sees after each control step (the world has already advanced)."""
    index: int
    world: World
    frame: np.ndarray | None
    command: tuple[float, float]   # the policy's (the label when recording)
    executed: tuple[float, float]  # what the car was sent (command + perturbation)


@dataclass
class LoopResult:
    world: World
    steps: int
    end_reason: str
    off_track_events: int
    trace: dict  # each of TRACE_FIELDS -> np.ndarray, one entry per control step (executed command)
    wall_s: float
    cpu_s: float
    render_s: float
    pilot_s: float
    physics_s: float


def runner_policy(runner) -> Policy:
    """A pilot runner (`runner(frame) -> (angle, throttle)`) as a policy: it sees only the camera."""
    def policy(frame, state):
        return runner(frame)
    policy.runner = runner  # type: ignore[attr-defined]
    return policy


def expert_policy(cruise_m_s: float = 2.0) -> Policy:
    """The simulator's expert (pure pursuit on the centreline): reads the world, not the frame."""
    from edgekit.sim.expert import PurePursuit

    expert = PurePursuit(cruise_m_s=cruise_m_s)

    def policy(frame, state):
        return expert(state.world)
    return policy


def run_loop(world: World, policy: Policy, *, laps: int | None = None, max_steps: int | None = None,
             max_sim_s: float | None = None, crash_margin_m: float | None = None, stall_s: float | None = None,
             render: bool = True, perturb: Callable[[float, float], tuple[float, float]] | None = None,
             on_step: Callable[[Step], None] | None = None) -> LoopResult:
    """Step `world` under `policy` until `laps` laps, `max_steps` steps, sim time beyond `max_sim_s`,
    |cte| beyond the lane edge by `crash_margin_m`, or no progress for `stall_s` (None: no such end)."""
    track = world.track
    trace: dict[str, list] = {k: [] for k in TRACE_FIELDS}
    off_events, was_on, reason = 0, True, "laps done" if laps is not None else "steps done"
    best_progress, best_t = 0.0, 0.0
    render_s = pilot_s = physics_s = 0.0
    steps = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while (laps is None or world.laps < laps) and (max_steps is None or steps < max_steps):
        t0 = time.perf_counter()
        frame = world.frame() if render else None
        t1 = time.perf_counter()
        command = policy(frame, PolicyState(steps, world.t, world))
        t2 = time.perf_counter()
        executed = perturb(*command) if perturb else command
        world.apply(*executed)
        t3 = time.perf_counter()
        render_s, pilot_s, physics_s = render_s + t1 - t0, pilot_s + t2 - t1, physics_s + t3 - t2
        steps += 1
        s = world.car.state
        for k, v in zip(TRACE_FIELDS, (world.t, s.v, s.accel, world.cte, executed[0], executed[1], world.on_track,
                                       s.x, s.y, world.progress)):
            trace[k].append(v)
        if was_on and not world.on_track:
            off_events += 1
        was_on = world.on_track
        if on_step:
            on_step(Step(steps - 1, world, frame, command, executed))
        if world.progress > best_progress + 0.05:
            best_progress, best_t = world.progress, world.t
        if crash_margin_m is not None and abs(world.cte) > track.width / 2 + crash_margin_m:
            reason = "crashed (left the track)"
            break
        if stall_s is not None and world.t - best_t > stall_s:
            reason = "stalled (no progress)"
            break
        if max_sim_s is not None and world.t > max_sim_s:
            reason = "timeout"
            break
    else:
        if laps is not None and world.laps < laps:
            reason = "timeout"  # ran out of steps before the laps
    return LoopResult(world, steps, reason, off_events, {k: np.asarray(v) for k, v in trace.items()},
                      time.perf_counter() - wall0, time.process_time() - cpu0, render_s, pilot_s, physics_s)
