"""Ed25519 signing keys (imgtool's key classes): `generate`, `load`, raw public bytes."""
from __future__ import annotations

import os
from pathlib import Path

from edgekit.errors import UserError
from edgekit.paths import state_dir


def default_key_path() -> Path:
    """Where `edgekit keys generate` writes by default (EDGEKIT_KEY overrides)."""
    return Path(os.environ.get("EDGEKIT_KEY", state_dir() / "keys" / "edgekit-ed25519.pem"))


def generate(path: Path, force: bool = False) -> tuple[Path, Path]:
    """Write a new private key (PEM, mode 0600) and its public key (`<name>.pub.pem`)."""
    from imgtool.keys import Ed25519

    path = Path(path)
    pub = public_path(path)
    if path.exists() and not force:
        raise UserError(f"{path} exists; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519.generate()
    key.export_private(str(path))
    os.chmod(path, 0o600)
    key.export_public(str(pub))
    return path, pub


def public_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.name.removesuffix(".pem") + ".pub.pem")


def load(path: Path):
    """The imgtool key object of a private (or public) PEM file; UserError when unusable."""
    from imgtool import keys

    path = Path(path)
    if not path.exists():
        raise UserError(f"key {path} not found (create one with `edgekit keys generate`)")
    try:
        key = keys.load(str(path))
    except Exception as exc:  # cryptography raises many types for a bad PEM
        raise UserError(f"{path}: not a PEM key ({exc.__class__.__name__})") from None
    if key is None or key.sig_type() != "ED25519":
        raise UserError(f"{path}: edgekit signs with Ed25519 keys only")
    return key


def public_raw(key) -> bytes:
    """The 32 raw public-key bytes (imgtool gives DER SubjectPublicKeyInfo: the key is its tail)."""
    der = key.get_public_bytes()
    return bytes(der[-32:])
