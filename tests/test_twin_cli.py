"""`edgekit twin`: first line `serial: ...`, runs until SIGINT/SIGTERM, never leaves QEMU behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from edgekit.firmware.dut import DutClient
from test_firmware_fixtures import built, tiny_tflite


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.parametrize("board,sig", [("coral", signal.SIGTERM), ("coral-devboard", signal.SIGINT)])
def test_twin_cli_serial_line_and_cleanup(board, sig, tmp_path):
    image = built(board, tiny_tflite()).image
    env = dict(os.environ, EDGEKIT_STATE=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "edgekit", "twin", "--board", board, "--image", str(image)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("serial: socket://127.0.0.1:"), first + proc.stderr.read()
        qemu = _children(proc.pid)
        assert qemu
        with DutClient(first.split(" ", 1)[1], timeout=20) as dut:
            dut.sync()
            assert dut.name() == f"edgekit-{board}"
        # Both cores busy (plus whatever else runs): the twin must still be down within 2 s.
        load = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(2)]
        try:
            time.sleep(0.3)
            t0 = time.monotonic()
            proc.send_signal(sig)
            assert proc.wait(10) == 0
            took = time.monotonic() - t0
        finally:
            for p in load:
                p.kill()
                p.wait()
        assert took < 2.0, f"edgekit twin took {took:.2f} s to stop under load"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(0.2)
    for pid in qemu:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    assert (tmp_path / "twins" / board / "storage.bin").exists()  # per-board persistent state


def test_twin_pty_loses_no_boot_output(tmp_path):
    import serial

    from edgekit.firmware.twin import Twin

    image = built("coral", tiny_tflite()).image
    with Twin("coral", image, state=tmp_path, pty=True) as twin:
        assert twin.url.startswith("/dev/pts/")
        time.sleep(0.5)  # nobody holds the pty yet: the board must not have started talking
        with serial.Serial(twin.url, timeout=10) as port:
            assert port.readline().strip() == b"m-boot-[edgekit]"
            assert port.readline().strip() == b"m-ready"
            port.write(b"name%")
            assert port.readline().strip() == b"m-name-dut-[edgekit-coral]"


def test_twin_refuses_a_slot_image_with_kernel(tmp_path):
    """A slot image (linked for slot 1) booted with -kernel makes QEMU abort: refused up front."""
    from edgekit.flash import build

    elf = build.build_testapp(1, "1.0.0").with_suffix(".elf")
    env = dict(os.environ, EDGEKIT_STATE=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "edgekit", "twin", "--board", "coral", "--image", str(elf)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "linked at 0x20" in out.stderr and "boots only through the bootloader" in out.stderr and "Traceback" not in out.stderr
