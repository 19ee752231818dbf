"""`edgekit verify MODEL.tflite [--inputs N] [--layers] [--json]`: generated C vs TFLM, bit for bit."""
from __future__ import annotations

import json
from pathlib import Path

from edgekit.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("verify", help="compile for the host and compare with TFLM (the golden) bit for bit")
    p.add_argument("model", help="INT8 .tflite file")
    p.add_argument("--inputs", type=int, default=100, help="number of seeded random inputs (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layers", action="store_true", help="diff every intermediate tensor, name the first diverging op")
    p.add_argument("--out", metavar="DIR", help="keep the generated C here (default: a temporary folder)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from edgekit.golden.verify import verify
    from edgekit.progress import progress
    from edgekit.provenance import fmt

    if not Path(args.model).is_file():
        raise UserError(f"no such model file: {args.model}")
    if args.inputs < 1:
        raise UserError("--inputs must be at least 1")
    with progress("verifying", total=args.inputs, enabled=not args.json) as advance:
        rep = verify(args.model, args.inputs, args.layers, args.seed, args.out, on_step=advance)
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        frac = rep["bit_identical_fraction"]
        print(f"{Path(args.model).name}: {rep['bit_identical_inputs']}/{rep['inputs']} inputs bit-identical "
              f"with TFLM ({frac['value']:.1%}, {frac['provenance']}); max |diff| {rep['max_abs_diff']}")
        print(f"  arena {fmt(rep['arena_bytes'])} vs TFLM {fmt(rep['tflm_arena_bytes'])} ({rep['arena_vs_tflm']}x), "
              f"weights {fmt(rep['weights_bytes'])}")
        print(f"  latency {fmt(rep['latency_ms'])} (CPU {fmt(rep['cpu_ms'])}) vs TFLM interpreter "
              f"{fmt(rep['tflm_latency_ms'])} (CPU {fmt(rep['tflm_cpu_ms'])})")
        if args.layers:
            d = rep["first_divergence"]
            print("  every layer identical" if d is None else
                  f"  first divergence: op {d['op']} {d['kind']} (tensor {d['tensor']}, input {d['input']}, "
                  f"{d['differing']}/{d['of']} values)")
    return 0 if rep["bit_identical_inputs"] == rep["inputs"] else 1
