"""V4L2 camera through the kernel's own ioctls (mmap streaming), YUYV or MJPEG, resized to the
pilot's input. Struct layouts are those of linux/videodev2.h on 64-bit Linux (checked by size)."""
from __future__ import annotations

import ctypes as C
import errno
import fcntl
import mmap
import os
import select
import time

import numpy as np

from edgekit.errors import ToolError


def _ioc(d, t, nr, size):
    return (d << 30) | (size << 16) | (ord(t) << 8) | nr


class Capability(C.Structure):
    _fields_ = [("driver", C.c_char * 16), ("card", C.c_char * 32), ("bus_info", C.c_char * 32),
                ("version", C.c_uint32), ("capabilities", C.c_uint32), ("device_caps", C.c_uint32),
                ("reserved", C.c_uint32 * 3)]


class PixFormat(C.Structure):
    _fields_ = [(n, C.c_uint32) for n in ("width", "height", "pixelformat", "field", "bytesperline", "sizeimage",
                                           "colorspace", "priv", "flags", "ycbcr_enc", "quantization", "xfer_func")]


class _FmtUnion(C.Union):
    _fields_ = [("pix", PixFormat), ("raw", C.c_uint8 * 200), ("_align", C.c_uint64)]


class Format(C.Structure):
    _fields_ = [("type", C.c_uint32), ("fmt", _FmtUnion)]


class CaptureParm(C.Structure):
    _fields_ = [("capability", C.c_uint32), ("capturemode", C.c_uint32), ("num", C.c_uint32),
                ("den", C.c_uint32), ("extendedmode", C.c_uint32), ("readbuffers", C.c_uint32),
                ("reserved", C.c_uint32 * 4)]


class _ParmUnion(C.Union):
    _fields_ = [("capture", CaptureParm), ("raw", C.c_uint8 * 200)]


class StreamParm(C.Structure):
    _fields_ = [("type", C.c_uint32), ("parm", _ParmUnion)]


class RequestBuffers(C.Structure):
    _fields_ = [("count", C.c_uint32), ("type", C.c_uint32), ("memory", C.c_uint32),
                ("capabilities", C.c_uint32), ("flags", C.c_uint8), ("reserved", C.c_uint8 * 3)]


class Timeval(C.Structure):
    _fields_ = [("sec", C.c_long), ("usec", C.c_long)]


class Timecode(C.Structure):
    _fields_ = [("type", C.c_uint32), ("flags", C.c_uint32), ("frames", C.c_uint8), ("seconds", C.c_uint8),
                ("minutes", C.c_uint8), ("hours", C.c_uint8), ("userbits", C.c_uint8 * 4)]


class _BufM(C.Union):
    _fields_ = [("offset", C.c_uint32), ("userptr", C.c_ulong), ("planes", C.c_void_p), ("fd", C.c_int32)]


class Buffer(C.Structure):
    _fields_ = [("index", C.c_uint32), ("type", C.c_uint32), ("bytesused", C.c_uint32), ("flags", C.c_uint32),
                ("field", C.c_uint32), ("timestamp", Timeval), ("timecode", Timecode), ("sequence", C.c_uint32),
                ("memory", C.c_uint32), ("m", _BufM), ("length", C.c_uint32), ("reserved2", C.c_uint32),
                ("request_fd", C.c_int32)]


assert C.sizeof(Capability) == 104 and C.sizeof(Format) == 208 and C.sizeof(Buffer) == 88
assert C.sizeof(RequestBuffers) == 20 and C.sizeof(StreamParm) == 204

R, W, RW = 2, 1, 3
QUERYCAP = _ioc(R, "V", 0, C.sizeof(Capability))
S_FMT = _ioc(RW, "V", 5, C.sizeof(Format))
REQBUFS = _ioc(RW, "V", 8, C.sizeof(RequestBuffers))
QUERYBUF = _ioc(RW, "V", 9, C.sizeof(Buffer))
QBUF = _ioc(RW, "V", 15, C.sizeof(Buffer))
DQBUF = _ioc(RW, "V", 17, C.sizeof(Buffer))
STREAMON = _ioc(W, "V", 18, 4)
STREAMOFF = _ioc(W, "V", 19, 4)
S_PARM = _ioc(RW, "V", 22, C.sizeof(StreamParm))
CAPTURE, MMAP = 1, 1
CAP_VIDEO_CAPTURE, CAP_STREAMING = 0x1, 0x04000000


def fourcc(s: str) -> int:
    return int.from_bytes(s.encode(), "little")


