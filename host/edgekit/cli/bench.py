"""`edgekit bench MODEL.tflite [--runs N] [--json]`: host latency of the generated C next to
TFLM, LiteRT without delegates and LiteRT's default (XNNPACK), one thread, on the same inputs.
Runtimes are timed in interleaved rounds (each round runs every runtime once) so that all of
them see the same machine load; the rounds' orders put every runtime right after each other
runtime equally often (a plain rotation would always put the same one right after TFLM's long
invoke, which leaves the next runtime's caches cold); figures are medians and p99 of the
per-invoke wall times (measured-host)."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from edgekit.errors import UserError

EDGEKIT = "edgekit C"
_FLAGS_OF_INTEREST = ("sse4_2", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512vbmi",
                      "avx_vnni", "asimd", "asimddp", "dsp")

# MLPerf Tiny v1.0 latencies on the STM32L4R5 (Cortex-M4 @ 120 MHz), ms: docs/SOURCES.md §9.
# Shown beside the M7 twin's instruction counts as cycles (ms x 120 000); the twin counts
# instructions, not cycles, so the comparison is indicative only.
M4_PUBLISHED_MS = {"kws_ref_model": (181.9, 99.8, 62.9, 47.8), "vww_96_int8": (600.6, 301.2, 118.7, 98.8),
                   "pretrainedResnet_quant": (704.2, 389.6, 214.0, 167.8), "ad01_int8": (10.05, 8.6, 6.86, 4.05)}
M4_PUBLISHERS = ("TFLM reference", "microTVM+CMSIS-NN", "ST", "Plumerai")
M4_MHZ = 120


def m4_published_cycles(model) -> dict:
    """{publisher: cycles (modelled: a published ms figure x the clock)} for an MLPerf Tiny model."""
    from edgekit.provenance import figure
    ms = M4_PUBLISHED_MS.get(Path(model).stem)
    return {who: figure(round(t * M4_MHZ * 1000), "cycles", "modelled",
                        note=f"published {t} ms on STM32L4R5 Cortex-M4 @ {M4_MHZ} MHz (docs/SOURCES.md §9)")
            for who, t in zip(M4_PUBLISHERS, ms)} if ms else {}


def register(sub) -> None:
    p = sub.add_parser("bench", help="host latency: generated C vs TFLM vs LiteRT (+XNNPACK) (measured-host)")
    p.add_argument("model", help="INT8 .tflite file")
    p.add_argument("--runs", type=int, default=200, help="timed invokes per runtime (default 200)")
    p.add_argument("--no-litert", action="store_true", help="skip the LiteRT runners")
    p.add_argument("--board", help="also run every backend reachable for this board (edgekit.accel)")
    p.add_argument("--backend", choices=("cpu", "edgetpu", "hailo"), help="with --board: only this backend")
    p.add_argument("--variant", help="kernel tier of the generated C (default: the best the host board allows; "
                   "'portable' for the reference tier)")
    p.add_argument("--m7", action="store_true",
                   help="also count instructions per inference on the Cortex-M7 twin, portable and DSP tiers (emulated)")
    p.add_argument("--aarch64", metavar="BOARD",
                   help="also count instructions per inference on this AArch64 board's core under qemu-aarch64, "
                        "portable and the board's tier (emulated; ~1 host second per million instructions)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def cpu_info() -> dict:
    """CPU model and the SIMD flags that matter for the kernels, from /proc/cpuinfo."""
    model, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, val = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model") and model == "unknown":
                model = val.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(val.split())
    except OSError:
        pass
    return {"model": model, "flags": [f for f in _FLAGS_OF_INTEREST if f in flags]}


def balanced_orders(n: int) -> list[tuple[int, ...]]:
    """Orders of range(n) for consecutive rounds whose concatenation, read cyclically, puts each
    index right after each other index equally often: n - 1 rounds in which every ordered pair
    (a right after b, a != b) occurs once, found by search for n <= 4 (e.g. n = 4: 0123 0213
    1032); plain rotations for larger n."""
    import itertools
    if n <= 2:
        return [tuple(range(n))]
    if n <= 4:
        for seq in itertools.product(itertools.permutations(range(n)), repeat=n - 1):
            stream = [i for order in seq for i in order]
            pairs = {(stream[k], stream[k - 1]) for k in range(len(stream))}
            if len(pairs) == n * (n - 1) and all(a != b for a, b in pairs):
                return list(seq)
    return [tuple((i + r) % n for i in range(n)) for r in range(n)]


def interleaved(runners: dict, runs: int) -> dict:
    """Per-runtime wall times (ms) of `runs` invokes, one invoke per runtime per round, in the
    rounds' orders of balanced_orders. Each runner is warmed up once first."""
    names = list(runners)
    for fn in runners.values():
        fn()
    walls: dict[str, list[float]] = {n: [] for n in names}
    cpu = dict.fromkeys(names, 0.0)
    orders = balanced_orders(len(names))
    for r in range(runs):
        for i in orders[r % len(orders)]:
            n = names[i]
            c0, t0 = time.process_time(), time.perf_counter()
            runners[n]()
            walls[n].append((time.perf_counter() - t0) * 1000)
            cpu[n] += (time.process_time() - c0) * 1000
    return {n: summarise(walls[n], cpu[n] / runs) for n in names}


