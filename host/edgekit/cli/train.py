"""`edgekit train TUB... --out pilot.keras`: train the pilot on DonkeyCar tubs."""
from __future__ import annotations

import json

from edgekit.provenance import fmt


def register(sub) -> None:
    p = sub.add_parser("train", help="train the pilot CNN on DonkeyCar tubs (writes .keras and float .tflite)")
    p.add_argument("tubs", nargs="+", metavar="TUB", help="tub folders (DonkeyCar tub v2)")
    p.add_argument("--out", required=True, help="model file, ends in .keras (a .tflite and a .json summary go beside it)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--limit", type=int, help="use a seeded random subset of this many records")
    p.add_argument("--threads", type=int, help="TensorFlow intra-op threads (default: all cores)")
    p.add_argument("--finetune", metavar="PILOT", help="start from this .keras pilot's weights (shadow-mode retraining)")
    p.add_argument("--tub", action="append", default=[], metavar="TUB",
                   help="captured windows (edgekit data pull) to train on beside the TUBs; repeatable")
    p.add_argument("--weight-interventions", type=float, default=1.0, metavar="W",
                   help="loss weight of each --tub record (default 1)")
    p.add_argument("--no-tflite", action="store_true", help="skip the float .tflite export")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from edgekit.models.train import train

    s = train(args.tubs, args.out, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
              val_fraction=args.val_fraction, learning_rate=args.lr, limit=args.limit, threads=args.threads,
              show_progress=not args.json, tflite=not args.no_tflite, finetune=args.finetune,
              extra_tubs=args.tub, weight_interventions=args.weight_interventions)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"saved {s['model']}" + (f" and {s['tflite']}" if s.get("tflite") else ""))
    print(f"  samples: {s['samples']['train']} train, {s['samples']['validation']} validation, {s['epochs']} epochs")
    print(f"  validation MAE: angle {fmt(s['val_mae_angle'])}, throttle {fmt(s['val_mae_throttle'])}")
    print(f"  training: {fmt(s['train_cpu_time'])} CPU, {fmt(s['train_wall_time'])} wall")
    return 0
