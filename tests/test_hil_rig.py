"""Rig files: the shipped rigs validate; bad ones are one-line UserErrors naming file and field."""
import pytest

from edgekit.errors import UserError
from edgekit.hil.rig import RIGS, load_rig


@pytest.mark.parametrize("name", ["sim", "example-real"])
def test_shipped_rigs_load(name):
    rig = load_rig(name)
    assert rig.name == name
    assert rig.inference.count >= 200


def test_sim_rig_is_fully_simulated():
    assert load_rig("sim").simulated
    assert not load_rig("example-real").simulated


def _write(tmp_path, text):
    p = tmp_path / "r.yaml"
    p.write_text(text)
    return str(p)


def test_bad_field_is_one_line(tmp_path):
    text = (RIGS / "sim.yaml").read_text().replace("cells: 2", "cells: 0")
    with pytest.raises(UserError) as err:
        load_rig(_write(tmp_path, text))
    assert "battery.cells" in str(err.value) and "\n" not in str(err.value)


def test_ina_needs_a_bus(tmp_path):
    text = (RIGS / "sim.yaml").read_text().replace("monitor: {kind: simulated, sample_hz: 50}", "monitor: {kind: ina226}")
    with pytest.raises(UserError, match="monitor.i2c_bus"):
        load_rig(_write(tmp_path, text))


def test_unknown_rig_lists_known():
    with pytest.raises(UserError, match="known rigs: example-real, sim"):
        load_rig("nope")
