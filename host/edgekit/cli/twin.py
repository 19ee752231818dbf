"""`edgekit twin --board B [--image FILE | --kernel] [--pty]`: run a board's emulated twin in the foreground.

Boards flashed with `edgekit flash` boot their bootloader from the flash state (what the last
flash wrote, `.edgekit/twins/<board>/flash.bin`); `--image FILE` or `--kernel` boots a firmware
image with -kernel instead (the last `edgekit build` by default). rpi4-coral-usb and rpi5-hailo
boot the Linux VM twin of the car computer (edgekit.vm) unless `--image`/`--kernel` asks for the
firmware twin; its first line is `ssh: USER@127.0.0.1:PORT`. Otherwise the first line of output is
`serial: socket://127.0.0.1:PORT` (or `serial: /dev/pts/N` with --pty); it runs until
SIGINT/SIGTERM (or until the firmware exits) and always stops QEMU (within ~1 s)."""
from __future__ import annotations

import signal
import struct
import sys
from pathlib import Path

from edgekit.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("twin", help="run a board's emulated twin (QEMU) with its UART on a local port")
    p.add_argument("--board", required=True)
    p.add_argument("--image", type=Path, help="boot this firmware image with -kernel")
    p.add_argument("--kernel", action="store_true",
                   help="boot the last `edgekit build` with -kernel even when the board has a flash state")
    p.add_argument("--pty", action="store_true", help="expose the UART as a pseudo-terminal")
    p.add_argument("--icount", type=int, metavar="SHIFT", help="mps2: deterministic virtual time (-icount shift=N)")
    p.set_defaults(func=run)


class _Stop(BaseException):
    pass


def _load_address(elf: Path) -> int | None:
    """Lowest PT_LOAD physical address of a 32-bit little-endian ELF (None if not one)."""
    data = elf.read_bytes()[:65536]
    if data[:4] != b"\x7fELF" or data[4] != 1:
        return None
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    addrs = []
    for i in range(phnum):
        p_type, _, _, paddr, filesz = struct.unpack_from("<IIIII", data, phoff + i * phentsize)
        if p_type == 1 and filesz:
            addrs.append(paddr)
    return min(addrs) if addrs else None


def make_twin(args):
    from edgekit.catalog import get_board
    from edgekit.firmware.twin import Twin

    board = get_board(args.board)
    if args.image is None and not args.kernel and getattr(getattr(board, "flash", None), "method", None) == "mcuboot-smp":
        from edgekit.flash.twin import FlashTwin, anchor, bootloader_for, twin_dir

        state = twin_dir(board.name)
        if anchor(board.name) is not None and FlashTwin(state, bootloader_for(board.name)).has_image():
            return Twin(board, bootloader=bootloader_for(board.name), state=state, pty=args.pty, icount=args.icount)
    twin = Twin(board, args.image, pty=args.pty, icount=args.icount)
    if board.twin.kind == "qemu-system-arm" and twin.image.suffix == ".elf":
        addr = _load_address(twin.image)
        if addr:   # M-profile reset reads SP/PC at 0x0: a slot image needs the bootloader
            raise UserError(f"{twin.image} is linked at {addr:#x} (a flash slot): it boots only through the "
                            f"bootloader; flash it with `edgekit flash --board {board.name}` and run "
                            f"`edgekit twin --board {board.name}`")
    return twin


def run(args) -> int:
    from edgekit.vm.linux_vm import VM_BOARDS
    if args.board in VM_BOARDS and args.image is None and not getattr(args, "kernel", False):
        from edgekit.vm.cli import run_vm   # the car computer as a Linux VM (ssh, not a UART)
        return run_vm(args)
    twin = make_twin(args)
    stopping: list[int] = []

    def on_signal(signum, frame):
        if not stopping:       # one clean stop; a second signal during cleanup is ignored
            stopping.append(signum)
            raise _Stop

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        twin.start()
        print(f"serial: {twin.url}", flush=True)
        what = f"image {twin.image}" if twin.mode == "kernel" else "bootloader booting the flash state"
        print(f"twin: {twin.board.name} ({twin.machine if twin.board.twin.kind == 'qemu-system-arm' else twin.board.twin.kind}) "
              f"{what}; state in {twin.state}; Ctrl-C to stop", file=sys.stderr, flush=True)
        code = twin.proc.wait()
        print(f"twin: firmware exited with code {code}", file=sys.stderr)
        return 0 if code == 0 else 1
    except _Stop:
        return 0
    finally:
        twin.stop()
        for s, h in old.items():
            signal.signal(s, h)
