"""Shadow-mode capture: pre/post windows around events, append-only checksummed storage that a power
cut (truncation at any byte, a SIGKILL mid-write) costs at most the window being written, and
shadow / autopilot-with-takeover drives in the simulator."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

from edgekit.shadow.capture import Capture
from edgekit.shadow.sim import shadow_drive
from edgekit.shadow.store import WindowStore, WindowWriter, read_windows, scan_segment, segments


def frames(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 12, 16, 3), dtype=np.uint8)


class ListWriter:
    def __init__(self):
        self.windows, self.dropped = [], 0

    def submit(self, header, fr, wait=0.0):
        self.windows.append((header, fr))
        return True


def test_window_has_pre_and_post_frames_and_both_commands():
    w = ListWriter()
    cap = Capture(w, pre=3, post=2, threshold=0.3)
    fr = frames(12)
    for i in range(12):
        pilot, human = (0.0, 0.5), ((0.5 if 5 <= i <= 6 else 0.1), 0.5)  # disagreement rises at 5
        cap.step(fr[i], pilot, human, "shadow", t=i * 0.05)
    cap.flush(distance_m=1.0)
    (h, f), (session, _) = w.windows
    assert h["reason"] == "disagreement" and h["trigger"] == 3 and len(h["records"]) == 6
    assert np.array_equal(f, fr[2:8])  # 3 before, the event frame, 2 after
    assert h["records"][3]["pilot"] == [0.0, 0.5] and h["records"][3]["human"] == [0.5, 0.5]
    assert cap.events == {"disagreement": 1, "takeover": 0}
    assert session["kind"] == "session" and session["distance_m"] == 1.0 and session["windows"] == 1


def test_takeover_during_an_open_window_joins_it():
    w = ListWriter()
    cap = Capture(w, pre=2, post=3)
    fr = frames(10)
    for i in range(10):
        cap.step(fr[i], (0.0, 0.3), (0.0, 0.3), "autopilot", takeover=i in (4, 6))
    h, f = w.windows[0]
    assert h["reasons"] == ["takeover", "takeover"] and np.array_equal(f, fr[2:8])


def _write(store, n, seed=0):
    for i in range(n):
        store.append({"reason": "takeover", "records": [{"t": i}]}, frames(4, seed + i))


def test_power_cut_at_any_byte_of_the_last_window_loses_only_that_window(tmp_path):
    store = WindowStore(tmp_path / "cap")
    _write(store, 3)
    seg = segments(tmp_path / "cap")[0]
    whole = seg.read_bytes()
    ws, _ = scan_segment(seg)
    start = ws[2].offset
    for cut in range(start, len(whole), 97):
        seg.write_bytes(whole[:cut])
        got = read_windows(tmp_path / "cap")
        assert [w.header["id"] for w in got] == [0, 1]
        assert np.array_equal(got[1].frames, frames(4, 1))
    # a writer reopening after the cut drops the torn tail and appends readable windows after it
    seg.write_bytes(whole[:start + 40])
    store = WindowStore(tmp_path / "cap")
    _write(store, 1, seed=9)
    got = read_windows(tmp_path / "cap")
    assert [w.header["id"] for w in got] == [0, 1, 2] and np.array_equal(got[2].frames, frames(4, 9))


def test_a_flipped_byte_fails_the_window_checksum(tmp_path):
    store = WindowStore(tmp_path / "cap")
    _write(store, 2)
    seg = segments(tmp_path / "cap")[0]
    data = bytearray(seg.read_bytes())
    data[-50] ^= 1
    seg.write_bytes(bytes(data))
    assert [w.header["id"] for w in read_windows(tmp_path / "cap")] == [0]


def test_sigkill_while_writing_keeps_every_completed_window(tmp_path):
    """A real process appending large windows is killed mid-stream; the folder then holds whole,
    checksum-valid windows only (all but at most the one being written)."""
    code = textwrap.dedent(f"""
        import numpy as np, sys
        from edgekit.shadow.store import WindowStore
        s = WindowStore({str(tmp_path / 'cap')!r})
        rng = np.random.default_rng(0)
        i = 0
        while True:
            s.append({{"reason": "takeover", "records": []}}, rng.integers(0, 256, (40, 120, 160, 3), dtype=np.uint8))
            i += 1
            if i == 2:
                print("ready", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"  # two windows are on disk: cut now
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    seg = segments(tmp_path / "cap")[0]
    windows, good = scan_segment(seg)
    assert len(windows) >= 2 and [w.header["id"] for w in windows] == list(range(len(windows)))
    assert seg.stat().st_size - good < 40 * 120 * 160 * 3 + 4096  # at most one torn window after them
    WindowStore(tmp_path / "cap")
    assert seg.stat().st_size == good


def test_storage_is_bounded_and_the_writer_never_blocks(tmp_path):
    store = WindowStore(tmp_path / "cap", segment_bytes=3000, max_bytes=6000)
    writer = WindowWriter(store, queue_windows=2)
    # submit returns at once: a window the full queue cannot take is dropped and counted
    results = [writer.submit({"reason": "takeover", "records": []}, frames(4, i)) for i in range(200)]
    writer.close()
    assert writer.written + writer.dropped == 200 and writer.written == sum(results)
    total = sum(s.stat().st_size for s in segments(tmp_path / "cap"))
    assert total <= 6000 + 3000 and len(segments(tmp_path / "cap")) >= 2
    ids = [w.header["id"] for w in read_windows(tmp_path / "cap")]
    assert ids == sorted(ids) and ids[-1] == writer.written - 1


def straight_pilot(frame):
    """A pilot that ignores the road: it must leave any bend."""
    return 0.0, 0.3


def test_autopilot_takeovers_are_interventions_and_windows(tmp_path):
    store = WindowStore(tmp_path / "cap")
    writer = WindowWriter(store)
    cap = Capture(writer, pre=10, post=10)
    res = shadow_drive(straight_pilot, "oval", mode="autopilot", laps=1, capture=cap)
    writer.close()
    assert res.drive.completed and res.interventions >= 2  # the expert saves every bend
    assert res.interventions_per_km > 100 and res.human_s > 1
    wins = read_windows(tmp_path / "cap")
    assert sum(w.header.get("kind") == "window" and w.header["reason"] == "takeover" for w in wins) >= 2
    sessions = [w.header for w in wins if w.header.get("kind") == "session"]   # segment order is not write order
    assert len(sessions) == 1 and abs(sessions[0]["distance_m"] - res.drive.distance_m) < 1e-2
    w = next(w for w in wins if w.header.get("reason") == "takeover")
    assert w.frames.shape == (21, 120, 160, 3) and w.header["records"][w.header["trigger"]]["driver"] == "human"
    assert abs(w.header["records"][w.header["trigger"]]["cte"]) > 0.25


def test_shadow_mode_the_expert_drives_and_disagreements_are_captured(tmp_path):
    cap = Capture(ListWriter(), pre=5, post=5, threshold=0.3)
    res = shadow_drive(straight_pilot, "oval", mode="shadow", laps=1, capture=cap)
    assert res.drive.completed and res.interventions == 0 and res.drive.max_abs_cte_m < 0.2
    assert res.disagreements >= 2 and cap.windows >= 2


def test_a_stuck_disk_never_blocks_the_control_loop(tmp_path):
    """The store hangs (a slow SD card): submit still returns at once and drops what does not fit."""
    import threading

    gate = threading.Event()

    class StuckStore(WindowStore):
        def append(self, header, fr):
            gate.wait()
            return super().append(header, fr)

    writer = WindowWriter(StuckStore(tmp_path / "cap"), queue_windows=2)
    cap = Capture(writer, pre=1, post=0)
    fr = frames(10)
    for i in range(20):  # a takeover every step: a window every second step
        cap.step(fr[i % 10], (0.0, 0.3), (0.0, 0.3), "autopilot", takeover=True)
    assert cap.windows == 10
    assert writer.written == 0 and writer.dropped >= 10 - 3  # one in the writer's hands, two queued
    gate.set()
    writer.close()
    assert writer.written + writer.dropped == 10 and len(read_windows(tmp_path / "cap")) == writer.written


def test_end_of_run_flush_waits_for_room_and_keeps_the_session_record(tmp_path):
    """The control loop drops what a full queue cannot take; the end-of-run flush, off the loop,
    waits for the writer instead, so the last window and the session record are never lost."""
    import threading

    entered, gate = threading.Event(), threading.Event()

    class SlowStore(WindowStore):
        def append(self, header, fr):
            entered.set()
            gate.wait()
            return super().append(header, fr)

    writer = WindowWriter(SlowStore(tmp_path / "cap"), queue_windows=1)
    cap = Capture(writer, pre=1, post=0)
    fr = frames(4)
    cap.step(fr[0], (0.0, 0.3), (0.0, 0.3), "autopilot", takeover=True)
    cap.step(fr[1], (0.0, 0.3), (0.0, 0.3), "autopilot")  # window 1 completes: the writer holds it
    assert entered.wait(30)
    cap.step(fr[2], (0.0, 0.3), (0.0, 0.3), "autopilot", takeover=True)
    cap.step(fr[3], (0.0, 0.3), (0.0, 0.3), "autopilot")  # window 2 fills the one-deep queue
    assert writer.dropped == 0 and writer.q.full()
    cap.step(fr[0], (0.0, 0.3), (0.0, 0.3), "autopilot", takeover=True)  # window 3 still open at the end
    threading.Timer(0.3, gate.set).start()  # the disk catches up while flush waits
    cap.flush(mode="autopilot", distance_m=12.5)
    writer.close()
    assert writer.dropped == 0 and writer.written == 4
    wins = read_windows(tmp_path / "cap")
    assert [w.header["kind"] for w in wins] == ["window"] * 3 + ["session"]
    assert wins[-1].header["distance_m"] == 12.5 and wins[-1].header["windows"] == 3
