"""`edgekit doctor [--board B] [--json]`: what is missing and how to fix it."""
from __future__ import annotations

import json
from dataclasses import asdict

from rich.console import Console

from edgekit.catalog import get_board, load_boards
from edgekit.doctor import buildable, check_board, check_python, has_firmware


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check toolchains, QEMU, Python packages and vendor libraries")
    p.add_argument("--board", action="append", help="check only this board (repeatable)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--host", metavar="USER@HOST[:PORT]", help="Linux boards: also check the board itself over SSH")
    p.add_argument("--known-hosts", metavar="F", help="known_hosts for --host")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.board:
        boards = [get_board(b, args.boards_dir) for b in args.board]
    else:
        boards = list(load_boards(args.boards_dir).values())
    py = check_python()
    per_board = {b.name: check_board(b) for b in boards}
    if getattr(args, "host", None):
        from pathlib import Path

        from edgekit.car.doctor import remote_checks
        from edgekit.errors import UserError
        linux = [b for b in boards if b.bsp == "linux"]
        if not args.board or not linux:
            raise UserError("--host needs --board with a Linux board (e.g. --board rpi4-coral-usb)")
        for b in linux:
            per_board[b.name] += remote_checks(b, args.host, Path(args.known_hosts) if args.known_hosts else None)
    python_ok = buildable(py)
    status = {name: python_ok and buildable(c) for name, c in per_board.items()}
    if args.json:
        print(json.dumps({
            "python": [asdict(c) for c in py],
            "boards": {n: {"buildable": status[n], "firmware": has_firmware(b), "checks": [asdict(c) for c in cs]}
                       for b, (n, cs) in zip(boards, per_board.items())},
        }, indent=2))
    else:
        con = Console()
        for c in py + [c for cs in per_board.values() for c in cs]:
            mark = "[green]ok[/]" if c.ok else ("[red]MISSING[/]" if c.needed else "[yellow]optional[/]")
            con.print(f"{mark:>20} {c.what}: {c.detail}" + (f"\n{'':>10}fix: {c.fix}" if c.fix else ""),
                      highlight=False)
        for b in boards:
            what = "firmware image" if has_firmware(b) else "compile/verify/bench only, no firmware image"
            con.print(f"board {b.name}: " + (f"[green]buildable[/] ({what})" if status[b.name] else "[red]cannot be built here[/]"))
    return 0 if all(status.values()) else 1
