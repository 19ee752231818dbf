"""Provenance from what happened: the link's and the monitor's real kinds, and derived figures."""
import os
import pty
import socket

import pytest

from edgekit.provenance import derived, figure, link_provenance, port_provenance, weakest


def test_weakest_input_wins():
    assert weakest("measured-hw", "modelled") == "modelled"
    assert weakest("measured-hw", "emulated") == "emulated"
    assert weakest("measured-hw", "measured-host") == "measured-host"
    assert weakest("measured-hw") == "measured-hw"
    with pytest.raises(ValueError):
        weakest("measured-hw", "guessed")
    e = derived(2.0, "mJ", figure(1.0, "W", "measured-hw"), figure(2.0, "ms", "emulated"))
    assert e["provenance"] == "emulated"


def test_a_twin_socket_is_not_hardware():
    import serial

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        url = f"socket://127.0.0.1:{srv.getsockname()[1]}"
        ser = serial.serial_for_url(url, timeout=1)
        try:
            assert link_provenance(ser) == "emulated"
        finally:
            ser.close()
    assert port_provenance(url) == "emulated"


def test_a_pseudo_terminal_is_not_hardware():
    import serial

    master, slave = pty.openpty()
    try:
        name = os.ttyname(slave)
        ser = serial.Serial(name, timeout=1)
        try:
            assert link_provenance(ser) == "emulated"     # a pty is a program's end, not a UART
        finally:
            ser.close()
    finally:
        os.close(master)
        os.close(slave)


def test_only_a_device_backed_tty_is_hardware():
    assert port_provenance("/dev/ttyUSB-not-here") == "emulated"
    assert port_provenance("/dev/null") == "emulated"           # a character device, but no tty
    real = [f"/dev/{n}" for n in sorted(os.listdir("/sys/class/tty"))
            if os.path.exists(f"/sys/class/tty/{n}/device") and os.path.exists(f"/dev/{n}")]
    for dev in real[:3]:                                         # e.g. /dev/ttyS0 where the machine has one
        assert port_provenance(dev) == "measured-hw"


def test_monitor_provenance_follows_the_bus():
    from edgekit.catalog import get_board
    from edgekit.hil.monitors.base import PolledMonitor
    from edgekit.hil.monitors.fake_i2c import RegisterFileBus, SimulatedINA219
    from edgekit.hil.monitors.ina219 import INA219
    from edgekit.hil.monitors.simulated import SimulatedMonitor

    bus = RegisterFileBus()
    bus.attach(0x40, SimulatedINA219(shunt_ohms=0.1))
    assert PolledMonitor(INA219(bus, 0x40).read, 100).provenance == "emulated"
    assert SimulatedMonitor(get_board("coral")).provenance == "modelled"
