"""The inference service on the emulated twins speaks the MLPerf Tiny DUT protocol, and its
results for the real pilot are bit-identical to TFLM on the same input bytes."""
from __future__ import annotations

import numpy as np
import pytest

from edgekit.firmware.dut import DutClient
from edgekit.firmware.twin import Twin
from test_firmware_fixtures import built, tflm_outputs, tiny_tflite


@pytest.mark.parametrize("board", ["coral", "coral-devboard"])
def test_pilot_results_bit_identical_to_tflm(board, pilot_int8_path, tmp_path):
    res = built(board, pilot_int8_path)
    x = np.random.default_rng(5).integers(-128, 128, size=(1, 120, 160, 3), dtype=np.int8)
    golden = tflm_outputs(pilot_int8_path, x)
    with Twin(board, res.image, state=tmp_path) as twin, DutClient(twin.url, timeout=300) as dut:
        dut.sync()  # only protocol commands from here on
        assert dut.name() == f"edgekit-{board}"
        dut.load(x.tobytes())
        inf = dut.infer_raw(1, 0)
        assert inf.results == golden
        assert inf.latency_us > 0
        print(f"{board}: pilot {inf.latency_us / 1e3:.1f} ms per inference (emulated)")


def test_protocol_commands_and_errors(tmp_path):
    res = built("coral", tiny_tflite())
    with Twin("coral", res.image, state=tmp_path) as twin, DutClient(twin.url, timeout=30) as dut:
        dut.sync()
        prof = dut.profile()
        assert "m-profile-[edgekit]" in prof and "m-sizes-[in=192,out=2,arena=" in prof[-1]
        assert dut.command("bogus 1") == ["e-[Unknown command: bogus 1]"]
        assert dut.command("db load 999999")[0].startswith("e-[db load")
        t0, t1 = dut.timestamp_us(), dut.timestamp_us()
        assert t1 > t0
        x = np.arange(192, dtype=np.int64).astype(np.int8).reshape(1, 8, 8, 3)
        dut.load(x.tobytes())
        inf = dut.infer_raw(5, 2)
        assert inf.results == tflm_outputs(tiny_tflite(), x) == dut.results_raw()
        assert dut.command("db 00")[0].startswith("e-[db")  # no load announced


@pytest.mark.slow
@pytest.mark.parametrize("board", ["coral", "coral-devboard"])
def test_cli_build_then_twin_then_protocol_only_client(board, pilot_int8_path, tmp_path):
    """The issue's flow literally: `edgekit build`, `edgekit twin`, a protocol-only client."""
    import os
    import signal
    import subprocess
    import sys

    env = dict(os.environ, EDGEKIT_STATE=str(tmp_path / "state"))
    subprocess.run([sys.executable, "-m", "edgekit", "build", "--board", board, "--model", str(pilot_int8_path),
                    "--out", str(tmp_path / "fw")], check=True, env=env, capture_output=True, timeout=600)
    proc = subprocess.Popen([sys.executable, "-m", "edgekit", "twin", "--board", board],  # the last build
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = proc.stdout.readline().split("serial: ", 1)[1].strip()
        x = np.random.default_rng(8).integers(-128, 128, size=(1, 120, 160, 3), dtype=np.int8)
        with DutClient(url, timeout=300) as dut:
            dut.sync()
            dut.load(x.tobytes())
            assert dut.infer_raw(1, 0).results == tflm_outputs(pilot_int8_path, x)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def _smp_echo_frame(text: str) -> bytes:
    """An SMP-over-serial OS echo request (Zephyr smp_transport: 06 09, base64(len + packet + crc16), \\n)."""
    import base64
    import binascii
    import struct

    import cbor2

    body = cbor2.dumps({"d": text})
    packet = struct.pack(">BBHHBB", 2, 0, len(body), 0, 7, 0) + body  # write, group 0 (OS), seq 7, echo
    crc = binascii.crc_hqx(packet, 0)
    payload = struct.pack(">H", len(packet) + 2) + packet + struct.pack(">H", crc)
    return b"\x06\x09" + base64.b64encode(payload) + b"\n"


@pytest.mark.skipif(not (__import__("edgekit.paths").paths.FIRMWARE / "mgmt" / "ek_mgmt.h").exists(), reason="no firmware/mgmt")
def test_mgmt_build_selftest_and_smp_share_the_uart(tmp_path):
    """--with-mgmt: the app's boot self-test (vs TFLM's outputs baked in) reaches the SMP server, and
    SMP frames and DUT commands share the one UART."""
    import base64

    import serial

    from edgekit.catalog import get_board
    from edgekit.firmware.build import build

    res = build(get_board("coral"), tiny_tflite(), tmp_path / "fw", with_mgmt=True)
    with Twin("coral", res.image, state=tmp_path / "st") as twin:
        port = serial.serial_for_url(twin.url, timeout=20)
        assert port.readline().strip() == b"m-selftest-[pass]"
        assert port.readline().strip() == b"m-boot-[edgekit]"
        port.readline()
        port.write(_smp_echo_frame("hello"))
        reply = port.readline()
        assert reply.startswith(b"\x06\x09"), reply
        assert b"hello" in base64.b64decode(reply[2:].strip())
        # a frame that lost its first byte (as when a link drops or a byte is eaten at boot) must not
        # swallow the frames after it: the next frame start resyncs the router
        port.write(_smp_echo_frame("torn")[1:] + _smp_echo_frame("again"))
        reply = port.readline()
        assert reply.startswith(b"\x06\x09") and b"again" in base64.b64decode(reply[2:].strip()), reply
        port.write(b"name%")
        assert port.readline().strip() == b"m-name-dut-[edgekit-coral]"
