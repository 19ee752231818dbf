"""The farm on loopback, end to end with real processes: `edgekit farm up` (a labgrid coordinator,
one exporter publishing two coral twin hosts as two places); two `edgekit hil run --place` at once
each flash the stand-in over SMP on their own place and pass there; a third fails clearly while both are held; killing the exporter
mid-run ends that run INCOMPLETE with the place released."""
import contextlib
import json
import os
import re
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from edgekit.farm.lg import lg_bin

pytestmark = pytest.mark.slow
EDGEKIT = [sys.executable, "-m", "edgekit"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _farm():
    coord = f"127.0.0.1:{_free_port()}"
    proc = subprocess.Popen(EDGEKIT + ["farm", "up", "--coordinator", coord], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout], daemon=True).start()
    seen = []
    try:
        deadline = time.monotonic() + 600   # the first start builds the stand-in firmware (TensorFlow)
        while not any(ln.startswith("farm: ready") for ln in seen):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(seen)
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=1))
        exporter_pid = int(re.search(r"exporter edgekit-twins \(pid (\d+)\)", "".join(seen)).group(1))
        yield coord, exporter_pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _client(coord, *args):
    return subprocess.run([lg_bin("labgrid-client"), "-x", coord, *args], capture_output=True, text=True, timeout=120)


def _hil(coord, place, out, wait=False):
    p = subprocess.Popen(EDGEKIT + ["hil", "run", "--place", place, "--coordinator", coord, "--quick", "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return p
    text, _ = p.communicate(timeout=1800)
    return p.returncode, text


def _image_hash(path) -> str:
    from edgekit.flash.image import inspect
    return inspect(open(path, "rb").read()).hash


def _wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_two_places_at_once_and_a_third_fails_clearly(tmp_path):
    with _farm() as (coord, _):
        listed = _client(coord, "places").stdout.split()
        assert listed == ["coral-1", "coral-2"]
        runs = {p: _hil(coord, p, tmp_path / p) for p in ("coral-1", "coral-2")}
        try:   # both held: a third run on either place fails at once, saying so
            _wait_for(lambda: set(_client(coord, "places", "-a").stdout.split()) == {"coral-1", "coral-2"}, 300,
                      "both places acquired")
            code, text = _hil(coord, "coral-1", tmp_path / "third", wait=True)
            assert code == 1 and "coral-1' is held by another run" in text and "--place-wait" in text, text
            assert not (tmp_path / "third" / "results.json").exists()
            outs = {p: r.communicate(timeout=1800)[0] for p, r in runs.items()}
        finally:
            for r in runs.values():
                if r.poll() is None:
                    r.kill()
                    r.wait()
        for place, r in runs.items():
            assert (tmp_path / place / "results.json").exists(), outs[place]
            res = json.loads((tmp_path / place / "results.json").read_text())
            assert r.returncode == 0 and res["verdict"] == "PASSED", outs[place]
            assert res["place"]["name"] == place and res["place"]["provenance"] == "emulated"
            assert res["place"]["twin"]["kind"] == "emulated-twin" and res["place"]["twin"]["powered"]
            figs = res["figures"]   # timed on the twin's clock over the place's link: emulated, never measured-hw
            assert figs["latency_p99"]["provenance"] == figs["camera_to_actuator_p99"]["provenance"] == "emulated"
            assert not [k for k, f in figs.items() if f["provenance"] == "measured-hw"]
            assert (tmp_path / place / "junit.xml").exists() and (tmp_path / place / "report.html").exists()
            # flashed over SMP on the place's link: an image this run signed, not the twin host's factory image;
            # the board's own hash read back before measuring equals the image's
            img = res["image"]
            assert img["hash_matches"] and img["reported_hash"] == img["hash"] == _image_hash(img["image"])
            assert img["hash"] != _image_hash(res["place"]["twin"]["factory_image"]) and img["slot"] == 1
        assert res["place"]["twin"]["qemu_pid"] != json.loads((tmp_path / "coral-1" / "results.json").read_text())[
            "place"]["twin"]["qemu_pid"]   # two boards: two QEMUs
        assert _client(coord, "places", "-a").stdout.split() == []   # both released


def test_exporter_killed_mid_run_is_incomplete_and_released(tmp_path):
    with _farm() as (coord, exporter_pid):
        out = tmp_path / "run"
        run = _hil(coord, "coral-1", out)
        try:   # the suite is running (it opened its log) on the acquired place, after flashing it over SMP
            def started() -> bool:
                assert run.poll() is None, f"hil run ended before the exporter was killed:\n{run.stdout.read()}"
                return (out / "pytest.log").exists() and _client(coord, "places", "-a").stdout.split() == ["coral-1"]
            _wait_for(started, 1200, "the run started on coral-1")
            os.kill(exporter_pid, signal.SIGKILL)
            text, _ = run.communicate(timeout=600)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        res = json.loads((out / "results.json").read_text())
        assert run.returncode == 3 and res["verdict"] == "INCOMPLETE", text
        assert "lost its resources" in res["place"]["lost"] and "lost its resources" in res["why"]
        assert _client(coord, "places", "-a").stdout.split() == []
