"""The TFLM golden in a child process (edgekit.golden.child): same results as in-process, and a
model TFLM cannot run (it aborts the process, or refuses in Prepare) is one line, exit 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from int8_models import convert_int8  # noqa: E402


@pytest.fixture(scope="session")
def gdir(tmp_path_factory):
    return tmp_path_factory.mktemp("golden")


def _edgekit(*args):
    return subprocess.run([sys.executable, "-m", "edgekit", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def tiny_logits(gdir):
    """Untrained-looking classifier: logits ~1e-7, so the SOFTMAX input scale is < 2^-26 and
    TFLM's CalculateSoftmaxParams aborts (as on Keras MobileNets built with weights=None)."""
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(2)
    inp = keras.Input((6, 6, 3), batch_size=1)
    x = L.Dense(10, kernel_initializer=keras.initializers.RandomNormal(stddev=1e-8))(L.Flatten()(inp))
    rng = np.random.default_rng(0)
    return convert_int8(keras.Model(inp, L.Softmax()(x)), [rng.random((1, 6, 6, 3)) for _ in range(8)],
                        gdir / "tiny_logits.tflite")


def test_verify_reports_golden_abort(tiny_logits):
    r = _edgekit("verify", str(tiny_logits), "--inputs", "3")
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "TFLM golden cannot run" in lines[0] and "SIGABRT" in lines[0] and "SOFTMAX" in lines[0], lines[0]


def test_child_golden_matches_in_process(gdir):
    import keras
    from keras import layers as L

    from edgekit.golden import TflmRunner
    from edgekit.golden.child import ChildGolden

    keras.utils.set_random_seed(3)
    inp = keras.Input((6, 6, 3), batch_size=1)
    path = convert_int8(keras.Model(inp, L.Conv2D(4, 3, activation="relu")(inp)),
                        [np.random.default_rng(0).random((1, 6, 6, 3)) for _ in range(4)], gdir / "conv.tflite")
    x = np.random.default_rng(1).integers(-128, 128, (1, 6, 6, 3), dtype=np.int8)
    with ChildGolden(path) as child:
        got = child([x])
        arena = child.arena_bytes()
        t = child.tensor(0)
    ref = TflmRunner(path)
    assert np.array_equal(got[0], ref([x])[0])
    assert arena > 0 and t.shape == ref.tensor(0).shape


def test_concat_at_differing_scales_refused_like_tflm(gdir):
    """TFLM's CONCATENATION Prepare refuses inputs whose scale differs from the output's: edgekit
    refuses the same model in one line, and verify says the golden cannot run it."""
    import keras
    import tflite
    from keras import layers as L

    from edgekit.codegen.reader import read_tflite

    keras.utils.set_random_seed(3)
    inp = keras.Input((6, 6, 3), batch_size=1)
    x = L.Concatenate()([L.Conv2D(2, 1)(inp), L.Conv2D(3, 3, padding="same")(inp)])
    path = convert_int8(keras.Model(inp, L.Conv2D(2, 1)(x)),
                        [np.random.default_rng(0).random((1, 6, 6, 3)) * 2 - 1 for _ in range(8)], gdir / "cat.tflite")
    op = next(o for o in read_tflite(path).ops if o.kind == "CONCATENATION")
    buf = bytearray(path.read_bytes())
    q = tflite.Model.GetRootAsModel(buf, 0).Subgraphs(0).Tensors(op.inputs[0]).Quantization()
    at = q._tab.Vector(q._tab.Offset(8))            # QuantizationParameters.scale
    buf[at:at + 4] = (np.frombuffer(bytes(buf[at:at + 4]), np.float32) * np.float32(1.7)).tobytes()
    bad = gdir / "cat_scaled.tflite"
    bad.write_bytes(bytes(buf))
    r = _edgekit("compile", str(bad), "--out", str(gdir / "cat_c"), "--no-size")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "CONCATENATION" in r.stderr, r.stderr
    from edgekit.golden.child import ChildGolden, GoldenError
    with pytest.raises(GoldenError, match="concatenation"):
        ChildGolden(bad)
