"""The drive rules of the firmware car app (firmware/app/ek_rules.h), compiled from the same C
header into a small shared library and called through cffi: one definition for both cars.

    rules = Rules()                       # builds <state>/car/libek_rules_<hash>.so once
    mode, steer, thr = rules.step(lim, rc, angle_milli, throttle_milli, steer, thr)
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgekit.errors import ToolError
from edgekit.paths import FIRMWARE, state_dir

MODES = ("auto", "manual", "failsafe")
_CDEF = """
typedef struct { int32_t steer_max, throttle_max, steer_slew, throttle_slew; } ek_limits;
int ek_car_control_hz(void);
long ek_car_failsafe_us(void);
int ek_car_step(const ek_limits *lim, int rc_active, int32_t rc_steer, int32_t rc_throttle, int32_t angle,
                int32_t throttle, int32_t *steer, int32_t *thr);
int ek_car_failsafe_due(uint64_t now_us, uint64_t last_fresh_us);
"""


@dataclass
class Limits:
    """Milli-units like the firmware's `limits` command; defaults = the firmware's defaults."""
    steer_max: int = 1000
    throttle_max: int = 1000
    steer_slew: int = 2000
    throttle_slew: int = 2000


def build_library() -> Path:
    src = Path(__file__).with_name("rules.c")
    hdr = FIRMWARE / "app" / "ek_rules.h"
    tag = hashlib.sha1(src.read_bytes() + hdr.read_bytes()).hexdigest()[:12]
    lib = state_dir() / "car" / f"libek_rules_{tag}.so"
    if lib.exists() and lib.stat().st_size > 0:   # zero bytes: left by a power cut before this fsync
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    tmp = lib.with_name(f"{lib.name}.{os.getpid()}.tmp")
    cmd = [os.environ.get("CC", "cc"), "-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror",
           f"-I{hdr.parent}", str(src), "-o", str(tmp)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise ToolError(f"no C compiler ({cmd[0]}) to build the drive rules") from None
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"building the drive rules failed: {exc.stderr.strip()[:300]}") from None
    fd = os.open(tmp, os.O_RDONLY)    # on a car the state folder is on its disk: a power cut must
    try:                              # leave the library complete or absent, never empty
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, lib)
    dfd = os.open(lib.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return lib


class Rules:
    def __init__(self):
        import cffi
        self.ffi = cffi.FFI()
        self.ffi.cdef(_CDEF)
        self.lib = self.ffi.dlopen(str(build_library()))
        self.control_hz = int(self.lib.ek_car_control_hz())
        self.failsafe_s = int(self.lib.ek_car_failsafe_us()) / 1e6
        self._lim = self.ffi.new("ek_limits *")
        self._s = self.ffi.new("int32_t *")
        self._t = self.ffi.new("int32_t *")

    def step(self, lim: Limits, rc: tuple[int, int] | None, angle: int, throttle: int,
             steer: int, thr: int) -> tuple[str, int, int]:
        """(mode, steer, throttle) in milli-units; `steer`/`thr` are the previous outputs."""
        self._lim.steer_max, self._lim.throttle_max = lim.steer_max, lim.throttle_max
        self._lim.steer_slew, self._lim.throttle_slew = lim.steer_slew, lim.throttle_slew
        self._s[0], self._t[0] = steer, thr
        rs, rt = rc if rc is not None else (0, 0)
        mode = self.lib.ek_car_step(self._lim, int(rc is not None), rs, rt, angle, throttle, self._s, self._t)
        return MODES[mode], int(self._s[0]), int(self._t[0])

    def failsafe_due(self, now_us: int, last_fresh_us: int) -> bool:
        return bool(self.lib.ek_car_failsafe_due(now_us, last_fresh_us))


def to_milli(v: float) -> int:
    """Round half away from zero, as the firmware's dequant_milli does."""
    x = float(v) * 1000.0
    return int(x - 0.5) if x < 0 else int(x + 0.5)
