"""Build the vendor-library twins (firmware/twins/*.c) with the host C compiler, once, into a
cache folder; tests load them through the same bindings a real board uses. A twin is functional
only: nothing timed through it is an accelerator figure."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from edgekit.errors import ToolError
from edgekit.paths import FIRMWARE, state_dir

TWINS = {"hailort": "libhailort_twin.c", "edgetpu": "libedgetpu_twin.c"}
# The file names the real libraries have, so the bindings' loaders treat both alike.
SONAMES = {"hailort": "libhailort.so", "edgetpu": "libedgetpu.so.1"}
CFLAGS = ["-std=c99", "-O1", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror"]


def twin_library(kind: str, cc: str | None = None) -> Path:
    """Path of the built twin of `kind` ('hailort' or 'edgetpu'), building it on first use."""
    if kind not in TWINS:
        raise ValueError(f"no twin for {kind!r}")
    src_dir = FIRMWARE / "twins"
    srcs = [src_dir / TWINS[kind], src_dir / "twin_log.h"]
    digest = hashlib.sha1(b"".join(s.read_bytes() for s in srcs) + " ".join(CFLAGS).encode()).hexdigest()[:12]
    out = state_dir() / "twins" / digest / SONAMES[kind]
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    cmd = [cc or os.environ.get("CC", "cc"), *CFLAGS, str(srcs[0]), "-o", str(tmp), "-ldl", "-lm"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise ToolError(f"no C compiler ({cmd[0]}) to build the {kind} twin") from None
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"building the {kind} twin failed: {exc.stderr.strip()[:300]}") from None
    os.replace(tmp, out)
    return out


TWIN_CDEF = """
const char *ektwin_log(void);
long ektwin_live(void);
void ektwin_reset(void);
void ektwin_fail(const char *fn, int status);
"""


class TwinProbe:
    """The twin's own entry points (call log, live handles, fault injection). dlopen of the same
    path yields the same loaded library, so this sees the state the binding under test changes."""

    def __init__(self, path):
        import cffi
        self.ffi = cffi.FFI()
        self.ffi.cdef(TWIN_CDEF)
        self.lib = self.ffi.dlopen(str(path))

    def calls(self) -> list[str]:
        return self.ffi.string(self.lib.ektwin_log()).decode().splitlines()

    def live(self) -> int:
        return int(self.lib.ektwin_live())

    def reset(self) -> None:
        self.lib.ektwin_reset()

    def fail(self, fn: str, status: int = 0) -> None:
        self.lib.ektwin_fail(fn.encode(), status)


def is_twin(path) -> bool:
    """True when the library at `path` is one of edgekit's twins (it exports ektwin_log)."""
    import ctypes
    try:
        return hasattr(ctypes.CDLL(str(path)), "ektwin_log")
    except OSError:
        return False