def summarise(walls: list[float], cpu_ms: float) -> dict:
    import numpy as np

    from edgekit.provenance import figure
    a = np.asarray(walls)
    return {"runs": len(walls),
            "median_ms": figure(round(float(np.median(a)), 5), "ms", "measured-host"),
            "p99_ms": figure(round(float(np.percentile(a, 99)), 5), "ms", "measured-host"),
            "cpu_ms": figure(round(cpu_ms, 5), "ms", "measured-host", note="process CPU time per invoke")}


def ratios(results: dict) -> dict:
    """edgekit median / each other runtime's median (< 1: edgekit is faster)."""
    from edgekit.provenance import figure
    ek = results[EDGEKIT]["median_ms"]["value"]
    return {f"edgekit/{n}": figure(round(ek / r["median_ms"]["value"], 4), "x", "measured-host")
            for n, r in results.items() if n != EDGEKIT and r["median_ms"]["value"] > 0}


def xnnpack_runner(path):
    """LiteRT as users run it: the default op resolver (XNNPACK delegate applied), one thread."""
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_path=str(Path(path)), num_threads=1)
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()

    def run(inputs):
        for d, x in zip(ins, inputs):
            interp.set_tensor(d["index"], x)
        interp.invoke()
        return [interp.get_tensor(d["index"]) for d in outs]
    return run


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
    if args.aarch64:
        from edgekit.firmware.bench_a64 import a64_core
        a64_core(args.aarch64)   # a bad board fails now, not after the timed runs
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
        comp = compile_model(args.model, Path(tmp) / "m", board="host", variant=args.variant)
        model = rt.load(Path(tmp) / "m")
        xs = next(random_inputs(model, 1, 0))
        ref_xs = [i.dequantize(x) if i.float_in_model else x for i, x in zip(model.inputs, xs)]
        flat = np.concatenate([x.ravel() for x in xs])
        tflm = TflmRunner(args.model, preserve_all=False)
        runners = {EDGEKIT: lambda: model.invoke_raw(flat), "TFLM": lambda: tflm(ref_xs)}
        if not args.no_litert:
            lrt, xnn = litert_runner(args.model), xnnpack_runner(args.model)
            runners["LiteRT (no delegates)"] = lambda: lrt(ref_xs)
            runners["LiteRT default (XNNPACK)"] = lambda: xnn(ref_xs)
        results = interleaved(runners, args.runs)
        m7 = None
        if args.m7:
            from edgekit.firmware.bench import m7_instructions
            m7 = {v: m7_instructions(args.model, Path(tmp) / f"m7_{v}", v)["instructions"]
                  for v in ("portable", "armv7e-m-dsp")}
        a64 = None
        if args.aarch64:
            from edgekit.firmware.bench_a64 import a64_instructions
            a64 = {}
            for v in ("portable", None):
                r = a64_instructions(args.model, Path(tmp) / f"a64_{v or 'board'}", args.aarch64, v)
                a64.update(board=r["board"], core=r["core"])
                a64[r["variant"]] = r["instructions"]
    out = {"model": args.model, "threads": 1, "cpu": cpu_info(),
           "edgekit_build": {"cflags": [*rt.HOST_CFLAGS, "-march=native"],
                             "variant": comp.report.get("variant", {"selected": "portable"})},
           "runtimes": results, "ratios": ratios(results),
           **({"cortex_m7_twin_instructions": m7, "cortex_m4_published_cycles": m4_published_cycles(args.model)}
              if m7 else {}),
           **({"aarch64_twin_instructions": a64} if a64 else {}),
           **({"board": board_res} if board_res else {})}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    v = out["edgekit_build"]["variant"]
    print(f"{Path(args.model).name} on {out['cpu']['model']} ({' '.join(out['cpu']['flags'])}), 1 thread, "
          f"{args.runs} interleaved rounds; edgekit variant {v['selected'] if isinstance(v, dict) else v}:")
    for name, r in results.items():
        print(f"  {name:28s} median {fmt(r['median_ms'])}  p99 {fmt(r['p99_ms'])}  CPU {fmt(r['cpu_ms'])}")
    for name, f in out["ratios"].items():
        print(f"  {name:40s} {f['value']:.3g}x")
    for v, f in (m7 or {}).items():
        print(f"  Cortex-M7 twin, {v:14s} {fmt(f)} per inference")
    if out.get("cortex_m4_published_cycles"):
        print("  published Cortex-M4 cycles beside them (an instruction count is not a cycle count):")
    for who, f in (out.get("cortex_m4_published_cycles") or {}).items():
        print(f"    {who:20s} {fmt(f)} per inference")
    for v, f in ((a64 or {}).items()):
        if isinstance(f, dict):
            print(f"  {a64['board']} ({a64['core']}) under qemu-aarch64, {v:15s} {fmt(f)} per inference")
    if board_res:
        from edgekit.accel.bench import format_board
        print("\n".join(format_board(board_res)))
    return 0
