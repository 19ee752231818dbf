"""Power-cut test: SIGKILL the twin at random points during upload and during test/reset/boot/
confirm; after every restart the board must boot a valid image (old or new) and answer on the
link. The twin writes flash through to its file with semihosting, so a kill is a real power cut."""
from __future__ import annotations

import random
import shutil
import threading
import time

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]

KILLS = 50


def _sequence(twin, data, info_hash, marks):
    """upload -> test -> reset -> wait for boot -> confirm, noting when each phase started."""
    from edgekit.flash import smp
    b = smp.Board(twin.url, timeout=5, connect_timeout=3)
    try:
        marks["upload"] = time.monotonic()
        b.upload(data)
        marks["test"] = time.monotonic()
        b.test(info_hash)
        b.reset()
    finally:
        b.close()
    marks["boot"] = time.monotonic()
    while twin.proc is not None and twin.proc.poll() is None:
        try:
            b = smp.Board(twin.url, timeout=2, connect_timeout=2)
        except Exception:
            continue
        try:
            b.echo("up")
            marks["confirm"] = time.monotonic()
            b.confirm()
            marks["done"] = time.monotonic()
            return
        finally:
            b.close()


def test_power_cut_at_random_points(tmp_path):
    from edgekit.flash import build, image, keys, smp
    from edgekit.flash.flow import sign_quiet
    from edgekit.flash.twin import FlashTwin

    priv, _ = keys.generate(tmp_path / "k.pem")
    key = keys.load(priv)
    twin = FlashTwin(tmp_path / "twin", build.build_bootloader(keys.public_raw(key), "coral"))
    images = {(slot, v): sign_quiet(build.build_testapp(slot, v).read_bytes(), key, v, "coral", slot)
              for slot in (0, 1) for v in ("1.0.0", "2.0.0", "3.0.0")}
    good = {image.inspect(d).hash for d in images.values()}
    twin.erase_all()
    twin.provision(images[(0, "1.0.0")])
    rng = random.Random(8)
    outcomes = {"old": 0, "new": 0}
    phases = {"upload": 0, "test/reset/boot/confirm": 0}
    upload_s, total_s = 1.5, 3.0          # refined from the uncut runs below
    try:
        for i in range(KILLS + 2):
            twin.start()
            b = smp.wait_for_board(twin.url, timeout=30)          # must answer after every cut
            try:
                run = next(s for s in b.state() if s["active"])
                assert run["hash"] in good and run["bootable"], run
                if i >= 3:
                    outcomes["new" if run["hash"] == last_new else "old"] += 1
                if not run["confirmed"]:
                    b.confirm()                                     # the trial image works: keep it
                target = 1 - run["slot"]
            finally:
                b.close()
            assert "no bootable image" not in twin.console()
            version = ("2.0.0", "3.0.0")[i % 2]
            data = images[(target, version)]
            last_new = image.inspect(data).hash
            marks: dict = {}
            cut = None
            if i >= 2:   # runs 0 and 1 are uncut and measure the phases
                during_upload = i % 2 == 0
                cut = rng.uniform(0.05, upload_s) if during_upload else rng.uniform(upload_s, total_s)
                phases["upload" if during_upload else "test/reset/boot/confirm"] += 1
                timer = threading.Timer(cut, twin.kill)
                timer.start()
            start = time.monotonic()
            try:
                _sequence(twin, data, image.inspect(data).hash, marks)
            except Exception:
                assert cut is not None, "an uncut run failed"
            if cut is None:
                upload_s = marks["test"] - start
                total_s = marks["done"] - start
            if cut is not None:
                timer.join()            # the cut has happened before the next power-on
            twin.kill()
        # Final check: the board still boots and answers.
        twin.start()
        b = smp.wait_for_board(twin.url, timeout=30)
        run = next(s for s in b.state() if s["active"])
        b.close()
        assert run["hash"] in good
        outcomes["new" if run["hash"] == last_new else "old"] += 1
    finally:
        twin.kill()
    print(f"power cuts: {KILLS} {phases}; after restart running {outcomes}; all valid and answering SMP")
