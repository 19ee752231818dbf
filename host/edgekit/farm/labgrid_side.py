"""The labgrid side of edgekit: resources and a strategy, loaded by labgrid itself (it runs in
`.venv-labgrid`, never imported by edgekit: no edgekit imports here). labgrid-client and labgrid's
pytest plugin load it through an environment's `imports:` (edgekit writes one: lg.py).

- EdgekitBoard: which board a place holds (and, for a twin host, its /info URL)
- EdgekitPowerMonitor: the rig's power monitor (INA219/INA226 on the exporter's I2C bus,
  Joulescope, or simulated), published as-is by the exporter
- EdgekitStrategy: off → flashed → running (the car app) → ready (answers the DUT protocol)
"""
from __future__ import annotations

import enum
import json
import shlex
import subprocess

import attr
from labgrid.factory import target_factory
from labgrid.resource.common import Resource
from labgrid.step import step
from labgrid.strategy import Strategy, StrategyError

_opt_str = attr.validators.optional(attr.validators.instance_of(str))
_opt_num = attr.validators.optional(attr.validators.instance_of((int, float)))


@target_factory.reg_resource
@attr.s(eq=False)
class EdgekitBoard(Resource):
    board = attr.ib(validator=attr.validators.instance_of(str))
    rig = attr.ib(default=None, validator=_opt_str)
    twin_info = attr.ib(default=None, validator=_opt_str)


@target_factory.reg_resource
@attr.s(eq=False)
class EdgekitPowerMonitor(Resource):
    kind = attr.ib(validator=attr.validators.in_(("simulated", "ina219", "ina226", "joulescope")))
    i2c_bus = attr.ib(default=None, validator=_opt_num)
    address = attr.ib(default=None, validator=_opt_num)
    shunt_ohms = attr.ib(default=None, validator=_opt_num)
    max_current_a = attr.ib(default=None, validator=_opt_num)
    sample_hz = attr.ib(default=None, validator=_opt_num)
    serial = attr.ib(default=None, validator=_opt_str)


class Status(enum.Enum):
    unknown = 0
    off = 1
    flashed = 2
    running = 3
    ready = 4


@target_factory.reg_driver
@attr.s(eq=False)
class EdgekitStrategy(Strategy):
    """`flash_command` (from the environment YAML, `edgekit farm env` writes it; `{port}` is replaced
    by the place's serial URL) flashes the board over its serial link, e.g. `edgekit flash --board
    coral --model M.tflite --port {port} --json`: a real board and a twin place's flash twin alike.
    Its JSON result (the image written, its hash) is kept in `flashed` for the HIL suite, which reads
    the hash back from the board. At "ready" the console is released again, so the suite opens the
    board's one serial link itself."""
    bindings = {"power": "PowerProtocol", "console": "ConsoleProtocol", "serial": "NetworkSerialPort"}
    flash_command = attr.ib(default="", validator=attr.validators.instance_of(str))
    ready_timeout = attr.ib(default=120.0, validator=attr.validators.instance_of((int, float)))
    status = attr.ib(default=Status.unknown)
    flashed = attr.ib(default=None)

    def port_url(self) -> str:
        s = self.serial
        return f"{'rfc2217' if s.protocol == 'rfc2217' else 'socket'}://{s.host}:{s.port}"

    @step(args=["status"])
    def transition(self, status, *, step):  # noqa: ARG002 - labgrid's step signature
        status = Status[status] if isinstance(status, str) else status
        if status == Status.unknown:
            raise StrategyError(f"can not transition to {status}")
        if status == self.status:
            return
        if status == Status.off:
            self.target.deactivate(self.console)
            self.target.activate(self.power)
            self.power.off()
        elif status == Status.flashed:
            self.transition(Status.off)
            if self.flash_command:
                self.power.on()   # SMP flashing talks to the bootloader/app over the serial link
                cmd = shlex.split(self.flash_command.replace("{port}", self.port_url()))
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
                if proc.returncode != 0:
                    last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
                    raise StrategyError(f"flashing failed (exit {proc.returncode}): {last[:300]}")
                out = proc.stdout
                self.flashed = json.loads(out[out.index("{\n"):]) if "{\n" in out else {}
                self.power.off()
        elif status == Status.running:
            self.transition(Status.flashed)
            self.power.on()
        elif status == Status.ready:
            self.transition(Status.running)
            self.target.activate(self.console)
            self.console.write(b"name%")   # the MLPerf Tiny DUT protocol: the car app answers m-ready
            self.console.expect("m-ready", timeout=self.ready_timeout)
            self.target.deactivate(self.console)   # the board has one serial link: the suite opens it
        self.status = status
