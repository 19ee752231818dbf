"""Raspberry Pi camera through picamera2 (libcamera), behind the V4L2 driver's interface.

picamera2 comes with Raspberry Pi OS (`apt install python3-picamera2`): it needs the system's
libcamera bindings, so pip cannot install it and a venv must see the system packages
(`python3 -m venv --system-site-packages`). The Pi's ISP scales the sensor image to the pilot's
input, so frames arrive at `out_size` with no resize on the CPU. Not exercised on the development
machine (no libcamera there): only the missing-package path and the selection are tested.
"""
from __future__ import annotations

import time

import numpy as np

from edgekit.errors import ToolError

INSTALL = ("on Raspberry Pi OS: `sudo apt install python3-picamera2` (it needs libcamera; pip cannot "
           "provide it), and a venv made with --system-site-packages")


class Picamera2Camera:
    """`read()` → (seq, t_capture_monotonic_s, uint8[out_h, out_w, 3] RGB) or None on timeout."""

    driver = "picamera2"

    def __init__(self, out_size: tuple[int, int] = (160, 120), fps: int = 30, buffers: int = 4):
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise ToolError(f"picamera2 is not installed: {INSTALL}") from None
        self.out_w, self.out_h = out_size
        self.width, self.height, self.format = self.out_w, self.out_h, "BGR888"
        try:
            self.cam = Picamera2()
        except (IndexError, RuntimeError) as exc:    # no camera attached / libcamera cannot open it
            raise ToolError(f"picamera2: no camera ({exc}): check the ribbon cable and `rpicam-hello --list-cameras`") from None
        self.card = str(self.cam.camera_properties.get("Model", "libcamera camera"))
        # libcamera names formats by their little-endian word: "BGR888" is R, G, B bytes in memory
        config = self.cam.create_video_configuration(
            main={"size": (self.out_w, self.out_h), "format": "BGR888"}, buffer_count=buffers,
            controls={"FrameRate": fps})
        self.cam.configure(config)
        self.cam.start()
        self.seq, self._pending = 0, None

    def read(self, timeout: float = 1.0, decode: bool = True):
        # a capture job that timed out stays queued: wait on it next time (its request must be released)
        job = self._pending or self.cam.capture_request(wait=False)
        try:
            request = self.cam.wait(job, timeout=timeout)
        except TimeoutError:                      # concurrent.futures.TimeoutError is this one (3.11+)
            self._pending = job
            return None
        self._pending = None
        try:
            frame = np.array(request.make_array("main")[:, :, :3], np.uint8)   # copy: the buffer goes back
        finally:
            request.release()
        t = time.monotonic()       # when the frame reached us (libcamera's sensor timestamp is not used)
        self.seq += 1
        return self.seq, t, frame

    def decode(self, data):
        return data                # frames are already RGB at the pilot's size

    def close(self) -> None:
        cam = getattr(self, "cam", None)
        if cam is not None:
            if getattr(self, "_pending", None) is not None:
                try:
                    cam.wait(self._pending, timeout=1.0).release()
                except TimeoutError:
                    pass
            cam.stop()
            cam.close()
            self.cam = None
