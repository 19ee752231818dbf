"""`edgekit farm env --place NAME`: a labgrid environment YAML for one place, so the HIL suite runs
under labgrid's own pytest plugin:

    labgrid-client -x COORD -p NAME acquire
    .venv-labgrid/bin/python -m pytest --lg-env env.yaml hil_tests/ --hil-out OUT [--model M --standin]

The target is the place (RemotePlace) with labgrid's drivers for its resources (serial console,
the power driver matching its power resource) and EdgekitStrategy (labgrid_side.py), whose
"flashed" state runs `edgekit flash --port {port}` from this checkout's venv. The HIL plugin
(edgekit.hil.plugin) sees `--lg-env`, transitions the strategy to "ready" and runs the suite on the
place's serial link (docs/FARM.md)."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import yaml

from edgekit.errors import UserError
from edgekit.farm.lg import Client

# labgrid's power drivers for the power resources exporter_config.py publishes
POWER_DRIVERS = {
    "NetworkPowerPort": {"NetworkPowerDriver": {}},
    "USBPowerPort": {"USBPowerDriver": {}},
    "SysfsGPIO": {"GpioDigitalOutputDriver": {}, "DigitalOutputPowerDriver": {}},
}


def place_env(place: str, coordinator: str, board: str, model: Path | None) -> str:
    client = Client(coordinator)
    if place not in client.places():
        raise UserError(f"no place {place!r} on coordinator {coordinator}")
    published = [ln.split("/") for ln in client.call("resources", place=place, check=False).stdout.split()]
    classes = {parts[2] for parts in published if len(parts) >= 3}
    power = next((POWER_DRIVERS[c] for c in POWER_DRIVERS if c in classes), None)
    if power is None:
        raise UserError(f"place {place} has no power resource labgrid can switch ({', '.join(sorted(classes)) or 'none'})")
    if model is None:
        from edgekit.hil.standin import standin_pilot
        model = standin_pilot()
    flash = [sys.executable, "-m", "edgekit", "flash", "--board", board, "--model", str(Path(model).resolve()),
             "--port", "{port}", "--json", "--selftest-timeout", "120"]
    env = {"targets": {"main": {
        "resources": {"RemotePlace": {"name": place}},
        "drivers": {**power, "SerialDriver": {}, "EdgekitStrategy": {"flash_command": shlex.join(flash)}}}},
        "options": {"coordinator_address": coordinator},
        "imports": [str(Path(__file__).with_name("labgrid_side.py"))]}
    head = (f"labgrid environment for place {place} on {coordinator} (edgekit farm env); the model flashed: {model}\n"
            f"labgrid-client -x {coordinator} -p {place} acquire, then:\n"
            f"pytest --lg-env THIS.yaml hil_tests/ --hil-out OUT --model {model}")
    return "".join(f"## {ln}\n" for ln in head.splitlines()) + yaml.safe_dump(env, sort_keys=False)
