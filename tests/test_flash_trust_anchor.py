"""The chain on the coral twin through the CLI: `edgekit flash` twice, then `edgekit twin --pty`
boots what flash wrote (smpmgr reads the flashed hash); the twin's key is its trust anchor:
`flash --key OTHER` is refused by the board itself and the previous image keeps answering;
only `edgekit keys provision` changes the anchor."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                 reason="needs qemu-system-arm and arm-none-eabi-gcc")]

BIN = Path(sys.executable).parent


def _ek(env, *args, timeout=300):
    return subprocess.run([str(BIN / "edgekit"), *args], capture_output=True, text=True, env=env, timeout=timeout)


def _flash(env, version, key):
    return _ek(env, "flash", "--board", "coral", "--testapp", version, "--key", str(key), "--json")


def _state_via_twin_cli(env) -> str:
    """`edgekit twin --board coral --pty`, smpmgr image state-read on its pty, then SIGINT."""
    proc = subprocess.Popen([str(BIN / "edgekit"), "twin", "--board", "coral", "--pty"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("serial: /dev/pts/"), first + proc.stderr.read()
        out = subprocess.run([str(BIN / "smpmgr"), "--port", first.split(" ", 1)[1], "--timeout", "10",
                              "image", "state-read"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        return out.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _active_block(text: str) -> str:
    blocks = [b for b in text.split("ImageState(")[1:] if "active=True" in b]
    assert len(blocks) == 1, text
    return blocks[0]


def test_twin_boots_flash_state_and_keeps_its_trust_anchor(tmp_path):
    import json
    env = dict(os.environ, EDGEKIT_STATE=str(tmp_path / "state"))
    mine, other = tmp_path / "mine.pem", tmp_path / "other.pem"
    for k in (mine, other):
        assert _ek(env, "keys", "generate", "--out", str(k)).returncode == 0
    first = _flash(env, "1.0.0", mine)                      # new twin: provisioned with `mine`
    assert first.returncode == 0, first.stderr
    second = _flash(env, "1.1.0", mine)                     # over SMP into slot 1
    assert second.returncode == 0, second.stderr
    flashed = json.loads(second.stdout)["hash"]

    active = _active_block(_state_via_twin_cli(env))
    assert flashed.upper() in active and "version='1.1.0'" in active, active

    refused = _flash(env, "1.2.0", other)                   # signed with a key the board does not trust
    assert refused.returncode == 2, refused.stdout + refused.stderr
    lines = [ln for ln in refused.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "refused" in lines[0] and "another key" in lines[0], refused.stderr
    assert "Traceback" not in refused.stderr
    active = _active_block(_state_via_twin_cli(env))        # the previous image still answers SMP
    assert flashed.upper() in active and "confirmed=True" in active, active

    anchor = json.loads((tmp_path / "state" / "twins" / "coral" / "trust-anchor.json").read_text())
    prov = _ek(env, "keys", "provision", "--board", "coral", "--key", str(other), "--json")
    assert prov.returncode == 0, prov.stderr
    assert json.loads(prov.stdout)["public_key"] != anchor["public_key"]
    again = _flash(env, "2.0.0", other)                     # an erased board with the new anchor
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["version"] == "2.0.0"
