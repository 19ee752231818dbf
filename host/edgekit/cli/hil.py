"""`edgekit hil run --board B --rig R [--model M] [--port P] [--out DIR] [--json]`: the HIL bench.

Exit code: 0 PASSED, 1 FAILED, 3 INCOMPLETE (a required test did not run: no board, link or
measurement), 2 bad input."""
from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("hil", help="hardware-in-the-loop bench: latency, energy, battery drain, range")
    hs = p.add_subparsers(dest="hil_command", metavar="SUBCOMMAND")
    hs.required = True
    r = hs.add_parser("run", help="run hil_tests/ against a rig; writes junit.xml, results.json, report.html")
    r.add_argument("--board", help="board under test (see `edgekit boards`; with --place: the place's board)")
    r.add_argument("--rig", default="sim", help="rig name in hil_tests/rigs/ or a rig YAML path (default: sim)")
    r.add_argument("--model", help="pilot model to flash and bench (.tflite or compiled folder)")
    r.add_argument("--port", help="the board's serial port or pyserial URL (overrides the rig's link)")
    r.add_argument("--image", help="the signed image `edgekit flash` wrote (built from --model): the flash twin boots it and the hash the board "
                                   "reports over SMP must match (default, when the flash twin takes -icount: flash --model)")
    r.add_argument("--kernel", action="store_true", help="boot the model's build with -kernel instead of the flash twin")
    r.add_argument("--out", default="build/hil", help="output folder (default: build/hil)")
    r.add_argument("--quick", action="store_true", help="10 timed inferences instead of the rig's ≥ 200 (a smoke run; results say so)")
    r.add_argument("--json", action="store_true", help="print results.json's figures on stdout")
    r.add_argument("--place", help="run on this labgrid place (edgekit farm): acquire, power, run, release")
    r.add_argument("--coordinator", default="127.0.0.1:20408", help="labgrid coordinator HOST:PORT (default 127.0.0.1:20408)")
    r.add_argument("--place-wait", type=float, default=0.0, metavar="S", help="wait up to S seconds while another user holds the place")
    r.set_defaults(func=run)
    g = hs.add_parser("range", help="the rig's range comparison, modelled from the board YAMLs (no bench run)")
    g.add_argument("--rig", default="sim", help="rig name or YAML path (its battery, car and options)")
    g.add_argument("--model", help="count this model's MACs for the rows (.tflite or compiled folder; default: the pilot's ~47.8 M)")
    g.add_argument("--json", action="store_true", help="print the rows (figures with arithmetic) as JSON")
    g.set_defaults(func=run_range)


def run(args) -> int:
    from edgekit.errors import UserError
    from edgekit.hil.run import run_hil
    from edgekit.provenance import fmt

    model = Path(args.model) if args.model else None
    if model is not None and not model.exists():
        raise UserError(f"no model at {model}")
    out = Path(args.out)
    if args.place:
        from edgekit.farm.place import run_on_place
        if args.port or args.image:
            raise UserError("--place gives the board's port and flashes it: drop --port/--image")
        results = run_on_place(args.place, args.coordinator, args.board, args.rig, out, model, args.place_wait,
                               show_progress=not args.json, boards_dir=args.boards_dir, quick=args.quick, kernel=args.kernel)
    elif not args.board:
        raise UserError("pass --board (or --place)")
    else:
        results = run_hil(args.board, args.rig, out, model, show_progress=not args.json, boards_dir=args.boards_dir,
                          quick=args.quick, port=args.port, image=Path(args.image) if args.image else None,
                          kernel=args.kernel)
    if args.json:
        print(json.dumps({k: results[k] for k in ("verdict", "why", "passed", "did_not_run", "failed", "summary",
                                                  "checks", "image", "figures", "range_comparison", "place") if k in results}, indent=2))
    else:
        _print_summary(results, out, fmt)
    return results["exit_code"]


def run_range(args) -> int:
    from edgekit.catalog import get_board
    from edgekit.hil.battery import BatteryParams
    from edgekit.hil.range import option_row
    from edgekit.hil.rig import load_rig
    from edgekit.provenance import fmt

    rig = load_rig(args.rig)
    params = BatteryParams.from_rig(rig.battery)
    profile = None
    if args.model:
        from edgekit.errors import UserError
        from edgekit.hil.macs import model_profile
        if not Path(args.model).exists():
            raise UserError(f"no model at {args.model}")
        profile = model_profile(Path(args.model))
    rows = [option_row(o, get_board(o.board, args.boards_dir), rig, params, rig.car.drive_power_w, profile=profile)
            for o in rig.options]
    if args.json:
        print(json.dumps({"rig": rig.name, "formula": "D = E_usable / (e_drive + P_compute / v)", "rows": rows}, indent=2))
        return 0
    _range_table({"range_comparison": {"rows": rows}}, fmt)
    return 0


def _range_table(results: dict, fmt) -> None:
    from rich.console import Console
    from rich.table import Table

    rows = results.get("range_comparison", {}).get("rows", [])
    if not rows:
        return
    short = lambda f: f"{f['value']:.3g} {f['unit']}" + ("" if f["provenance"] == "modelled" else f" ({f['provenance']})")
    table = Table(title="projected range per charge (modelled unless marked; arithmetic in results.json)")
    for col in ("option", "inference", "compute W", "E/inference", "range", "minutes", "cost"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["label"] + ("" if r["sustainable"] else " (rate not sustained)"), short(r["inference_time"]),
                      short(r["compute_power"]), short(r["energy_per_inference"]), short(r["range"]), short(r["minutes"]),
                      f"{r['range_cost']['value']:.3g} %")
    Console().print(table)
    base = rows[0]
    Console().print(f"without the computer: {fmt(base['range_without_compute'])}, {fmt(base['minutes_without_compute'])}")


def _print_summary(results: dict, out: Path, fmt) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    s, v = results["summary"], results["verdict"]
    colour = {"PASSED": "green", "FAILED": "red", "INCOMPLETE": "yellow"}[v]
    con.print(f"[bold {colour}]{v}[/] {results['board']['name']} on rig {results['rig']['name']}: "
              f"{s['passed']} passed, {s['failed']} failed, {s['not-run'] + s['error']} did not run, "
              f"{s['skipped']} skipped (not applicable)")
    con.print(f"  {results['why']}", markup=False)
    for t in results["did_not_run"]:
        con.print(f"  did not run: {t['name']}: {t['reason'][:160]}", markup=False)
    for t in results["tests"]:
        if t["outcome"] in ("failed", "skipped"):
            con.print(f"  {t['outcome']}: {t['name']}: {t['message'][:160]}", markup=False)
    img = results["image"]
    if img.get("reported_hash"):
        con.print(f"  image: the board reports hash {img['reported_hash']} (= the image flashed)", markup=False)
    elif img.get("why"):
        con.print(f"  image: {img.get('image')}: {img['why']}", markup=False)
    for kind in ("device", "model"):
        checks = results["checks"][kind]
        if checks:
            con.print(f"  {kind} checks: {sum(c['ok'] for c in checks)}/{len(checks)} held", markup=False)
    _range_table(results, fmt)
    con.print(f"wrote {out / 'junit.xml'}, {out / 'results.json'}, {out / 'report.html'}")
