"""`edgekit flash` on the mps2-an500 twin: real bootloader, real SMP server in the test app, real
QEMU, real smpclient/smpmgr. Signed images pass `imgtool verify`; test + reset + confirm; a reset
before confirm reverts; bad images are rejected by the board and the old image keeps running."""
from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="needs qemu-system-arm and arm-none-eabi-gcc")

BOARD = "coral"


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    from edgekit.flash import build, keys
    d = tmp_path_factory.mktemp("flashkit")
    priv, pub = keys.generate(d / "key.pem")
    other, _ = keys.generate(d / "other.pem")
    key = keys.load(priv)
    boot = build.build_bootloader(keys.public_raw(key), BOARD)

    def img(slot, version, board=BOARD, k=key, **kw):
        from edgekit.flash.flow import sign_quiet
        return sign_quiet(build.build_testapp(slot, version, **kw).read_bytes(), k, version, board, slot)
    return {"dir": d, "priv": priv, "pub": pub, "key": key, "other": keys.load(other), "boot": boot, "img": img}


@pytest.fixture
def twin(kit, tmp_path):
    from edgekit.flash.twin import FlashTwin
    t = FlashTwin(tmp_path / "twin", kit["boot"])
    t.erase_all()
    t.provision(kit["img"](0, "1.0.0"))
    yield t
    t.kill()


def _board(url):
    from edgekit.flash import smp
    return smp.wait_for_board(url)


def _running(b):
    return next(s for s in b.state() if s["active"])


def test_images_pass_imgtool_verify(kit):
    from edgekit.flash import image
    for slot in (0, 1):
        p = kit["dir"] / f"img{slot}.bin"
        p.write_bytes(kit["img"](slot, "2.3.4"))
        for k in (kit["priv"], kit["pub"]):
            out = subprocess.run([str(Path(sys.executable).parent / "imgtool"), "verify", "-k", str(k), str(p)],
                                 capture_output=True, text=True)
            assert out.returncode == 0 and "correctly validated" in out.stdout, out.stdout + out.stderr
        info = image.inspect(p.read_bytes())
        assert (info.board, info.slot, info.version, info.signed) == (BOARD, slot, "2.3.4", True)


def test_test_reset_revert_confirm_persist(kit, twin):
    from edgekit.flash import image
    url = twin.start()
    b = _board(url)
    assert _running(b)["version"] == "1.0.0" and _running(b)["confirmed"]
    new = kit["img"](1, "1.1.0")
    h = image.inspect(new).hash
    b.upload(new)
    states = b.test(h)
    assert next(s for s in states if s["slot"] == 1)["pending"]
    b.reset(); b.close()
    b = _board(url)
    run = _running(b)
    assert (run["version"], run["confirmed"]) == ("1.1.0", False)   # trial boot
    assert b.selftest()["ok"]
    b.reset(); b.close()                                            # reset before confirm
    b = _board(url)
    assert _running(b)["version"] == "1.0.0"                        # reverted
    assert "trial boot was not confirmed" in twin.console()
    b.test(h); b.reset(); b.close()                                 # try again, confirm this time
    b = _board(url)
    assert _running(b)["version"] == "1.1.0"
    b.confirm(); b.reset(); b.close()
    b = _board(url)
    assert _running(b)["version"] == "1.1.0" and _running(b)["confirmed"]
    b.close()
    twin.kill()                                                     # power off/on: flash persisted
    b = _board(twin.start())
    assert _running(b)["version"] == "1.1.0"
    b.close()


def _unsigned(kit, slot, version):
    from imgtool import image as imgmod
    from imgtool.version import decode_version
    from edgekit.flash import build
    img = imgmod.Image(version=decode_version(version), header_size=0x200, pad_header=True,
                       slot_size=build.SLOT_SIZE, rom_fixed=build.SLOT_BASES[slot])
    src = kit["dir"] / "u.bin"
    src.write_bytes(build.build_testapp(slot, version).read_bytes())
    img.load(str(src))
    with contextlib.redirect_stdout(io.StringIO()):
        img.create(None, "hash", None, custom_tlvs={0xA0: BOARD.encode()})
    out = kit["dir"] / "u.signed.bin"
    img.save(str(out))
    return out.read_bytes()


