"""cffi ABI-mode binding to HailoRT's C API (hailo-ai/hailort, branch hailo8, 4.x: Hailo-8/8L).

Declared here from `hailort.h` (only the parts called; enums are C ints, structs keep the header's
field order). The same code loads the real `libhailort.so` on a Raspberry Pi 5 with the AI Kit
and the project's twin (edgekit.accel.twins) here.

    with HailoRT().open("pilot.hef", "float32") as net:
        outs = net.infer([x])            # float32 frames: HailoRT (de)quantizes with the HEF's own parameters

Every handle is released on every path (close(), errors half-way through opening, exceptions).
"""
from __future__ import annotations

import ctypes.util
from pathlib import Path

import numpy as np

from edgekit.errors import ToolError, UserError

CDEF = """
typedef int hailo_status;
typedef struct _hailo_vdevice *hailo_vdevice;
typedef struct _hailo_hef *hailo_hef;
typedef struct _hailo_configured_network_group *hailo_configured_network_group;
typedef struct _hailo_input_vstream *hailo_input_vstream;
typedef struct _hailo_output_vstream *hailo_output_vstream;
typedef struct { uint32_t major; uint32_t minor; uint32_t revision; } hailo_version_t;
typedef struct { int type; int order; int flags; } hailo_format_t;
typedef struct {
    hailo_format_t user_buffer_format;
    uint32_t timeout_ms;
    uint32_t queue_size;
    int vstream_stats_flags;
    int pipeline_elements_stats_flags;
} hailo_vstream_params_t;
typedef struct { char name[128]; hailo_vstream_params_t params; } hailo_input_vstream_params_by_name_t;
typedef struct { char name[128]; hailo_vstream_params_t params; } hailo_output_vstream_params_by_name_t;

hailo_status hailo_get_library_version(hailo_version_t *version);
hailo_status hailo_create_vdevice(void *params, hailo_vdevice *vdevice);
hailo_status hailo_release_vdevice(hailo_vdevice vdevice);
hailo_status hailo_create_hef_file(hailo_hef *hef, const char *file_name);
hailo_status hailo_release_hef(hailo_hef hef);
hailo_status hailo_configure_vdevice(hailo_vdevice vdevice, hailo_hef hef, void *params,
    hailo_configured_network_group *network_groups, size_t *number_of_network_groups);
hailo_status hailo_make_input_vstream_params(hailo_configured_network_group network_group, bool unused,
    int format_type, hailo_input_vstream_params_by_name_t *input_params, size_t *input_params_count);
hailo_status hailo_make_output_vstream_params(hailo_configured_network_group network_group, bool unused,
    int format_type, hailo_output_vstream_params_by_name_t *output_params, size_t *output_params_count);
hailo_status hailo_create_input_vstreams(hailo_configured_network_group configured_network_group,
    const hailo_input_vstream_params_by_name_t *inputs_params, size_t inputs_count, hailo_input_vstream *input_vstreams);
hailo_status hailo_create_output_vstreams(hailo_configured_network_group configured_network_group,
    const hailo_output_vstream_params_by_name_t *outputs_params, size_t outputs_count, hailo_output_vstream *output_vstreams);
hailo_status hailo_get_input_vstream_frame_size(hailo_input_vstream input_vstream, size_t *frame_size);
hailo_status hailo_get_output_vstream_frame_size(hailo_output_vstream output_vstream, size_t *frame_size);
hailo_status hailo_vstream_write_raw_buffer(hailo_input_vstream input_vstream, const void *buffer, size_t buffer_size);
hailo_status hailo_vstream_read_raw_buffer(hailo_output_vstream output_vstream, void *buffer, size_t buffer_size);
hailo_status hailo_release_input_vstreams(const hailo_input_vstream *input_vstreams, size_t inputs_count);
hailo_status hailo_release_output_vstreams(const hailo_output_vstream *output_vstreams, size_t outputs_count);
"""
FORMAT_TYPES = {"auto": 0, "uint8": 1, "float32": 3}   # hailo_format_type_t (UINT16=2 unused)
MAX_NETWORK_GROUPS = 8                    # HAILO_MAX_NETWORK_GROUPS
MAX_STREAMS = 40                          # HAILO_MAX_STREAMS_COUNT
# hailo_status values (hailort.h HAILO_STATUS__X list); others are printed by number.
STATUS = {0: "HAILO_SUCCESS", 1: "HAILO_UNINITIALIZED", 2: "HAILO_INVALID_ARGUMENT", 3: "HAILO_OUT_OF_HOST_MEMORY",
          4: "HAILO_TIMEOUT", 5: "HAILO_INSUFFICIENT_BUFFER", 6: "HAILO_INVALID_OPERATION",
          7: "HAILO_NOT_IMPLEMENTED", 13: "HAILO_OPEN_FILE_FAILURE", 26: "HAILO_INVALID_HEF",
          61: "HAILO_NOT_FOUND", 74: "HAILO_OUT_OF_PHYSICAL_DEVICES"}


