"""The bootloader's C crypto (own SHA-256/SHA-512 + Monocypher's Ed25519 check) against RFC 8032,
FIPS 180 vectors and `cryptography` (random keys/messages, tampering, non-canonical S)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import pytest

from edgekit.paths import FIRMWARE, REPO

RFC8032 = [  # (public key, message, signature) from RFC 8032 section 7.1
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]
L = 2**252 + 27742317777372353535851937790883648493


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    from edgekit.flash.build import monocypher_dir
    mono = monocypher_dir()
    exe = tmp_path_factory.mktemp("crypto") / "ek_crypto_cli"
    c = FIRMWARE / "crypto"
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-std=c99", f"-I{c}", f"-I{mono}",
                    str(c / "ek_sha256.c"), str(c / "ek_sha512.c"), str(c / "ek_ed25519.c"),
                    str(c / "test" / "ek_crypto_cli.c"), str(mono / "monocypher.c"), "-o", str(exe)], check=True)
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(line: str) -> str:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()
    yield ask
    proc.stdin.close()
    proc.wait(5)


def test_rfc8032_vectors(cli):
    for pub, msg, sig in RFC8032:
        assert cli(f"verify {sig} {pub} {msg or '-'}") == "ok"
        bad = bytearray.fromhex(sig)
        bad[5] ^= 1
        assert cli(f"verify {bad.hex()} {pub} {msg or '-'}") == "bad"


def test_sha_vectors_and_lengths(cli):
    for n in (0, 3, 55, 56, 63, 64, 111, 112, 127, 128, 129, 1000):
        data = os.urandom(n)
        assert cli(f"sha256 {data.hex() or '-'}") == hashlib.sha256(data).hexdigest()
        assert cli(f"sha512 {data.hex() or '-'}") == hashlib.sha512(data).hexdigest()
    assert cli("sha256 616263") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_ed25519_against_cryptography(cli):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    for i in range(40):
        k = Ed25519PrivateKey.generate()
        pub = k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        msg = os.urandom(i * 7)
        sig = k.sign(msg)
        m = msg.hex() or "-"
        assert cli(f"verify {sig.hex()} {pub} {m}") == "ok"
        if msg:
            tampered = bytearray(msg)
            tampered[0] ^= 0x80
            assert cli(f"verify {sig.hex()} {pub} {tampered.hex()}") == "bad"
        # Malleability: S + L is the same scalar but not canonical; must be rejected.
        s = int.from_bytes(sig[32:], "little") + L
        if s < 2**256:
            assert cli(f"verify {(sig[:32] + s.to_bytes(32, 'little')).hex()} {pub} {m}") == "bad"
        other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        assert cli(f"verify {sig.hex()} {other} {m}") == "bad"
