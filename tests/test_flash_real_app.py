"""The real car app (firmware/app, built by edgekit.firmware with the SMP server) flashed by
`edgekit flash` onto the coral twin: factory-provisioned, then a new build uploaded over SMP into
slot 1, trial-booted by the bootloader and confirmed. Slow: two PlatformIO builds + an upload."""
from __future__ import annotations

import json
import shutil

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]


def test_edgekit_flash_real_app_on_twin(tmp_path, monkeypatch, capsys):
    from test_firmware_fixtures import tiny_tflite
    from edgekit.cli import main

    monkeypatch.setenv("EDGEKIT_STATE", str(tmp_path / "state"))
    model = str(tiny_tflite())
    common = ["flash", "--board", "coral", "--model", model, "--json", "--selftest-timeout", "2", "--confirm"]
    assert main([*common, "--version", "1.0.0"]) == 0
    out = capsys.readouterr().out
    first = json.loads(out[out.index("{\n"):])
    assert first["method"] == "provisioned" and first["slots"][0]["active"]
    assert main([*common, "--version", "1.1.0"]) == 0
    out = capsys.readouterr().out
    res = json.loads(out[out.index("{\n"):])
    running = next(s for s in res["slots"] if s["active"])
    assert (res["method"], running["slot"], running["version"], running["confirmed"]) == ("smp", 1, "1.1.0", True)
    assert running["hash"] == res["hash"]
    console = (tmp_path / "state" / "twins" / "coral" / "console.log").read_text()
    assert "slot 1 trial boot" in console
