"""`edgekit farm`: HIL rigs as labgrid places (coordinator, exporters, places).

  edgekit farm exporter-config --rig RIG.yaml [--board B] [--place NAME] [--power SPEC] [-o FILE]
  edgekit farm up [--coordinator HOST:PORT]     a loopback farm: two coral twins as two places
  edgekit farm places [--coordinator HOST:PORT] labgrid-client places
  edgekit farm env --place NAME [-o ENV.yaml]   labgrid environment: pytest --lg-env ENV.yaml hil_tests/
Then: `edgekit hil run --place coral-1 [--coordinator HOST:PORT]`."""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path


def register(sub) -> None:
    from edgekit.farm.exporter_config import POWER_FORMS
    from edgekit.farm.lg import DEFAULT_COORDINATOR

    p = sub.add_parser("farm", help="a rig farm on labgrid: exporter configs, a loopback farm of twins, places")
    fs = p.add_subparsers(dest="farm_command", metavar="SUBCOMMAND")
    fs.required = True
    e = fs.add_parser("exporter-config", help="write the labgrid exporter YAML for a rig")
    e.add_argument("--rig", required=True, help="rig name in hil_tests/rigs/ or a rig YAML path")
    e.add_argument("--board", help="board on the rig (default: the one board the rig's options name)")
    e.add_argument("--place", help="resource group / place name (default: the rig's name)")
    e.add_argument("--power", metavar="SPEC", help="the board's power switch: " + "; ".join(POWER_FORMS.values()))
    e.add_argument("-o", "--output", help="write here instead of stdout")
    e.set_defaults(func=exporter_config)
    u = fs.add_parser("up", help="coordinator + one exporter publishing two coral twins as two places (loopback)")
    u.add_argument("--coordinator", default=DEFAULT_COORDINATOR, help=f"listen address (default {DEFAULT_COORDINATOR})")
    u.add_argument("--board", default="coral", help="twin board (default coral)")
    u.add_argument("--count", type=int, default=2, choices=range(1, 9), metavar="N", help="twins / places (default 2)")
    u.set_defaults(func=up)
    v = fs.add_parser("env", help="a labgrid environment YAML for a place (pytest --lg-env ENV hil_tests/)")
    v.add_argument("--place", required=True)
    v.add_argument("--coordinator", default=DEFAULT_COORDINATOR)
    v.add_argument("--board", default="coral", help="the place's board (default coral)")
    v.add_argument("--model", type=Path, help="the model the strategy flashes (default: the stand-in pilot)")
    v.add_argument("-o", "--output", help="write here instead of stdout")
    v.set_defaults(func=env)
    pl = fs.add_parser("places", help="the coordinator's places (labgrid-client places)")
    pl.add_argument("--coordinator", default=DEFAULT_COORDINATOR)
    pl.set_defaults(func=places)
    t = fs.add_parser("twin-host", help="(internal, started by farm up) one twin's serial port and power switch")
    t.add_argument("--board", required=True)
    t.add_argument("--image", required=True, type=Path)
    t.add_argument("--state", required=True, type=Path)
    t.add_argument("--key", type=Path, help="with a signed --image: the key the twin's bootloader trusts")
    t.set_defaults(func=twin_host)


def exporter_config(args) -> int:
    from edgekit.farm.exporter_config import rig_exporter_yaml
    from edgekit.hil.rig import load_rig

    text = rig_exporter_yaml(load_rig(args.rig), args.board, args.place, args.power)
    return _emit(text, args.output)


def env(args) -> int:
    from edgekit.errors import UserError
    from edgekit.farm.env import place_env

    if args.model is not None and not args.model.exists():
        raise UserError(f"no model at {args.model}")
    text = place_env(args.place, args.coordinator, args.board, args.model)
    return _emit(text, args.output)


def _emit(text: str, output) -> int:
    """Write a generated YAML to `output`, or to stdout when none is given."""
    if output:
        Path(output).write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _terminate(signum, frame):
    raise KeyboardInterrupt


def up(args) -> int:
    from edgekit.farm.up import Farm

    old = signal.signal(signal.SIGTERM, _terminate)
    farm = Farm(args.coordinator, args.board, args.count)
    try:
        farm.start(status=lambda m: print(m, flush=True))
        for name, p in farm.places.items():
            print(f"place {name}: serial {p['serial']}, power {p['power']}", flush=True)
        print(f"farm: ready; try `edgekit hil run --place {next(iter(farm.places))} --coordinator {args.coordinator}`; "
              "Ctrl-C stops everything", flush=True)
        while all(p.poll() is None for n, p in farm.procs.items() if n != "exporter"):
            time.sleep(0.5)
        print("farm: a farm process exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        farm.stop()
        signal.signal(signal.SIGTERM, old)


def places(args) -> int:
    from edgekit.farm.lg import Client

    for name in Client(args.coordinator).places():
        print(name)
    return 0


def twin_host(args) -> int:
    from edgekit.farm.twinhost import TwinHost

    old = signal.signal(signal.SIGTERM, _terminate)
    host = TwinHost(args.board, args.image, args.state, args.key)
    try:
        host.serve(on_ready=lambda h: print(f"twin-host: serial {h.serial_port} power {h.power_port}", flush=True))
    except KeyboardInterrupt:
        pass
    finally:
        host.close()
        signal.signal(signal.SIGTERM, old)
    return 0
