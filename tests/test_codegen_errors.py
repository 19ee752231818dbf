"""Bad input to the code generator: one-line UserErrors naming the op, its index and the model."""
from __future__ import annotations

import numpy as np
import pytest
from int8_models import convert_int8

from edgekit.errors import UserError


@pytest.fixture(scope="module")
def transpose_model(tmp_path_factory):
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inp = keras.Input((4, 6, 2), batch_size=1)
    x = layers.Conv2D(3, 1)(inp)
    x = layers.Lambda(lambda t: keras.ops.abs(t))(x)   # ABS: TFLM has it, edgekit does not
    model = keras.Model(inp, layers.Conv2D(2, 1)(x))

    samples = [np.random.default_rng(0).random((1, 4, 6, 2), dtype=np.float32)] * 4
    return convert_int8(model, samples, tmp_path_factory.mktemp("err") / "transposer.tflite")


def test_unsupported_op_is_one_line_user_error(transpose_model, tmp_path):
    from edgekit.codegen import compile_model
    with pytest.raises(UserError) as exc:
        compile_model(transpose_model, tmp_path / "out")
    msg = str(exc.value)
    assert "ABS" in msg and "op 1" in msg and "transposer.tflite" in msg and "\n" not in msg


def test_cli_exit_code_2_on_unsupported_op(transpose_model, tmp_path, capsys):
    from edgekit.cli import main
    assert main(["compile", str(transpose_model), "--out", str(tmp_path / "o"), "--no-size"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgekit: error:") and "ABS" in err


def test_not_a_tflite_file(tmp_path):
    from edgekit.codegen import compile_model
    bad = tmp_path / "junk.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(UserError):
        compile_model(bad, tmp_path / "o")


def test_cli_missing_file(tmp_path):
    from edgekit.cli import main
    assert main(["verify", str(tmp_path / "nope.tflite")]) == 2
