"""The HIL suite under labgrid's own pytest plugin: on a loopback farm (`edgekit farm up`), a place
acquired with labgrid-client, `pytest --lg-env ENV hil_tests/` in .venv-labgrid (ENV from
`edgekit farm env`). EdgekitStrategy flashes the stand-in over SMP on the place's link and brings
the twin to "ready"; the suite runs on that link and writes junit/results.json/report.html."""
import json
import subprocess
import sys

import yaml

import pytest
from test_farm_places import EDGEKIT, _client, _farm, _image_hash

from edgekit.farm.lg import lg_python
from edgekit.hil.standin import standin_pilot
from edgekit.paths import HIL_TESTS

pytestmark = pytest.mark.slow


def _suite_on_place(coord, place, env, out, model, edit=None):
    """`edgekit farm env` for the place (optionally edited), acquire, the suite under --lg-env, release."""
    subprocess.run(EDGEKIT + ["farm", "env", "--place", place, "--coordinator", coord, "-o", str(env)],
                   check=True, timeout=300)
    if edit:
        doc = yaml.safe_load(env.read_text())
        edit(doc)
        env.write_text(yaml.safe_dump(doc, sort_keys=False))   # labgrid binds drivers in order
    assert _client(coord, "-p", place, "acquire").returncode == 0
    try:
        return subprocess.run([lg_python(), "-m", "pytest", "--lg-env", str(env), str(HIL_TESTS), "-p", "no:cacheprovider",
                               "-q", "-k", "test_inference_latency", "--hil-out", str(out), "--model", str(model),
                               "--standin", "--quick"], cwd=HIL_TESTS, capture_output=True, text=True, timeout=1800)
    finally:
        _client(coord, "-p", place, "release")


def test_hil_suite_under_lg_env_on_a_place(tmp_path):
    model = standin_pilot()
    with _farm() as (coord, _):
        out = tmp_path / "hil"
        run = _suite_on_place(coord, "coral-2", tmp_path / "env.yaml", out, model)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
        res = json.loads((out / "results.json").read_text())
        assert res["verdict"] == "PASSED" and [t["outcome"] for t in res["tests"]] == ["passed"]
        assert res["place"]["name"] == "coral-2" and res["place"]["provenance"] == "emulated"
        assert res["place"]["twin"]["kind"] == "emulated-twin"
        assert res["figures"]["latency_p99"]["provenance"] == "emulated"   # the twin's clock, over the place's link
        img = res["image"]   # the strategy's "flashed" state wrote it; the suite read the board's hash back
        assert img["hash_matches"] and img["reported_hash"] == _image_hash(img["image"])
        assert img["hash"] != _image_hash(res["place"]["twin"]["factory_image"])
        assert (out / "junit.xml").exists() and (out / "report.html").exists()
        assert _client(coord, "places", "-a").stdout.split() == []

        # A flash step that claims an image it never wrote: coral-1 still runs its factory image, the
        # suite reads that hash back before measuring and stops FAILED, naming both hashes.
        claimed = img["image"]
        fake = tmp_path / "claims_flashed.py"
        fake.write_text(f"import json\nprint(json.dumps({{'image': {claimed!r}}}, indent=2))\n")
        out1 = tmp_path / "hil-mismatch"
        run = _suite_on_place(coord, "coral-1", tmp_path / "env1.yaml", out1, model, edit=lambda doc: doc["targets"]["main"]
                              ["drivers"]["EdgekitStrategy"].update(flash_command=f"{sys.executable} {fake}"))
        assert run.returncode != 0, run.stdout[-3000:]
        res = json.loads((out1 / "results.json").read_text())
        assert res["verdict"] == "FAILED", res.get("why")
        factory = _image_hash(res["place"]["twin"]["factory_image"])
        assert f"runs image {factory}" in res["why"] and img["hash"] in res["why"], res["why"]
