"""`edgekit loop --track T --rounds N`: the shadow-mode data loop in the simulator, with a report."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("loop", help="shadow-mode loop in the simulator: drive, take over, pull, retrain, N rounds")
    p.add_argument("--track", default="winding", help="track the pilot must learn (default %(default)s)")
    p.add_argument("--track-scale", type=float, default=1.0, metavar="X", help="scale every length (default 1)")
    p.add_argument("--track-width", type=float, default=0.8, metavar="M", help="lane width in m (default 0.8)")
    p.add_argument("--rounds", type=int, default=3, help="retraining rounds (default 3; round 0 is the start)")
    p.add_argument("--laps", type=int, default=2, help="laps per drive (default 2)")
    p.add_argument("--pilot", help="starting .keras pilot (default: trained here on the oval alone)")
    p.add_argument("--base-tub", action="append", default=[], metavar="TUB", help="the data --pilot was trained on")
    p.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs per round (default 2)")
    p.add_argument("--weight-interventions", type=float, default=4.0, metavar="W", help="loss weight of captured records")
    p.add_argument("--takeover-cte", type=float, default=0.25, metavar="M", help="|cte| at which the expert takes over")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="TensorFlow threads for training (default 1)")
    p.add_argument("--out", default="build/loop", help="working folder (default build/loop)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from edgekit.shadow.loop import run_rounds

    r = run_rounds(args.track, args.rounds, args.out, pilot=args.pilot, base_tubs=args.base_tub, laps=args.laps,
                   epochs=args.epochs, weight_interventions=args.weight_interventions,
                   takeover_cte_m=args.takeover_cte, seed=args.seed, threads=args.threads,
                   track_scale=args.track_scale, track_width=args.track_width)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"shadow-mode loop on {r['track']} (scale {r['track_scale']}, width {r['track_width_m']} m; {r['driven_by']}; driving figures modelled)")
    print(" round  laps alone  off lane  mean|cte| m  max|cte| m  interventions/km")
    for x in r["rounds"]:
        print(f" {x['round']:5d}  {x['laps_completed']:>4d}/{x['laps_target']:<5d}  {x['off_track_events']:8d}"
              f"  {x['mean_abs_cte_m']:11.3f}  {x['max_abs_cte_m']:10.3f}  {x['interventions_per_km']:16.1f}")
    print(f"plot: {r['plot']}")
    return 0
