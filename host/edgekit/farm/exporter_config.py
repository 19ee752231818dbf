"""The labgrid exporter YAML for a rig: one resource group (= one place) per board.

labgrid's exporter publishes a group's resources to the coordinator; a place matches them
(`exporter/group/*`). Serial: a local tty becomes `RawSerialPort`, which the exporter serves
through ser2net (install `ser2net` on that machine), a network URL a `NetworkSerialPort`. Power:
labgrid's own power resources (`--power`). The power monitor and the board name are edgekit
resources (labgrid_side.py defines them for labgrid environments; the exporter publishes any
class it does not know as-is)."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import yaml

from edgekit.errors import UserError

POWER_FORMS = {
    "usb-hub": "usb-hub:ID_PATH:PORT   a switchable USB hub port (USBPowerPort, uhubctl)",
    "pdu": "pdu:MODEL:HOST:INDEX   a network PDU outlet (NetworkPowerPort, labgrid's power backends)",
    "relay": "relay:GPIO           a relay on a sysfs GPIO line of the exporter (SysfsGPIO)",
    "simplerest": "simplerest:URL       an HTTP switch, URL with {value} (NetworkPowerPort simplerest)",
}


def serial_resource(port: str, baud: int) -> dict:
    if "://" in port:
        u = urlparse(port)
        if u.scheme not in ("socket", "rfc2217") or not u.hostname or not u.port:
            raise UserError(f"serial URL {port!r}: labgrid serves socket://HOST:PORT or rfc2217://HOST:PORT")
        return {"NetworkSerialPort": {"host": u.hostname, "port": u.port, "speed": baud,
                                      "protocol": "raw" if u.scheme == "socket" else "rfc2217"}}
    if not port.startswith("/dev/"):
        raise UserError(f"serial port {port!r}: expected a /dev/ path or a socket:// / rfc2217:// URL")
    return {"RawSerialPort": {"port": port, "speed": baud}}


def power_resource(spec: str) -> dict:
    kind, _, rest = spec.partition(":")
    head, _, last = rest.rpartition(":")   # an ID_PATH or a PDU host may hold colons; the index does not
    if kind == "usb-hub" and head and last.isdigit():
        return {"USBPowerPort": {"match": {"ID_PATH": head}, "index": int(last)}}
    model, _, host = head.partition(":")
    if kind == "pdu" and model and host and last.isdigit():
        return {"NetworkPowerPort": {"model": model, "host": host, "index": int(last)}}
    if kind == "relay" and rest.isdigit():
        return {"SysfsGPIO": {"index": int(rest)}}
    if kind == "simplerest" and re.match(r"https?://", rest) and "{value}" in rest:
        return {"NetworkPowerPort": {"model": "simplerest", "host": rest, "index": 0}}
    forms = ", ".join(f.split()[0] for f in POWER_FORMS.values())
    raise UserError(f"--power {spec!r}: expected one of {forms}")


def monitor_resource(monitor) -> dict:
    m = monitor.model_dump(exclude_none=True)
    return {"EdgekitPowerMonitor": {k: m[k] for k in ("kind", "i2c_bus", "address", "shunt_ohms", "max_current_a",
                                                      "sample_hz", "serial") if k in m}}


def rig_group(rig, board: str, power: str | None) -> dict:
    group: dict = {"EdgekitBoard": {"board": board, "rig": rig.name}}
    if rig.link.kind == "twin":
        raise UserError(f"rig {rig.name}: its link is the board's twin, which `edgekit farm up` publishes itself "
                        "(twin host: serial port + power switch); exporter-config is for rigs with a serial link")
    group.update(serial_resource(rig.link.port, rig.link.baud))
    if power:
        group.update(power_resource(power))
    group.update(monitor_resource(rig.monitor))
    return group


def twin_group(board: str, serial_port: int, power_port: int, info_url: str) -> dict:
    return {"EdgekitBoard": {"board": board, "rig": "sim", "twin_info": info_url},
            "NetworkSerialPort": {"host": "127.0.0.1", "port": serial_port, "speed": 115200, "protocol": "raw"},
            "NetworkPowerPort": {"model": "simplerest", "host": f"http://127.0.0.1:{power_port}/power/{{value}}", "index": 0},
            "EdgekitPowerMonitor": {"kind": "simulated"}}


def render(groups: dict[str, dict], header: str) -> str:
    body = yaml.safe_dump(groups, sort_keys=False, default_flow_style=False)
    # labgrid renders the file with Jinja2: `#` starts a line statement, `##` a comment
    return "".join(f"## {ln}\n" for ln in header.splitlines()) + body


def rig_exporter_yaml(rig, board: str | None, place: str | None, power: str | None) -> str:
    boards = sorted({o.board for o in rig.options})
    if board is None:
        if len(boards) != 1:
            raise UserError(f"rig {rig.name} names boards {', '.join(boards) or 'none'}: pass --board")
        board = boards[0]
    place = place or rig.name
    header = (f"labgrid exporter configuration for rig {rig.name} ({rig.title}), written by edgekit farm exporter-config.\n"
              f"Run on the machine the board is wired to:  labgrid-exporter -c COORDINATOR:20408 THIS.yaml\n"
              f"then once:  labgrid-client -p {place} create && labgrid-client -p {place} add-match '*/{place}/*'\n"
              "A RawSerialPort is served through ser2net: install it there (Debian: ser2net).")
    if not power:
        header += "\nNo --power given: the place has no power switch, so a run cannot power-cycle the board."
    return render({place: rig_group(rig, board, power)}, header)
