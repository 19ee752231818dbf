"""The car YAML is validated: a bad field is a one-line error naming file and field."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from edgekit.errors import UserError
from edgekit.sim.car import CARS_DIR, DEFAULT_CAR, load_car


def test_builtin_car_loads_as_the_dict_the_simulator_uses():
    car = load_car()
    assert car["limits"]["max_steer_deg"] == 25.0 and car["power"]["regen"] is False


def test_bad_car_field_is_one_line_error(tmp_path):
    data = yaml.safe_load((CARS_DIR / f"{DEFAULT_CAR}.yaml").read_text())
    data["limits"]["max_steer_deg"] = "wide"
    path = tmp_path / "mycar.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UserError, match=r"mycar.yaml: field 'limits.max_steer_deg'"):
        load_car(str(path))
    proc = subprocess.run([sys.executable, "-m", "edgekit", "sim", "bench", "--car", str(path), "--steps", "5"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "field 'limits.max_steer_deg'" in proc.stderr
    assert "Traceback" not in proc.stderr
