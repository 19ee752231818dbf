"""The accelerator latency model: fitted to the published figures, residuals reported, link and
parameter-cache terms behave physically, everything `modelled`."""
from __future__ import annotations

import pytest

from edgekit.accel import latency
from edgekit.catalog import get_board


def test_fits_are_physical_and_residuals_are_reported():
    for kind in ("edgetpu", "hailo"):
        f = latency.fit(kind)
        assert f.t_layer_ms > 0
        assert f.mac_rate <= latency.PEAK_TOPS[kind] / 2 * 1e12 * 1.0001       # never above the datasheet peak
        assert len(f.residuals) == len(latency.PUBLISHED[kind])
        for r in f.residuals:
            assert r["modelled_ms"] == pytest.approx(r["published_ms"] * (1 + r["error_pct"] / 100), rel=1e-3)
    # two distinct Edge TPU points, two parameters: exact by construction (the docs say so)
    assert latency.fit("edgetpu").rms_error_pct() < 0.01
    assert latency.fit("hailo").rms_error_pct() < 35


def test_published_models_on_the_boards_and_the_pilot():
    usb = get_board("rpi4-coral-usb")
    a = latency.ARCH["mobilenet_v1_224"]
    p = latency.predict(usb, a["macs"], a["layers"], a["in"], a["out"], int(a["params"]))
    assert p["latency"]["value"] == pytest.approx(2.4, rel=0.01) and p["latency"]["provenance"] == "modelled"
    assert p["energy"]["value"] == pytest.approx(2.0 * p["latency"]["value"], rel=1e-3)
    pilot = {b: latency.predict_from_macs(get_board(b), 47.8e6)["latency"]["value"]
             for b in ("coral", "coral-devboard", "rpi4-coral-usb", "rpi5-hailo")}
    assert pilot["coral"] > pilot["rpi4-coral-usb"] == pytest.approx(pilot["coral-devboard"])   # USB 2 vs 500 MB/s links
    assert pilot["rpi5-hailo"] < pilot["rpi4-coral-usb"]


def test_parameters_beyond_the_cache_are_streamed_each_inference():
    usb = get_board("rpi4-coral-usb")
    fits = latency.predict(usb, 1e9, 50, 150528, 1001, 8 * 2**20)
    spills = latency.predict(usb, 1e9, 50, 150528, 1001, 8 * 2**20 + 50_000_000)
    assert fits["spill_bytes"] == 0 and spills["spill_bytes"] == 50_000_000
    assert spills["latency"]["value"] - fits["latency"]["value"] == pytest.approx(50e6 / 500e6 * 1e3, rel=1e-3)
