"""The models users bring, built here from public architectures with random weights, converted to
full INT8 by the real TF converter at small input sizes, compiled by edgekit and compared with
TFLM bit for bit (or refused in one line naming the op):

- DonkeyCar 5.3's pilots (equivalent models written from the layer lists of its keras.py):
  KerasLinear, Categorical, Localizer, Latent, Memory, IMU, Behavioral, LSTM, 3D-CNN;
- keras.applications MobileNet V1, V2, V3-small, V3-large, EfficientNet-B0 (weights=None);
- a YOLO-style detector head (LEAKY_RELU, CONCATENATION, upsampling, LOGISTIC).

The Keras applications end in a classifier without softmax here: with untrained weights their
logits are ~1e-6 and TFLM itself aborts preparing a SOFTMAX with such an input scale (see
test_verify_reports_golden_abort and edgekit/golden/child.py).

By hand, the table of the issue note (100 inputs each, arena, latency vs LiteRT XNNPACK):
`python tests/test_model_families.py --table DIR [NAME ...]`.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from int8_models import convert_int8  # noqa: E402


def _core_cnn(x, L):
    """DonkeyCar core_cnn_layers: 24@5x5/2, 32@5x5/2, 64@5x5/2, 64@3x3, 64@3x3 (ReLU, dropout 0.2), flatten."""
    for filters, k, s in ((24, 5, 2), (32, 5, 2), (64, 5, 2), (64, 3, 1), (64, 3, 1)):
        x = L.Dropout(0.2)(L.Conv2D(filters, k, strides=s, activation="relu")(x))
    return L.Flatten()(x)


def _dense_head(x, L):
    x = L.Dropout(0.2)(L.Dense(100, activation="relu")(x))
    return L.Dropout(0.2)(L.Dense(50, activation="relu")(x))


IMG = (64, 64, 3)


def donkey(kind):
    import keras
    from keras import layers as L

    img = keras.Input(IMG, batch_size=1, name="in0_img")
    if kind == "linear":
        x = _dense_head(_core_cnn(img, L), L)
        return keras.Model(img, [L.Dense(1, name="angle")(x), L.Dense(1, name="throttle")(x)])
    if kind == "categorical":
        x = _dense_head(_core_cnn(img, L), L)
        return keras.Model(img, [L.Dense(15, activation="softmax")(x), L.Dense(20, activation="softmax")(x)])
    if kind == "localizer":
        x = _dense_head(_core_cnn(img, L), L)
        return keras.Model(img, [L.Dense(1)(x), L.Dense(1)(x), L.Dense(8, activation="softmax")(x)])
    if kind == "latent":      # encoder, latent, Conv2DTranspose decoder (image) + drive outputs
        x = img
        for f in (24, 32, 64, 64):
            x = L.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
        z = L.Conv2D(10, 1, activation="relu", name="latent")(x)
        y = z
        for f in (64, 64, 32, 3):
            y = L.Conv2DTranspose(f, 3, strides=2, padding="valid", activation="relu")(y)
        d = _dense_head(L.Flatten()(z), L)
        return keras.Model(img, [y, L.Dense(1)(d), L.Dense(1)(d)])
    extra = {"memory": 6, "imu": 6, "behavioral": 3}[kind]
    aux = keras.Input((extra,), batch_size=1, name="in1_aux")
    x = L.Dropout(0.2)(L.Dense(100, activation="relu")(_core_cnn(img, L)))
    a = aux
    for _ in range(3 if kind == "imu" else 2):
        a = L.Dense(14 if kind == "imu" else extra * 2, activation="relu")(a)
    x = L.Concatenate()([x, a])
    x = L.Dropout(0.2)(L.Dense(50, activation="relu")(L.Dense(100, activation="relu")(x)))
    return keras.Model([img, aux], [L.Dense(1)(x), L.Dense(1)(x)])


def donkey_lstm():
    import keras
    from keras import layers as L

    seq = keras.Input((3, 32, 32, 3), batch_size=1)
    x = seq
    for f, k, s in ((24, 5, 2), (32, 5, 2), (32, 3, 1)):
        x = L.TimeDistributed(L.Conv2D(f, k, strides=s, activation="relu"))(x)
    x = L.TimeDistributed(L.Flatten())(x)
    x = L.LSTM(32, return_sequences=True)(x)
    x = L.LSTM(32)(x)
    x = L.Dense(10, activation="relu")(L.Dense(64, activation="relu")(x))
    return keras.Model(seq, L.Dense(2)(x))


def donkey_lstm_unrolled():
    """The same pilot with LSTM(unroll=True): the converter emits FULLY_CONNECTED, LOGISTIC, TANH,
    MUL, ADD, SPLIT, PACK, UNPACK instead of the fused UNIDIRECTIONAL_SEQUENCE_LSTM. TimeDistributed
    is spelled as a reshape of the frames into the batch (Keras 3's TimeDistributed converts to
    5-D STRIDED_SLICEs, which TFLM refuses: "input dim should not exceed 4")."""
    import keras
    from keras import layers as L
    from keras import ops

    seq = keras.Input((3, 32, 32, 3), batch_size=1)
    x = L.Lambda(lambda t: ops.reshape(t, (3, 32, 32, 3)))(seq)
    for f, k, s in ((24, 5, 2), (32, 5, 2), (32, 3, 1)):
        x = L.Conv2D(f, k, strides=s, activation="relu")(x)
    x = L.Lambda(lambda t: ops.reshape(t, (1, 3, -1)))(x)
    x = L.LSTM(32, return_sequences=True, unroll=True)(x)
    x = L.LSTM(32, unroll=True)(x)
    x = L.Dense(10, activation="relu")(L.Dense(64, activation="relu")(x))
    return keras.Model(seq, L.Dense(2)(x))


def donkey_3d():
    import keras
    from keras import layers as L

    seq = keras.Input((4, 32, 32, 3), batch_size=1)
    x = L.Conv3D(16, (3, 3, 3), strides=(1, 2, 2), activation="relu")(seq)
    x = L.Conv3D(32, (2, 3, 3), strides=(1, 2, 2), activation="relu")(x)
    x = L.Flatten()(x)
    return keras.Model(seq, [L.Dense(1)(x), L.Dense(1)(x)])


def application(name):
    import keras

    A = keras.applications
    kw = dict(weights=None, classes=10, classifier_activation=None)
    if name == "mobilenet_v1":
        return A.MobileNet(input_shape=(32, 32, 3), alpha=0.25, **kw)
    if name == "mobilenet_v2":
        return A.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, **kw)
    if name == "mobilenet_v3_small":
        return A.MobileNetV3Small(input_shape=(32, 32, 3), alpha=0.75, include_preprocessing=False, **kw)
    if name == "mobilenet_v3_large":
        return A.MobileNetV3Large(input_shape=(32, 32, 3), alpha=0.75, include_preprocessing=False, **kw)
    if name == "efficientnet_b0":
        return A.EfficientNetB0(input_shape=(32, 32, 3), include_top=True, **kw)
    raise KeyError(name)


def yolo_head():
    """A tiny YOLOv3-style detector: LEAKY_RELU backbone, upsampled route concatenated with an
    earlier feature map, per-cell box/objectness/class logits through a sigmoid."""
    import keras
    from keras import layers as L

    inp = keras.Input((32, 32, 3), batch_size=1)

    def cbl(x, f, k=3, s=1):
        return L.LeakyReLU(0.1)(L.Conv2D(f, k, strides=s, padding="same")(x))
    x = cbl(inp, 8)
    x = L.MaxPooling2D(2)(x)
    route = cbl(x, 16)
    x = cbl(L.MaxPooling2D(2)(route), 32)
    big = L.Activation("sigmoid")(L.Conv2D(3 * 7, 1)(cbl(x, 32)))
    up = L.UpSampling2D(2, interpolation="bilinear")(cbl(x, 16, 1))
    x = cbl(L.Concatenate()([up, route]), 16)
    small = L.Activation("sigmoid")(L.Conv2D(3 * 7, 1)(x))
    return keras.Model(inp, [big, small])


FAMILIES = {
    **{f"donkey_{k}": (lambda k=k: donkey(k)) for k in
       ("linear", "categorical", "localizer", "latent", "memory", "imu", "behavioral")},
    "donkey_lstm": donkey_lstm, "donkey_lstm_unrolled": donkey_lstm_unrolled, "donkey_3d": donkey_3d,
    **{n: (lambda n=n: application(n)) for n in
       ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0")},
    "yolo_head": yolo_head,
}
# refused in one line naming the op (None: compiles and must be bit-identical with TFLM)
REFUSED = {"donkey_lstm": "UNIDIRECTIONAL_SEQUENCE_LSTM", "donkey_3d": "CONV_3D"}
HEAVY = {"mobilenet_v3_large", "efficientnet_b0", "donkey_lstm", "donkey_lstm_unrolled"}


def build(name: str, out_dir: Path) -> Path:
    import keras

    path = out_dir / f"{name}.tflite"
    if path.exists():
        return path
    keras.utils.set_random_seed(7)
    model = FAMILIES[name]()
    rng = np.random.default_rng(7)
    shapes = [tuple(t.shape[1:]) for t in model.inputs]
    samples = [[rng.uniform(-1, 1, (1,) + s).astype(np.float32) for s in shapes] for _ in range(8)]
    return convert_int8(model, samples if len(shapes) > 1 else [s[0] for s in samples], path)


@pytest.fixture(scope="session")
def family_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("families")


def _cases():
    for name in FAMILIES:
        marks = [pytest.mark.slow] if name in HEAVY else []
        yield pytest.param(name, marks=marks, id=name)


CONVERTER_CRASH = -11   # SIGSEGV


@pytest.mark.parametrize("name", list(_cases()))
def test_family_compiles_bit_exact_or_refuses(name, family_dir):
    if name == "donkey_lstm":
        # TF 2.21's converter segfaults quantizing Keras 3 LSTMs to full INT8 (measured here):
        # convert in a child so the crash cannot take pytest down, and say so plainly
        c = subprocess.run([sys.executable, __file__, "--build", name, str(family_dir)], capture_output=True,
                           text=True, timeout=1800)
        if c.returncode == CONVERTER_CRASH:
            pytest.skip("TF converter (2.21) segfaults converting a Keras LSTM to full INT8: no .tflite to compile")
        assert c.returncode == 0, c.stderr[-1500:]
    if name == "donkey_lstm_unrolled":
        _build_without_float_island(name, family_dir)
    path = build(name, family_dir)
    r = subprocess.run([sys.executable, "-m", "edgekit", "verify", str(path), "--inputs", "5", "--json"],
                       capture_output=True, text=True, timeout=1800)
    if name in REFUSED:
        assert r.returncode == 2, r.stdout + r.stderr
        err = r.stderr.strip().splitlines()
        assert len(err) == 1 and REFUSED[name] in err[0] and "Traceback" not in r.stderr, r.stderr
        return
    assert r.returncode == 0, r.stderr[-2000:]
    import json
    rep = json.loads(r.stdout)
    assert rep["bit_identical_inputs"] == 5, rep


def _build_without_float_island(name, family_dir, tries: int = 4):
    """Measured here: about 1 conversion in 6 of the unrolled LSTM (same seed, fresh process) leaves
    one step's gate SPLIT in float (DEQUANTIZE -> SPLIT -> QUANTIZE), which edgekit refuses (no
    DEQUANTIZE kernel); convert again in a fresh process until the model is full INT8."""
    from edgekit.codegen.reader import read_tflite

    path = family_dir / f"{name}.tflite"
    for _ in range(tries):
        if not path.exists():
            c = subprocess.run([sys.executable, __file__, "--build", name, str(family_dir)], capture_output=True,
                               text=True, timeout=1800)
            assert c.returncode == 0, c.stderr[-1500:]
        if "DEQUANTIZE" not in {op.kind for op in read_tflite(path).ops}:
            return
        path.unlink()
    pytest.fail(f"the TF converter left a float DEQUANTIZE in {name} in {tries} conversions")


def xnnpack_ms(path, runs: int = 50) -> tuple[float, float]:
    """(median wall ms, mean process-CPU ms) of LiteRT's default interpreter (XNNPACK delegate),
    one thread, random int8 input."""
    import time

    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in interp.get_input_details():
        x = rng.integers(-128, 128, d["shape"]).astype(d["dtype"]) if d["dtype"] == np.int8 else \
            rng.uniform(-1, 1, d["shape"]).astype(d["dtype"])
        interp.set_tensor(d["index"], x)
    interp.invoke()
    walls = []
    c0 = time.process_time()
    for _ in range(runs):
        t0 = time.perf_counter()
        interp.invoke()
        walls.append((time.perf_counter() - t0) * 1000)
    return float(np.median(walls)), (time.process_time() - c0) * 1000 / runs


def table(names, out_dir: Path, n_inputs: int = 100) -> None:
    """One markdown row per model: ops, result over n_inputs, arena vs TFLM, latency vs XNNPACK."""
    import json

    from edgekit.codegen.reader import read_tflite
    print("| model | ops | result | arena B (edgekit / TFLM) | wall ms (edgekit C / XNNPACK) | CPU ms (edgekit C / XNNPACK) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        c = subprocess.run([sys.executable, __file__, "--build", name, str(out_dir)], capture_output=True, text=True)
        if c.returncode != 0:
            print(f"| {name} | - | not converted: TF converter exit {c.returncode} | - | - | - |", flush=True)
            continue
        path = out_dir / f"{name}.tflite"
        try:
            ops = ", ".join(sorted({op.kind for op in read_tflite(path).ops}))
        except Exception as exc:
            ops = f"unreadable: {exc}"
        r = subprocess.run([sys.executable, "-m", "edgekit", "verify", str(path), "--inputs", str(n_inputs), "--json"],
                           capture_output=True, text=True)
        if r.returncode == 2:
            print(f"| {name} | {ops} | refused: {r.stderr.strip().split('not supported by edgekit compile: ')[-1]} "
                  f"| - | - | - |", flush=True)
            continue
        rep = json.loads(r.stdout)
        wall, cpu = xnnpack_ms(path)
        print(f"| {name} | {ops} | {rep['bit_identical_inputs']}/{n_inputs} bit-identical | "
              f"{rep['arena_bytes']['value']} / {rep['tflm_arena_bytes']['value']} | "
              f"{rep['latency_ms']['value']:.3f} / {wall:.3f} | {rep['cpu_ms']['value']:.3f} / {cpu:.3f} |", flush=True)


if __name__ == "__main__":
    # python tests/test_model_families.py --build NAME DIR
    # python tests/test_model_families.py --table DIR [NAME ...]   (the note's table, 100 inputs)
    if sys.argv[1] == "--build":
        print(build(sys.argv[2], Path(sys.argv[3])))
    else:
        Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
        table(sys.argv[3:] or list(FAMILIES), Path(sys.argv[2]))