def yuyv_to_rgb(buf: bytes, w: int, h: int, out_w: int, out_h: int) -> np.ndarray:
    """YUYV 4:2:2 → RGB (BT.601 limited range), nearest-neighbour resize to out_w × out_h."""
    a = np.frombuffer(buf, np.uint8, w * h * 2).reshape(h, w // 2, 4)
    ys = (np.arange(out_h) * h) // out_h
    xs = (np.arange(out_w) * w) // out_w
    px = a[ys][:, xs // 2].astype(np.int32)
    y = np.where((xs % 2 == 0)[None, :], px[..., 0], px[..., 2]) - 16
    u, v = px[..., 1] - 128, px[..., 3] - 128
    r = (298 * y + 409 * v + 128) >> 8
    g = (298 * y - 100 * u - 208 * v + 128) >> 8
    b = (298 * y + 516 * u + 128) >> 8
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


class V4L2Camera:
    """`read()` → (seq, t_capture_monotonic_s, uint8[out_h, out_w, 3]) of the next frame, or None on timeout;
    `read(decode=False)` gives the raw buffer for `decode()` later."""

    def __init__(self, device: str = "/dev/video0", width: int = 640, height: int = 480, fps: int = 30,
                 out_size: tuple[int, int] = (160, 120), pixel_format: str = "YUYV", buffers: int = 4):
        self.device, self.out_w, self.out_h = device, *out_size
        try:
            self.fd = os.open(device, os.O_RDWR | os.O_NONBLOCK)
        except OSError as exc:
            raise ToolError(f"camera {device}: {exc.strerror} (is the camera connected and the driver loaded?)") from None
        self.maps: list[mmap.mmap] = []
        try:
            cap = Capability()
            fcntl.ioctl(self.fd, QUERYCAP, cap)
            caps = cap.device_caps or cap.capabilities
            if not caps & CAP_VIDEO_CAPTURE or not caps & CAP_STREAMING:
                raise ToolError(f"camera {device} ({cap.card.decode()}) cannot stream video capture")
            self.card, self.driver = cap.card.decode(), cap.driver.decode()
            f = Format(type=CAPTURE)
            f.fmt.pix.width, f.fmt.pix.height, f.fmt.pix.pixelformat = width, height, fourcc(pixel_format)
            fcntl.ioctl(self.fd, S_FMT, f)
            self.width, self.height = f.fmt.pix.width, f.fmt.pix.height
            self.format = f.fmt.pix.pixelformat.to_bytes(4, "little").decode()
            if self.format not in ("YUYV", "MJPG"):
                raise ToolError(f"camera {device} offers {self.format}, not YUYV or MJPEG")
            p = StreamParm(type=CAPTURE)
            p.parm.capture.num, p.parm.capture.den = 1, fps
            try:
                fcntl.ioctl(self.fd, S_PARM, p)
            except OSError:
                pass                                    # fixed-rate cameras refuse: keep theirs
            rb = RequestBuffers(count=buffers, type=CAPTURE, memory=MMAP)
            fcntl.ioctl(self.fd, REQBUFS, rb)
            for i in range(rb.count):
                b = Buffer(index=i, type=CAPTURE, memory=MMAP)
                fcntl.ioctl(self.fd, QUERYBUF, b)
                self.maps.append(mmap.mmap(self.fd, b.length, mmap.MAP_SHARED, mmap.PROT_READ, offset=b.m.offset))
                fcntl.ioctl(self.fd, QBUF, b)
            fcntl.ioctl(self.fd, STREAMON, C.c_int(CAPTURE))
        except OSError as exc:
            self.close()
            raise ToolError(f"camera {device}: {os.strerror(exc.errno or 0)} while setting up capture") from None

    def read(self, timeout: float = 1.0, decode: bool = True):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return None
        b = Buffer(type=CAPTURE, memory=MMAP)
        try:
            fcntl.ioctl(self.fd, DQBUF, b)
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                return None
            raise ToolError(f"camera {self.device}: {exc.strerror}") from None
        seq, t = b.sequence, b.timestamp.sec + b.timestamp.usec / 1e6   # CLOCK_MONOTONIC, like time.monotonic()
        try:
            data = self.maps[b.index][: b.bytesused]
        finally:
            fcntl.ioctl(self.fd, QBUF, b)                      # QBUF rewrites b: read it before
        return seq, t, (self.decode(data) if decode else data)

    def decode(self, data: bytes) -> np.ndarray:
        """Raw buffer → uint8[out_h, out_w, 3] RGB (separate so only the frames used are decoded)."""
        if self.format == "YUYV":
            return yuyv_to_rgb(data, self.width, self.height, self.out_w, self.out_h)
        import io
        from PIL import Image
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((self.out_w, self.out_h)))

    def close(self) -> None:
        if getattr(self, "fd", None) is None:
            return
        try:
            fcntl.ioctl(self.fd, STREAMOFF, C.c_int(CAPTURE))
        except OSError:
            pass
        for m in self.maps:
            m.close()
        os.close(self.fd)
        self.fd = None


def monotonic_now() -> float:
    return time.monotonic()
