"""Linux boards' A/B slots (edgekit.flash.linux_slots): test/boot/revert/confirm, bad images,
and a power cut at every single filesystem step of install/test/boot/confirm."""
from __future__ import annotations

import contextlib
import io
import os
import shutil

import pytest

BOARD = "rpi5-hailo"


class PowerCut(Exception):
    pass


class CrashingOS:
    """`os` for linux_slots that dies at its k-th state-changing call."""

    def __init__(self, k: int):
        self.k, self.n = k, 0

    def __getattr__(self, name):
        real = getattr(os, name)
        if name not in ("replace", "unlink", "symlink", "write", "fsync", "fchmod"):
            return real

        def step(*a, **kw):
            self.n += 1
            if self.n == self.k:
                raise PowerCut(name)
            return real(*a, **kw)
        return step


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    from edgekit.flash import image, keys
    d = tmp_path_factory.mktemp("linux")
    priv, pub = keys.generate(d / "k.pem")
    key = keys.load(priv)

    def img(version, payload=None, board=BOARD):
        body = payload or f"#!/bin/sh\necho pilot {version}\n".encode()
        with contextlib.redirect_stdout(io.StringIO()):
            return image.sign(body, key, version, board, None)
    return {"dir": d, "priv": priv, "pub": pub, "img": img}


def _slots(root, kit):
    from edgekit.flash.linux_slots import LinuxSlots
    return LinuxSlots(root, BOARD, kit["pub"])


def _running_version(s):
    return next(x for x in s.state() if x["active"])["version"]


def test_trial_revert_confirm(kit, tmp_path):
    s = _slots(tmp_path, kit)
    s.provision(kit["img"]("1.0.0"))
    assert s.boot() == 0 and _running_version(s) == "1.0.0"
    t = s.install(kit["img"]("1.1.0"))
    assert t == 1
    s.test(t)
    assert s.boot() == 1 and _running_version(s) == "1.1.0"     # trial
    assert (tmp_path / "current" / "app").read_bytes().endswith(b"pilot 1.1.0\n")
    assert s.boot() == 0 and _running_version(s) == "1.0.0"     # reboot before confirm: reverted
    s.test(1)
    assert s.boot() == 1
    s.confirm()
    assert s.boot() == 1 and s.boot() == 1                      # confirmed: stays
    with pytest.raises(Exception, match="is for board .coral."):
        s.install(kit["img"]("9.0.0", board="coral"))
    bad = bytearray(kit["img"]("2.0.0")); bad[0x205] ^= 1
    with pytest.raises(Exception, match="rejected"):
        s.install(bytes(bad))
    assert s.boot() == 1 and _running_version(s) == "1.1.0"


def test_power_cut_at_every_step(kit, tmp_path, monkeypatch):
    from edgekit.flash import image, linux_slots
    template = tmp_path / "template"
    base = _slots(template, kit)
    base.provision(kit["img"]("1.0.0"))
    base.boot()
    new = kit["img"]("2.0.0")
    good = {image.inspect(kit["img"]("1.0.0")).hash, image.inspect(new).hash}
    k, cuts, outcomes = 1, 0, {"1.0.0": 0, "2.0.0": 0}
    while True:
        root = tmp_path / f"run{k}"
        shutil.copytree(template, root, symlinks=True)
        s = _slots(root, kit)
        crash = CrashingOS(k)
        monkeypatch.setattr(linux_slots, "os", crash)
        try:
            t = s.install(new)
            s.test(t)
            s.boot()
            s.confirm()
            finished = True
        except PowerCut:
            finished = False
        monkeypatch.setattr(linux_slots, "os", os)
        for _ in range(2):                          # two reboots: trial, then revert if unconfirmed
            booted = _slots(root, kit).boot()
            assert booted is not None, f"no bootable slot after a cut at step {k}"
            run = next(x for x in _slots(root, kit).state() if x["active"])
            assert run["hash"] in good and run["bootable"]
        outcomes[run["version"]] += 1
        shutil.rmtree(root)
        if finished:
            break
        cuts += 1
        k += 1
    assert cuts >= 20 and outcomes["2.0.0"] >= 1 and outcomes["1.0.0"] >= 1
    print(f"linux slots: {cuts} power cuts, one at every step; then running {outcomes}")
