"""DonkeyCar tub v2 layout, field by field (docs/SOURCES.md §7; donkeycar/parts/tub_v2.py + datastore_v2.py):
our writer's files are checked against the format description, a tub written by hand the way
DonkeyCar writes it is read by our reader, and deletes are honoured."""
import json
import time

import numpy as np
import pytest
from PIL import Image

from edgekit.errors import UserError
from edgekit.sim.tub import INPUTS, TYPES, TubWriter, read_frames, read_manifest, read_records

N = 1005  # crosses the 1000-record catalog rollover


def _lines(path):
    with open(path, newline="") as f:
        text = f.read()
    assert text.endswith("\r\n")
    return text.split("\r\n")[:-1]


@pytest.fixture(scope="module")
def tub(tmp_path_factory):
    path = tmp_path_factory.mktemp("tub")
    rng = np.random.default_rng(0)
    written = []
    with TubWriter(path, metadata={"track": "oval"}) as w:
        for i in range(N):
            rec = {"cam/image_array": rng.integers(0, 255, (12, 16, 3), dtype=np.uint8),
                   "user/angle": float(rng.uniform(-1, 1)), "user/throttle": float(rng.uniform(0, 1)),
                   "user/mode": "user"}
            w.write_record(rec)
            written.append(rec)
    return path, written


def test_manifest_is_five_json_lines(tub):
    path, _ = tub
    lines = _lines(path / "manifest.json")
    assert len(lines) == 5
    inputs, types, metadata, meta, catalogs = (json.loads(x) for x in lines)
    assert inputs == INPUTS == ["cam/image_array", "user/angle", "user/throttle", "user/mode"]
    assert types == TYPES == ["image_array", "float", "float", "str"]
    assert metadata == {"track": "oval"}
    assert set(meta) == {"created_at", "sessions"} and meta["created_at"] <= time.time()
    day = time.strftime("%y-%m-%d")
    assert meta["sessions"] == {"all_full_ids": [f"{day}_0"], "last_id": 0, "last_full_id": f"{day}_0"}
    assert list(catalogs) == ["paths", "current_index", "max_len", "deleted_indexes"]
    assert catalogs == {"paths": ["catalog_0.catalog", "catalog_1.catalog"], "current_index": N,
                        "max_len": 1000, "deleted_indexes": []}


def test_catalogs_roll_over_at_1000_with_line_lengths(tub):
    path, _ = tub
    for n, (start, count) in enumerate([(0, 1000), (1000, N - 1000)]):
        lines = _lines(path / f"catalog_{n}.catalog")
        assert len(lines) == count
        manifest_lines = _lines(path / f"catalog_{n}.catalog_manifest")
        assert len(manifest_lines) == 1
        cm = json.loads(manifest_lines[0])
        assert manifest_lines[0] == json.dumps(cm, sort_keys=True)
        assert sorted(cm) == ["created_at", "line_lengths", "path", "start_index"]
        assert cm["path"] == f"catalog_{n}.catalog_manifest" and cm["start_index"] == start
        assert cm["line_lengths"] == [len(x) + 2 for x in lines]  # each counts its "\r\n"
        assert sum(cm["line_lengths"]) == (path / f"catalog_{n}.catalog").stat().st_size


def test_records_are_sorted_json_with_private_fields(tub):
    path, written = tub
    lines = _lines(path / "catalog_0.catalog") + _lines(path / "catalog_1.catalog")
    day = time.strftime("%y-%m-%d")
    for i, (line, src) in enumerate(zip(lines, written)):
        rec = json.loads(line)
        assert line == json.dumps(rec, sort_keys=True)
        assert sorted(rec) == ["_index", "_session_id", "_timestamp_ms", "cam/image_array", "user/angle",
                               "user/mode", "user/throttle"]
        assert rec["_index"] == i and rec["_session_id"] == f"{day}_0" and isinstance(rec["_timestamp_ms"], int)
        assert rec["cam/image_array"] == f"{i}_cam_image_array_.jpg"
        assert (path / "images" / rec["cam/image_array"]).is_file()
        assert rec["user/angle"] == src["user/angle"] and rec["user/throttle"] == src["user/throttle"]


