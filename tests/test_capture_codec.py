"""The firmware capture format, one definition checked from both sides: the C writer
(firmware/app/ek_capture.c, unchanged, in firmware/fuzz/capture_host.c with ASan/UBSan) leaves
exactly the slots the Python side makes for the shared vectors (the Python Capture's windows,
edgekit.shadow.fwcapture's encoder); the C and Python slot parsers agree on intact and damaged
slots; a hypothesis round trip; the libFuzzer harness of the C parser builds and runs."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgekit.paths import FIRMWARE
from edgekit.shadow import capture_vectors as cv
from edgekit.shadow.fwcapture import COMMIT, HDR, REC, decode_slot, encode_slot, parse_area, slot_bytes

VECTORS = json.loads(cv.PATH.read_text())


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    exe = tmp_path_factory.mktemp("cap") / "capture_host"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-g", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all", f"-I{FIRMWARE / 'fuzz' / 'dut'}", f"-I{FIRMWARE / 'app'}",
                    str(FIRMWARE / "fuzz" / "capture_host.c"), str(FIRMWARE / "app" / "ek_capture.c"), "-o", str(exe)],
                   check=True)
    return exe


def run(host, lines: list[str]) -> tuple[list[int], bytes, list[str]]:
    out = subprocess.run([str(host)], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60, check=True)
    rows = out.stdout.splitlines()
    stats = [int(v) for v in rows[-2].split()[1:]]
    return stats, bytes.fromhex(rows[-1].split()[1]), rows[:-2]


def test_vectors_file_is_current():
    assert VECTORS == json.loads(json.dumps(cv.vectors())), "run: python -m edgekit.shadow.capture_vectors"


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_c_writer_leaves_the_python_slots(host, vec):
    (events, windows, dropped, errors), area, _ = run(host, vec["script"])
    assert (dropped, errors) == (0, 0) and windows >= len(vec["slots"]) >= 1
    for k, want in vec["slots"].items():
        slot = area[int(k) * cv.SLOT:(int(k) + 1) * cv.SLOT]
        if not want:  # a window was still being written there
            assert decode_slot(slot) is None
            continue
        used, commit = want.split("|")
        assert slot[:len(used) // 2].hex() == used and slot[-COMMIT.size:].hex() == commit, (vec["name"], k)
    got = parse_area(area, slots=cv.SLOTS)
    assert [w.header["id"] for w in got] == list(range(windows - len(got), windows))  # the newest, oldest overwritten
    assert len(got) == sum(1 for v in vec["slots"].values() if v)


def test_c_and_python_parsers_agree_on_damage(host):
    _, area, _ = run(host, VECTORS[0]["script"])
    slot = area[:cv.SLOT]
    n = len(decode_slot(slot)[1])
    used = HDR.size + n * (REC.size + cv.FRAME)
    cases = {"intact": slot, "no commit": slot[:-COMMIT.size] + bytes(COMMIT.size),
             "torn frames": slot[:used // 2] + bytes(cv.SLOT - used // 2),
             "header flip": bytes([slot[0] ^ 1]) + slot[1:],
             "pixel flip": slot[:used - 1] + bytes([slot[used - 1] ^ 0x80]) + slot[used:],
             "short": slot[:HDR.size + 4]}
    lines = [f"parse {c.hex()}" for c in cases.values()]
    _, _, answers = run(host, lines)
    for (name, c), answer in zip(cases.items(), answers):
        py = decode_slot(c)
        assert (answer == "bad") == (py is None), name
        assert (py is not None) == (name == "intact"), name
        if py is not None:
            h = py[0]
            assert answer.split()[1:] == [str(v) for v in (h["id"], len(py[1]), h["trigger"], 1, 1)]


records = st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1),
                             st.tuples(st.integers(-32768, 32767), st.integers(-32768, 32767)),
                             st.none() | st.tuples(st.integers(-32768, 32767), st.integers(-32768, 32767)),
                             st.booleans(), st.sampled_from([None, "disagreement", "takeover"])), min_size=1, max_size=9)


@settings(max_examples=150, deadline=None)
@given(records, st.integers(0, 2**32 - 1), st.sampled_from(["disagreement", "takeover"]),
       st.sampled_from(["shadow", "autopilot"]), st.integers(1, 40), st.data())
def test_slot_round_trip_and_any_flip_is_caught(recs, wid, reason, mode, fb, data):
    rows = [{"seq": s, "t_us": t, "pilot": p, "human": h, "driver_human": d, "event": e} for s, t, p, h, d, e in recs]
    trigger = data.draw(st.integers(0, len(rows) - 1))
    frames = np.frombuffer(data.draw(st.binary(min_size=len(rows) * fb, max_size=len(rows) * fb)), np.uint8)
    head = {"id": wid, "trigger": trigger, "reason": reason, "mode": mode, "threshold_milli": 300, "pre": 4,
            "post": 4, "t_trigger_us": rows[trigger]["t_us"]}
    size = slot_bytes(4, 4, fb)
    slot = encode_slot(head, rows, frames.reshape(len(rows), fb), size)
    h, back, got = decode_slot(slot)
    assert h == head and back == rows and np.array_equal(got.ravel(), frames)
    used = HDR.size + len(rows) * (REC.size + fb)
    at = data.draw(st.sampled_from([*range(used), *range(size - COMMIT.size, size)]))
    bit = data.draw(st.integers(0, 7))
    assert decode_slot(slot[:at] + bytes([slot[at] ^ (1 << bit)]) + slot[at + 1:]) is None


def test_fuzz_harness_runs(tmp_path):
    if shutil.which("clang") is None:
        pytest.skip("no clang")
    exe = tmp_path / "fuzz_capture"
    subprocess.run(["clang", "-std=c99", "-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
                    f"-I{FIRMWARE / 'fuzz' / 'dut'}", f"-I{FIRMWARE / 'app'}", str(FIRMWARE / "fuzz" / "fuzz_capture.c"),
                    "-o", str(exe)], check=True)
    out = subprocess.run([str(exe), "-runs=20000", "-seed=1"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
