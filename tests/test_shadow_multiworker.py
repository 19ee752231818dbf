"""`edgekit train --workers H:P,H:P`: TensorFlow's MultiWorkerMirroredStrategy, two worker processes
on loopback (TF_CONFIG per process); they end with the same weights and the pilot drives."""
import json
import socket

import pytest

from edgekit.cli import main
from edgekit.sim.record import record

pytest.importorskip("tensorflow")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_bad_worker_lists_are_one_line_errors(tmp_path, capsys):
    base = ["train", str(tmp_path), "--out", str(tmp_path / "p.keras")]
    assert main(base + ["--workers", "localhost"]) == 2
    assert "not HOST:PORT" in capsys.readouterr().err
    assert main(base + ["--workers", "a:1,a:1"]) == 2
    assert main(base + ["--worker-index", "0"]) == 2
    assert main(base + ["--workers", "10.0.0.2:2222,10.0.0.3:2222"]) == 2
    assert "--worker-index" in capsys.readouterr().err


@pytest.mark.slow
def test_two_workers_on_loopback_train_a_pilot_that_drives(tmp_path, capsys):
    """The recipe of tests/test_train_pilot.py (oval, ~1,100 frames, 4 epochs of batch 16) on two
    workers: the global batch is split between them and the gradients all-reduced."""
    from edgekit.sim.drive import drive
    from edgekit.sim.runners import LiteRTRunner

    record("oval", 3, tmp_path / "a", seed=21, noise=0.3, show_progress=False)
    record("oval", 2, tmp_path / "b", seed=22, noise=0.5, show_progress=False)
    workers = ",".join(f"127.0.0.1:{p}" for p in free_ports(2))
    assert main(["train", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "p.keras"), "--epochs", "4",
                 "--batch-size", "16", "--threads", "1", "--workers", workers, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["workers"]["cluster"] == workers.split(",") and s["workers"]["chief"]
    assert s["workers"]["strategy"] == "tf.distribute.MultiWorkerMirroredStrategy" and len(s["history"]["loss"]) == 4
    assert s["history"]["loss"][-1] < s["history"]["loss"][0]
    result = drive(LiteRTRunner(s["tflite"]), "oval", laps=1)
    assert result.completed, result.figures()
