"""Edge TPU compatibility (static check of coral.ai's rules) and the INT8-only per-layer report
(`edgekit quantize --inspect`) on the pilot and the MLPerf Tiny models."""
from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.cli import main
from edgekit.quantize import edgetpu, flatbuf


def test_pilot_maps_fully_and_fits_the_cache(pilot_int8_path):
    r = edgetpu.compatibility(pilot_int8_path)
    assert r["full_int8"] and r["fully_mapped"] and r["first_unsupported"] is None
    assert r["cpu_ops"] == 0 and r["edgetpu_ops"] == len(r["ops"])
    assert 700_000 < r["parameter_bytes"]["value"] < r["on_chip_cache_bytes"]["value"]
    assert r["parameter_bytes"]["provenance"] == "modelled" and r["fits_on_chip_cache"]


def _rewrite(path, tmp_path, change) -> str:
    model = flatbuf.parse(path.read_bytes())
    change(model)
    out = tmp_path / "changed.tflite"
    out.write_bytes(flatbuf.serialize(model))
    return str(out)


def test_first_unsupported_op_splits_the_graph(pilot_int8_path, tmp_path):
    from ai_edge_litert import schema_py_generated as schema

    def reshape_to_exp(model):
        for oc in model.operatorCodes:
            if max(oc.builtinCode, oc.deprecatedBuiltinCode) == schema.BuiltinOperator.RESHAPE:
                oc.builtinCode = oc.deprecatedBuiltinCode = schema.BuiltinOperator.EXP

    r = edgetpu.compatibility(_rewrite(pilot_int8_path, tmp_path, reshape_to_exp))
    assert r["first_unsupported"]["op"] == "EXP" and r["first_unsupported"]["index"] == 5
    assert r["edgetpu_ops"] == 5 and r["cpu_ops"] == len(r["ops"]) - 5 and not r["fully_mapped"]
    assert all(o["runs_on"] == "cpu" for o in r["ops"][5:])
    assert r["parameter_bytes_on_edgetpu"]["value"] < r["parameter_bytes"]["value"]


def test_float_tensor_and_too_many_dims_are_refused(pilot_int8_path, tmp_path):
    def break_tensors(model):
        sg = model.subgraphs[0]
        first_out = sg.tensors[sg.operators[0].outputs[0]]
        first_out.type = flatbuf.FLOAT32
        last_out = sg.tensors[sg.operators[1].outputs[0]]
        last_out.shape = np.array([2, *last_out.shape[1:]], np.int32)

    r = edgetpu.compatibility(_rewrite(pilot_int8_path, tmp_path, break_tensors))
    assert r["first_unsupported"]["index"] == 0
    reasons = " ".join(r["ops"][0]["reasons"] + r["ops"][1]["reasons"])
    assert "not 8-bit" in reasons and "more than 3 non-unit" in reasons


def test_mlperf_tiny_models_are_full_int8(mlperf_models):
    for name, path in mlperf_models.items():
        r = edgetpu.compatibility(path)
        assert r["full_int8"] and r["subgraphs"] == 1, name
        assert r["parameter_bytes"]["value"] < r["on_chip_cache_bytes"]["value"], name


def test_inspect_mlperf_per_layer_against_dequantized_twin(mlperf_models, tmp_path, capsys):
    path = mlperf_models["pretrainedResnet_quant"]
    assert main(["quantize", str(path), "--inspect", "--layer-frames", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    layers = r["per_layer"]["layers"]
    assert r["per_layer"]["reference"] == "dequantized" and len(layers) == len(r["ops"]) == 16
    assert layers[0]["snr_db"] > 20, layers[0]  # first conv: only output rounding/clamping differs


def test_inspect_refuses_a_float_model(tmp_path, capsys):
    (tmp_path / "x.keras").write_bytes(b"zip?")
    assert main(["quantize", str(tmp_path / "x.keras"), "--inspect"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_quantize_cli_module_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, edgekit.cli; edgekit.cli.build_parser(); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_for_board_only_on_edgetpu_boards(pilot_int8_path):
    from edgekit.catalog import get_board

    coral = edgetpu.for_board(get_board("coral"), pilot_int8_path)
    assert coral["board"] == "coral" and coral["fully_mapped"]
    assert coral["on_chip_cache_bytes"]["value"] == get_board("coral").accelerator.param_cache_bytes
    assert edgetpu.for_board(get_board("host"), pilot_int8_path) is None
    assert edgetpu.for_board(get_board("rpi5-hailo"), pilot_int8_path) is None
