"""`edgekit sim record|drive|bench|tracks`: the driving simulator."""
from __future__ import annotations

import json
import os

from edgekit.provenance import figure, fmt


def _track_args(p, default="oval"):
    p.add_argument("--track", default=default, help="oval, winding or wiggle (default %(default)s)")
    p.add_argument("--track-width", type=float, default=0.8, metavar="M", help="lane width in m (default 0.8)")
    p.add_argument("--track-scale", type=float, default=1.0, metavar="X", help="scale every length (default 1)")
    p.add_argument("--car", default="donkey_1_10", help="car YAML name or path (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-lighting", action="store_true", help="constant lighting, no sensor noise")


def register(sub) -> None:
    p = sub.add_parser("sim", help="driving simulator: record tubs, drive a pilot in closed loop, benchmark")
    ssub = p.add_subparsers(dest="sim_command", metavar="SUBCOMMAND")
    ssub.required = True

    r = ssub.add_parser("record", help="the expert drives; write a DonkeyCar tub v2")
    _track_args(r)
    r.add_argument("--laps", type=int, default=5)
    r.add_argument("--out", required=True, metavar="DIR", help="tub folder (appended to if it exists)")
    r.add_argument("--noise", type=float, default=0.25, help="steering noise std injected while recording (labels stay clean)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=run_record)

    d = ssub.add_parser("drive", help="a pilot model drives the car in closed loop")
    _track_args(d)
    d.add_argument("--model", required=True, help=".keras, .tflite (float or int8) or a compiled model folder")
    d.add_argument("--board", help="run the model on this board's firmware twin (edgekit.firmware)")
    d.add_argument("--laps", type=int, default=3)
    d.add_argument("--hz", type=float, default=20.0, help="control rate (default 20 Hz)")
    d.add_argument("--json", action="store_true")
    d.add_argument("--trace", metavar="FILE", help="write the per-step trace as JSON")
    d.set_defaults(func=run_drive)

    b = ssub.add_parser("bench", help="simulator speed with a model in the loop (JSON, measured-host)")
    _track_args(b)
    b.add_argument("--model", help="pilot model (default: renderer and physics only)")
    b.add_argument("--steps", type=int, default=400)
    b.set_defaults(func=run_bench)

    t = ssub.add_parser("tracks", help="list the tracks")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=run_tracks)


def _track(args):
    from edgekit.sim.tracks import make_track

    return make_track(args.track, width=args.track_width, scale=args.track_scale)


def run_record(args) -> int:
    from edgekit.sim.record import record

    summary = record(_track(args), args.laps, args.out, seed=args.seed, noise=args.noise, car=args.car,
                     lighting=not args.no_lighting, show_progress=not args.json)
    summary["sim_s"] = figure(summary["sim_s"], "s", "modelled")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"wrote {summary['records']} records ({summary['laps']} laps, {fmt(summary['sim_s'])}) to {args.out}")
    return 0


def run_drive(args) -> int:
    from edgekit.sim.drive import drive
    from edgekit.sim.runners import make_runner

    runner = make_runner(args.model, board=args.board)
    try:
        result = drive(runner, _track(args), laps=args.laps, car=args.car, control_hz=args.hz, seed=args.seed,
                       lighting=not args.no_lighting)
    finally:
        runner.close()
    out = result.figures()
    out["model"] = str(args.model)
    if args.board:  # the pilot runs in the twin's own process: this process's CPU time misses it
        out["board"] = args.board
        out.pop("cpu_time")
        out.pop("real_time_factor_cpu")
    if args.trace:
        with open(args.trace, "w") as f:
            json.dump(result.to_json(with_trace=True)["trace"], f)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{result.track}: {out['laps_completed']['value']}/{args.laps} laps ({result.end_reason})")
    for key in ("mean_abs_cte", "max_abs_cte", "off_track_events", "avg_speed", "sim_time", "wall_time",
                "pilot_ms_per_step", "real_time_factor", "real_time_factor_cpu", "host_load_1min"):
        if key not in out:
            continue
        print(f"  {key.replace('_', ' ')}: {fmt(out[key])}")
    return 0


def run_bench(args) -> int:
    from edgekit.sim.car import load_car
    from edgekit.sim.loop import run_loop, runner_policy
    from edgekit.sim.runners import make_runner
    from edgekit.sim.world import World

    from edgekit.errors import UserError

    if args.steps < 1:
        raise UserError("--steps must be at least 1")
    world = World(_track(args), load_car(args.car), seed=args.seed, lighting=not args.no_lighting)
    runner = make_runner(args.model) if args.model else None
    try:
        res = run_loop(world, runner_policy(runner) if runner else (lambda frame, state: (0.0, 0.3)),
                       max_steps=args.steps)
    finally:
        if runner:
            runner.close()
    render_s, pilot_s, physics_s, cpu = res.render_s, res.pilot_s, res.physics_s, res.cpu_s
    wall = render_s + pilot_s + physics_s
    n = res.steps
    print(json.dumps({
        "model": args.model, "steps": n, "track": args.track,
        "sim_time": figure(round(world.t, 2), "s", "modelled"),
        "wall_time": figure(round(wall, 3), "s", "measured-host"),
        "real_time_factor": figure(round(world.t / wall, 1), "x", "measured-host"),
        "cpu_time": figure(round(cpu, 3), "s", "measured-host"),
        "real_time_factor_cpu": figure(round(world.t / cpu, 1), "x", "measured-host",
                                       note="simulated s per CPU s of this process (one free core)"),
        "host_load_1min": figure(round(os.getloadavg()[0], 2), "", "measured-host"),
        "render_fps": figure(round(n / render_s, 1), "frames/s", "measured-host"),
        "render_ms": figure(round(1e3 * render_s / n, 3), "ms", "measured-host"),
        "pilot_ms": figure(round(1e3 * pilot_s / n, 3), "ms", "measured-host"),
        "physics_ms": figure(round(1e3 * physics_s / n, 3), "ms", "measured-host"),
    }, indent=2))
    return 0


def run_tracks(args) -> int:
    from edgekit.sim.tracks import SHAPES, make_track

    rows = []
    for name in SHAPES:
        t = make_track(name)
        k = t.curvature
        rows.append({"track": name, "length_m": round(t.length, 2), "width_m": t.width,
                     "min_radius_m": round(1 / abs(k).max(), 2), "right_bends": bool((k < -0.05).any())})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['track']:8s} length {r['length_m']} m, width {r['width_m']} m, tightest radius "
                  f"{r['min_radius_m']} m{', right and left bends' if r['right_bends'] else ', left bends only'} (modelled)")
    return 0
