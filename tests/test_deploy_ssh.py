"""`edgekit flash --board rpi4-coral-usb --host USER@HOST:PORT` against the Linux VM twin: the bundle goes
into the inactive slot of the car disk (virtio ext4), the board's service (edgekit.car.service, started by
the twin's init) self-tests it against TFLM's outputs, confirms it and runs `edgekit car run` under its
watchdog; a broken runtime (wrong outputs, or a crash) is abandoned by the board, which goes back to the
previous slot by itself. Then power cuts: QEMU is SIGKILLed (the guest's page cache is lost; the car disk
keeps what reached it) at a deploy step, the twin boots again from the same disk, and its service must
start a runtime that answers (the old slot or the new one, never none); the next deploy goes through.
Host steps are cut from the deploy's step hook; board phases by the service's hold hook
(/run/edgekit-car/hold, on tmpfs: gone with the power). One VM for the module: each cut costs a TCG
boot and a runtime start, so CI cuts a representative subset (after the slot's files are written,
and while the new slot is on trial); EDGEKIT_ALL_CUTS=1 cuts at every step."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from edgekit.flash.linux_deploy import BOARD_PHASES, HOST_STEPS, deploy

pytestmark = pytest.mark.slow
BOARD = "rpi4-coral-usb"


def _small_pilot(path, seed):
    """Pilot-shaped (120×160×3 → angle, throttle) but small enough for TCG (see test_vm_car.py)."""
    import keras
    import numpy as np
    from keras import layers
    from int8_models import convert_int8

    keras.utils.set_random_seed(seed)
    img = keras.Input(shape=(120, 160, 3), batch_size=1, name="img_in")
    x = layers.Conv2D(4, 5, strides=4, activation="relu")(img)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu")(x)
    model = keras.Model(img, [layers.Dense(1, name="angle")(x), layers.Dense(1, name="throttle")(x)])
    calib = np.random.default_rng(seed).random((16, 120, 160, 3), dtype=np.float32)
    return convert_int8(model, calib[:, None], path)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    from edgekit.codegen import compile_model
    from edgekit.flash import keys

    d = tmp_path_factory.mktemp("deploy")
    priv, _ = keys.generate(d / "deploy.pem")
    good, other = _small_pilot(d / "a.tflite", 5), _small_pilot(d / "b.tflite", 6)
    # changed runtime: model B's code, but model A's reference outputs (a stale or corrupted build)
    wrong = d / "wrong"
    compile_model(other, wrong, board=BOARD, variant="portable")
    shutil.copyfile(good, wrong / "source.tflite")
    # crashing runtime: the model's entry point traps
    crash = d / "crash"
    compile_model(good, crash, board=BOARD, variant="portable")
    src = (crash / "model.c").read_text()
    entry = next(l for l in src.splitlines() if l.startswith("int ek_model_invoke("))
    (crash / "model.c").write_text(src.replace(entry, "int ek_model_invoke(const int8_t *in, int8_t *out) "
                                                      "{ (void)in; (void)out; __builtin_trap(); }"))
    return {"key": priv, "good": good, "wrong": wrong, "crash": crash, "dir": d}


@pytest.fixture(scope="module")
def vm(tmp_path_factory):
    from edgekit.vm.linux_vm import LinuxVM
    with LinuxVM(BOARD, state=tmp_path_factory.mktemp("vm")) as v:
        yield v


def flash(vm, kit, model, version):
    r = subprocess.run([sys.executable, "-m", "edgekit", "flash", "--board", BOARD, "--host", vm.target,
                        "--model", str(model), "--key", str(kit["key"]), "--version", version, "--json"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    return r.returncode, json.loads(r.stdout)


def answering(vm, timeout=900) -> dict:
    """The board's service runs a runtime that answers: its watchdog pings keep coming."""
    deadline, first = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        out = vm.ssh("cat /run/edgekit-car/status.json 2>/dev/null || true", check=False).stdout
        st = json.loads(out) if out.strip() else {}
        if st.get("phase") == "running" and st.get("pings", 0) > 0:
            if first is None:
                first = st
            elif st["pings"] > first["pings"] and st.get("runtime_pid") == first.get("runtime_pid"):
                return st
        time.sleep(2)
    log = vm.ssh("tail -20 /var/log/edgekit-car.log; tail -20 /run/edgekit-car/runtime.log", check=False).stdout
    raise AssertionError(f"no answering runtime on the board: {out[-500:]}\n{log[-2000:]}")


