"""`edgekit data pull --host` against the Linux VM twin (a real kernel, dropbear SSH, the car's disk):
the car-side capture store (edgekit.shadow.capture/store, as the Linux car uses them) writes
windows in the guest and a power cut tears the last one; the pull brings the intact windows home
over SSH, skips the torn one, and a pull interrupted mid-transfer and resumed gives the same tub."""
from __future__ import annotations

import json
import shutil
import sys

import pytest

from edgekit.cli import main
from edgekit.sim.tub import read_records

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None or
                                 shutil.which("dropbear", path="/usr/sbin:/usr/bin") is None,
                                 reason="needs qemu-system-x86_64 and dropbear (the VM twin)")]

REMOTE = "/mnt/edgekit-state/captures"
GUEST = f"""
import json, numpy as np
from pathlib import Path
from edgekit.shadow.capture import Capture
from edgekit.shadow.store import WindowStore, WindowWriter, encode_window, segments
w = WindowWriter(WindowStore("{REMOTE}", segment_bytes=60000))
cap = Capture(w, pre=4, post=4)
rng = np.random.default_rng(1)
for i in range(160):
    human = (0.8 if (i // 20) % 2 else 0.0, 0.3)
    cap.step(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), (0.0, 0.3), human, "shadow", t=round(i * 0.05, 2))
cap.flush(mode="shadow", distance_m=8.0, provenance="modelled")
w.close()
blob = encode_window({{"kind": "window", "id": 99, "wall_time": 0.0, "reason": "disagreement", "trigger": 0,
                      "records": []}}, np.zeros((1, 24, 32, 3), np.uint8))
with open(segments("{REMOTE}")[-1], "ab") as f:   # the power cut: half a window at the tail
    f.write(blob[:len(blob) // 2])
print(json.dumps({{"windows": cap.windows, "segments": len(segments("{REMOTE}"))}}))
"""


@pytest.fixture(scope="module")
def car(tmp_path_factory):
    from edgekit.vm.linux_vm import LinuxVM

    with LinuxVM("rpi4-coral-usb", state=tmp_path_factory.mktemp("vm")) as vm:
        vm.ssh(f"rm -rf {REMOTE}")
        made = json.loads(vm.ssh(f"{sys.executable} -", input=GUEST.encode(), timeout=300).stdout.splitlines()[-1])
        yield vm, made


def tree(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_pull_over_ssh_skips_the_torn_window(car, tmp_path, capsys):
    vm, made = car
    assert made["windows"] >= 4 and made["segments"] >= 2
    assert main(["data", "pull", "--host", vm.target, "--remote-dir", REMOTE, "--out", str(tmp_path / "tub"),
                 "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["windows"], s["sessions"], s["transport"]) == (made["windows"], 1, "ssh")
    recs = read_records(tmp_path / "tub")
    assert len(recs) == s["records"] and 99 not in {r["ek/window"] for r in recs}


def test_interrupted_ssh_pull_resumes_to_the_same_tub(car, tmp_path):
    from edgekit.shadow import ssh_pull

    vm, _ = car
    whole = ssh_pull.pull(vm.target, REMOTE, tmp_path / "whole", chunk=16 << 10)

    class LinkDropped(Exception):
        pass

    def drop(moved, total):
        if moved >= 3 * (16 << 10):
            raise LinkDropped

    with pytest.raises(LinkDropped):
        ssh_pull.pull(vm.target, REMOTE, tmp_path / "cut", drop, chunk=16 << 10)
    staged = sum(p.stat().st_size for p in (tmp_path / ".cut.pull").glob("seg-*.ekc"))
    assert 3 * (16 << 10) <= staged < whole["bytes_transferred"]
    again = ssh_pull.pull(vm.target, REMOTE, tmp_path / "cut", chunk=16 << 10)
    assert again["bytes_resumed"] == staged
    assert again["bytes_resumed"] + again["bytes_transferred"] == whole["bytes_transferred"]
    assert tree(tmp_path / "cut") == tree(tmp_path / "whole")
