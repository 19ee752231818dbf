"""`edgekit bench MODEL.tflite [--runs N] [--json]`: host latency of the generated C next to
TFLM and LiteRT on the same inputs, at the same moment (all figures measured-host)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from edgekit.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("bench", help="host latency: generated C vs TFLM vs LiteRT (measured-host)")
    p.add_argument("model", help="INT8 .tflite file")
    p.add_argument("--runs", type=int, default=50, help="timed invokes per runtime (default 50)")
    p.add_argument("--no-litert", action="store_true", help="skip the LiteRT runners")
    p.add_argument("--board", help="also run every backend reachable for this board (edgekit.accel)")
    p.add_argument("--backend", choices=("cpu", "edgetpu", "hailo"), help="with --board: only this backend")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _time(fn, runs: int) -> dict:
    import time

    import numpy as np
    fn()
    walls = []
    c0 = time.process_time()
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        walls.append((time.perf_counter() - t0) * 1000)
    cpu = (time.process_time() - c0) * 1000 / runs
    from edgekit.provenance import figure
    return {"median_ms": figure(round(float(np.median(walls)), 4), "ms", "measured-host"),
            "cpu_ms": figure(round(cpu, 4), "ms", "measured-host", note="process CPU time per invoke")}


def run(args) -> int:
    import numpy as np

    import edgekit.runtime as rt
    from edgekit.codegen import compile_model
    from edgekit.golden import TflmRunner, litert_runner
    from edgekit.golden.verify import random_inputs
    from edgekit.provenance import fmt

    if not Path(args.model).is_file():
        raise UserError(f"no such model file: {args.model}")
    if args.runs < 1:
        raise UserError("--runs must be at least 1")
    board_res = None
    if args.board:
        from edgekit.accel.bench import bench_board
        from edgekit.catalog import get_board
        board = get_board(args.board, args.boards_dir)
        with tempfile.TemporaryDirectory(prefix="ek_bench_board_") as tmp:
            board_res = bench_board(args.model, board, Path(tmp) / "m", args.runs, args.backend)
    elif args.backend:
        raise UserError("--backend needs --board")
    with tempfile.TemporaryDirectory(prefix="ek_bench_") as tmp:
        compile_model(args.model, Path(tmp) / "m")
        model = rt.load(Path(tmp) / "m")
        xs = next(random_inputs(model, 1, 0))
        ref_xs = [i.dequantize(x) if i.float_in_model else x for i, x in zip(model.inputs, xs)]
        flat = np.concatenate([x.ravel() for x in xs])
        results = {"edgekit C (-O3 -march=native, cffi)": _time(lambda: model.invoke_raw(flat), args.runs)}
        tflm = TflmRunner(args.model, preserve_all=False)
        results["TFLM Python interpreter"] = _time(lambda: tflm(ref_xs), max(1, args.runs // 5))
        if not args.no_litert:
            lrt = litert_runner(args.model)
            results["LiteRT (no delegates)"] = _time(lambda: lrt(ref_xs), args.runs)
    if args.json:
        print(json.dumps({"model": args.model, "runtimes": results,
                          **({"board": board_res} if board_res else {})}, indent=2))
        return 0
    print(f"{Path(args.model).name} on this host, 1 thread:")
    for name, r in results.items():
        print(f"  {name:40s} {fmt(r['median_ms'])}  CPU {fmt(r['cpu_ms'])}")
    if board_res:
        from edgekit.accel.bench import format_board
        print("\n".join(format_board(board_res)))
    return 0
