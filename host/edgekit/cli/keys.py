"""`edgekit keys generate [--out KEY] [--force]`: an Ed25519 signing key pair for firmware images.
`edgekit keys provision --board B [--key K]`: burn a key into a board twin's bootloader (its trust
anchor); `edgekit flash` never changes it, and the board refuses images signed with another key."""
from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("keys", help="signing keys for firmware images (Ed25519, MCUboot/imgtool format)")
    ks = p.add_subparsers(dest="keys_command", metavar="ACTION")
    ks.required = True
    g = ks.add_parser("generate", help="write a new private key (PEM, 0600) and its public key")
    g.add_argument("--out", metavar="KEY", help="private key path (default: .edgekit/keys/edgekit-ed25519.pem)")
    g.add_argument("--force", action="store_true", help="replace an existing key")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=run_generate)
    pr = ks.add_parser("provision", help="set a board twin's trust anchor (bootloader key); erases its flash")
    pr.add_argument("--board", required=True)
    pr.add_argument("--key", metavar="K", help="private or public PEM (default: edgekit keys generate's)")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=run_provision)


def run_generate(args) -> int:
    from edgekit.flash import keys

    priv, pub = keys.generate(Path(args.out) if args.out else keys.default_key_path(), force=args.force)
    raw = keys.public_raw(keys.load(priv)).hex()
    if args.json:
        print(json.dumps({"private_key": str(priv), "public_key": str(pub), "public_raw": raw}))
    else:
        print(f"private key {priv}\npublic key  {pub}\n(Ed25519 {raw}; provision a board with it: "
              "edgekit keys provision --board B)")
    return 0


def run_provision(args) -> int:
    from edgekit.catalog import get_board
    from edgekit.errors import UserError
    from edgekit.flash import keys
    from edgekit.flash.twin import bootloader_for, provision_anchor

    board = get_board(args.board)
    if getattr(getattr(board, "flash", None), "method", None) != "mcuboot-smp":
        raise UserError(f"board {board.name!r} has no bootloader trust anchor (it does not flash over SMP)")
    path = Path(args.key) if args.key else keys.default_key_path()
    rec = provision_anchor(board.name, keys.load(path), path)
    boot = bootloader_for(board.name)
    if args.json:
        print(json.dumps({**rec, "bootloader": str(boot)}))
    else:
        print(f"{board.name} twin: trust anchor Ed25519 {rec['public_key']} ({path}); flash erased; "
              f"bootloader {boot}")
    return 0