def _bad_images(kit):
    from edgekit.flash import build
    good = kit["img"](1, "1.2.0")
    hdr_size, img_size = 0x200, struct.unpack_from("<I", good, 12)[0]
    corrupted = bytearray(good); corrupted[0x400] ^= 0xFF
    tampered = bytearray(good); tampered[0x400] ^= 0xFF
    prot = struct.unpack_from("<H", good, 10)[0]
    digest = hashlib.sha256(bytes(tampered[: hdr_size + img_size + prot])).digest()
    from edgekit.flash import image
    pos = good.find(bytes.fromhex(image.inspect(good).hash))
    tampered[pos:pos + 32] = digest                      # hash fixed up, signature now wrong
    return {
        "corrupted": (bytes(corrupted), "hash mismatch"),
        "truncated": (good[:-40], "truncated"),
        "tampered": (bytes(tampered), "bad signature"),
        "unsigned": (_unsigned(kit, 1, "1.2.0"), "unsigned"),
        "wrong-board": (kit["img"](1, "1.2.0", board="rpi5-hailo"), "another board"),
        "other-key": (kit["img"](1, "1.2.0", k=kit["other"]), "another key"),
        "wrong-slot": (kit["img"](0, "1.2.0"), "not built for this slot"),
        "oversized": (good + b"\0" * build.IMAGE_MAX, "larger than a slot"),
    }


def test_bad_images_rejected_by_board(kit, twin):
    from edgekit.flash.smp import BoardRejected
    b = _board(twin.start())
    try:
        for name, (data, why) in _bad_images(kit).items():
            with pytest.raises(BoardRejected) as exc:
                b.upload(data)
            assert why in str(exc.value), (name, str(exc.value))
            run = _running(b)
            assert run["version"] == "1.0.0" and run["confirmed"], name
            assert b.echo(name) == name
    finally:
        b.close()


def test_bootloader_itself_rejects_bad_pending_images(kit, twin):
    """Bypass the SMP server: write bad images straight into slot 1, marked for test; the C
    bootloader on the twin must reject each (SHA-256, key hash, Ed25519, board) and boot slot 0."""
    from edgekit.flash import build
    bad = _bad_images(kit)
    cases = {"corrupted": "hash mismatch", "tampered": "bad signature", "other-key": "signed with another key",
             "wrong-board": "image built for another board", "unsigned": "unsigned image"}
    for seq, (name, why) in enumerate(cases.items(), start=5):
        twin.write(build.SLOT_BASES[1], bad[name][0])
        trailer = bytearray(b"\xff" * 64); trailer[0:4] = struct.pack("<I", seq)
        trailer[48:64] = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
        twin.write(build.SLOT_BASES[1] + build.SLOT_SIZE - 64, bytes(trailer))
        b = _board(twin.start())
        assert _running(b)["version"] == "1.0.0", name
        b.close()
        twin.kill()
        assert f"slot 1 rejected: {why}" in twin.console(), (name, twin.console())


def test_upload_cut_off_midway_then_resumed(kit, twin):
    from edgekit.flash import image
    url = twin.start()
    b = _board(url)
    new = kit["img"](1, "1.4.0", pad=40000)

    async def partial():
        async for off in b.client.upload(new, first_timeout_s=b.timeout * 4, subsequent_timeout_s=b.timeout * 4):
            if off > 10000:
                return off
    got = b._loop.run_until_complete(partial())
    assert 0 < got < len(new)
    with pytest.raises(Exception):
        b.test(image.inspect(new).hash)           # half an image cannot be set for test
    b.close()
    b = _board(url)                               # a new session resumes where the board is
    offs = []

    async def resume():
        async for off in b.client.upload(new, first_timeout_s=b.timeout * 4, subsequent_timeout_s=b.timeout * 4):
            offs.append(off)
    b._loop.run_until_complete(resume())
    assert offs[0] >= got and offs[-1] == len(new)
    b.reset(); b.close()
    b = _board(url)
    assert _running(b)["version"] == "1.0.0"      # uploaded but never set for test: nothing changes
    b.close()


