"""`edgekit compile MODEL.tflite --board B --out DIR [--json]`: INT8 .tflite -> static C99."""
from __future__ import annotations

import json
from pathlib import Path

from edgekit.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("compile", help="compile an INT8 .tflite into static C (model.c/model.h, kernels, Makefile)")
    p.add_argument("model", nargs="?", help="INT8 .tflite file")
    p.add_argument("--ops", action="store_true", help="print the supported builtin ops and their constraints, then exit")
    p.add_argument("--board", default="host", help="catalogue board whose toolchain the Makefile uses (default: host)")
    p.add_argument("--out", metavar="DIR", help="output folder (self-contained)")
    p.add_argument("--name", help="C symbol prefix (default: the model file's stem)")
    p.add_argument("--no-size", action="store_true", help="skip building the library to measure .text")
    p.add_argument("--tflm", action="store_true", help="also measure TFLM's arena for the same model")
    p.add_argument("--hef", metavar="FILE", help="Hailo boards: the HEF Hailo's Dataflow Compiler made for the Hailo segment")
    p.add_argument("--json", action="store_true", help="print the memory report as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from edgekit.catalog import get_board
    from edgekit.codegen import compile_model
    from edgekit.provenance import fmt

    if args.ops:
        print_ops()
        return 0
    if args.model is None or args.out is None:
        raise UserError("edgekit compile needs MODEL.tflite and --out DIR (or --ops)")
    if not Path(args.model).is_file():
        raise UserError(f"no such model file: {args.model}")
    board = get_board(args.board, args.boards_dir)
    if args.hef and not Path(args.hef).is_file():
        raise UserError(f"no such HEF file: {args.hef}")
    if args.hef and (board.accelerator is None or board.accelerator.backend != "hailo"):
        raise UserError(f"--hef is for Hailo boards; {board.name} has no Hailo accelerator")
    res = compile_model(args.model, args.out, board=board, name=args.name,
                        measure_code=not args.no_size, compare_tflm=args.tflm)
    rep = res.report
    if board.accelerator is not None or args.hef:   # edgekit.accel: partition + per-segment C
        from edgekit.accel.backends import attach_partition
        rep["partition"] = attach_partition(res.out_dir, args.model, board, hef=args.hef)
    if args.json:
        print(json.dumps({k: v for k, v in rep.items() if k != "trace"}, indent=2))
        return 0
    print(f"{rep['name']}: {rep['ops']} ops -> {res.out_dir} (board {rep['board']})")
    print(f"  arena    {fmt(rep['arena_bytes'])}   planner: {rep['planner']}")
    print(f"  weights  {fmt(rep['weights_bytes'])}")
    print(f"  io       {fmt(rep['io_bytes'])}")
    if "tflm_arena_bytes" in rep:
        print(f"  TFLM arena {fmt(rep['tflm_arena_bytes'])}  (ours / TFLM = {rep['arena_vs_tflm']})")
    if "code" in rep:
        print(f"  .text    {fmt(rep['code']['text_bytes'])}")
    if "edgetpu" in rep:
        tpu = rep["edgetpu"]
        first = tpu["first_unsupported"]
        split = "all ops map" if first is None else f"graph splits at op {first['index']} {first['op']}: {first['reasons'][0]}"
        print(f"  Edge TPU {tpu['edgetpu_ops']}/{len(tpu['ops'])} ops, {split}; parameters "
              f"{fmt(tpu['parameter_bytes_on_edgetpu'])} vs cache {fmt(tpu['on_chip_cache_bytes'])}")
    if "partition" in rep:
        from edgekit.accel.partition import format_partition
        print("\n".join(format_partition(rep["partition"])))
    return 0


def print_ops() -> None:
    """The supported-op table, generated from the lowering registry (edgekit.codegen.lower_registry)."""
    from edgekit.codegen.lower_registry import op_table

    rows = op_table()
    width = max(len(op) for op, _, _ in rows)
    print(f"{'op':<{width}}  constraints (lowering module)")
    for op, constraints, module in rows:
        print(f"{op:<{width}}  {constraints} ({module})")
    print(f"{len(rows)} builtin ops; any other op is refused in one line (exit 2), saying whether TFLM has it.")