class HailoError(ToolError):
    def __init__(self, call: str, status: int):
        self.call, self.status = call, status
        super().__init__(f"HailoRT {call} failed: {STATUS.get(status, 'status')} ({status})")


def find_library() -> str | None:
    """The installed libhailort.so (HailoRT 4.x from Hailo's packages), or None."""
    return ctypes.util.find_library("hailort")


class HailoRT:
    """One loaded libhailort (the real one or a twin)."""

    def __init__(self, library: str | Path | None = None):
        from edgekit.accel.vendor_lib import open_library
        self.ffi, self.lib, self.path = open_library(
            CDEF, library, None if library else find_library(),
            "libhailort.so is not installed: install HailoRT 4.x (hailo8 branch, Hailo's "
            "hailort .deb for Hailo-8/8L) on the board; the CPU backend still runs")

    def check(self, call: str, status: int) -> None:
        if status != 0:
            raise HailoError(call, status)

    def version(self) -> str:
        v = self.ffi.new("hailo_version_t *")
        self.check("hailo_get_library_version", self.lib.hailo_get_library_version(v))
        return f"{v.major}.{v.minor}.{v.revision}"

    def open(self, hef_path, format_type: str = "auto") -> "HailoNetwork":
        if format_type not in FORMAT_TYPES:
            raise UserError(f"format {format_type!r}: use one of {', '.join(FORMAT_TYPES)}")
        if not Path(hef_path).is_file():
            raise UserError(f"no such HEF file: {hef_path}")
        return HailoNetwork(self, str(hef_path), FORMAT_TYPES[format_type])


