"""`edgekit keys generate [--out KEY] [--force]`: an Ed25519 signing key pair for firmware images."""
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


def run_generate(args) -> int:
    from edgekit.flash import keys

    priv, pub = keys.generate(Path(args.out) if args.out else keys.default_key_path(), force=args.force)
    raw = keys.public_raw(keys.load(priv)).hex()
    if args.json:
        print(json.dumps({"private_key": str(priv), "public_key": str(pub), "public_raw": raw}))
    else:
        print(f"private key {priv}\npublic key  {pub}\n(Ed25519 {raw}; the bootloader is built with it)")
    return 0
