"""`edgekit quantize` on a tiny quickly-trained pilot: the file really is full INT8 (read back with
LiteRT), INT8 steering MAE stays within 10% of float on held-out frames, the report is complete."""
from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.cli import main

H, W = 72, 96  # the smallest input KerasLinear's five valid convolutions accept comfortably


def stripe_frames(n: int, seed: int):
    """Synthetic road: a bright vertical stripe whose position sets the steering angle."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0.1, 0.9, n)
    x = (rng.random((n, H, W, 3)) * 60).astype(np.uint8)
    for i, c in enumerate((pos * W).astype(int)):
        x[i, :, max(c - 4, 0):c + 4, :] = 230
    angle = ((pos - 0.5) * 2).astype(np.float32)
    return x, angle, (0.5 - 0.3 * np.abs(angle)).astype(np.float32)


@pytest.fixture(scope="session")
def tiny_pilot(tmp_path_factory):
    """A pilot trained for 3 epochs on 600 stripe frames (~10 s), saved as .keras, and its
    `edgekit quantize` run (CLI, in-process) on a separate calibration .npz."""
    import keras

    from edgekit.models.pilot import build_pilot

    d = tmp_path_factory.mktemp("quantize")
    keras.utils.set_random_seed(0)
    x, a, t = stripe_frames(600, 0)
    model = build_pilot(input_shape=(H, W, 3), dropout=0.0)
    model.fit(x / 255.0, [a, t], epochs=3, batch_size=32, verbose=0)
    model.save(d / "pilot.keras")
    cx, ca, ct = stripe_frames(300, 1)
    np.savez(d / "calib.npz", frames=cx, angles=ca, throttles=ct)
    rc = main(["quantize", str(d / "pilot.keras"), "--calib", str(d / "calib.npz"), "--out", str(d / "pilot_int8.tflite"),
               "--report", str(d / "report.json"), "--samples", "100", "--layer-frames", "8"])
    assert rc == 0
    return {"dir": d, "model": model, "int8": d / "pilot_int8.tflite",
            "report": json.loads((d / "report.json").read_text())}


def test_every_tensor_is_int8_read_back_with_litert(tiny_pilot):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(tiny_pilot["int8"]))
    ops = it._get_ops_details()
    assert not {"SHAPE", "STRIDED_SLICE", "PACK"} & {o["op_name"] for o in ops}
    details = {d["index"]: d for d in it.get_tensor_details()}
    assert all(d["dtype"] == np.int8 for d in it.get_input_details() + it.get_output_details())
    for op in ops:
        if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED"):
            act, weights, bias = (details[i] for i in op["inputs"])
            assert act["dtype"] == np.int8 and weights["dtype"] == np.int8 and bias["dtype"] == np.int32
            qp = weights["quantization_parameters"]
            assert len(qp["scales"]) == weights["shape"][0], "per-channel weights (axis 0)"
            assert not np.any(qp["zero_points"]), "symmetric weights"
        for i in op["outputs"]:
            assert details[i]["dtype"] == np.int8, f"{op['op_name']} output {details[i]['name']}"
    inp = it.get_input_details()[0]
    assert inp["quantization"][1] == -128 and abs(inp["quantization"][0] - 1 / 255) < 1e-4


def test_int8_steering_mae_within_10_percent_of_float(tiny_pilot):
    """Independent of the tool's report: fresh held-out frames, Keras float vs LiteRT INT8."""
    from ai_edge_litert.interpreter import Interpreter

    x, angle, _ = stripe_frames(150, 2)
    float_angle = tiny_pilot["model"].predict(x / 255.0, verbose=0)[0][:, 0]
    it = Interpreter(model_path=str(tiny_pilot["int8"]))
    it.allocate_tensors()
    inp, out0 = it.get_input_details()[0], it.get_output_details()[0]  # output 0 is the angle
    s_in, z_in = inp["quantization"]
    s_out, z_out = out0["quantization"]
    q_angle = []
    for frame in x:
        it.set_tensor(inp["index"], np.clip(np.round(frame[None] / 255.0 / s_in) + z_in, -128, 127).astype(np.int8))
        it.invoke()
        q_angle.append((float(it.get_tensor(out0["index"]).ravel()[0]) - z_out) * s_out)
    mae_f, mae_q = np.abs(float_angle - angle).mean(), np.abs(np.array(q_angle) - angle).mean()
    assert mae_f < 0.1, f"tiny pilot did not learn ({mae_f})"
    assert mae_q <= 1.10 * mae_f, (mae_f, mae_q)


def test_report_has_accuracy_layers_sizes_ops_and_edgetpu(tiny_pilot):
    r = tiny_pilot["report"]
    angle, throttle = r["outputs"]
    assert angle["name"] == "angle" and throttle["name"] == "throttle"
    assert angle["mae_int8_vs_label"]["value"] <= 1.10 * angle["mae_float_vs_label"]["value"]
    assert r["physical"]["steering_mae_int8_vs_float"]["unit"] == "deg"
    assert r["physical"]["max_steer_deg"]["provenance"] == "modelled"
    assert r["op_counts"] == {"CONV_2D": 5, "RESHAPE": 1, "FULLY_CONNECTED": 4}
    assert r["sizes"]["int8_tflite"]["value"] < r["sizes"]["float_tflite"]["value"] / 3
    layers = r["per_layer"]["layers"]
    assert len(layers) == 10 and r["per_layer"]["reference"] == "float"
    assert 1 <= r["per_layer"]["worst_layer"]["op_index"] < 10
    assert all(layer["snr_db"] is not None and layer["snr_db"] > 20 for layer in layers), layers
    assert r["edgetpu"]["fully_mapped"] and r["edgetpu"]["fits_on_chip_cache"]
    assert r["calibration"]["representative_frames"] == 100


