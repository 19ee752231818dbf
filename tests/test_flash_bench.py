"""`edgekit flash --bench --json`: raw vs encoded vs actual flash time on the twin, with provenance."""
from __future__ import annotations

import json
import shutil

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]


def test_bench_json(tmp_path, monkeypatch, capsys):
    from edgekit.cli import main

    monkeypatch.setenv("EDGEKIT_STATE", str(tmp_path))
    assert main(["flash", "--board", "coral", "--bench", "--bench-bytes", "32768", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    f = res["figures"]
    assert res["image_bytes"] > 32768 and res["encoded_bytes"] > res["image_bytes"]
    for k in ("raw_s", "encoded_s", "actual_s", "actual_over_raw"):
        assert f[k]["provenance"] == "emulated" and f[k]["value"] > 0
    assert 1.3 < f["encoded_over_raw"]["value"] < 1.45          # base64 4/3 + line framing
    assert f["uart115200_over_raw"]["value"] <= 1.5             # modelled real UART
