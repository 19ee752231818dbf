"""The libedgetpu binding (cffi, ABI mode) against edgekit's twin of libedgetpu.so.1: device
listing, version, verbosity, options, delegate lifetime, error paths; and LiteRT's real
external-delegate loader calling the twin's plugin entry points. No handle may leak."""
from __future__ import annotations

import gc

import pytest

from edgekit.accel.edgetpu_rt import EdgeTpu, parse_device
from edgekit.accel.twins import TwinProbe, twin_library
from edgekit.errors import ToolError, UserError

DEVICES = "usb:/sys/bus/usb/devices/2-1,pci:/dev/apex_0,usb:/sys/bus/usb/devices/4-1"


@pytest.fixture
def tpu(monkeypatch):
    monkeypatch.setenv("EKTWIN_EDGETPU_DEVICES", DEVICES)
    lib = twin_library("edgetpu")
    probe = TwinProbe(lib)
    probe.reset()
    live = probe.live()
    yield EdgeTpu(lib), probe
    gc.collect()
    assert probe.live() == live, f"an Edge TPU handle leaked: {probe.calls()}"


def test_listing_frees_the_list_and_reports_type_and_path(tpu):
    t, probe = tpu
    devs = t.devices()
    assert [(d.type, d.path) for d in devs] == [("usb", "/sys/bus/usb/devices/2-1"), ("pci", "/dev/apex_0"),
                                                ("usb", "/sys/bus/usb/devices/4-1")]
    assert probe.calls() == ["edgetpu_list_devices -> 3", "edgetpu_free_devices list"]


def test_no_device_is_an_empty_list_and_a_clear_error(tpu, monkeypatch):
    t, probe = tpu
    monkeypatch.setenv("EKTWIN_EDGETPU_DEVICES", "")
    assert t.devices() == []
    assert "edgetpu_free_devices" not in " ".join(probe.calls())       # NULL list: nothing to free
    with pytest.raises(ToolError, match=r"no Edge TPU device usb:0 found \(devices: none\)"):
        t.delegate("usb:0")


def test_version_and_verbosity(tpu):
    t, probe = tpu
    assert "libedgetpu" in t.version()
    t.verbosity(10)
    with pytest.raises(UserError, match="verbosity 11"):
        t.verbosity(11)
    assert probe.calls()[-1] == "edgetpu_verbosity 10"


def test_delegate_options_device_selection_and_lifetime(tpu):
    t, probe = tpu
    with t.delegate("usb:1", performance="Max", **{"Usb.AlwaysDfu": "False", "Bogus": "1"}) as d:
        assert d.device.path == "/sys/bus/usb/devices/4-1"
        assert probe.live() >= 1
    calls = probe.calls()
    assert "edgetpu_create_delegate type=1 name=/sys/bus/usb/devices/4-1 options=3" in calls
    assert "  option Usb.AlwaysDfu=False" in calls and "  option Performance=Max" in calls
    assert "  option Bogus=1" in calls                                 # unknown names are ignored, as libedgetpu does
    assert calls[-1] == "edgetpu_free_delegate delegate"
    with t.delegate("pci") as d:
        assert d.device.type == "pci"
    d = t.delegate(":2")          # third device of any kind; freed by garbage collection
    assert d.device.path == "/sys/bus/usb/devices/4-1"
    del d


def test_error_paths_free_everything(tpu):
    t, probe = tpu
    with pytest.raises(UserError, match="Edge TPU device 'usb:x'"):
        t.delegate("usb:x")
    with pytest.raises(UserError, match="Performance 'Turbo'"):
        t.delegate("usb", performance="Turbo")
    with pytest.raises(ToolError, match="no Edge TPU device pci:1"):
        t.delegate("pci:1")
    with pytest.raises(ToolError, match="edgetpu_create_delegate failed .*Usb.MaxBulkInQueueLength"):
        t.delegate("usb", **{"Usb.MaxBulkInQueueLength": "many"})   # the library refuses bad values
    probe.fail("edgetpu_create_delegate")
    try:
        with pytest.raises(ToolError, match="edgetpu_create_delegate failed"):
            t.delegate("usb:0")
    finally:
        probe.fail("", 0)


def test_parse_device():
    assert parse_device("") == (None, None)
    assert parse_device(":3") == (None, 3)
    assert parse_device("pci:0") == ("pci", 0)
    with pytest.raises(UserError):
        parse_device("tpu:0")


def test_litert_load_delegate_calls_the_plugin_abi(tpu):
    from ai_edge_litert.interpreter import load_delegate
    t, probe = tpu
    d = load_delegate(t.path, {"device": "pci:0", "Performance": "High"})
    assert probe.live() >= 1
    del d
    gc.collect()
    calls = probe.calls()
    assert calls[0] == "tflite_plugin_create_delegate options=2"
    assert "edgetpu_create_delegate type=0 name=/dev/apex_0 options=1" in calls
    assert calls[-2:] == ["tflite_plugin_destroy_delegate", "edgetpu_free_delegate delegate"]
    with pytest.raises(ValueError, match="Failed to load delegate"):
        load_delegate(t.path, {"device": "usb:7"})
