"""Open a vendor C library (the real one on a board, or edgekit's twin) in cffi ABI mode."""
from __future__ import annotations

from pathlib import Path

from edgekit.errors import ToolError


def open_library(cdef: str, library: str | Path | None, found: str | None, missing: str):
    """(ffi, lib, path) for `library`, else the library the system `found`; `missing` is the
    one-line error (what to install on the board) when there is neither."""
    import cffi

    path = str(library) if library else found
    if not path:
        raise ToolError(missing)
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    try:
        return ffi, ffi.dlopen(path), path
    except OSError as exc:
        raise ToolError(f"cannot load {path}: {exc}") from None
