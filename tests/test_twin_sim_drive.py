"""`edgekit sim drive --board B`: the firmware on the twin drives the simulator in lockstep.

Needs a trained pilot (a random-weight model does not drive): set EDGEKIT_TRAINED_PILOT to a
full-INT8 .tflite trained on the oval (the sim helper's `edgekit sim` training writes one).
2 laps take ~11 min on the mps2 twin (~1.5 s per step) and ~5 min on qemu-aarch64.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PILOT = os.environ.get("EDGEKIT_TRAINED_PILOT")


@pytest.mark.slow
@pytest.mark.skipif(not PILOT or not Path(PILOT).is_file(), reason="EDGEKIT_TRAINED_PILOT (a trained INT8 pilot) not set")
@pytest.mark.parametrize("board", [os.environ.get("EDGEKIT_DRIVE_BOARD", "coral-devboard")])
def test_sim_drive_two_laps_with_firmware(board, tmp_path):
    env = dict(os.environ, EDGEKIT_STATE=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "edgekit", "sim", "drive", "--board", board, "--model", PILOT,
                          "--track", "oval", "--laps", "2", "--json"], capture_output=True, text=True, env=env,
                         timeout=3600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout)
    assert res["completed"] and res["laps_completed"]["value"] == 2 and res["off_track_events"]["value"] == 0
