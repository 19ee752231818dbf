"""`edgekit quantize MODEL --calib DATA... --out OUT.tflite [--report R.json] [--samples N]`.

Full-integer INT8 conversion (TF's converter) with a float-vs-INT8 accuracy report, per-layer
errors and an Edge TPU compatibility check. `--inspect INT8.tflite` reports on an existing INT8
model (per-layer TFLM vs its dequantized float twin, Edge TPU) without converting.
"""
from __future__ import annotations

import json
from pathlib import Path

from edgekit.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("quantize", help="INT8-quantize a Keras pilot from tubs / frames, with an accuracy report")
    p.add_argument("model", help="Keras model (.keras / .h5 / SavedModel folder); with --inspect an INT8 .tflite")
    p.add_argument("--calib", nargs="+", metavar="DATA", help="DonkeyCar tub folders, or a .npy/.npz of frames")
    p.add_argument("--out", metavar="OUT.tflite", help="where to write the INT8 model")
    p.add_argument("--report", metavar="R.json", help="also write the report as JSON here")
    p.add_argument("--eval", nargs="+", metavar="DATA",
                   help="held-out tubs / frames for the accuracy report (default: calibration frames not drawn)")
    p.add_argument("--samples", type=int, default=200, help="representative frames for calibration (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed for choosing calibration / held-out frames")
    p.add_argument("--layer-frames", type=int, default=16, help="frames for the per-layer (TFLM) comparison")
    p.add_argument("--car", help="car YAML for steering in degrees (default: the simulator's default car)")
    p.add_argument("--inspect", action="store_true", help="report on an existing INT8 .tflite; no conversion")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    from edgekit.quantize import pipeline, summary

    if args.inspect:
        rep = pipeline.inspect(args.model, args.calib, frames=args.layer_frames, seed=args.seed)
    else:
        if not args.calib:
            raise UserError("--calib DATA is required (tub folders or a .npy of frames)")
        if not args.out:
            raise UserError("--out OUT.tflite is required")
        rep = pipeline.quantize(args.model, args.calib, args.out, samples=args.samples, seed=args.seed,
                                layer_frames=args.layer_frames, car=args.car, eval_paths=args.eval)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(rep, indent=2))
    summary.render(rep)  # on stderr, so --json on stdout stays machine-readable
    if args.json:
        print(json.dumps(rep, indent=2))
    return 0
