"""`edgekit data pull|stats`: captured windows come home as a DonkeyCar tub v2 with both commands and
the reason; a pull interrupted mid-transfer and resumed gives the same tub, byte for byte."""
import json

import numpy as np
import pytest

from edgekit.cli import main
from edgekit.shadow.capture import Capture
from edgekit.shadow.pull import pull, stats
from edgekit.shadow.sim import shadow_drive
from edgekit.shadow.store import WindowStore, WindowWriter, read_windows
from edgekit.sim.tub import load_image, read_manifest, read_records


def straight_pilot(frame):
    return 0.0, 0.3


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    """The car's storage after one autopilot lap of the oval with a pilot that cannot turn."""
    d = tmp_path_factory.mktemp("car") / "captures"
    writer = WindowWriter(WindowStore(d))
    res = shadow_drive(straight_pilot, "oval", mode="autopilot", laps=1, capture=Capture(writer, pre=8, post=8))
    writer.close()
    return d, res


def tree(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_pull_writes_a_tub_with_both_commands_and_the_reason(storage, tmp_path):
    src, res = storage
    s = pull(src, tmp_path / "tub")
    windows = [w for w in read_windows(src) if w.header["kind"] == "window"]
    recs = read_records(tmp_path / "tub")
    assert s["windows"] == len(windows) and s["records"] == len(recs) == sum(len(w.frames) for w in windows)
    first = windows[0]
    jpeg = load_image(tmp_path / "tub", recs[0]).astype(int)  # tub images are JPEG: lossy
    assert np.abs(jpeg - first.frames[0]).mean() < 6 < np.abs(jpeg - windows[1].frames[0]).mean()
    r = recs[first.header["trigger"]]
    assert r["ek/event"] == 1 and r["ek/reason"] == first.header["reason"] and r["ek/mode"] == "autopilot"
    assert [r["user/angle"], r["user/throttle"]] == pytest.approx(first.header["records"][first.header["trigger"]]["human"])
    assert r["pilot/angle"] == 0.0 and r["pilot/throttle"] == pytest.approx(0.3)
    assert {x["user/mode"] for x in recs} == {"user", "local"}  # frames the expert drove / the pilot drove
    sessions = read_manifest(tmp_path / "tub")["metadata"]["capture_sessions"]
    assert len(sessions) == 1 and sessions[0]["distance_m"] == pytest.approx(res.drive.distance_m, abs=1e-2)


def test_interrupted_and_resumed_pull_is_byte_identical(storage, tmp_path):
    src, _ = storage
    pull(src, tmp_path / "a" / "tub", chunk=64 << 10)

    def cut(moved):
        if moved >= 3 * (64 << 10):
            raise ConnectionError("link lost")

    with pytest.raises(ConnectionError):
        pull(src, tmp_path / "b" / "tub", on_chunk=cut, chunk=64 << 10)
    assert not (tmp_path / "b" / "tub").exists()
    s = pull(src, tmp_path / "b" / "tub", chunk=64 << 10)
    assert s["bytes_resumed"] == 3 * (64 << 10) and s["bytes_transferred"] > 0
    a, b = tree(tmp_path / "a" / "tub"), tree(tmp_path / "b" / "tub")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    again = pull(src, tmp_path / "b" / "tub")  # nothing new on the car: nothing moves, same tub
    assert again["bytes_transferred"] == 0 and tree(tmp_path / "b" / "tub") == a


def test_staged_bytes_that_differ_from_the_car_are_fetched_again(storage, tmp_path):
    src, _ = storage
    pull(src, tmp_path / "tub")
    staged = next((tmp_path / ".tub.pull").glob("seg-*.ekc"))
    data = bytearray(staged.read_bytes())
    data[100] ^= 0xFF
    staged.write_bytes(bytes(data))
    s = pull(src, tmp_path / "tub")
    assert s["bytes_resumed"] == 0 and s["bytes_transferred"] == len(data)


def test_stats_and_the_cli(storage, tmp_path, capsys):
    src, res = storage
    assert main(["data", "pull", "--from", str(src), "--out", str(tmp_path / "tub"), "--json"]) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["records"] > 0
    assert main(["data", "stats", str(tmp_path / "tub"), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["interventions"]["value"] == res.interventions and st["interventions"]["provenance"] == "modelled"
    assert st["interventions_per_km"]["value"] == pytest.approx(res.interventions_per_km, rel=1e-3)
    assert sum(x["interventions"] for x in st["where"]) == res.interventions
    assert stats([tmp_path / "tub"])["distance"]["value"] == pytest.approx(res.drive.distance_m, abs=0.01)


def test_bad_input_is_a_one_line_error(tmp_path, capsys):
    assert main(["data", "pull", "--from", str(tmp_path), "--out", str(tmp_path / "t")]) == 2
    assert "no capture segments" in capsys.readouterr().err
    assert main(["data", "pull", "--board", "coral", "--port", str(tmp_path / "ttyNOPE"), "--out", str(tmp_path / "t")]) == 2
    assert "no such port" in capsys.readouterr().err
