"""`edgekit hil run` end to end: junit.xml, results.json, report.html, and the verdict.

The fast tests run the suite against a board that is not there: a copy of the sim rig whose serial
link points at a TCP port nobody listens on (and `--port` of such a socket). Every board-in-the-loop
test cannot run, so the run must be INCOMPLETE (exit 3) and name them, never PASSED; the modelled
range comparison and the report writer still run (~20 s). The slow test runs the real thing:
`--board coral --rig sim --quick` on the QEMU twin with the untrained INT8 stand-in (~2-3 min)."""
import contextlib
import io
import json
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

BOARD_TESTS = {"test_inference_latency", "test_energy_per_inference", "test_camera_to_actuator_latency",
               "test_failsafe_on_link_loss"}


def _hil(out, rig, *extra, expect=0):
    proc = subprocess.run([sys.executable, "-m", "edgekit", "hil", "run", "--board", "coral", "--rig", str(rig),
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=900)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return out, proc.stdout


def _dead_port() -> int:
    """A local TCP port with no listener (bound then closed: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hil_out(tmp_path_factory):
    from edgekit.hil.rig import RIGS

    tmp = tmp_path_factory.mktemp("hil")
    rig = tmp / "sim-serial.yaml"
    rig.write_text((RIGS / "sim.yaml").read_text().replace("name: sim", "name: sim-serial")
                   .replace("link: {kind: twin}", f"link: {{kind: serial, port: 'socket://127.0.0.1:{_dead_port()}'}}"))
    return _hil(tmp / "out", rig, expect=3)


def test_unreachable_board_is_incomplete_not_passed(hil_out):
    out, stdout = hil_out
    assert stdout.startswith("INCOMPLETE") and "PASSED" not in stdout
    res = json.loads((out / "results.json").read_text())
    assert res["verdict"] == "INCOMPLETE" and not res["passed"] and res["exit_code"] == 3
    names = {t["name"] for t in res["did_not_run"]}
    assert BOARD_TESTS <= names, names
    for t in res["did_not_run"]:
        assert t["reason"], t
        assert t["name"] in stdout
    assert "Connection refused" in next(t["reason"] for t in res["did_not_run"] if t["name"] == "test_inference_latency")
    assert res["checks"]["device"] == [] and res["image"]["image"] is None
    html = (out / "report.html").read_text()
    assert "banner incomplete'>INCOMPLETE<" in html and all(n in html for n in BOARD_TESTS)


def test_port_of_a_dead_socket_is_incomplete(tmp_path):
    """`--port` overrides the rig's link: a socket nobody listens on is no board."""
    out, stdout = _hil(tmp_path, "sim", "--port", f"socket://127.0.0.1:{_dead_port()}", "--json", expect=3)
    res = json.loads(stdout)
    assert res["verdict"] == "INCOMPLETE"
    assert BOARD_TESTS <= {t["name"] for t in res["did_not_run"]}


def test_outputs_hold_figures_with_provenance(hil_out):
    out, stdout = hil_out
    suites = ET.parse(out / "junit.xml").getroot()
    assert int(next(suites.iter("testsuite")).get("tests")) >= 8
    res = json.loads((out / "results.json").read_text())
    assert res["figures"], "no figures recorded"
    for name, fig in res["figures"].items():
        assert {"value", "unit", "provenance", "test"} <= fig.keys(), name
        assert fig["provenance"] in ("measured-hw", "measured-host", "emulated", "modelled")
    for t in res["tests"]:
        assert t["outcome"] in ("passed", "skipped", "not-run"), t
        if t["outcome"] != "passed":
            assert t["message"], f"{t['id']} did not run without a reason"
    # every check on a modelled figure is reported as a model check
    assert res["checks"]["model"] and all(c["provenance"] == "modelled" for c in res["checks"]["model"])


def test_verdict_rules():
    from edgekit.hil.results import verdict

    t = lambda name, outcome: {"name": name, "outcome": outcome, "message": "why"}
    dev = [{"kind": "device"}]
    assert verdict([t("a", "passed"), t("b", "skipped")], dev)["verdict"] == "PASSED"
    assert verdict([t("a", "passed"), t("b", "not-run")], dev)["verdict"] == "INCOMPLETE"
    assert verdict([t("a", "passed"), t("b", "error")], dev)["did_not_run"][0]["name"] == "b"
    assert verdict([t("a", "failed"), t("b", "not-run")], dev)["verdict"] == "FAILED"
    assert verdict([t("a", "passed")], [{"kind": "model"}])["verdict"] == "INCOMPLETE"   # no measurement ran


def test_range_comparison_is_traceable(hil_out):
    res = json.loads((hil_out[0] / "results.json").read_text())
    rows = {(r["board"], r["backend"], r["rate_hz"]): r for r in res["range_comparison"]["rows"]}
    for key in (("coral", "accelerator", 20), ("rpi5-hailo", "accelerator", 20), ("coral", "cpu", 20), ("rpi5-hailo", "cpu", 20)):
        r = rows[key]
        assert r["inference_time"]["provenance"] == "modelled" and r["inference_time"]["arithmetic"]
        assert "D = E_usable" in r["range"]["arithmetic"]
        assert r["range"]["value"] < r["range_without_compute"]["value"]
    # the Edge TPU costs the car less range than the Pi 5 with its Hailo (idle watts dominate)
    assert rows[("coral", "accelerator", 20)]["range"]["value"] > rows[("rpi5-hailo", "accelerator", 20)]["range"]["value"]


def test_report_is_self_contained(hil_out):
    text = (hil_out[0] / "report.html").read_text()
    assert text.count("data:image/svg+xml;base64,") >= 4
    assert "<script" not in text and "http://" not in text and "https://" not in text


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="headless Chromium is not installed")
def test_report_renders_in_headless_chromium(hil_out, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    png = tmp_path / "report.png"
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1800",
                    f"--screenshot={png}", (hil_out[0] / "report.html").as_uri()], capture_output=True, timeout=120)
    assert png.exists() and png.stat().st_size > 20_000
    from PIL import Image
    img = Image.open(png).convert("L")
    assert img.size == (1200, 1800)
    # not a blank page: a good share of pixels are ink (text, plots)
    hist = img.histogram()
    assert sum(hist[:200]) > 0.02 * img.size[0] * img.size[1]