class HailoNetwork:
    """A vdevice configured with one HEF, with its input and output vstreams."""

    def __init__(self, rt: HailoRT, hef_path: str, format_type: int):
        self.rt, ffi, lib = rt, rt.ffi, rt.lib
        self.dtype = np.float32 if format_type == FORMAT_TYPES["float32"] else np.uint8
        self._vdevice = self._hef = None
        self._inputs = self._outputs = None
        self._n_in = self._n_out = 0
        try:
            vd = ffi.new("hailo_vdevice *")
            rt.check("hailo_create_vdevice", lib.hailo_create_vdevice(ffi.NULL, vd))
            self._vdevice = vd[0]
            hef = ffi.new("hailo_hef *")
            rt.check("hailo_create_hef_file", lib.hailo_create_hef_file(hef, hef_path.encode()))
            self._hef = hef[0]
            groups = ffi.new("hailo_configured_network_group[]", MAX_NETWORK_GROUPS)
            n = ffi.new("size_t *", MAX_NETWORK_GROUPS)
            rt.check("hailo_configure_vdevice", lib.hailo_configure_vdevice(self._vdevice, self._hef, ffi.NULL, groups, n))
            if n[0] != 1:
                raise ToolError(f"{hef_path} holds {n[0]} network groups; edgekit runs HEFs with exactly one")
            ng = groups[0]
            in_params = ffi.new("hailo_input_vstream_params_by_name_t[]", MAX_STREAMS)
            n_in = ffi.new("size_t *", MAX_STREAMS)
            rt.check("hailo_make_input_vstream_params",
                     lib.hailo_make_input_vstream_params(ng, False, format_type, in_params, n_in))
            out_params = ffi.new("hailo_output_vstream_params_by_name_t[]", MAX_STREAMS)
            n_out = ffi.new("size_t *", MAX_STREAMS)
            rt.check("hailo_make_output_vstream_params",
                     lib.hailo_make_output_vstream_params(ng, False, format_type, out_params, n_out))
            inputs = ffi.new("hailo_input_vstream[]", n_in[0])
            rt.check("hailo_create_input_vstreams", lib.hailo_create_input_vstreams(ng, in_params, n_in[0], inputs))
            self._inputs, self._n_in = inputs, n_in[0]
            outputs = ffi.new("hailo_output_vstream[]", n_out[0])
            rt.check("hailo_create_output_vstreams", lib.hailo_create_output_vstreams(ng, out_params, n_out[0], outputs))
            self._outputs, self._n_out = outputs, n_out[0]
            self.input_names = [ffi.string(in_params[i].name).decode() for i in range(self._n_in)]
            self.output_names = [ffi.string(out_params[i].name).decode() for i in range(self._n_out)]
            self.input_sizes = [self._frame_size("input", inputs[i]) for i in range(self._n_in)]
            self.output_sizes = [self._frame_size("output", outputs[i]) for i in range(self._n_out)]
        except BaseException:
            self.close()
            raise

    def _frame_size(self, kind: str, vs) -> int:
        size = self.rt.ffi.new("size_t *")
        fn = getattr(self.rt.lib, f"hailo_get_{kind}_vstream_frame_size")
        self.rt.check(f"hailo_get_{kind}_vstream_frame_size", fn(vs, size))
        return int(size[0])

    def infer(self, frames) -> list[np.ndarray]:
        """Write one frame per input vstream (in their order), read one frame per output
        (uint8 bytes, or float32 values with the float32 format)."""
        if self._inputs is None:
            raise ToolError("the Hailo network is closed")
        if len(frames) != self._n_in:
            raise UserError(f"the HEF takes {self._n_in} input(s), got {len(frames)}")
        ffi, lib = self.rt.ffi, self.rt.lib
        for i, (frame, size) in enumerate(zip(frames, self.input_sizes)):
            buf = np.ascontiguousarray(frame)
            if buf.nbytes != size:
                raise UserError(f"input {self.input_names[i]}: {buf.nbytes} bytes, the vstream frame is {size}")
            self.rt.check("hailo_vstream_write_raw_buffer",
                          lib.hailo_vstream_write_raw_buffer(self._inputs[i], ffi.from_buffer(buf), size))
        outs = []
        for i, size in enumerate(self.output_sizes):
            out = np.empty(size // np.dtype(self.dtype).itemsize, self.dtype)
            self.rt.check("hailo_vstream_read_raw_buffer",
                          lib.hailo_vstream_read_raw_buffer(self._outputs[i], ffi.from_buffer(out), size))
            outs.append(out)
        return outs

    def close(self) -> None:
        """Release in reverse order of creation; safe to call twice and after a failed open."""
        lib = self.rt.lib
        if self._outputs is not None:
            lib.hailo_release_output_vstreams(self._outputs, self._n_out)
            self._outputs = None
        if self._inputs is not None:
            lib.hailo_release_input_vstreams(self._inputs, self._n_in)
            self._inputs = None
        if self._hef is not None:
            lib.hailo_release_hef(self._hef)
            self._hef = None
        if self._vdevice is not None:
            lib.hailo_release_vdevice(self._vdevice)   # also frees its configured network groups
            self._vdevice = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
