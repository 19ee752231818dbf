"""The board catalogue, its schema errors, and the boards/doctor/--version commands."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edgekit.version import __version__
from edgekit.catalog import load_board_file, load_boards
from edgekit.errors import UserError
from edgekit.paths import BOARDS, REPO

EDGEKIT = [sys.executable, "-m", "edgekit"]
REQUIRED = {"host", "coral", "coral-devboard", "rpi5-hailo", "rpi4-coral-usb"}


def run(*args, env=None, check=False):
    """edgekit in a subprocess; the caller's EDGEKIT_BOARDS never leaks in, only `env`'s."""
    import os

    full_env = {k: v for k, v in os.environ.items() if k != "EDGEKIT_BOARDS"} | (env or {})
    proc = subprocess.run([*EDGEKIT, *args], capture_output=True, text=True, env=full_env, cwd=REPO)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_builtin_boards_validate_and_hold_the_card_fields():
    boards = load_boards()
    assert REQUIRED <= set(boards)
    coral = boards["coral"]
    assert coral.cpu.core == "cortex-m7" and "dsp" in coral.cpu.features
    assert coral.twin.machine == "mps2-an500" and coral.accelerator.name == "Edge TPU"
    assert boards["rpi5-hailo"].accelerator.peak_tops == 13.0
    assert "dotprod" in boards["rpi5-hailo"].cpu.features
    assert "dotprod" not in boards["rpi4-coral-usb"].cpu.features
    for b in boards.values():
        assert b.sources, b.name
        assert b.toolchain.cc and b.toolchain.triple


def test_boards_json_lists_the_five_boards_with_their_fields():
    out = json.loads(run("boards", "--json", check=True).stdout)
    names = {b["name"] for b in out}
    assert REQUIRED <= names
    one = next(b for b in out if b["name"] == "coral-devboard")
    for field in ("cpu", "memory", "toolchain", "accelerator", "power", "flash", "twin", "sources"):
        assert one[field], field
    assert one["twin"]["kind"] == "qemu-aarch64"


def test_version():
    assert run("--version", check=True).stdout.strip() == f"edgekit {__version__}"


def _good_board() -> dict:
    return yaml.safe_load((BOARDS / "coral.yaml").read_text())


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["cpu"].pop("clock_mhz"), "cpu.clock_mhz"),
    (lambda d: d["memory"].__setitem__("ram_bytes", "lots"), "memory.ram_bytes"),
    (lambda d: d.__setitem__("bsp", "zephyr"), "bsp"),
    (lambda d: d.__setitem__("colour", "red"), "colour"),
    (lambda d: d["flash"]["layout"]["slots"].__setitem__(1, 0x100000), "flash.layout"),   # overlaps slot 0
    (lambda d: d["flash"].pop("layout"), "flash"),   # an MCUboot board needs its flash map
])
def test_malformed_user_board_is_one_line_error_naming_file_and_field(tmp_path, mutate, field):
    data = _good_board()
    data["name"] = "mycar"
    mutate(data)
    path = tmp_path / "mycar.yaml"
    path.write_text(yaml.safe_dump(data))
    proc = run("boards", env={"EDGEKIT_BOARDS": str(tmp_path)})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and f"'{field}'" in lines[0]
    assert "Traceback" not in proc.stderr


def test_boards_dir_flag_adds_a_user_board(tmp_path):
    data = _good_board()
    data["name"] = "my-rover"
    data["cpu"]["clock_mhz"] = 600
    (tmp_path / "my-rover.yaml").write_text(yaml.safe_dump(data))
    out = json.loads(run("--boards-dir", str(tmp_path), "boards", "--json", check=True).stdout)
    mine = next(b for b in out if b["name"] == "my-rover")
    assert mine["cpu"]["clock_mhz"] == 600


def test_yaml_syntax_error_and_name_mismatch(tmp_path):
    (tmp_path / "broken.yaml").write_text("name: broken\ncpu: [unclosed\n")
    with pytest.raises(UserError, match="broken.yaml.*not valid YAML"):
        load_boards(tmp_path)
    (tmp_path / "broken.yaml").unlink()
    data = _good_board()  # name 'coral' in a file called other.yaml
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(UserError, match="other.yaml: field 'name'"):
        load_boards(tmp_path)


def test_malformed_builtin_board_is_reported_the_same_way(tmp_path, monkeypatch):
    import edgekit.catalog as catalog

    data = _good_board()
    data["power"]["idle_w"] = -1
    (tmp_path / "coral.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setattr(catalog, "BOARDS", tmp_path)
    with pytest.raises(UserError, match=r"coral.yaml: field 'power.idle_w'"):
        catalog.load_boards()


def test_doctor_reports_every_board_buildable_after_bootstrap():
    proc = run("doctor", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, [c for b in report["boards"].values() for c in b["checks"] if not c["ok"]]
    assert REQUIRED <= set(report["boards"])
    assert all(b["buildable"] for b in report["boards"].values())


def test_doctor_names_the_fix_for_a_missing_toolchain(tmp_path):
    data = _good_board()
    data["name"] = "riscv-car"
    data["toolchain"].update(cc="riscv64-unknown-elf-gcc", size="riscv64-unknown-elf-size",
                             debian_packages=["gcc-riscv64-unknown-elf"])
    (tmp_path / "riscv-car.yaml").write_text(yaml.safe_dump(data))
    proc = run("doctor", "--board", "riscv-car", "--json", env={"EDGEKIT_BOARDS": str(tmp_path)})
    assert proc.returncode == 1
    checks = json.loads(proc.stdout)["boards"]["riscv-car"]["checks"]
    missing = [c for c in checks if not c["ok"] and c["needed"]]
    assert missing and "apt-get install -y --no-install-recommends gcc-riscv64-unknown-elf" in missing[0]["fix"]


def test_doctor_agrees_with_what_build_does(tmp_path):
    """Every board doctor calls buildable with a firmware image builds one (the rpi boards too:
    PlatformIO's environment comes from the catalogue); the others are refused by build in one line."""
    from test_firmware_fixtures import tiny_tflite

    report = json.loads(run("doctor", "--json").stdout)["boards"]
    assert {n for n, b in report.items() if b["firmware"]} == {"coral", "coral-devboard", "rpi5-hailo", "rpi4-coral-usb"}
    for name, b in report.items():
        proc = run("build", "--board", name, "--model", str(tiny_tflite()), "--out", str(tmp_path / name), "--json")
        if b["firmware"] and b["buildable"]:
            assert proc.returncode == 0, (name, proc.stderr)
            assert json.loads(proc.stdout)["board"] == name
        else:
            assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, (name, proc.stderr)


def test_flash_layout_has_one_home():
    """boards/coral.yaml's flash.layout is what the generated ek_layout.h, the host's slot
    constants and the flash build's compiler flags are made of."""
    import re

    from edgekit.catalog import get_board
    from edgekit.flash import build

    board = get_board("coral")
    lay = board.flash.layout
    header = (build.layout_dir(board) / "ek_layout.h").read_text()
    defs = {m[0]: int(m[1], 16) for m in re.findall(r"#define (EK_\w+) (0x[0-9A-F]+)u", header)}
    assert defs["EK_SLOT0_BASE"] == lay.slots[0] == build.SLOT_BASES[0]
    assert defs["EK_SLOT1_BASE"] == lay.slots[1] == build.SLOT_BASES[1]
    assert defs["EK_SLOT_SIZE"] == lay.slot_size == build.SLOT_SIZE == board.flash.slot_bytes
    assert defs["EK_FLASH_END"] == lay.end == build.FLASH_END
    assert defs["EK_IMAGE_HEADER_SIZE"] == lay.header_bytes == build.HEADER_SIZE
    assert build.IMAGE_MAX == lay.slot_size - lay.trailer_bytes
    assert build.CC == board.toolchain.cc and set(board.toolchain.cflags) <= set(build.CFLAGS)
    assert not any(re.search(r"#define EK_(SLOT\d_BASE|SLOT_SIZE|FLASH_END)\s+0x", p.read_text())
                   for p in (REPO / "firmware").rglob("*.h"))   # no second copy in the C tree
    startups = [p for p in (REPO / "firmware").rglob("*.c") if "Reset_Handler(void)" in p.read_text()]
    traps = [p for p in (REPO / "firmware").rglob("*.[ch]") if "bkpt 0xAB" in p.read_text()
             and p.name != "ek_flash_twin.c"]   # the flash twin driver is another change's (to follow)
    assert [p.name for p in startups] == ["startup.c"] and [p.name for p in traps] == ["ek_semihost.h"]


def test_unknown_board_is_a_one_line_error():
    proc = run("doctor", "--board", "nope")
    assert proc.returncode == 2 and "unknown board 'nope'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_no_top_level_host_or_quantize_import(tmp_path):
    # From a neutral folder: the installed distribution offers only the `edgekit` package.
    code = ("import importlib.util as u; print([u.find_spec(n) is not None for n in "
            "('host', 'quantize', 'models', 'edgekit.quantize', 'edgekit.models.pilot', 'edgekit.cli')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() == "[False, False, False, True, True, True]"


def test_unquoted_linker_flag_split_by_yaml_is_caught(tmp_path):
    text = (BOARDS / "coral.yaml").read_text().replace('"-Wl,--gc-sections"', "-Wl,--gc-sections")
    (tmp_path / "coral.yaml").write_text(text)
    with pytest.raises(UserError, match=r"field 'toolchain.ldflags'.*quote flags"):
        load_board_file(tmp_path / "coral.yaml")
