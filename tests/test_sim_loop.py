"""The one simulator loop (edgekit.sim.loop): policies, perturbation, hooks, traces and the ends
of a run; recording and driving both go through it."""
import numpy as np

from edgekit.sim.car import load_car
from edgekit.sim.drive import drive
from edgekit.sim.expert import PurePursuit
from edgekit.sim.drive import drive_policy
from edgekit.sim.loop import TRACE_FIELDS, expert_policy, run_loop, runner_policy
from edgekit.sim.record import TubRecorder
from edgekit.sim.tracks import make_track
from edgekit.sim.tub import TubWriter, load_image, read_records
from edgekit.sim.world import World


def world(name="oval", seed=0, lighting=True):
    return World(make_track(name), load_car(), seed=seed, lighting=lighting)


def test_policy_sees_frame_and_state_and_the_trace_is_what_the_car_got():
    seen = []

    def policy(frame, state):
        seen.append((None if frame is None else frame.shape, state.step, state.t))
        return 0.1, 0.4

    res = run_loop(world(), policy, max_steps=30, perturb=lambda a, t: (a - 0.3, t))
    assert res.steps == 30 and res.end_reason == "steps done"
    assert seen[0] == ((120, 160, 3), 0, 0.0) and [s[1] for s in seen] == list(range(30))
    assert np.allclose(np.diff([s[2] for s in seen]), 0.05)
    assert np.allclose(res.trace["angle"], -0.2) and np.allclose(res.trace["throttle"], 0.4)
    assert set(res.trace) == set(TRACE_FIELDS) and all(len(v) == 30 for v in res.trace.values())
    assert res.trace["speed"][-1] > 0 and res.render_s > 0 and res.pilot_s > 0 and res.physics_s > 0


def test_expert_policy_without_rendering_drives_laps_like_the_expert():
    frames = []
    res = drive_policy(lambda f, s: (frames.append(f), expert_policy()(f, s))[1], "winding", laps=1,
                       render=False, crash_margin_m=None, stall_s=None)
    assert res.completed and res.end_reason == "laps done" and res.max_abs_cte_m < 0.15
    assert set(map(type, frames)) == {type(None)}
    w, expert = world("winding"), PurePursuit()  # the same run, stepped by hand
    for a, t in zip(res.trace["angle"], res.trace["throttle"]):
        assert (a, t) == expert(w)
        w.apply(a, t)
    assert w.t == res.sim_s and w.laps == 1


def test_recording_hook_keeps_clean_labels_while_noise_is_executed(tmp_path):
    from edgekit.sim.expert import SteeringNoise

    wobble = SteeringNoise(sigma=0.3, seed=1)
    commands = []
    with TubWriter(tmp_path / "tub") as tub:
        rec = TubRecorder(tub)

        def hook(step):
            commands.append(step.command)
            rec(step)

        res = run_loop(world(seed=3, lighting=False), expert_policy(), max_steps=40, perturb=lambda a, t: (a + wobble(), t),
                       on_step=hook)
    recs = read_records(tmp_path / "tub")
    labels = np.array([(r["user/angle"], r["user/throttle"]) for r in recs])
    assert len(recs) == 40 and np.array_equal(labels, np.array(commands))
    noise = res.trace["angle"] - labels[:, 0]
    assert np.abs(noise).max() > 0.05 and np.array_equal(res.trace["throttle"], labels[:, 1])
    # each recorded frame is what the camera saw before its step (JPEG: close, not equal)
    first, last = world(seed=3, lighting=False).frame().astype(int), load_image(tmp_path / "tub", recs[-1]).astype(int)
    err = np.abs(load_image(tmp_path / "tub", recs[0]).astype(int) - first).mean()
    assert err < 6 and np.abs(last - first).mean() > 3 * err


def test_drive_keeps_its_runner_interface_and_ends():
    calls = []

    class Straight:
        def __call__(self, frame):
            return 0.0, 0.5

        def close(self):
            pass

    res = drive(Straight(), "oval", laps=1, on_step=lambda w, a, t: calls.append((a, t)))
    assert res.end_reason.startswith("crashed") and calls == [(0.0, 0.5)] * res.steps
    short = drive(Straight(), "oval", laps=1, max_sim_s=10 / 20 - 1e-9)  # the HIL's twin_steps(10)
    assert short.steps == 10 and short.end_reason == "timeout"
    policy = runner_policy(Straight())
    assert policy(np.zeros((120, 160, 3), np.uint8), None) == (0.0, 0.5)


def test_steps_limit_before_laps_is_a_timeout():
    res = run_loop(world(), lambda f, s: (0.0, 0.0), laps=1, max_steps=5)
    assert res.steps == 5 and res.end_reason == "timeout"
