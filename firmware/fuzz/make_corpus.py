"""Regenerate the fuzzing seeds from real frames: `python firmware/fuzz/make_corpus.py`.

Writes firmware/fuzz/corpus/<parser>/ and firmware/fuzz/gen/ek_fuzz_provision.h (public key, board
name and a slot-0 image signed with edgekit.flash.image, the flash every mgmt/image run starts
from). Sources: the shared SMP vectors (firmware/mgmt/vectors/smp_vectors.json), a real upload /
test / confirm session of that image encoded with edgekit.flash.smp_frame, and the DUT command
lines the host sends (edgekit's MLPerf Tiny runner and drive session), and the committed capture
window slots of the shared capture vectors (firmware/app/vectors/capture_vectors.json). The signing key is made
fresh and thrown away: the harnesses only need its public half.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import cbor2

from edgekit.flash import image
from edgekit.flash.smp_frame import Header, encode_frames, encode_packet

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "mgmt" / "vectors" / "smp_vectors.json"
BOARD = "fuzzboard"
# Must match firmware/fuzz/dut/ek_model.h (the fake model the DUT harness links).
DUT_INPUT_BYTES = 96


def signed_images() -> tuple[bytes, dict[str, bytes]]:
    from imgtool.keys import Ed25519

    from edgekit.flash.keys import public_raw

    key = Ed25519.generate()
    body = bytes((i * 7 + 3) & 0xFF for i in range(1024))   # stands in for the app's vector table + code
    imgs = {"slot0_v1": image.sign(body, key, "1.2.3", BOARD, 0),
            "slot1_v2": image.sign(body[::-1], key, "2.0.0+7", BOARD, 1),
            "slot0_other_board": image.sign(body, key, "1.0.0", "otherboard", 0)}
    return public_raw(key), imgs


def packets_upload(img: bytes, chunk: int = 448) -> list[bytes]:
    """A real upload session (as edgekit.flash.smp uploads: off/data/len/sha), then test + confirm."""
    sha = hashlib.sha256(img).digest()
    pk, seq = [], 20
    for off in range(0, len(img), chunk):
        body = {"off": off, "data": img[off:off + chunk]}
        if off == 0:
            body.update(image=0, len=len(img), sha=sha)
        pk.append(encode_packet(Header(2, 1, 1, seq & 0xFF), cbor2.dumps(body)))
        seq += 1
    tlv_sha = bytes.fromhex(image.inspect(img).hash)
    pk.append(encode_packet(Header(2, 1, 0, seq & 0xFF), cbor2.dumps({"hash": tlv_sha, "confirm": False})))
    pk.append(encode_packet(Header(0, 1, 0, (seq + 1) & 0xFF), b""))
    pk.append(encode_packet(Header(2, 1, 0, (seq + 2) & 0xFF), cbor2.dumps({"confirm": True})))
    pk.append(encode_packet(Header(2, 1, 5, (seq + 3) & 0xFF), b""))
    return pk


def dut_sessions() -> dict[str, bytes]:
    hexin = bytes(range(DUT_INPUT_BYTES)).hex()
    half = len(hexin) // 2
    return {
        "boot": b"name%profile%timestamp%",
        "mlperf": (f"db load {DUT_INPUT_BYTES}%db {hexin[:half]}%db {hexin[half:]}%infer 3 1%results%").encode(),
        "mlperf_raw": (f"db load {DUT_INPUT_BYTES}%db {hexin}%infer-raw 2 0%results-raw%results%").encode(),
        "db_errors": b"db load 0%db load 99999%db zz%db 0102%infer%",
        "drive_step": b"limits%limits 800 600 100 200%drive step%frame 1%frame 2%hb%rc 250 -300%rc off%drive off%",
        "drive_run": b"drive run%hb%hb%hb%rc -1000 1000%drive off%",
        "unknown": b"  \r\nfoo bar%%",
        "smp_mixed": b"\x06\x09AAoAAAAAAAAAoA==\nname%",
    }


def capture_slots() -> dict[str, bytes]:
    """Whole window slots as the board stores them: the used bytes, zero fill, the commit last."""
    from edgekit.shadow.capture_vectors import PATH, SLOT
    out = {}
    for i, v in enumerate(json.loads(PATH.read_text())):
        for k, hexed in v["slots"].items():
            if hexed:
                used, commit = (bytes.fromhex(h) for h in hexed.split("|"))
                out[f"vec{i}_slot{k}"] = used + bytes(SLOT - len(used) - len(commit)) + commit
    return out


def main() -> int:
    corpus = HERE / "corpus"
    dirs = {n: corpus / n for n in ("smp_frame", "cbor", "mgmt", "dut", "image", "capture")}
    for d in dirs.values():   # regenerate the seeds; keep the regress_* inputs (fixed findings)
        d.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            if not f.name.startswith("regress_"):
                f.unlink()
    pub, imgs = signed_images()
    slot0 = imgs["slot0_v1"]

    vectors = json.loads(VECTORS.read_text())
    for i, v in enumerate(vectors):
        frames = b"".join(bytes.fromhex(f) for f in v["request_frames"])
        (dirs["smp_frame"] / f"vec{i:02d}").write_bytes(frames)
        body = bytes.fromhex(v["request"]["body"])
        (dirs["cbor"] / f"vec{i:02d}").write_bytes(body)
        r = v["request"]
        (dirs["mgmt"] / f"vec{i:02d}").write_bytes(encode_packet(Header(r["op"], r["group"], r["cmd"], r["seq"]), body))

    # The v2 image (linked for slot 1, the inactive one) goes up, is tested and confirmed.
    up = packets_upload(imgs["slot1_v2"])
    (dirs["mgmt"] / "upload_test_confirm").write_bytes(b"".join(up))
    (dirs["smp_frame"] / "upload_test_confirm").write_bytes(b"".join(b"".join(encode_frames(p)) for p in up))
    for i, p in enumerate(up[:2] + up[-4:]):
        (dirs["cbor"] / f"upload{i}").write_bytes(p[8:])

    for name, img in imgs.items():
        (dirs["image"] / name).write_bytes(img)
    for name, data in dut_sessions().items():
        (dirs["dut"] / name).write_bytes(data)
    for name, data in capture_slots().items():
        (dirs["capture"] / name).write_bytes(data)

    gen = HERE / "gen"
    gen.mkdir(exist_ok=True)
    arr = lambda b: ",".join(str(x) for x in b)   # noqa: E731
    (gen / "ek_fuzz_provision.h").write_text(
        "/* Generated by firmware/fuzz/make_corpus.py: the flash the mgmt/image harnesses start from. */\n"
        "#include <stdint.h>\n"
        f"static const char ek_fuzz_board[] = \"{BOARD}\";\n"
        f"static const uint8_t ek_fuzz_pubkey[32] = {{{arr(pub)}}};\n"
        f"static const uint8_t ek_fuzz_slot0[{len(slot0)}] = {{{arr(slot0)}}};\n")
    print(f"seeds: {sum(len(list(d.iterdir())) for d in dirs.values())} files in {corpus}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