def test_deploy_selftest_and_rollback(vm, kit):
    rc, first = flash(vm, kit, kit["good"], "1.0.0")
    assert rc == 0 and first["ok"], first
    assert first["selftest"]["ok"] and first["selftest"]["equal_inputs"] == first["selftest"]["inputs"] == 4
    assert first["running"]["hash"] == first["hash"] and first["upload"]["seconds"]["provenance"] == "emulated"
    assert answering(vm)["hash"] == first["hash"]

    rc, wrong = flash(vm, kit, kit["wrong"], "1.1.0")          # outputs differ from TFLM's
    assert rc == 1 and not wrong["ok"] and wrong["rolled_back"], wrong
    assert not wrong["selftest"]["ok"] and wrong["selftest"]["equal_inputs"] < 4
    assert wrong["running"]["hash"] == first["hash"]
    assert answering(vm)["hash"] == first["hash"]

    rc, crash = flash(vm, kit, kit["crash"], "1.2.0")          # the runtime crashes
    assert rc == 1 and "crashed" in crash["selftest"]["detail"], crash
    st = answering(vm)
    assert st["hash"] == first["hash"] and st["last_trial"]["hash"] == crash["hash"]
    slots = {s["slot"]: s for s in st["slots"]}
    assert slots[first["slot"]]["confirmed"] and slots[first["slot"]]["active"]


def test_doctor_checks_the_board_over_ssh(vm):
    """`edgekit doctor --host`: key login, vivid camera, i2c-stub's 0x40/0x41, and no libedgetpu in the twin."""
    r = subprocess.run([sys.executable, "-m", "edgekit", "doctor", "--board", BOARD, "--host", vm.target, "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-1000:]
    checks = {c["what"][len(f"{BOARD}:host:"):]: c for c in json.loads(r.stdout)["boards"][BOARD]["checks"]
              if c["what"].startswith(f"{BOARD}:host:")}
    for what in ("ssh", "camera", "i2c", "i2c-0x40", "i2c-0x41"):
        assert checks[what]["ok"], checks[what]
    lib = checks["accel:libedgetpu.so.1"]
    assert not lib["ok"] and "libedgetpu1-std" in lib["fix"]
    r = subprocess.run([sys.executable, "-m", "edgekit", "doctor", "--board", BOARD, "--host", "root@127.0.0.1:1",
                        "--json"], capture_output=True, text=True, timeout=600)
    bad = [c for c in json.loads(r.stdout)["boards"][BOARD]["checks"] if c["what"] == f"{BOARD}:host:ssh"][0]
    assert not bad["ok"] and "ssh-copy-id" in bad["fix"]


class PowerCut(Exception):
    pass


CUTS = (HOST_STEPS[1:] + BOARD_PHASES) if os.environ.get("EDGEKIT_ALL_CUTS") else ("mark", "selftest")


def test_power_cut_at_deploy_steps(vm, kit):
    out = vm.ssh("cat /run/edgekit-car/status.json 2>/dev/null || true").stdout
    if not out.strip() or json.loads(out).get("phase") != "running":     # run alone (-k): deploy first
        assert deploy(vm.target, BOARD, kit["good"], kit["key"], "1.9.0")["ok"]
    known = {answering(vm)["hash"]}
    for n, step in enumerate(CUTS):
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
                result["res"] = deploy(vm.target, BOARD, kit["good"], kit["key"], f"2.{n}.0", on_step=on_step)
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
        # A host step is cut from its own hook; a board phase is cut once the board holds there (read
        # above), whether or not the host's status poll saw that phase before the power went.
        assert "exc" in result and (step in seen or step in BOARD_PHASES), (step, seen, result)
        vm.start()                                    # the same car disk
        st = answering(vm)                            # the service starts a runtime by itself
        assert st["hash"] in known or st["version"] == f"2.{n}.0", (step, st)
        known.add(st["hash"])
        print(f"power cut at {step}: the board came back running {st['version']} (slot {st['slot']})")
    last = deploy(vm.target, BOARD, kit["good"], kit["key"], "3.0.0")   # and deploying again works
    assert last["ok"] and last["running"]["version"] == "3.0.0", last
    assert answering(vm)["version"] == "3.0.0"