def test_reader_reads_back_what_was_written(tub):
    path, written = tub
    records = read_records(path)
    assert [r["_index"] for r in records] == list(range(N))
    assert [r["user/angle"] for r in records] == [w["user/angle"] for w in written]
    frames, angles, throttles = read_frames(path)
    assert frames.shape == (N, 12, 16, 3) and frames.dtype == np.uint8
    assert np.array_equal(angles, np.float32([w["user/angle"] for w in written]))
    with Image.open(path / "images" / "7_cam_image_array_.jpg") as im:
        assert np.array_equal(frames[7], np.asarray(im))  # exactly the JPEG's pixels
    sub, _, _ = read_frames(path, limit=10, seed=3)
    again, _, _ = read_frames(path, limit=10, seed=3)
    assert sub.shape[0] == 10 and np.array_equal(sub, again)


def test_deletes_and_new_sessions_append(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    with TubWriter(tmp_path, max_len=3) as w:
        for i in range(5):
            w.write_record({"cam/image_array": img, "user/angle": i / 10, "user/throttle": 0.5, "user/mode": "user"})
        w.delete_records([1, 3])
    man = read_manifest(tmp_path)
    assert man["deleted_indexes"] == [1, 3] and man["current_index"] == 5
    assert [r["_index"] for r in read_records(tmp_path)] == [0, 2, 4]
    assert len(_lines(tmp_path / "catalog_0.catalog")) == 3  # deleting never rewrites catalogs
    with TubWriter(tmp_path) as w:  # a second session continues the same tub
        w.write_record({"cam/image_array": img, "user/angle": 0.9, "user/throttle": 0.5, "user/mode": "user"})
    man = read_manifest(tmp_path)
    assert man["paths"] == ["catalog_0.catalog", "catalog_1.catalog"] and man["current_index"] == 6
    assert man["manifest"]["sessions"]["last_id"] == 1 and len(man["manifest"]["sessions"]["all_full_ids"]) == 2
    recs = read_records(tmp_path)
    assert [r["_index"] for r in recs] == [0, 2, 4, 5] and recs[-1]["_session_id"].endswith("_1")


def test_reads_a_tub_laid_out_by_donkeycar(tmp_path):
    """A tub as DonkeyCar 5 writes it (written here from the format description, with an extra
    input and a deleted record), read by edgekit."""
    nl = "\r\n"
    (tmp_path / "images").mkdir()
    recs = []
    for i in range(4):
        Image.fromarray(np.full((120, 160, 3), 40 * i, np.uint8)).save(tmp_path / "images" / f"{i}_cam_image_array_.jpg")
        recs.append({"_index": i, "_session_id": "21-04-05_0", "_timestamp_ms": 1617600000000 + 50 * i,
                     "cam/image_array": f"{i}_cam_image_array_.jpg", "user/angle": -0.5 + 0.25 * i,
                     "user/mode": "user", "user/throttle": 0.3, "car/accel": [0.1, 0.2, 9.8]})
    lines = [json.dumps(r, sort_keys=True) + nl for r in recs]
    (tmp_path / "catalog_0.catalog").write_text("".join(lines), newline="")
    (tmp_path / "catalog_0.catalog_manifest").write_text(json.dumps(
        {"created_at": 1617600000.1, "line_lengths": [len(x) for x in lines], "path": "catalog_0.catalog_manifest",
         "start_index": 0}, sort_keys=True) + nl, newline="")
    manifest = [INPUTS + ["car/accel"], TYPES + ["vector"], {},
                {"created_at": 1617600000.0, "sessions": {"all_full_ids": ["21-04-05_0"], "last_id": 0,
                                                          "last_full_id": "21-04-05_0"}},
                {"paths": ["catalog_0.catalog"], "current_index": 4, "max_len": 1000, "deleted_indexes": [2]}]
    (tmp_path / "manifest.json").write_text("".join(json.dumps(x) + nl for x in manifest), newline="")
    records = read_records(tmp_path)
    assert [r["_index"] for r in records] == [0, 1, 3]
    assert records[0]["car/accel"] == [0.1, 0.2, 9.8]
    frames, angles, throttles = read_frames(tmp_path)
    assert frames.shape == (3, 120, 160, 3) and abs(int(frames[2].mean()) - 120) <= 2
    assert np.allclose(angles, [-0.5, -0.25, 0.25]) and np.allclose(throttles, 0.3)


def test_not_a_tub_is_a_user_error(tmp_path):
    with pytest.raises(UserError):
        read_records(tmp_path)
