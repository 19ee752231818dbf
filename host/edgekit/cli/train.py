"""`edgekit train TUB... --out pilot.keras`: train the pilot on DonkeyCar tubs."""
from __future__ import annotations

import json

from edgekit.errors import ToolError, UserError
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
    p.add_argument("--workers", metavar="HOST:PORT,...",
                   help="train on a tf.distribute.MultiWorkerMirroredStrategy cluster; all on loopback: the workers "
                        "are started here; else run this command on each host with its --worker-index")
    p.add_argument("--worker-index", type=int, help="this host's index in --workers (0 is the chief, which saves)")
    p.add_argument("--no-tflite", action="store_true", help="skip the float .tflite export")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _launch_local_workers(args, workers) -> dict:
    """Every worker on loopback: one `edgekit train … --worker-index I` process each; the chief's summary."""
    import subprocess
    import sys

    argv = ["train", *args.tubs, "--out", args.out, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
            "--seed", str(args.seed), "--val-fraction", str(args.val_fraction), "--lr", str(args.lr),
            "--weight-interventions", str(args.weight_interventions), "--workers", ",".join(workers), "--json"]
    for flag, value in (("--limit", args.limit), ("--threads", args.threads), ("--finetune", args.finetune)):
        if value is not None:
            argv += [flag, str(value)]
    argv += [x for t in args.tub for x in ("--tub", t)] + (["--no-tflite"] if args.no_tflite else [])
    procs = [subprocess.Popen([sys.executable, "-m", "edgekit", *argv, "--worker-index", str(i)],
                              stdout=subprocess.PIPE, text=True) for i in range(len(workers))]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise ToolError(f"worker(s) {[i for i, p in enumerate(procs) if p.returncode]} failed (exit codes "
                        f"{[p.returncode for p in procs]}); their errors are above")
    summaries = [json.loads(o) for o in outs]
    digests = {s["workers"]["weights_sha256"] for s in summaries}
    if len(digests) != 1:
        raise ToolError("the workers ended with different weights: the all-reduce did not hold")
    return summaries[0]


def run(args) -> int:
    from edgekit.models.train import train

    workers = None
    if args.workers:
        from edgekit.models.multiworker import all_loopback, parse_workers

        workers = parse_workers(args.workers)
        if args.worker_index is None:
            if not all_loopback(workers):
                raise UserError("--workers on other hosts: run this command on each of them with --worker-index I")
            s = _launch_local_workers(args, workers)
            return _report(args, s)
    elif args.worker_index is not None:
        raise UserError("--worker-index needs --workers")
    s = train(args.tubs, args.out, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
              val_fraction=args.val_fraction, learning_rate=args.lr, limit=args.limit, threads=args.threads,
              show_progress=not args.json, tflite=not args.no_tflite, finetune=args.finetune,
              extra_tubs=args.tub, weight_interventions=args.weight_interventions, workers=workers,
              worker_index=args.worker_index or 0)
    return _report(args, s)


def _report(args, s) -> int:
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"saved {s['model']}" + (f" and {s['tflite']}" if s.get("tflite") else ""))
    print(f"  samples: {s['samples']['train']} train, {s['samples']['validation']} validation, {s['epochs']} epochs")
    print(f"  validation MAE: angle {fmt(s['val_mae_angle'])}, throttle {fmt(s['val_mae_throttle'])}")
    print(f"  training: {fmt(s['train_cpu_time'])} CPU, {fmt(s['train_wall_time'])} wall")
    if s.get("workers"):
        print(f"  on {len(s['workers']['cluster'])} workers (MultiWorkerMirroredStrategy), same weights on each")
    return 0