def test_failed_selftest_is_not_confirmed_and_reverts(kit, tmp_path, monkeypatch):
    from edgekit.errors import ToolError
    from edgekit.flash import build, flow, keys
    monkeypatch.setenv("EDGEKIT_STATE", str(tmp_path / "state"))
    ok = flow.flash(BOARD, lambda s: build.build_testapp(s, "1.0.0").read_bytes(), kit["priv"], "1.0.0")
    assert ok.method == "provisioned"
    with pytest.raises(ToolError, match="self-test failed"):
        flow.flash(BOARD, lambda s: build.build_testapp(s, "1.1.0", selftest_ok=False).read_bytes(),
                   kit["priv"], "1.1.0")
    res = flow.flash(BOARD, lambda s: build.build_testapp(s, "1.2.0").read_bytes(), kit["priv"], "1.2.0")
    run = next(s for s in res.slots if s["active"])
    assert (run["version"], run["confirmed"], res.version) == ("1.2.0", True, "1.2.0")


def test_smpmgr_uploads_and_reads_image_state(kit, twin, tmp_path):
    """smpmgr (a client nobody here wrote) on a pty bridged to the twin's UART."""
    from edgekit.flash.twin import PtyBridge
    new = tmp_path / "new.bin"
    new.write_bytes(kit["img"](1, "1.5.0"))
    twin.start()
    bridge = PtyBridge(twin.port)
    try:
        exe = str(Path(sys.executable).parent / "smpmgr")
        up = subprocess.run([exe, "--port", bridge.path, "--timeout", "5", "image", "upload", str(new)],
                            capture_output=True, text=True, timeout=120)
        assert up.returncode == 0, up.stdout + up.stderr
        out = subprocess.run([exe, "--port", bridge.path, "--timeout", "5", "image", "state-read"],
                             capture_output=True, text=True, timeout=60)
        text = out.stdout + out.stderr
        assert out.returncode == 0, text
        assert "version='1.0.0'" in text and "version='1.5.0'" in text and "confirmed=True" in text, text
    finally:
        bridge.close()


def test_upload_resumes_after_a_power_cut(kit, twin):
    """Cut the power right after the first upload progress checkpoint; after power-on the same
    upload (smpclient starts at off 0 again) continues from the board's saved offset: no
    re-erase, no rewrite of the first bytes."""
    from edgekit.flash import build, image
    new = kit["img"](1, "1.6.0", pad=20000)
    progress = build.SLOT_BASES[1] + build.SLOT_SIZE - build.TRAILER_SIZE + 0x40
    twin.clear_flash_ops()
    twin.start(trace=True)                           # learn which write is the first checkpoint
    b = _board(twin.url)
    b.upload(new)
    b.close()
    twin.kill()
    ops = twin.flash_ops()
    cut = next(i for i, (k, a, _) in enumerate(ops, 1) if k == "W" and a == progress)
    saved = next(n for k, a, n in ops if k == "W" and a == progress) * 4096
    twin.erase_all()
    twin.provision(kit["img"](0, "1.0.0"))
    twin.clear_flash_ops()
    twin.start(cut_after=cut, trace=True)
    smp_board = None
    try:
        smp_board = _board(twin.url)
        with pytest.raises(Exception):
            smp_board.upload(new)
    finally:
        if smp_board:
            smp_board.close()
    assert twin.wait_power_cut(30) and len(twin.flash_ops()) == cut
    twin.clear_flash_ops()
    b = _board(twin.start(trace=True))
    offs = []

    async def resume():
        async for off in b.client.upload(new, first_timeout_s=b.timeout * 4, subsequent_timeout_s=b.timeout * 4):
            offs.append(off)
    b._loop.run_until_complete(resume())
    assert offs[0] == saved and offs[-1] == len(new)
    writes = twin.flash_ops()
    assert all(a >= build.SLOT_BASES[1] + saved or a >= progress - 0x40 for _, a, _ in writes), writes
    assert next(s for s in b.test(image.inspect(new).hash) if s["slot"] == 1)["pending"]   # verified by the board
    b.close()
