"""`edgekit build --board B --model M [--out DIR]`: build the firmware around a compiled model
folder (M from `edgekit compile --board B`, or a .tflite compiled once into the cache), report
image sizes against the board's limits."""
from __future__ import annotations

import json
from pathlib import Path

from edgekit.provenance import figure, fmt


def register(sub) -> None:
    p = sub.add_parser("build", help="build the car firmware for a board around a compiled model (PlatformIO)")
    p.add_argument("--board", required=True, help="board name (see `edgekit boards`)")
    p.add_argument("--model", required=True, type=Path,
                   help="compiled folder (edgekit compile --board B) or a full-INT8 .tflite (compiled once, cached)")
    p.add_argument("--out", type=Path, help="output folder (default build/firmware/<board>)")
    p.add_argument("--name", default="pilot", help="model symbol name in the generated C (for a .tflite)")
    p.add_argument("--flash-origin", help="mps2: FLASH origin of the image (default 0x0 for -kernel)")
    p.add_argument("--with-mgmt", action="store_true", help="link the SMP management server (firmware/mgmt)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from edgekit.catalog import get_board
    from edgekit.firmware.build import build
    from edgekit.paths import WORK

    board = get_board(args.board, args.boards_dir)
    out = args.out or WORK / "build" / "firmware" / board.name
    res = build(board, args.model, out, name=args.name, flash_origin=args.flash_origin, with_mgmt=args.with_mgmt)
    if args.json:
        print(json.dumps(res.as_json(), indent=2))
        return 0
    lim = res.limits

    def pct(v, limit):
        p = 100 * v / limit
        return f"{p:.1f}%" if p >= 0.1 else "<0.1%"

    print(f"{board.name}: {res.image}")
    print(f"  model {res.model_dir.resolve()}")
    print(f"  flash {fmt(figure(res.flash_bytes, 'B', 'measured-host'))} of {lim['flash_bytes']} B "
          f"({pct(res.flash_bytes, lim['flash_bytes'])} of the {lim['of']}'s limit, modelled)")
    print(f"  RAM   {fmt(figure(res.ram_bytes, 'B', 'measured-host'))} of {lim['ram_bytes']} B "
          f"({pct(res.ram_bytes, lim['ram_bytes'])})")
    if lim.get("slot_bytes"):
        print(f"  MCUboot slot: {res.flash_bytes} of {lim['slot_bytes']} B ({pct(res.flash_bytes, lim['slot_bytes'])}, "
              "+0x200 header and TLVs)")
    pv = res.provenance
    print(f"  built by {pv['toolchain']} via PlatformIO in {pv['build_seconds']} s (measured-host); "
          f"sha256 {pv['sha256'][:16]}…; flash origin {pv['flash_origin']}")
    return 0
