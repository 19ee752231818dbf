"""The quantization report: float vs INT8 on held-out frames, per-layer error, sizes, ops.

All figures are `measured-host` (computed here by LiteRT / TFLM on this machine) except the
Edge TPU part (`modelled`: a static rules check) and the car's steering range (`modelled`, from
the simulator's car YAML).
"""
from __future__ import annotations

import numpy as np

from edgekit.provenance import figure
from edgekit.quantize import calib, flatbuf, run

DEFAULT_MAX_STEER_DEG = 25.0  # typical 1/10 car steering throw, when no car YAML is available
PILOT_OUTPUTS = ("angle", "throttle")


def max_steering_deg(car: str | None = None) -> tuple[float, str]:
    """The car's full steering angle (DonkeyCar angle ±1 ↔ ±this many degrees) and where it came from."""
    try:
        from edgekit.sim.car import DEFAULT_CAR, load_car

        name = car or DEFAULT_CAR
        return float(load_car(name)["limits"]["max_steer_deg"]), f"car YAML {name}"
    except Exception:  # noqa: BLE001 — no simulator / no such key: documented default
        return DEFAULT_MAX_STEER_DEG, "default (no car YAML)"


def output_accuracy(float_out: list[np.ndarray], int8_out: list[np.ndarray], names: list[str],
                    held: calib.Frames, pilot: bool, max_steer: tuple[float, str]) -> dict:
    """Per-output MAE / max abs error of INT8 vs float and, with labels, of each vs the labels."""
    outputs = []
    labels = {"angle": held.angles, "throttle": held.throttles} if pilot else {}
    for k, (f, q) in enumerate(zip(float_out, int8_out)):
        name = PILOT_OUTPUTS[k] if pilot else names[k]
        d = np.abs(f - q)
        row = {"name": name, "tensor": names[k],
               "mae_int8_vs_float": figure(float(d.mean()), "", "measured-host"),
               "max_abs_int8_vs_float": figure(float(d.max()), "", "measured-host")}
        y = labels.get(name)
        if y is not None:
            row["mae_float_vs_label"] = figure(float(np.abs(f[:, 0] - y).mean()), "", "measured-host")
            row["mae_int8_vs_label"] = figure(float(np.abs(q[:, 0] - y).mean()), "", "measured-host")
            fm, qm = row["mae_float_vs_label"]["value"], row["mae_int8_vs_label"]["value"]
            row["mae_relative_change"] = figure((qm - fm) / fm if fm else 0.0, "", "measured-host")
        outputs.append(row)
    result = {"outputs": outputs}
    if pilot:
        deg, src = max_steer
        result["physical"] = _physical(outputs, deg, src)
    return result


def _physical(outputs: list[dict], max_deg: float, source: str) -> dict:
    """Pilot errors in car units: steering in degrees (angle × max steer), throttle as a fraction."""
    steer, throttle = outputs[0], outputs[1]
    phys = {"max_steer_deg": figure(max_deg, "deg", "modelled", source=source),
            "steering_mae_int8_vs_float": figure(steer["mae_int8_vs_float"]["value"] * max_deg, "deg", "measured-host"),
            "steering_max_int8_vs_float": figure(steer["max_abs_int8_vs_float"]["value"] * max_deg, "deg", "measured-host"),
            "throttle_mae_int8_vs_float": figure(throttle["mae_int8_vs_float"]["value"], "fraction of full", "measured-host"),
            "throttle_max_int8_vs_float": figure(throttle["max_abs_int8_vs_float"]["value"], "fraction of full", "measured-host")}
    for who in ("float", "int8"):
        key = f"mae_{who}_vs_label"
        if key in steer:
            phys[f"steering_{key}"] = figure(steer[key]["value"] * max_deg, "deg", "measured-host")
            phys[f"throttle_{key}"] = figure(throttle[key]["value"], "fraction of full", "measured-host")
    return phys


def is_pilot(float_out: list[np.ndarray]) -> bool:
    """Two scalar outputs: the pilot's (angle, throttle) in Keras output order."""
    return len(float_out) == 2 and all(o.shape[1] == 1 for o in float_out)


def build(model_path: str, int8_buf: bytes, float_buf: bytes | None, rep: calib.Frames, held: calib.Frames,
          seed: int, layer_frames: int, car: str | None = None) -> dict:
    """The whole report for a Keras model quantized by `edgekit quantize`."""
    from edgekit.quantize import layers

    x_held = held.model_inputs()
    f_out, q_out = run.predict(float_buf, x_held), run.predict(int8_buf, x_held)
    names = flatbuf.output_names(int8_buf)
    pilot = is_pilot(f_out)
    info = flatbuf.summary(int8_buf)
    report = {
        "model": str(model_path),
        "calibration": {"source": rep.source, "representative_frames": len(rep), "held_out_frames": len(held),
                        "held_out_source": held.source,
                        "seed": seed, "labels": held.angles is not None},
        "sizes": {"float_tflite": figure(len(float_buf), "B", "measured-host"),
                  "int8_tflite": figure(len(int8_buf), "B", "measured-host"),
                  "int8_parameters": figure(info["parameter_bytes"], "B", "measured-host")},
        "ops": info["ops"], "op_counts": info["op_counts"],
        "inputs": info["inputs"], "outputs_io": info["outputs"],
        "held_out_runtime": "litert (no delegates; bit-identical to TFLM on the pilot, docs/SOURCES.md §3)",
        **output_accuracy(f_out, q_out, names, held, pilot, max_steering_deg(car)),
        "per_layer": layers.per_layer(int8_buf, x_held[:layer_frames], float_buf),
    }
    report["pilot"] = pilot
    return report


def build_int8_only(model_path: str, int8_buf: bytes, inputs: np.ndarray, input_source: str) -> dict:
    """For an already-INT8 model (no float twin): per-layer TFLM vs the dequantized float graph."""
    from edgekit.quantize import layers

    info = flatbuf.summary(int8_buf)
    return {"model": str(model_path),
            "sizes": {"int8_tflite": figure(len(int8_buf), "B", "measured-host"),
                      "int8_parameters": figure(info["parameter_bytes"], "B", "measured-host")},
            "ops": info["ops"], "op_counts": info["op_counts"], "inputs": info["inputs"], "outputs_io": info["outputs"],
            "inputs_used": input_source,
            "per_layer": layers.per_layer(int8_buf, inputs, None)}
