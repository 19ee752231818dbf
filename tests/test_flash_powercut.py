"""Power cuts the way MCUboot's simulator does them: count the flash writes/erases of one update
(upload, test, reset + trial boot, confirm) on the twin, then repeat the update once per write
point N with the power cut right after write N (the twin's firmware exits QEMU at that write, so
flash.bin keeps exactly the writes done). After every cut the board must boot a valid image (old
or new) and answer SMP; an upload cut by the power loss resumes from the board's saved offset."""
from __future__ import annotations

import shutil
import time

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]

MAX_DATA_CUTS = 20   # data writes beyond this are cut at a stride (all trailer writes always)


def _connect(twin, timeout=30.0):
    """An SMP session once the board answers; None if the twin lost power meanwhile."""
    from edgekit.flash import smp
    deadline = time.monotonic() + timeout
    while twin.alive() and time.monotonic() < deadline:
        try:
            b = smp.Board(twin.url, timeout=5, connect_timeout=2)
        except Exception:
            time.sleep(0.1)
            continue
        try:
            b.echo("up")
            return b
        except Exception:
            b.close()
    return None


def _update(twin, data, new_hash, marks=None):
    """upload -> test -> reset -> trial boot -> confirm; `marks` gets the flash-op count after each
    phase (the uncut run). Returns normally or raises when the power goes."""
    b = _connect(twin)
    assert b is not None
    try:
        b.upload(data)
        marks is not None and marks.append(("upload", len(twin.flash_ops())))
        b.test(new_hash)
        marks is not None and marks.append(("test", len(twin.flash_ops())))
        b.reset()
    finally:
        b.close()
    b = _connect(twin)
    if b is None:
        raise ConnectionError("power lost before the new image answered")
    try:
        marks is not None and marks.append(("boot", len(twin.flash_ops())))
        b.confirm()
        marks is not None and marks.append(("confirm", len(twin.flash_ops())))
    finally:
        b.close()


def test_power_cut_after_every_flash_write(tmp_path):
    from edgekit.flash import build, image, keys
    from edgekit.flash.flow import sign_quiet
    from edgekit.flash.twin import FlashTwin, boot_slot

    priv, _ = keys.generate(tmp_path / "k.pem")
    key = keys.load(priv)
    twin = FlashTwin(tmp_path / "twin", build.build_bootloader(keys.public_raw(key), "coral"))
    old = sign_quiet(build.build_testapp(0, "1.0.0").read_bytes(), key, "1.0.0", "coral", 0)
    new = sign_quiet(build.build_testapp(1, "2.0.0", pad=12000).read_bytes(), key, "2.0.0", "coral", 1)
    old_h, new_h = image.inspect(old).hash, image.inspect(new).hash
    twin.erase_all()
    twin.provision(old)
    baseline = twin.flash.read_bytes()
    trailer_lo = build.SLOT_BASES[1] + build.SLOT_SIZE - build.TRAILER_SIZE

    # The uncut run: every flash operation of one update, and where each phase ends.
    marks: list = []
    twin.clear_flash_ops()
    twin.start(trace=True)
    try:
        _update(twin, new, new_h, marks)
    finally:
        twin.kill()
    ops = twin.flash_ops()
    assert [m for m, _ in marks] == ["upload", "test", "boot", "confirm"] and marks[-1][1] == len(ops)
    phase_of, start = {}, 0
    for name, end in marks:
        for n in range(start + 1, end + 1):
            phase_of[n] = name
        start = end
    kind = {n: "trailer" if build.SLOT_BASES[0] + build.SLOT_SIZE - build.TRAILER_SIZE <= a < build.SLOT_BASES[0] + build.SLOT_SIZE
            or a >= trailer_lo else "data" for n, (_, a, _) in enumerate(ops, 1)}
    assert set(phase_of) == set(range(1, len(ops) + 1))

    # Every trailer-sector write; data writes at a stride when there are many (large images).
    data_ops = [n for n in kind if kind[n] == "data"]
    stride = max(1, len(data_ops) // MAX_DATA_CUTS)
    points = sorted([n for n in kind if kind[n] == "trailer"] + data_ops[::stride])
    table: dict = {}
    resumed: list = []
    per_point: list = []
    try:
        for n in points:
            twin.flash.write_bytes(baseline)
            twin.clear_flash_ops()
            twin.start(cut_after=n, trace=True)
            try:
                _update(twin, new, new_h)
            except Exception:
                pass
            assert twin.wait_power_cut(30), f"cut {n}: the power did not go at write {n} ({twin.proc.returncode})"
            assert len(twin.flash_ops()) == n      # exactly the writes before the cut
            predicted = boot_slot(twin.flash)      # the host's reading of the trailers (hil reuse)
            twin.start()
            b = _connect(twin)
            assert b is not None, f"cut {n}: the board does not answer after power-on\n{twin.console()}"
            try:
                run = next(s for s in b.state() if s["active"])
                assert run["hash"] in (old_h, new_h) and run["bootable"], (n, run)
                assert predicted is not None and run["slot"] == predicted[0], (n, predicted, run)
                outcome = "old" if run["hash"] == old_h else ("new" if run["confirmed"] else "new (trial)")
                row = table.setdefault(phase_of[n], {"cuts": 0, "trailer": 0, "data": 0})
                row["cuts"] += 1
                row[kind[n]] += 1
                row[outcome] = row.get(outcome, 0) + 1
                per_point.append(f"{n}:{phase_of[n]}/{kind[n]}->{outcome}")
                if phase_of[n] == "upload":          # finish the cut upload: it resumes
                    offs = []

                    async def go():
                        async for off in b.client.upload(new, subsequent_timeout_s=10):
                            offs.append(off)
                    b._loop.run_until_complete(go())
                    assert offs[-1] == len(new)
                    resumed.append((n, offs[0]))
                    b.test(new_h)                    # the board verified hash + signature of it
            finally:
                b.close()
            assert "no bootable image" not in twin.console()
            twin.kill()
    finally:
        twin.kill()
    assert sum(r["cuts"] for r in table.values()) == len(points)
    # After the data checkpoints the upload resumed past 0 (progress saved in flash).
    assert any(off > 4096 for _, off in resumed), resumed
    print(f"\nflash writes per update: {len(ops)} ({len(ops) - len(data_ops)} trailer-sector, {len(data_ops)} data); "
          f"cut after {len(points)} of them (every trailer-sector write, data writes with stride {stride})")
    for phase, row in table.items():
        print(f"  {phase:8s} {row}")
    print("  per cut point: " + ", ".join(per_point))
    print(f"  upload resumed at (cut write, first offset answered): {resumed}")
