"""`edgekit build`: PlatformIO (offline dev-platform) builds of the car firmware for both twins."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edgekit.catalog import get_board
from edgekit.errors import UserError
from test_firmware_fixtures import _TMP, built, tiny_tflite


@pytest.mark.parametrize("board", ["coral", "coral-devboard"])
def test_build_tiny_fits_and_reports(board):
    res = built(board, tiny_tflite())
    assert res.image.is_file() and res.binary.is_file()
    assert 0 < res.flash_bytes <= res.limits["flash_bytes"]
    assert 0 < res.ram_bytes <= res.limits["ram_bytes"]
    doc = json.loads((res.image.parent / "build.json").read_text())
    assert doc["flash"]["provenance"] == "measured-host" and doc["provenance"]["sha256"]
    assert (res.model_dir / "ek_model.h").exists()  # the code generator's facade


def test_mps2_image_has_no_heap_and_vectors_at_origin():
    elf = built("coral", tiny_tflite()).image
    syms = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1] for line in syms.splitlines()}
    assert not names & {"malloc", "_malloc_r", "_sbrk", "free"}
    addr = {line.split()[-1]: int(line.split()[0], 16) for line in syms.splitlines() if len(line.split()) == 3}
    assert addr["ek_vectors"] == 0


def test_mps2_flash_origin_for_an_mcuboot_slot():
    from edgekit.firmware.build import build_firmware

    first = built("coral", tiny_tflite())
    res = build_firmware(get_board("coral"), first.model_dir, first.model_dir.parent / "config",
                         _TMP / "coral-slot0", flash_origin="0x10200")
    syms = subprocess.run(["arm-none-eabi-nm", str(res.image)], capture_output=True, text=True, check=True).stdout
    vec = [line for line in syms.splitlines() if line.endswith(" ek_vectors")][0]
    assert int(vec.split()[0], 16) == 0x10200


def test_cli_build_json(tmp_path):
    out = subprocess.run([sys.executable, "-m", "edgekit", "build", "--board", "coral-devboard", "--model",
                          str(tiny_tflite()), "--out", str(tmp_path / "b"), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["board"] == "coral-devboard" and doc["ram"]["unit"] == "B"


def test_bad_inputs_are_one_line_errors(tmp_path):
    from edgekit.firmware.build import build

    with pytest.raises(UserError, match="no such model"):
        build(get_board("coral"), tmp_path / "missing.tflite", tmp_path)
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    out = subprocess.run([sys.executable, "-m", "edgekit", "build", "--board", "host", "--model", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
