"""`edgekit data pull|stats`: bring captured windows home as a DonkeyCar tub v2, and count them.

Pull = transfer + convert. The transfer copies each storage segment's intact prefix into a staging
folder beside the tub (`.<tub>.pull/`), in chunks, fsync'd; an interrupted pull resumes at the
staged length after checking that the staged bytes hash like the same range of the source (a
segment the car has rewritten since is fetched again). Each staged window's sha256 is verified.
The convert step rebuilds the tub from all staged windows into `<tub>.partial` and renames it into
place; its timestamps are the capture's, so the same captures always give the same bytes — an
interrupted and resumed pull yields the tub an uninterrupted one does.

Tub records: `cam/image_array`, `user/angle`/`user/throttle` (the person's command: the label),
`user/mode` (DonkeyCar's: `user` when the person drove that frame, `local` when the pilot did),
`pilot/angle`/`pilot/throttle`, `ek/mode` (shadow|autopilot), `ek/reason` (the window's event),
`ek/window`, `ek/event` (1 on the frame that raised it), `ek/t`, `ek/track_m`, `ek/cte`. Session
records (distance driven) go to the tub metadata under `capture_sessions`.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np

from edgekit.errors import UserError
from edgekit.shadow.store import decode_at, scan_segment, segments
from edgekit.sim.tub import INPUTS, TYPES, TubWriter, read_manifest, read_records

CAPTURE_INPUTS = INPUTS + ["pilot/angle", "pilot/throttle", "ek/mode", "ek/reason", "ek/window", "ek/event",
                           "ek/t", "ek/track_m", "ek/cte"]
CAPTURE_TYPES = TYPES + ["float", "float", "str", "str", "int", "int", "float", "float", "float"]
CHUNK = 1 << 20


def _sha(path: Path, length: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while length > 0:
            block = f.read(min(CHUNK, length))
            if not block:
                break
            h.update(block)
            length -= len(block)
    return h.hexdigest()


def transfer(source, staging, on_chunk=None, chunk: int = CHUNK) -> dict:
    """Copy the intact prefix of every source segment into `staging`, resuming where it stopped.
    `on_chunk(bytes_so_far)` is called after each chunk (progress; tests interrupt from it)."""
    source, staging = Path(source), Path(staging)
    segs = segments(source)
    if not source.is_dir() or not segs:
        raise UserError(f"{source}: no capture segments (seg-*.ekc) to pull")
    staging.mkdir(parents=True, exist_ok=True)
    moved = resumed = 0
    for seg in segs:
        _, good = scan_segment(seg)  # a device would report this length and range hashes itself
        dst = staging / seg.name
        have = dst.stat().st_size if dst.exists() else 0
        if have and (have > good or _sha(dst, have) != _sha(seg, have)):
            have = 0  # the car rewrote this segment: fetch it again
            dst.unlink()
        resumed += have
        with open(seg, "rb") as src, open(dst, "ab") as out:
            src.seek(have)
            while have < good:
                block = src.read(min(chunk, good - have))
                out.write(block)
                out.flush()
                os.fsync(out.fileno())
                have += len(block)
                moved += len(block)
                if on_chunk:
                    on_chunk(moved)
        if scan_segment(dst)[1] != good:
            raise UserError(f"{dst}: staged windows fail their sha256 check; delete {staging} and pull again")
    for stale in set(p.name for p in segments(staging)) - set(s.name for s in segs):
        (staging / stale).unlink()  # evicted on the car, already pulled before: keep the tub to what the car holds
    return {"segments": len(segs), "bytes_transferred": moved, "bytes_resumed": resumed}


def convert(staging, tub) -> dict:
    """Rebuild `tub` from every staged window (deterministic: same windows, same bytes)."""
    staging, tub = Path(staging), Path(tub)
    windows: list = []
    sessions: list = []
    for seg in segments(staging):
        data, pos = seg.read_bytes(), 0
        while True:
            w, pos = decode_at(data, pos)
            if w is None:
                break
            (sessions if w.header.get("kind") == "session" else windows).append(w)
    if not windows and not sessions:
        raise UserError(f"{staging}: no intact windows")
    return write_tub(windows, sessions, tub)


def write_tub(windows: list, sessions: list, tub) -> dict:
    """The tub of these windows (the one converter for every capture source)."""
    tub = Path(tub)
    partial = tub.with_name(tub.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    first = min(w.header["wall_time"] for w in windows + sessions)
    clock = [first]
    meta = {"source": "edgekit data pull", "capture_sessions": [
        {k: v for k, v in s.header.items() if k not in ("kind",)} for s in sessions]}
    records = 0
    with TubWriter(partial, inputs=CAPTURE_INPUTS, types=CAPTURE_TYPES, metadata=meta, clock=lambda: clock[0]) as out:
        for w in windows:
            h = w.header
            for i, (frame, r) in enumerate(zip(w.frames, h["records"])):
                clock[0] = h["wall_time"] + (r.get("t", 0.0) - h["records"][-1].get("t", 0.0))
                human = r["human"] or r["pilot"]
                out.write_record({
                    "cam/image_array": frame, "user/angle": human[0], "user/throttle": human[1],
                    "user/mode": "user" if r.get("driver", "human") == "human" else "local",
                    "pilot/angle": r["pilot"][0], "pilot/throttle": r["pilot"][1], "ek/mode": r["mode"],
                    "ek/reason": h["reason"], "ek/window": h["id"], "ek/event": int(i == h["trigger"]),
                    "ek/t": r.get("t"), "ek/track_m": r.get("track_m"), "ek/cte": r.get("cte")})
                records += 1
        clock[0] = max([first] + [w.header["wall_time"] for w in windows + sessions])
    shutil.rmtree(tub, ignore_errors=True)
    os.replace(partial, tub)
    return {"windows": len(windows), "sessions": len(sessions), "records": records, "tub": str(tub)}


def pull(source, tub, on_chunk=None, chunk: int = CHUNK) -> dict:
    tub = Path(tub)
    staging = tub.parent / f".{tub.name}.pull"
    return {**transfer(source, staging, on_chunk, chunk), **convert(staging, tub)}


def stats(tubs, sections: int = 10) -> dict:
    """Interventions (takeover windows) and disagreements, per km driven, and where on the track."""
    from edgekit.provenance import figure

    distance, events, track_len, provs = 0.0, [], None, set()
    for t in tubs:
        meta = read_manifest(t)["metadata"]
        for s in meta.get("capture_sessions", []):
            distance += s.get("distance_m", 0.0)
            provs.add(s.get("provenance", "modelled"))
            track_len = track_len or s.get("track_length_m")
        events += [(r["ek/reason"], r.get("ek/track_m")) for r in read_records(t) if r.get("ek/event") == 1]
    if distance <= 0:
        raise UserError("these tubs carry no capture sessions (distance driven): not pulled captures?")
    takeovers = [m for reason, m in events if reason == "takeover"]
    # the odometer's provenance (a simulated drive: modelled); a count per modelled km is modelled
    prov = "modelled" if "modelled" in provs or len(provs) != 1 else provs.pop()
    out: dict = {"distance": figure(round(distance, 2), "m", prov),
           "interventions": figure(len(takeovers), "events", prov),
           "interventions_per_km": figure(round(len(takeovers) / (distance / 1000), 2), "1/km", prov),
           "disagreements": figure(sum(r == "disagreement" for r, _ in events), "events", prov)}
    if track_len:
        edges = np.linspace(0, track_len, sections + 1)
        counts = np.histogram([m for m in takeovers if m is not None], bins=edges)[0]
        out["where"] = [{"from_m": round(float(a), 2), "to_m": round(float(b), 2), "interventions": int(c)}
                        for a, b, c in zip(edges[:-1], edges[1:], counts)]
    return out
