"""A place's link provenance follows what labgrid reports about its serial resource, not its URL.

A real labgrid exporter publishes a real pseudo-terminal as a RawSerialPort and serves it through
a real ser2net: the link works end to end (bytes cross it), yet the place is not hardware, and
the figures timed over that socket:// URL stay emulated."""
import contextlib
import os
import socket
import subprocess
import time

import pytest
import serial

from edgekit.farm.lg import Client, lg_bin
from edgekit.farm.place import place_provenance, serial_kind
from edgekit.provenance import link_provenance, port_provenance, vouch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
    return value


@contextlib.contextmanager
def _procs():
    procs = []
    try:
        yield procs
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.mark.slow
def test_a_pty_served_by_a_real_exporter_is_not_hardware(tmp_path):
    if not os.path.exists("/usr/sbin/ser2net"):
        pytest.fail("ser2net is not installed (scripts/bootstrap.sh installs it): the exporter serves ttys with it")
    master, slave = os.openpty()
    pts = os.ttyname(slave)
    coord = f"127.0.0.1:{_free_port()}"
    cfg = tmp_path / "exporter.yaml"
    cfg.write_text(f"ptyboard:\n  RawSerialPort:\n    port: {pts}\n    speed: 115200\n"
                   "  EdgekitBoard:\n    board: coral\n")
    with _procs() as procs:
        procs.append(subprocess.Popen([lg_bin("labgrid-coordinator"), "-l", coord], cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client = Client(coord, timeout=120)
        _wait_for(lambda: client.call("places", check=False).returncode == 0, 120, "coordinator up")
        procs.append(subprocess.Popen([lg_bin("labgrid-exporter"), "-c", coord, "--name", "ptyexp", "--hostname",
                                       "127.0.0.1", str(cfg)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                                      stderr=open(tmp_path / "exporter.log", "wb")))
        _wait_for(lambda: "ptyexp/ptyboard/NetworkSerialPort" in client.call("resources", check=False).stdout, 120,
                  "exporter published the pty")
        client.create_place("ptyboard", "ptyexp/ptyboard/*")
        client.acquire("ptyboard")
        try:
            resources = client.resources("ptyboard")
            prov = place_provenance(resources)
            url = f"socket://127.0.0.1:{next(r for r in resources.values() if r['cls'] == 'NetworkSerialPort')['params']['port']}"
            # ser2net really serves the pty: bytes written to the URL come out of the pty's master end
            with serial.serial_for_url(url, timeout=30) as ser:
                ser.write(b"m-ready\n")
                got = b""
                deadline = time.monotonic() + 60
                while b"m-ready" not in got and time.monotonic() < deadline:
                    got += os.read(master, 64)
                assert b"m-ready" in got
                vouch(url, prov["link"])
                assert link_provenance(ser) == port_provenance(url) == "emulated"
        finally:
            client.release("ptyboard")
    os.close(master)
    os.close(slave)
    assert prov["serial_resource"] == "RawSerialPort" and prov["link"] == "emulated"
    assert "pseudo-terminal" in prov["link_why"] and pts in prov["link_why"]
    assert prov["provenance"] == "emulated"


@pytest.mark.parametrize("cls,path,kind", [
    ("USBSerialPort", "/dev/ttyUSB0", "measured-hw"),
    ("RawSerialPort", "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0", "measured-hw"),
    ("RawSerialPort", "/dev/ttyACM1", "measured-hw"),
    ("RawSerialPort", "/dev/pts/7", "emulated"),
    ("RawSerialPort", "/dev/ttyS0", "emulated"),     # exists on every PC, device or not
    ("NetworkSerialPort", "", "emulated"),            # a URL published as-is
    ("RawSerialPort", "", "emulated"),                # no tty path reported: not one the exporter opens
])
def test_serial_kind_rules(cls, path, kind):
    assert serial_kind(cls, {"extra": {"path": path}} if path else {})[0] == kind


def test_vouching_is_only_for_link_kinds():
    vouch("socket://192.0.2.1:4001", "measured-hw")   # a USB serial device behind ser2net, as its place says
    assert port_provenance("socket://192.0.2.1:4001") == "measured-hw"
    assert port_provenance("socket://192.0.2.1:4002") == "emulated"   # not vouched: the URL alone says nothing
    with pytest.raises(ValueError):
        vouch("socket://192.0.2.1:4003", "modelled")
