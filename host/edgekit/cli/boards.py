"""`edgekit boards [--json]`: the board catalogue."""
from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from edgekit.catalog import load_boards


def register(sub) -> None:
    p = sub.add_parser("boards", help="list the boards edgekit knows (built-in and EDGEKIT_BOARDS)")
    p.add_argument("--json", action="store_true", help="print every field as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    boards = load_boards(args.boards_dir)
    if args.json:
        print(json.dumps([b.model_dump() for b in boards.values()], indent=2))
        return 0
    table = Table(title="edgekit boards (figures from each YAML's sources: modelled, not measured)")
    for col in ("board", "cpu", "clock", "RAM", "flash", "accelerator", "idle/active W", "twin"):
        table.add_column(col)
    for b in boards.values():
        acc = f"{b.accelerator.name} {b.accelerator.peak_tops:g} TOPS" if b.accelerator else "-"
        twin = b.twin.machine or b.twin.kind
        table.add_row(
            b.name, f"{b.cpu.cores}× {b.cpu.core}", f"{b.cpu.clock_mhz:g} MHz",
            f"{b.memory.ram_bytes / 2**20:g} MiB", f"{b.memory.flash_bytes / 2**20:g} MiB",
            acc, f"{b.power.idle_w:g}/{b.power.active_w:g}", twin,
        )
    Console().print(table)
    return 0
