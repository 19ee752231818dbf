"""`edgekit train --finetune PILOT --tub CAPTURES --weight-interventions W`: retraining starts from the
pilot's weights, adds the captured windows (labelled with the person's command) weighted W."""
import numpy as np
import pytest

from edgekit.cli import main
from edgekit.shadow.capture import Capture
from edgekit.shadow.pull import pull
from edgekit.shadow.sim import shadow_drive
from edgekit.shadow.store import WindowStore, WindowWriter
from edgekit.sim.record import record
from edgekit.sim.tub import read_records

pytest.importorskip("tensorflow")
KW = dict(epochs=1, batch_size=32, threads=1, show_progress=False, tflite=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from edgekit.models.train import train

    d = tmp_path_factory.mktemp("ft")
    record("oval", 1, d / "base", seed=11, noise=0.3, show_progress=False)
    base = train([d / "base"], d / "base.keras", limit=64, **KW)
    writer = WindowWriter(WindowStore(d / "captures"))
    shadow_drive(lambda f: (0.0, 0.3), "oval", mode="autopilot", laps=1, capture=Capture(writer, pre=5, post=5))
    writer.close()
    pull(d / "captures", d / "cap-tub")
    return d, base


def weights(path):
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


@pytest.mark.slow
def test_finetune_starts_from_the_pilot_and_adds_the_captures(data):
    from edgekit.models.train import train

    d, base = data
    n_cap = len(read_records(d / "cap-tub"))
    s1 = train([d / "base"], d / "w1.keras", limit=64, finetune=d / "base.keras", extra_tubs=[d / "cap-tub"],
               weight_interventions=1.0, **KW)
    s5 = train([d / "base"], d / "w5.keras", limit=64, finetune=d / "base.keras", extra_tubs=[d / "cap-tub"],
               weight_interventions=5.0, **KW)
    fresh = train([d / "base"], d / "fresh.keras", limit=64, extra_tubs=[d / "cap-tub"], **KW)
    assert sum(s1["samples"].values()) == 64 + n_cap and s1["finetune"] == str(d / "base.keras")
    wb, w1, w5, wf = (weights(d / n) for n in ("base.keras", "w1.keras", "w5.keras", "fresh.keras"))
    # one epoch from the base stays close to it; a fresh network (same seed) lands elsewhere
    dist = lambda a, b: sum(float(np.abs(x - y).sum()) for x, y in zip(a, b))  # noqa: E731
    assert 0 < dist(w1, wb) < dist(wf, wb)
    assert dist(w1, w5) > 0  # the weight changes the loss, hence the weights


def _args(d, tmp_path):
    return ["train", str(d / "base"), "--out", str(tmp_path / "p.keras"), "--limit", "64", "--epochs", "1",
            "--threads", "1", "--no-tflite", "--json"]


def test_cli_bad_finetune_input_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "pilot.keras").write_bytes(b"")
    args = _args(tmp_path, tmp_path)
    assert main(args + ["--finetune", str(tmp_path / "nope.keras")]) == 2
    assert "--finetune: no pilot" in capsys.readouterr().err
    assert main(args + ["--finetune", str(tmp_path / "pilot.keras"), "--weight-interventions", "0"]) == 2
    assert "--weight-interventions must be > 0" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_finetune(data, tmp_path, capsys):
    d, _ = data
    args = _args(d, tmp_path)
    assert main(args + ["--finetune", str(d / "base.keras"), "--tub", str(d / "cap-tub"), "--weight-interventions", "3"]) == 0
    assert '"weight_interventions": 3.0' in capsys.readouterr().out
