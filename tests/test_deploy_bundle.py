"""The deploy bundle and its self-test on the host (no VM): what `edgekit flash --host` signs and the
board unpacks; the baked TFLM outputs match the compiled model, and a changed model fails."""
from __future__ import annotations

import io
import json
import tarfile

import pytest

from test_deploy_ssh import BOARD, _small_pilot


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("bundle")
    return d, _small_pilot(d / "a.tflite", 5), _small_pilot(d / "b.tflite", 6)


def _unpack(data: bytes, out):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(out, filter="data")
    return out


def test_bundle_selftest_passes_and_detects_a_changed_model(models, tmp_path):
    from edgekit.car.selftest import check
    from edgekit.catalog import get_board
    from edgekit.codegen import compile_model
    from edgekit.flash.linux_deploy import make_bundle

    d, good, other = models
    data, manifest = make_bundle(good, get_board(BOARD), "x86_64", selftest_inputs=3)
    assert manifest["variant"] == "portable" and manifest["arch"] == "x86_64"
    b = _unpack(data, tmp_path / "good")
    assert json.loads((b / "manifest.json").read_text())["board"] == BOARD
    assert not (b / "model" / ".host").exists()
    res = check(b / "model", b / "selftest.npz")
    assert res["ok"] and res["equal_inputs"] == res["inputs"] == 3, res
    # model B's code with model A's reference: the self-test must see the difference (another
    # folder: a library path dlopen()ed once in this process would be reused, not reloaded)
    compile_model(other, tmp_path / "b", board=BOARD, variant="portable")
    res = check(tmp_path / "b", b / "selftest.npz")
    assert not res["ok"] and res["equal_inputs"] < 3, res
