"""The `edgekit` command line: one module per command group in this package.

Each module `edgekit/cli/<group>.py` defines `register(subparsers)`, which adds its parser and
sets `func=run(args) -> int`. Modules are found by name, so a new command group is one new file.
Keep module imports light: heavy libraries (TensorFlow, LiteRT, TFLM) are imported inside `run`.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback

from edgekit.version import __version__
from edgekit.errors import EdgekitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgekit",
        description="Record, train, quantize, compile, flash and bench pilot CNNs for autonomous RC cars.",
    )
    parser.add_argument("--version", action="version", version=f"edgekit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--boards-dir", metavar="DIR", help="extra folder of board YAML files (also: EDGEKIT_BOARDS)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EdgekitError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"edgekit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("edgekit: interrupted", file=sys.stderr)
        return 130
