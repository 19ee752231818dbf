"""`edgekit data pull|stats`: captured shadow-mode windows home as a DonkeyCar tub, and their stats."""
from __future__ import annotations

import json

from edgekit.errors import UserError
from edgekit.provenance import fmt


def register(sub) -> None:
    p = sub.add_parser("data", help="shadow-mode captures: pull them home as a tub, show interventions per km")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    dsub.required = True

    pl = dsub.add_parser("pull", help="bring captured windows home as a DonkeyCar tub v2 (resumable, checksummed)")
    pl.add_argument("--board", default="sim", help="where the captures come from (default: sim)")
    src = pl.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="source", metavar="DIR", help="the capture storage folder (simulator, or a Linux car's, mounted)")
    src.add_argument("--host", metavar="USER@HOST[:PORT]", help="a Linux car over SSH (its capture folder: --remote-dir)")
    src.add_argument("--port", metavar="URL", help="a firmware car's link (tty path or pyserial URL, socket://HOST:PORT for a "
                     "twin): the capture storage over SMP's file group")
    pl.add_argument("--out", required=True, metavar="TUB", help="tub folder to (re)build")
    pl.add_argument("--remote-dir", metavar="DIR", help="--host: the car's capture folder (its seg-*.ekc files)")
    pl.add_argument("--frame-shape", metavar="H,W", help="--port: the captured frames' size (default: the pilot's "
                    "120,160 or square)")
    pl.add_argument("--timeout", type=float, default=5.0, help="--port: seconds per SMP request (default 5)")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=run_pull)

    st = dsub.add_parser("stats", help="interventions per km and where on the track they happen")
    st.add_argument("tubs", nargs="+", metavar="TUB")
    st.add_argument("--sections", type=int, default=10, help="track sections for 'where' (default 10)")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=run_stats)


def run_pull(args) -> int:
    from edgekit.shadow.pull import pull

    if args.host:
        if not args.remote_dir:
            raise UserError("--host needs --remote-dir DIR: the car's capture folder")
        from edgekit.shadow import ssh_pull
        s = ssh_pull.pull(args.host, args.remote_dir, args.out)
    elif args.port:
        s = _pull_port(args)
    else:
        s = pull(args.source, args.out)
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        print(f"pulled {s['windows']} windows ({s['records']} records, {s['sessions']} sessions) into {s['tub']}: "
              f"{s['bytes_transferred']} bytes moved, {s['bytes_resumed']} already here")
    return 0


def _pull_port(args) -> dict:
    from edgekit.progress import progress
    from edgekit.shadow import smp_pull

    shape = None
    if args.frame_shape:
        try:
            shape = tuple(int(v) for v in args.frame_shape.split(","))
            assert len(shape) == 2 and min(shape) > 0
        except (ValueError, AssertionError):
            raise UserError(f"--frame-shape {args.frame_shape!r}: expected H,W (two positive integers)") from None
    if args.timeout <= 0:
        raise UserError("--timeout must be positive")
    with progress(f"pulling captures from {args.port}", None, enabled=not args.json) as advance:
        seen = [0]

        def on_chunk(moved, total):
            advance(moved - seen[0])
            seen[0] = moved
        return smp_pull.pull(args.port, args.out, on_chunk, shape, args.timeout)


def run_stats(args) -> int:
    from edgekit.shadow.pull import stats

    if args.sections < 1:
        raise UserError("--sections must be at least 1")
    s = stats(args.tubs, sections=args.sections)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"distance {fmt(s['distance'])}, interventions {fmt(s['interventions'])}, "
          f"{fmt(s['interventions_per_km'])}, disagreements {fmt(s['disagreements'])}")
    for sec in s.get("where", []):
        print(f"  {sec['from_m']:7.2f}-{sec['to_m']:7.2f} m  {'#' * sec['interventions']} {sec['interventions']}")
    return 0
