"""Shared capture test vectors: step scripts and the window slots the firmware must write for them.

`python -m edgekit.shadow.capture_vectors` rewrites firmware/app/vectors/capture_vectors.json.
Each vector is a script for firmware/fuzz/capture_host.c (the unchanged ek_capture.c on a RAM
storage, with the DUT fuzz config: pre 3, post 2, threshold 300 milli, 2 slots, 96-byte frames)
and the committed slots it must leave, as the Python side makes them: the windows of
edgekit.shadow.capture.Capture (the same rules) encoded by edgekit.shadow.fwcapture.encode_slot.
tests/test_capture_codec.py runs both sides against this file.
"""
from __future__ import annotations

import json

import numpy as np

from edgekit.paths import FIRMWARE
from edgekit.shadow.capture import Capture
from edgekit.shadow.fwcapture import HDR, REC, encode_slot, slot_bytes

PATH = FIRMWARE / "app" / "vectors" / "capture_vectors.json"
PRE, POST, THRESHOLD, SLOTS, FRAME = 3, 2, 300, 2, 96  # firmware/fuzz/dut/ek_app_config.h, ek_model.h
SLOT = slot_bytes(PRE, POST, FRAME)


def pixels(seed: int) -> np.ndarray:
    """A step's frame, as capture_host.c makes it: byte i = (seed + 7 i) mod 256."""
    return ((seed + 7 * np.arange(FRAME)) % 256).astype(np.uint8)


def expected_slots(script: list[str]) -> dict[int, str]:
    """Slot index -> hex of the committed slot the script leaves (last window per slot): the used
    bytes and the commit, "|"-separated; "" for a slot that must hold no valid window."""
    windows: list = []

    class Keep:
        def submit(self, header, frames, wait=0.0):
            windows.append((header, frames))

    cap, mode, modes = Capture(Keep(), PRE, POST, THRESHOLD), 0, {1: "shadow", 2: "autopilot"}
    for line in script:
        op, *a = line.split()
        if op == "mode":
            if int(a[0]) not in modes:
                cap.flush()
            mode = int(a[0]) if int(a[0]) in modes else 0
        elif op == "flush":
            if cap.open is not None:
                cap._emit()
        elif op == "step" and mode:
            seq, t_us, ps, pt, human, hs, ht, takeover, seed = map(int, a)
            cap.step(pixels(seed), (ps, pt), (hs, ht) if human else None, modes[mode],
                     takeover=bool(takeover) and mode == 2, seq=seq, t_us=t_us, driver_human=bool(human))
    out = {}
    for wid, (h, frames) in enumerate(windows):
        recs = h["records"]
        head = {"id": wid, "trigger": h["trigger"], "reason": h["reason"], "mode": recs[0]["mode"],
                "threshold_milli": THRESHOLD, "pre": PRE, "post": POST, "t_trigger_us": recs[h["trigger"]]["t_us"]}
        rows = [{"seq": r["seq"], "t_us": r["t_us"], "pilot": tuple(int(v) for v in r["pilot"]),
                 "human": None if r["human"] is None else tuple(int(v) for v in r["human"]),
                 "driver_human": r["driver_human"], "event": r.get("event")} for r in recs]
        slot = encode_slot(head, rows, frames, SLOT)
        used = HDR.size + len(rows) * (REC.size + FRAME)
        out[wid % SLOTS] = slot[:used].hex() + "|" + slot[-12:].hex()
    if cap.open is not None:  # still collecting at the end: its slot's old window is gone, it is not there yet
        out[len(windows) % SLOTS] = ""
    return out


def _script(name: str) -> list[str]:
    rng = np.random.default_rng(sum(map(ord, name)))
    lines, t = [f"mode {1 if 'shadow' in name else 2}"], 1_000_000
    human = takeover = 0
    for seq in range(1, 40):
        t += 50_000
        if "shadow" in name:
            human, hs = 1, int(rng.choice([0, 500, -400]))
        else:
            took = not human and rng.random() < 0.15
            human = 1 if took else human if rng.random() < 0.8 else 0
            takeover, hs = int(took), int(rng.integers(-1000, 1000))
        lines.append(f"step {seq} {t} {int(rng.integers(-300, 300))} {int(rng.integers(0, 600))} {human} {hs} "
                     f"{int(rng.integers(-1000, 1000))} {takeover} {seq * 3}")
        if name.endswith("flush") and seq == 33:
            lines.append("flush")
    return lines


def vectors() -> list[dict]:
    return [{"name": n, "script": _script(n), "slots": {str(k): v for k, v in expected_slots(_script(n)).items()}}
            for n in ("shadow disagreements", "autopilot takeovers", "shadow then flush")]


def write(path=PATH):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(vectors(), indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(write())
