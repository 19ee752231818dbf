"""Power cuts during `edgekit flash --host` against the Linux VM twin: QEMU is SIGKILLed (the guest's
page cache is lost; the car disk keeps what reached it) at a deploy step, the twin boots again from
the same disk, and its service must start a runtime that answers (the old slot or the new one, never
none); the next deploy then goes through. Host steps are cut from the deploy's step hook; board
phases by the service's hold hook (/run/edgekit-car/hold, on tmpfs: gone with the power).

CI cuts a representative subset (one host step between upload and the switch, one board phase
while the new slot is on trial): every cut costs a TCG boot and a runtime start. EDGEKIT_ALL_CUTS=1
cuts at every step."""
from __future__ import annotations

import os
import threading

import pytest

from edgekit.flash.linux_deploy import BOARD_PHASES, HOST_STEPS, deploy
from test_deploy_ssh import BOARD, answering, kit, vm  # noqa: F401  (module fixtures: one VM here)

pytestmark = pytest.mark.slow
STEPS = (HOST_STEPS[1:] + BOARD_PHASES) if os.environ.get("EDGEKIT_ALL_CUTS") else ("mark", "selftest")


class PowerCut(Exception):
    pass


def test_power_cut_at_each_deploy_step(vm, kit):  # noqa: F811
    first = deploy(vm.target, BOARD, kit["good"], kit["key"], "2.0.0")
    assert first["ok"], first
    known = {first["hash"]}
    for n, step in enumerate(STEPS):
        if step in BOARD_PHASES:
            vm.ssh(f"echo {step} > /run/edgekit-car/hold")
        seen, result = [], {}

        def on_step(name):
            seen.append(name)
            if name == step and step in HOST_STEPS:
                vm.kill()
                raise PowerCut(step)

        def run():
            try:
                result["res"] = deploy(vm.target, BOARD, kit["good"], kit["key"], f"2.{n + 1}.0", on_step=on_step)
            except Exception as exc:          # the board vanished mid-deploy
                result["exc"] = exc
        t = threading.Thread(target=run)
        t.start()
        if step in BOARD_PHASES:
            while t.is_alive() and vm.ssh("cat /run/edgekit-car/held 2>/dev/null || true").stdout.strip() != step:
                t.join(2)
            assert t.is_alive(), f"deploy ended before the board reached {step}: {result}"
            vm.kill()
        t.join()
        assert "exc" in result and step in seen, (step, seen, result)
        vm.start()                                    # same car disk
        st = answering(vm)
        new = f"2.{n + 1}.0"
        assert st["hash"] in known or st["version"] == new, (step, st)
        known.add(st["hash"])
        print(f"power cut at {step}: the board came back running {st['version']} (slot {st['slot']})")
    last = deploy(vm.target, BOARD, kit["good"], kit["key"], "3.0.0")
    assert last["ok"] and last["running"]["version"] == "3.0.0", last
    assert answering(vm)["version"] == "3.0.0"
