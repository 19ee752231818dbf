"""Training the pilot on simulator tubs: reproducible, validated, exported to a batch-1 .tflite
that LiteRT runs like Keras; and (slow) a briefly trained pilot driving in closed loop."""
import json

import numpy as np
import pytest

from edgekit.sim.record import record

pytest.importorskip("tensorflow")


@pytest.fixture(scope="session")
def small_tub(tmp_path_factory):
    out = tmp_path_factory.mktemp("tubs") / "oval"
    record("oval", 1, out, seed=11, noise=0.3, show_progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_models(small_tub, tmp_path_factory):
    from edgekit.models.train import train

    d = tmp_path_factory.mktemp("models")
    kw = dict(epochs=1, batch_size=32, limit=96, threads=1, show_progress=False)
    a = train([small_tub], d / "a.keras", seed=0, **kw)
    b = train([small_tub], d / "b.keras", seed=0, tflite=False, **kw)
    c = train([small_tub], d / "c.keras", seed=1, tflite=False, **kw)
    return d, a, b, c


def test_training_is_seeded_and_reports_validation_mae(tiny_models):
    import keras

    d, a, b, c = tiny_models
    wa, wb, wc = (keras.models.load_model(d / f"{n}.keras", compile=False).get_weights() for n in "abc")
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))  # same seed, same weights
    assert not all(np.array_equal(x, y) for x, y in zip(wa, wc))
    assert a["samples"] == {"train": 77, "validation": 19}
    for key in ("val_mae_angle", "val_mae_throttle"):
        assert a[key]["provenance"] == "measured-host" and 0 <= a[key]["value"] < 2
    assert json.loads((d / "a.json").read_text())["val_mae_angle"] == a["val_mae_angle"]


def test_float_tflite_has_batch_one_and_matches_keras(tiny_models, small_tub):
    from edgekit.sim.runners import KerasRunner, LiteRTRunner
    from edgekit.sim.tub import read_frames

    d, a, _, _ = tiny_models
    lite = LiteRTRunner(a["tflite"])
    assert tuple(lite.inp["shape"]) == (1, 120, 160, 3) and lite.inp["dtype"] == np.float32
    keras_runner = KerasRunner(d / "a.keras")
    frames, _, _ = read_frames(small_tub, limit=3, seed=0)
    for f in frames:
        assert np.allclose(lite(f), keras_runner(f), atol=1e-4)


@pytest.mark.slow
def test_briefly_trained_pilot_drives_a_lap(tmp_path):
    """Small version of the hand-run pilot (see the issue note for the full 3-lap result): ~1,000
    frames, 3 epochs on one thread (~1 min). Proves the record -> train -> drive loop closes and
    that the learned policy steers: it must complete one lap of the oval."""
    from edgekit.models.train import train
    from edgekit.sim.drive import drive
    from edgekit.sim.runners import LiteRTRunner

    record("oval", 3, tmp_path / "a", seed=21, noise=0.3, show_progress=False)
    record("oval", 2, tmp_path / "b", seed=22, noise=0.5, show_progress=False)
    s = train([tmp_path / "a", tmp_path / "b"], tmp_path / "p.keras", epochs=3, threads=1, show_progress=False)
    result = drive(LiteRTRunner(s["tflite"]), "oval", laps=1)
    assert result.completed, result.figures()
    assert result.real_time_factor > 1