@pytest.mark.slow
def test_coral_sim_quick_on_the_twin(tmp_path):
    """The twin in the loop: latency, energy, camera→actuator, failsafe measured (emulated). The
    default boots the flashed image when the flash twin takes -icount, else the -kernel build (and
    says why)."""
    from edgekit.hil.flashing import flash_twin_timed

    out, stdout = _hil(tmp_path, "sim", "--quick")
    res = json.loads((out / "results.json").read_text())
    assert res["verdict"] == "PASSED" and stdout.startswith("PASSED")
    outcomes = {t["name"]: t["outcome"] for t in res["tests"]}
    for name in ("test_inference_latency", "test_energy_per_inference", "test_camera_to_actuator_latency",
                 "test_failsafe_on_link_loss", "test_battery_drain_over_laps", "test_projected_range"):
        assert outcomes[name] == "passed", (name, outcomes)
    assert outcomes["test_driving_score"] == "skipped"          # the untrained stand-in cannot drive
    f = res["figures"]
    assert f["latency_p99"]["provenance"] == "emulated" and f["latency_p99"]["icount"] == 0
    assert f["energy_per_inference"]["provenance"] == "modelled"   # simulated monitor × emulated latency
    assert f["failsafe_stop"]["value"] <= res["rig"]["thresholds"]["failsafe_ms"]
    if flash_twin_timed():
        assert res["image"]["hash_matches"]
    else:
        assert res["image"]["booted"] == "-kernel" and "icount" in res["image"]["why"] and res["image"]["sha256"]


