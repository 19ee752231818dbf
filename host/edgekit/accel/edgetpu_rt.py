"""cffi ABI-mode binding to libedgetpu.so.1's C API (google-coral/libedgetpu,
`tflite/public/edgetpu_c.h`), declared here from the header: device listing, version, verbosity,
delegate creation with options and its release. The same code loads the real library on a Coral
Dev Board (PCIe) or a Raspberry Pi with the USB Accelerator, and the project's twin here.

Running a compiled segment goes through LiteRT's external-delegate loader
(`load_delegate("libedgetpu.so.1", {"device": "usb:0"})`), see `edgekit.accel.backends`.
"""
from __future__ import annotations

import ctypes.util
import re
from dataclasses import dataclass
from pathlib import Path

from edgekit.errors import ToolError, UserError

CDEF = """
enum edgetpu_device_type { EDGETPU_APEX_PCI = 0, EDGETPU_APEX_USB = 1 };
struct edgetpu_device { enum edgetpu_device_type type; const char *path; };
struct edgetpu_option { const char *name; const char *value; };
typedef struct TfLiteDelegate TfLiteDelegate;
struct edgetpu_device *edgetpu_list_devices(size_t *num_devices);
void edgetpu_free_devices(struct edgetpu_device *dev);
TfLiteDelegate *edgetpu_create_delegate(enum edgetpu_device_type type, const char *name,
                                        const struct edgetpu_option *options, size_t num_options);
void edgetpu_free_delegate(TfLiteDelegate *delegate);
void edgetpu_verbosity(int verbosity);
const char *edgetpu_version(void);
"""
TYPES = {0: "pci", 1: "usb"}
DEVICE_RE = re.compile(r"^(usb|pci)?(?::(\d+))?$")   # "", ":N", "usb", "usb:N", "pci", "pci:N"
PERFORMANCE = ("Low", "Medium", "High", "Max")


@dataclass(frozen=True)
class Device:
    type: str    # "usb" or "pci"
    path: str


def find_library() -> str | None:
    return ctypes.util.find_library("edgetpu")


def parse_device(spec: str) -> tuple[str | None, int | None]:
    """'usb:1' -> ('usb', 1); '' -> (None, None). Bad specs are a UserError."""
    m = DEVICE_RE.match(spec)
    if not m:
        raise UserError(f"Edge TPU device {spec!r}: use '', ':N', 'usb', 'usb:N', 'pci' or 'pci:N'")
    return m.group(1), (int(m.group(2)) if m.group(2) is not None else None)


class EdgeTpu:
    """One loaded libedgetpu (the real one or a twin)."""

    def __init__(self, library: str | Path | None = None):
        from edgekit.accel.vendor_lib import open_library
        self.ffi, self.lib, self.path = open_library(
            CDEF, library, None if library else find_library(),
            "libedgetpu.so.1 is not installed: on the board, install Coral's libedgetpu1-std "
            "(packages.cloud.google.com/apt coral-edgetpu-stable); the CPU backend still runs")

    def version(self) -> str:
        return self.ffi.string(self.lib.edgetpu_version()).decode()

    def verbosity(self, level: int) -> None:
        if not 0 <= level <= 10:
            raise UserError(f"Edge TPU verbosity {level}: use 0..10")
        self.lib.edgetpu_verbosity(level)

    def devices(self) -> list[Device]:
        n = self.ffi.new("size_t *")
        devs = self.lib.edgetpu_list_devices(n)
        if devs == self.ffi.NULL:
            return []
        try:
            return [Device(TYPES.get(int(devs[i].type), str(int(devs[i].type))), self.ffi.string(devs[i].path).decode())
                    for i in range(n[0])]
        finally:
            self.lib.edgetpu_free_devices(devs)

    def delegate(self, device: str = "", performance: str | None = None, **options: str) -> "Delegate":
        """A delegate for the device `device` ("" = first, "usb:1" = second USB one, …)."""
        kind, index = parse_device(device)
        if performance is not None and performance not in PERFORMANCE:
            raise UserError(f"Edge TPU Performance {performance!r}: use one of {', '.join(PERFORMANCE)}")
        devs = [d for d in self.devices() if kind is None or d.type == kind]
        if not devs or (index is not None and index >= len(devs)):
            raise ToolError(f"no Edge TPU device {device or '(any)'} found (devices: "
                            f"{', '.join(f'{d.type}:{d.path}' for d in self.devices()) or 'none'})")
        dev = devs[index or 0]
        opts = dict(options, **({"Performance": performance} if performance else {}))
        return Delegate(self, dev, opts)


class Delegate:
    """An Edge TPU delegate handle; freed by close() / the with-block / garbage collection."""

    def __init__(self, tpu: EdgeTpu, device: Device, options: dict[str, str]):
        ffi = tpu.ffi
        self.tpu, self.device, self.options = tpu, device, options
        keep = [ffi.new("char[]", s.encode()) for kv in options.items() for s in kv]
        arr = ffi.new("struct edgetpu_option[]", max(len(options), 1))
        for i in range(len(options)):
            arr[i].name, arr[i].value = keep[2 * i], keep[2 * i + 1]
        dtype = 1 if device.type == "usb" else 0
        self.handle = tpu.lib.edgetpu_create_delegate(dtype, device.path.encode(), arr, len(options))
        if self.handle == ffi.NULL:
            self.handle = None
            raise ToolError(f"edgetpu_create_delegate failed for {device.type}:{device.path} "
                            f"with options {options or '{}'} (a bad option value, or the device is busy)")

    def close(self) -> None:
        if self.handle is not None:
            self.tpu.lib.edgetpu_free_delegate(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "handle", None) is not None:
            self.close()
