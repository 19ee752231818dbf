"""The car's camera: a pinhole at a height and pitch (car YAML) looking at a flat floor.

Fast because nothing is traced per frame: each pixel's ray is intersected with the ground once
(a lookup table of floor points in the car frame), and the floor is a pre-painted texture of the
whole track (1 cm cells). A frame is then one rigid transform of the table plus one gather.
Lighting varies per `Renderer` call through a brightness gain and sensor noise.
"""
from __future__ import annotations

import math

import numpy as np

from edgekit.sim.tracks import CENTRE_LINE_M, DASH_M, DS, EDGE_LINE_M, Track

TEXEL = 0.01   # m per texture cell
MAX_RANGE = 8.0  # m; beyond this the floor fades into the far wall
FLOOR = (118, 108, 96)       # carpet around the track
ASPHALT = (62, 64, 68)
EDGE = (235, 235, 230)
CENTRE = (230, 190, 40)
WALL_TOP, WALL_BOTTOM = (170, 180, 195), (120, 120, 125)


def paint_texture(track: Track, seed: int = 0, margin: float = 1.5):
    """RGB texture of the floor around `track` and its world origin (x0, y0)."""
    rng = np.random.default_rng(seed)
    lo = track.xy.min(axis=0) - track.width / 2 - margin
    hi = track.xy.max(axis=0) + track.width / 2 + margin
    nx, ny = (np.ceil((hi - lo) / TEXEL)).astype(int)
    # floor: low-frequency blotches + fine grain
    coarse = rng.normal(0, 10, (ny // 20 + 2, nx // 20 + 2))
    blotch = np.kron(coarse, np.ones((20, 20)))[:ny, :nx]
    base = np.array(FLOOR, np.float32)[None, None] + blotch[..., None] + rng.normal(0, 6, (ny, nx, 1))
    tex = base.astype(np.float32)

    half = track.width / 2
    offsets = np.arange(-half - 0.02, half + 0.02, TEXEL / 2)
    normal = track.normal
    s = np.arange(len(track.xy)) * DS

    def paint(mask_fn, color, grain):
        sel = np.broadcast_to(mask_fn(offsets[None, :], s[:, None]), (len(s), len(offsets)))
        ii, jj = np.nonzero(sel)
        # two sub-samples per centreline step so the outside of bends has no holes
        for frac in (0.0, 0.5):
            base_xy = track.xy[ii] + frac * (np.roll(track.xy, -1, axis=0)[ii] - track.xy[ii])
            pts = base_xy + normal[ii] * offsets[jj][:, None]
            cx = ((pts[:, 0] - lo[0]) / TEXEL).astype(int)
            cy = ((pts[:, 1] - lo[1]) / TEXEL).astype(int)
            tex[cy, cx] = np.array(color, np.float32) + rng.normal(0, grain, (len(cx), 1))

    paint(lambda d, s: np.abs(d) <= half + 0.02, ASPHALT, 5)
    paint(lambda d, s: (np.abs(d) > half - EDGE_LINE_M) & (np.abs(d) <= half), EDGE, 4)
    paint(lambda d, s: (np.abs(d) < CENTRE_LINE_M / 2) & ((s % (2 * DASH_M)) < DASH_M), CENTRE, 4)
    return np.clip(tex, 0, 255).astype(np.uint8), lo


class Renderer:
    """`render(x, y, yaw, gain, rng) -> uint8[H, W, 3]` for one car pose."""

    def __init__(self, track: Track, camera: dict, seed: int = 0):
        self.h, self.w = camera["height_px"], camera["width_px"]
        self.tex, self.origin = paint_texture(track, seed)
        pitch = math.radians(camera["pitch_deg"])
        f = (self.w / 2) / math.tan(math.radians(camera["hfov_deg"]) / 2)
        u = np.arange(self.w) - (self.w - 1) / 2
        v = np.arange(self.h) - (self.h - 1) / 2
        uu, vv = np.meshgrid(u, v)
        # camera ray (right, down, forward) rotated by the pitch into the car frame (fwd, left, up)
        fwd = f * math.cos(pitch) - vv * math.sin(pitch)
        up = -f * math.sin(pitch) - vv * math.cos(pitch)
        left = -uu
        hits = up < -1e-6
        t = np.where(hits, camera["height_m"] / np.where(hits, -up, 1.0), np.inf)
        gx, gy = fwd * t, left * t
        ground = hits & (np.hypot(gx, gy) < MAX_RANGE)
        self._flat = np.flatnonzero(ground)
        self._gx = gx.ravel()[self._flat].astype(np.float32)
        self._gy = gy.ravel()[self._flat].astype(np.float32)
        # the far wall: a vertical gradient, darker near the floor
        rows = np.linspace(0, 1, self.h)[:, None, None]
        wall = np.array(WALL_TOP) * (1 - rows) + np.array(WALL_BOTTOM) * rows
        self._background = np.broadcast_to(wall, (self.h, self.w, 3)).astype(np.uint8).copy()
        self._noise = np.round(np.random.default_rng(seed + 1).normal(0, 4, (8, self.h, self.w, 3))).astype(np.int16)
        self._tex_flat = self.tex.reshape(-1, 3)
        self._tex_w, self._tex_h = self.tex.shape[1], self.tex.shape[0]

    def render(self, x: float, y: float, yaw: float, gain: float = 1.0, rng=None) -> np.ndarray:
        c, s = math.cos(yaw), math.sin(yaw)
        wx = x + c * self._gx - s * self._gy
        wy = y + s * self._gx + c * self._gy
        cx = ((wx - self.origin[0]) * (1 / TEXEL)).astype(np.int32)
        cy = ((wy - self.origin[1]) * (1 / TEXEL)).astype(np.int32)
        np.clip(cx, 0, self._tex_w - 1, out=cx)
        np.clip(cy, 0, self._tex_h - 1, out=cy)
        img = self._background.copy().reshape(-1, 3)
        img[self._flat] = self._tex_flat[cy * self._tex_w + cx]
        img = img.reshape(self.h, self.w, 3)
        if gain != 1.0:  # brightness through a 256-entry table: cheaper than float maths per pixel
            img = np.clip(np.arange(256) * gain, 0, 255).astype(np.uint8)[img]
        if rng is not None:
            noisy = img.astype(np.int16) + self._noise[rng.integers(len(self._noise))]
            img = np.clip(noisy, 0, 255).astype(np.uint8)
        return img