def _flashed_twin_image(tmp_path, monkeypatch) -> tuple:
    """An empty state folder whose coral flash twin is factory-programmed (slot 0) with the stand-in
    pilot's app: `edgekit build --with-mgmt` linked for slot 0, signed in MCUboot format."""
    from edgekit.flash import build, image, keys
    from edgekit.flash.flow import twin_for
    from edgekit.hil.standin import SEED, standin_pilot
    from edgekit.paths import state_dir

    built = state_dir() / "hil" / f"standin_pilot_int8_seed{SEED}.tflite"
    state = tmp_path / "state"
    (state / "hil").mkdir(parents=True)
    if built.exists():
        shutil.copy(built, state / "hil" / built.name)
    monkeypatch.setenv("EDGEKIT_STATE", str(state))
    model = standin_pilot()
    proc = subprocess.run([sys.executable, "-m", "edgekit", "build", "--board", "coral", "--model", str(model),
                           "--out", str(tmp_path / "fw"), "--flash-origin", hex(build.SLOT_BASES[0] + build.HEADER_SIZE),
                           "--with-mgmt", "--json"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    key_path = keys.default_key_path()
    keys.generate(key_path)
    key = keys.load(key_path)
    signed = tmp_path / "app-1.0.0-slot0.signed.bin"
    with contextlib.redirect_stdout(io.StringIO()):    # imgtool prints while signing
        signed.write_bytes(image.sign(Path(json.loads(proc.stdout)["binary"]).read_bytes(), key, "1.0.0", "coral", 0))
    twin = twin_for("coral", key)
    twin.erase_all()
    twin.provision(signed.read_bytes(), slot=0)
    return model, signed, key


def _loose_rig(tmp_path):
    """The sim rig with timing bounds far out: a flash twin without -icount times on the host clock,
    which this shared machine's load stretches; this test is about which image ran, not its speed."""
    from edgekit.hil.rig import RIGS

    text = (RIGS / "sim.yaml").read_text()
    for key in ("latency_p99_ms: 1000", "camera_to_actuator_ms: 1000", "failsafe_ms: 250"):
        assert key in text
        text = text.replace(key, key.split(":")[0] + ": 600000")
    rig = tmp_path / "sim-loose.yaml"
    rig.write_text(text.replace("name: sim", "name: sim-loose"))
    return rig


@pytest.mark.slow
def test_the_flashed_image_is_the_one_tested(tmp_path, monkeypatch):
    """`--image` names the image on the flash twin: the bootloader boots it, the board reports its
    hash over SMP before anything is measured, and it goes into the results and report. Naming
    another image stops the run: FAILED, exit 1, nothing measured."""
    from edgekit.flash import build, image, keys
    from edgekit.flash.flow import sign_quiet

    model, signed, key = _flashed_twin_image(tmp_path, monkeypatch)
    rig = _loose_rig(tmp_path)
    out, stdout = _hil(tmp_path / "ok", rig, "--quick", "--image", str(signed))
    res = json.loads((out / "results.json").read_text())
    assert res["verdict"] == "PASSED" and stdout.startswith("PASSED"), res["why"]
    img = res["image"]
    want = image.inspect(signed.read_bytes()).hash
    assert img["reported_hash"] == img["hash"] == want and img["hash_matches"] and "bootloader" in img["booted"]
    assert want in (out / "report.html").read_text()
    assert res["figures"]["latency_p99"]["provenance"] == "emulated" and "clock" in res["figures"]["latency_p99"]

    other = tmp_path / "other.signed.bin"
    other.write_bytes(sign_quiet(build.build_testapp(0, "9.9.9").read_bytes(), key, "9.9.9", "coral", 0))
    out, stdout = _hil(tmp_path / "other", rig, "--quick", "--image", str(other), expect=1)
    res = json.loads((out / "results.json").read_text())
    assert res["verdict"] == "FAILED" and "not the named image other.signed.bin" in res["why"] and want in res["why"]
    assert stdout.startswith("FAILED") and not res["checks"]["device"]


@pytest.mark.slow
def test_serial_session_speaks_the_dut_protocol(tmp_path):
    """The real-board path (link kind serial) wired against a twin's socket URL: it speaks the
    protocol, and its figures are labelled by what the link really is (a TCP socket: emulated)."""
    from edgekit.catalog import get_board
    from edgekit.firmware.runner import firmware_for
    from edgekit.firmware.twin import Twin
    from edgekit.hil.sessions.serial import SerialSession
    from edgekit.hil.standin import standin_pilot

    board = get_board("coral")
    with Twin(board, firmware_for("coral", standin_pilot()), state=tmp_path, icount=0) as twin:
        s = SerialSession(board, twin.url, 115200, None)
        try:
            assert "edgekit-coral" in s.description
            assert s.provenance == "emulated"
            s.link.load(s.input_bytes())
            assert s.link.infer(1, 0, timeout=300).latency_us > 0
            assert s.wait_failsafe(60)["stop_after_us"] >= 90_000
        finally:
            s.close()


def test_a_recorded_image_is_reused_only_while_the_bootloader_boots_it(tmp_path, monkeypatch):
    """`hil run --model` without --image reuses the image it flashed last time only when the twin's
    flash still boots it (confirmed, in the slot the bootloader picks by seq); left in the other slot
    or pending its trial boot, it is flashed again instead of failing on the hash read back."""
    import struct

    from edgekit.flash.build import FLASH_END, FLASH_FILE_BASE, SLOT_BASES, SLOT_SIZE
    from edgekit.flash.twin import BOOT_MAGIC, SLOT_HEADER, TR_LEN, TR_MAGIC, TR_OK, TR_SEQ, TR_TRIAL, boot_slot, twin_dir
    from edgekit.hil.flashing import _boots

    monkeypatch.setenv("EDGEKIT_STATE", str(tmp_path))
    flash = twin_dir("coral") / "flash.bin"
    mem = bytearray(b"\xff" * (FLASH_END - FLASH_FILE_BASE))
    old, new = SLOT_HEADER + b"old image", SLOT_HEADER + b"new image"

    def put(slot, img, seq, ok=True, trial=False):
        base = SLOT_BASES[slot] - FLASH_FILE_BASE
        mem[base:base + len(img)] = img
        tr = base + SLOT_SIZE - TR_LEN
        mem[tr:tr + TR_LEN] = b"\xff" * TR_LEN
        struct.pack_into("<I", mem, tr + TR_SEQ, seq)
        mem[tr + TR_MAGIC:tr + TR_MAGIC + 16] = BOOT_MAGIC
        mem[tr + TR_OK] = 1 if ok else 0xFF
        mem[tr + TR_TRIAL] = 1 if trial else 0xFF
        flash.write_bytes(bytes(mem))

    assert boot_slot(flash) is None and not _boots("coral", old)        # erased: nothing boots
    put(0, old, 1)
    put(1, new, 2)
    assert boot_slot(flash) == (1, True) and _boots("coral", new) and not _boots("coral", old)
    put(1, new, 2, ok=False)                                             # pending: boots once, on trial
    assert boot_slot(flash) == (1, False) and not _boots("coral", new)
    put(1, new, 2, ok=False, trial=True)                                 # trial not confirmed: reverted
    assert boot_slot(flash) == (0, True) and _boots("coral", old) and not _boots("coral", new)
    put(1, new, 0)                                                       # equal seq: slot 0 first
    put(0, old, 0)
    assert boot_slot(flash) == (0, True)
