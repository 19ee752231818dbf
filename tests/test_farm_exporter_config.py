"""`edgekit farm exporter-config`: a rig YAML → the exporter YAML labgrid itself loads (its own
Jinja2 + YAML reader, in .venv-labgrid), with the board's serial link, power switch and monitor."""
import json
import subprocess
import sys

import pytest

from edgekit.farm.lg import lg_python
from edgekit.paths import REPO

RIG = REPO / "hil_tests" / "rigs" / "example-real.yaml"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "edgekit", "farm", "exporter-config", *args],
                          capture_output=True, text=True, timeout=120)


def _labgrid_reads(path) -> dict:
    code = ("import json,sys; from labgrid.remote.config import ResourceConfig; "
            "print(json.dumps(ResourceConfig(sys.argv[1]).data))")
    proc = subprocess.run([lg_python(), "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])   # labgrid pprints what it rendered first


def test_example_real_rig_as_labgrid_loads_it(tmp_path):
    out = tmp_path / "exporter.yaml"
    proc = _cli("--rig", str(RIG), "--power", "usb-hub:platform-xhci-hcd.0-usb-0:1.2:3", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    group = _labgrid_reads(out)["example-real"]
    assert group["RawSerialPort"] == {"port": "/dev/ttyACM0", "speed": 115200}
    assert group["USBPowerPort"] == {"match": {"ID_PATH": "platform-xhci-hcd.0-usb-0:1.2"}, "index": 3}
    mon = group["EdgekitPowerMonitor"]
    assert (mon["kind"], mon["i2c_bus"], mon["address"], mon["shunt_ohms"]) == ("ina226", 1, 0x40, 0.01)
    assert group["EdgekitBoard"]["board"] == "coral"


@pytest.mark.parametrize("power,cls", [("pdu:netio:10.0.0.5:2", "NetworkPowerPort"), ("relay:17", "SysfsGPIO"),
                                       ("simplerest:http://10.0.0.9/relay/{value}", "NetworkPowerPort")])
def test_power_switch_forms(tmp_path, power, cls):
    out = tmp_path / "e.yaml"
    assert _cli("--rig", str(RIG), "--power", power, "--place", "bench-a", "-o", str(out)).returncode == 0
    assert cls in _labgrid_reads(out)["bench-a"]


@pytest.mark.parametrize("args,words", [
    (["--rig", "sim"], "pass --board"),
    (["--rig", "sim", "--board", "coral"], "farm up"),
    (["--rig", str(RIG), "--power", "usb-hub:nope"], "expected one of"),
    (["--rig", "no-such-rig"], "unknown rig")])
def test_bad_input_is_one_line_exit_2(args, words):
    proc = _cli(*args)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
