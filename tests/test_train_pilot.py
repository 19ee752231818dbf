"""Training the pilot on simulator tubs: reproducible, validated, exported to a batch-1 .tflite
that LiteRT runs like Keras; and (slow) a briefly trained pilot driving in closed loop."""
import json

import numpy as np
import pytest
from int8_models import convert_int8

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
    """Small version of the hand-run pilot (the full run: ~5,200 frames, 6 epochs, 3 laps of the
    oval and of the unseen winding track): ~1,100 frames of the oval, 4 epochs of batch 16 on one
    thread (~35 s CPU). Proves the record -> train -> drive loop closes and that the learned policy
    steers from pixels: it must complete one lap of the oval it was trained on."""
    from edgekit.models.train import train
    from edgekit.sim.drive import drive
    from edgekit.sim.runners import LiteRTRunner

    record("oval", 3, tmp_path / "a", seed=21, noise=0.3, show_progress=False)
    record("oval", 2, tmp_path / "b", seed=22, noise=0.5, show_progress=False)
    s = train([tmp_path / "a", tmp_path / "b"], tmp_path / "p.keras", epochs=4, batch_size=16,
              threads=1, show_progress=False)
    result = drive(LiteRTRunner(s["tflite"]), "oval", laps=1)
    assert result.completed, result.figures()
    assert result.real_time_factor > 1


def _int8_tflite(keras_path, frames, out):
    """Full-integer conversion with the TF converter (docs/SOURCES.md §2), for the runner tests."""
    import keras

    from edgekit.models.pilot import with_batch_one

    model = with_batch_one(keras.models.load_model(keras_path, compile=False))
    return convert_int8(model, [f[None].astype(np.float32) / 255 for f in frames], out)


@pytest.mark.slow
def test_int8_and_compiled_runners_agree(tiny_models, small_tub, tmp_path):
    """LiteRT INT8 (input quantized with the model's scale/zero point, outputs dequantized) is
    close to Keras; the generated C model (edgekit compile + edgekit.runtime) matches LiteRT INT8."""
    from edgekit.sim.runners import CompiledRunner, KerasRunner, LiteRTRunner
    from edgekit.sim.tub import read_frames

    d, _, _, _ = tiny_models
    frames, _, _ = read_frames(small_tub, limit=40, seed=2)
    int8 = _int8_tflite(d / "a.keras", frames[:32], tmp_path / "a_int8.tflite")
    lite, ref = LiteRTRunner(int8), KerasRunner(d / "a.keras")
    scales = [det["quantization"][0] for det, _ in lite.outs]
    for f in frames[32:]:
        assert np.all(np.abs(np.subtract(lite(f), ref(f))) <= 4 * np.array(scales) + 0.02)
    compile_cli = pytest.importorskip("edgekit.cli.compile")
    pytest.importorskip("edgekit.runtime")
    from edgekit.cli import main

    assert main(["compile", str(int8), "--out", str(tmp_path / "c"), "--no-size"]) == 0
    compiled = CompiledRunner(tmp_path / "c")
    for f in frames[32:]:  # XNNPACK rounds once, TFLM-style kernels twice: 1-2 LSB apart at most
        assert np.all(np.abs(np.subtract(compiled(f), lite(f))) <= 2.01 * np.array(scales)), compile_cli
