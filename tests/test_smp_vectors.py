"""One wire protocol, two codecs: the C SMP server (host build with ASan/UBSan) and the Python
codec must both match firmware/mgmt/vectors/smp_vectors.json byte for byte; smpclient's own
codec (smp.packet) agrees; and a bounded random-mutation fuzz run of the C frame/CBOR parser."""
from __future__ import annotations

import json
import shutil
import subprocess

import cbor2
import pytest
from smp import packet as smppacket

from edgekit.flash import smp_frame, smp_vectors
from edgekit.paths import FIRMWARE

VECTORS = json.loads(smp_vectors.PATH.read_text())


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    from edgekit.flash.build import mgmt_sources
    srcs, incs = mgmt_sources(target=False)
    out = tmp_path_factory.mktemp("smp")
    exe, mono_o = out / "ek_mgmt_host", out / "monocypher.o"
    mono = [s for s in srcs if s.name == "monocypher.c"]
    # Monocypher (third-party, audited) without sanitizers: compiling it with ASan takes ~40 s here.
    subprocess.run(["gcc", "-O2", "-c", str(mono[0]), "-o", str(mono_o)], check=True)
    subprocess.run(["gcc", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    "-DEK_MGMT_HOST", "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
                    *[f"-I{i}" for i in incs], str(FIRMWARE / "bootloader" / "host" / "ek_mgmt_host.c"),
                    *[str(s) for s in srcs if s.name != "monocypher.c"], str(mono_o), "-o", str(exe)], check=True)
    return exe


def test_vectors_file_is_current():
    assert VECTORS == json.loads(json.dumps(smp_vectors.vectors())), "run: python -m edgekit.flash.smp_vectors"


def test_python_codecs_agree_with_vectors():
    for v in VECTORS:
        frames = [bytes.fromhex(f) for f in v["request_frames"]]
        if v["name"].startswith("bad CRC"):
            with pytest.raises(smp_frame.SMPFrameError, match="CRC"):
                smp_frame.decode_frames(frames)
            continue
        (packet,) = smp_frame.decode_frames(frames)
        hdr, body = smp_frame.decode_packet(packet)
        assert (hdr.op, hdr.group, hdr.cmd, hdr.seq) == tuple(v["request"][k] for k in ("op", "group", "cmd", "seq"))
        assert body.hex() == v["request"]["body"]
        if v["request_frames"] and all(len(f) <= 128 for f in frames) and len(frames[0]) > 16:
            assert list(smppacket.encode(packet, line_length=128)) == frames   # smpclient frames alike
        if v["response_frames"]:
            resp = [bytes.fromhex(f) for f in v["response_frames"]]
            dec = smppacket.decode()
            next(dec)
            with pytest.raises(StopIteration) as stop:
                for f in resp:
                    dec.send(f)
            rh, rbody = smp_frame.decode_packet(stop.value.value)
            assert rh.op == hdr.op + 1 and cbor2.loads(rbody) == v["response"]


def test_c_server_answers_vectors_exactly(harness):
    lines = []
    for v in VECTORS:
        lines += [f for f in v["request_frames"]]
    proc = subprocess.run([str(harness)], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    outputs = proc.stdout.split(".\n")
    i = 0
    for v in VECTORS:
        got = []
        for _ in v["request_frames"]:
            got += [x for x in outputs[i].splitlines() if x]
            i += 1
        expected = list(v["response_frames"]) + ([v["after"]] if v["after"] else [])
        assert got == expected, v["name"]


def test_bounded_fuzz_of_c_parser(harness):
    seeds = [f for v in VECTORS for f in v["request_frames"]]
    for seed in (1, 2):
        proc = subprocess.run([str(harness), "fuzz", "300000", str(seed)], input="\n".join(seeds) + "\n",
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "fuzz ok" in proc.stdout, proc.stderr[-3000:]