def test_output_order_follows_keras(tiny_pilot):
    """The subgraph's output 0 is the angle (the converter lists throttle first; we reorder)."""
    from tflite_micro.python.tflite_micro import runtime

    from edgekit.quantize import run

    x, _, _ = stripe_frames(4, 3)
    f = tiny_pilot["model"].predict(x / 255.0, verbose=0)
    interp = runtime.Interpreter.from_file(str(tiny_pilot["int8"]))
    d_in, d0 = interp.get_input_details(0), interp.get_output_details(0)
    qin = run.quantize_input(x / 255.0, float(d_in["quantization_parameters"]["scales"][0]),
                             int(d_in["quantization_parameters"]["zero_points"][0]))
    for k in range(len(x)):
        interp.set_input(qin[k:k + 1], 0)
        interp.invoke()
        q = run.dequantize(interp.get_output(0), float(d0["quantization_parameters"]["scales"][0]),
                           int(d0["quantization_parameters"]["zero_points"][0]))
        assert abs(float(q.ravel()[0]) - f[0][k, 0]) < abs(float(q.ravel()[0]) - f[1][k, 0]) or abs(f[0][k, 0] - f[1][k, 0]) < 0.02


@pytest.mark.parametrize("case", ["missing", "empty", "shape", "quantized", "unreadable", "float_tflite", "no_out"])
def test_bad_input_is_one_line_exit_2(tiny_pilot, case, capsys, tmp_path):
    d = tiny_pilot["dir"]
    model, data = str(d / "pilot.keras"), [str(d / "calib.npz")]
    if case == "missing":
        data = [str(tmp_path / "nope.npy")]
    elif case == "empty":
        np.save(tmp_path / "empty.npy", np.zeros((0, H, W, 3), np.uint8))
        data = [str(tmp_path / "empty.npy")]
    elif case == "shape":
        np.save(tmp_path / "big.npy", np.zeros((4, 120, 160, 3), np.uint8))
        data = [str(tmp_path / "big.npy")]
    elif case == "quantized":
        model = str(tiny_pilot["int8"])
    elif case == "unreadable":
        (tmp_path / "bad.keras").write_bytes(b"not a zip")
        model = str(tmp_path / "bad.keras")
    elif case == "float_tflite":
        from edgekit.quantize import convert

        (tmp_path / "f.tflite").write_bytes(convert.to_float_tflite(("keras", tiny_pilot["model"])))
        model = str(tmp_path / "f.tflite")
    argv = ["quantize", model, "--calib", *data] + ([] if case == "no_out" else ["--out", str(tmp_path / "o.tflite")])
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("edgekit: error:"), err
    assert not (tmp_path / "o.tflite").exists()


def test_quantize_from_a_donkeycar_tub(tiny_pilot, tmp_path):
    """Calibration straight from a tub v2 written by the simulator's TubWriter (JPEG frames)."""
    from edgekit.sim.tub import TubWriter

    x, a, t = stripe_frames(40, 4)
    with TubWriter(tmp_path / "tub") as tub:
        for frame, angle, throttle in zip(x, a, t):
            tub.write_record({"cam/image_array": frame, "user/angle": angle, "user/throttle": throttle, "user/mode": "user"})
    out = tmp_path / "q.tflite"
    assert main(["quantize", str(tiny_pilot["dir"] / "pilot.keras"), "--calib", str(tmp_path / "tub"),
                 "--out", str(out), "--report", str(tmp_path / "r.json"), "--samples", "30", "--layer-frames", "2"]) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["calibration"] == {**r["calibration"], "representative_frames": 30, "held_out_frames": 10, "labels": True}
    assert r["outputs"][0]["mae_float_vs_label"]["value"] < 0.15


def test_quantize_a_savedmodel(tiny_pilot, tmp_path, capsys):
    """A SavedModel (dynamic batch) is traced on a batch-1 input: same op list, outputs in order;
    --json keeps stdout pure JSON although TF prints while converting."""
    tiny_pilot["model"].export(str(tmp_path / "sm"), verbose=False)
    out = tmp_path / "sm.tflite"
    capsys.readouterr()
    assert main(["quantize", str(tmp_path / "sm"), "--calib", str(tiny_pilot["dir"] / "calib.npz"), "--out", str(out),
                 "--report", str(tmp_path / "r.json"), "--samples", "50", "--layer-frames", "2",
                 "--eval", str(tiny_pilot["dir"] / "calib.npz"), "--json"]) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert json.loads(capsys.readouterr().out) == r
    assert r["calibration"]["held_out_frames"] == 300  # --eval: all of the given frames
    assert r["op_counts"] == {"CONV_2D": 5, "RESHAPE": 1, "FULLY_CONNECTED": 4}
    angle = r["outputs"][0]
    assert angle["name"] == "angle" and angle["mae_int8_vs_label"]["value"] <= 1.1 * angle["mae_float_vs_label"]["value"]
