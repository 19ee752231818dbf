"""`edgekit flash --board B --model M.tflite [--port URL] [--key K] [--confirm] [--json]`.

Builds the app for the board's inactive slot (edgekit.firmware build with the SMP server),
signs it (MCUboot format, Ed25519), uploads it over SMP with a progress bar, marks it for test,
resets, waits for the app's self-test, confirms, and prints the running version and hash.
Without --port the board's emulated twin is started and flashed (flash persists; `edgekit twin
--board B` boots it). --key only signs: the board checks the image against its own key (the
twin's trust anchor, set on its first flash or by `edgekit keys provision`) and refuses others.
`--testapp VERSION` flashes edgekit's small test app instead of a model build (tests, demos);
`--bench` measures link speed vs upload time on the twin (JSON with provenance).
Linux boards: `--host USER@HOST[:PORT]` deploys over SSH (edgekit.flash.linux_deploy); exit 1 when
the board's self-test failed and it went back to its previous slot.
"""
from __future__ import annotations

import json
from pathlib import Path

from edgekit.errors import UserError


def read_result(stdout: str) -> dict:
    """The JSON result `edgekit flash --json` prints (indent 2, after any progress lines), for the
    stages that run it as a process; ValueError when the output holds none."""
    return json.loads(stdout[stdout.index("{\n"):])


def register(sub) -> None:
    p = sub.add_parser("flash", help="sign and flash firmware over SMP (A/B slots, test, confirm or roll back)")
    p.add_argument("--board", required=True, help="board name (edgekit boards)")
    p.add_argument("--model", metavar="M", help="compiled folder (edgekit compile) or INT8 .tflite to build the app around")
    p.add_argument("--testapp", metavar="VERSION", help="flash edgekit's test app instead of a model build")
    p.add_argument("--port", metavar="URL", help="tty path or pyserial URL; default: the emulated twin")
    p.add_argument("--host", metavar="USER@HOST[:PORT]", help="Linux boards: deploy over SSH into the inactive slot "
                   "(`edgekit twin --board B` prints the VM twin's); keys only, host keys checked")
    p.add_argument("--known-hosts", metavar="F", help="known_hosts for --host (default: ~/.ssh/known_hosts and "
                   "the twin's, in edgekit's state folder)")
    p.add_argument("--key", metavar="K", help="Ed25519 private key that signs the image (default: edgekit keys generate's); "
                   "the board accepts only its own key")
    p.add_argument("--version", dest="image_version", help="image version MAJOR.MINOR.REV[+BUILD]")
    p.add_argument("--confirm", action="store_true", help="confirm even when the app reports no self-test")
    p.add_argument("--selftest-timeout", type=float, default=30.0, metavar="S",
                   help="how long to wait for the app's self-test report (default 30 s)")
    p.add_argument("--bench", action="store_true", help="benchmark link speed vs flash time on the twin")
    p.add_argument("--bench-bytes", type=int, default=262144, help="image size for --bench")
    p.add_argument("--json", action="store_true", help="machine-readable result on stdout")
    p.set_defaults(func=run)


def _binary_maker(args, board):
    from edgekit.flash import build

    if args.testapp:
        return lambda slot: build.build_testapp(slot, args.testapp).read_bytes()
    if not args.model:
        raise UserError("give --model M.tflite (or --testapp VERSION)")
    model = Path(args.model)
    if not model.exists():
        raise UserError(f"{model}: no such model file or compiled folder")

    def make(slot: int) -> bytes:
        from edgekit.firmware.build import build as fw_build
        from edgekit.paths import state_dir

        out = state_dir() / "flash-builds" / board.name / f"slot{slot}"
        res = fw_build(board, model, out, flash_origin=hex(build.SLOT_BASES[slot] + build.HEADER_SIZE),
                       with_mgmt=True)
        return Path(res.binary).read_bytes()
    return make


def run(args) -> int:
    from edgekit.catalog import get_board
    from edgekit.flash import keys
    from edgekit.progress import progress, status

    board = get_board(args.board)
    method = getattr(getattr(board, "flash", None), "method", None)
    if method == "slot-folders" and not args.host:
        raise UserError(f"board {board.name!r} is deployed over SSH: give --host USER@HOST[:PORT] "
                        f"(`edgekit twin --board {board.name}` prints its VM twin's)")
    if method != "mcuboot-smp" and not args.host:
        raise UserError(f"board {board.name!r} does not flash over SMP (flash method {method!r})")
    key_path = Path(args.key) if args.key else keys.default_key_path()
    if not args.key and not key_path.exists():
        keys.generate(key_path)
        status(f"edgekit: generated signing key {key_path}")
    if args.host:
        return _deploy_ssh(args, board, key_path)
    if args.bench:
        from edgekit.flash.bench import bench
        res = bench(board.name, key_path, args.bench_bytes)
        print(json.dumps(res, indent=2) if args.json else _bench_text(res))
        return 0
    make = _binary_maker(args, board)
    from edgekit.flash.flow import flash

    version = args.image_version or (args.testapp if args.testapp else None)
    res = flash(board.name, make, key_path, version, args.port,
                confirm_without_selftest=args.confirm,
                progress=lambda total: progress(f"uploading to {board.name}", total=total, enabled=not args.json),
                selftest_timeout=args.selftest_timeout)
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
        return 0
    running = next((s for s in res.slots if s["active"]), {})
    print(f"{board.name}: running {running.get('version')} (slot {running.get('slot')}, "
          f"{'confirmed' if running.get('confirmed') else 'ON TRIAL: reverts at next reset'})")
    print(f"hash {running.get('hash')}\nimage {res.image}\nself-test {res.selftest}")
    if res.upload:
        from edgekit.provenance import fmt
        print(f"uploaded {res.upload['bytes']} bytes in {fmt(res.upload['seconds'])}")
    return 0


def _deploy_ssh(args, board, key_path: Path) -> int:
    from edgekit.flash.linux_deploy import deploy
    from edgekit.progress import status

    if not args.model:
        raise UserError("give --model (an INT8 .tflite or an `edgekit compile` folder)")
    res = deploy(args.host, board.name, Path(args.model), key_path, args.image_version,
                 Path(args.known_hosts) if args.known_hosts else None,
                 on_step=None if args.json else lambda s: status(f"{board.name}: {s}"))
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        from edgekit.provenance import fmt
        run = res["running"]
        print(f"{board.name} at {res['host']}: running {run['version']} (slot {run['slot']}, hash {run['hash']})")
        print(f"self-test {'passed' if res['selftest']['ok'] else 'FAILED'}: {res['selftest'].get('detail')}")
        print(f"uploaded {res['upload']['bytes']} bytes in {fmt(res['upload']['seconds'])}")
        if not res["ok"]:
            print(f"rolled back: {res['why']}")
    return 0 if res["ok"] else 1


def _bench_text(res: dict) -> str:
    f = res["figures"]
    return "\n".join(f"{k}: {v['value']} {v['unit']} ({v['provenance']})" for k, v in f.items())
