"""`edgekit twin --board B [--image FILE] [--pty]`: run a board's emulated twin in the foreground.

The first line of output is `serial: socket://127.0.0.1:PORT` (or `serial: /dev/pts/N` with
--pty); it runs until SIGINT/SIGTERM (or until the firmware exits) and always stops QEMU."""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("twin", help="run a board's emulated twin (QEMU) with its UART on a local port")
    p.add_argument("--board", required=True)
    p.add_argument("--image", type=Path, help="firmware image (default: the last `edgekit build` for the board)")
    p.add_argument("--pty", action="store_true", help="expose the UART as a pseudo-terminal")
    p.add_argument("--icount", type=int, metavar="SHIFT", help="mps2: deterministic virtual time (-icount shift=N)")
    p.set_defaults(func=run)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM is the normal way to stop a twin: same clean exit as Ctrl-C


def run(args) -> int:
    from edgekit.vm.linux_vm import VM_BOARDS
    if args.board in VM_BOARDS and args.image is None:   # the car computer as a Linux VM (ssh, not a UART)
        from edgekit.vm.cli import run_vm
        return run_vm(args)
    from edgekit.firmware.twin import Twin

    twin = Twin(args.board, args.image, pty=args.pty, icount=args.icount)
    old = signal.signal(signal.SIGTERM, _terminate)
    try:
        twin.start()
        print(f"serial: {twin.url}", flush=True)
        print(f"twin: {twin.board.name} ({twin.board.twin.machine or twin.board.twin.kind}) image {twin.image}; "
              f"state in {twin.state}; Ctrl-C to stop", file=sys.stderr, flush=True)
        while twin.alive():
            time.sleep(0.2)
        code = twin.proc.returncode
        print(f"twin: firmware exited with code {code}", file=sys.stderr)
        return 0 if code == 0 else 1
    except KeyboardInterrupt:
        return 0
    finally:
        twin.stop()
        signal.signal(signal.SIGTERM, old)
