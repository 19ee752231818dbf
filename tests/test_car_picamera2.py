"""The camera driver selection (car YAML `camera.driver`) and the picamera2 driver's missing-package
path. picamera2 needs libcamera and a Pi camera, neither of which exists here: its capture path is
not exercised by any test on this machine."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import yaml

from edgekit.car.drivers import open_camera
from edgekit.errors import ToolError, UserError
from edgekit.sim.car import CARS_DIR, load_car

pytestmark = pytest.mark.skipif(importlib.util.find_spec("picamera2") is not None,
                                reason="picamera2 is installed: the missing-package path cannot happen")


def _car(tmp_path, **camera):
    spec = yaml.safe_load((CARS_DIR / "donkey_1_10.yaml").read_text())
    spec["camera"].update(camera)
    p = tmp_path / "car.yaml"
    p.write_text(yaml.safe_dump(spec))
    return str(p)


def test_picamera2_missing_is_one_line_saying_what_to_install():
    from edgekit.car.drivers.picamera2_camera import Picamera2Camera
    with pytest.raises(ToolError) as e:
        Picamera2Camera()
    msg = str(e.value)
    assert "\n" not in msg and "apt install python3-picamera2" in msg


def test_car_yaml_selects_the_driver(tmp_path):
    assert load_car()["camera"]["driver"] == "v4l2"            # the default stays V4L2
    with pytest.raises(ToolError, match="picamera2 is not installed"):
        open_camera(_car(tmp_path, driver="picamera2"))
    # v4l2 selected: the V4L2 driver is the one that answers (no such device here)
    with pytest.raises(ToolError, match=r"camera /dev/video-none: No such file"):
        open_camera(_car(tmp_path, driver="v4l2", device="/dev/video-none"))
    with pytest.raises(ToolError, match="picamera2 is not installed"):
        open_camera(_car(tmp_path), driver="picamera2")        # an override selects too


def test_unknown_driver_is_a_yaml_error(tmp_path):
    with pytest.raises(UserError, match="driver"):
        load_car(_car(tmp_path, driver="gstreamer"))


def test_doctor_lists_picamera2_as_optional():
    out = subprocess.run([sys.executable, "-m", "edgekit", "doctor", "--board", "rpi5-hailo"],
                         capture_output=True, text=True, timeout=300).stdout
    line = next(l for l in out.splitlines() if "car-picamera2" in l)
    assert line.split()[0] == "optional" and "not installed" in line
