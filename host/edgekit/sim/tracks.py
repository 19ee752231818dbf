"""Closed tracks with lane markings: a centreline sampled every `DS` metres along its length.

Tracks: `oval` (two straights and two half circles), `winding` and `wiggle` (closed loops whose
radius varies with a few harmonics; different shapes, both with bends tighter than the oval's).
`width` is the lane-to-lane width in metres; `scale` multiplies every length (so curvature
divides by it). Left of the direction of travel is +cte.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgekit.errors import UserError

DS = 0.01  # centreline sample spacing, m
EDGE_LINE_M = 0.05
CENTRE_LINE_M = 0.03
DASH_M = 0.3


@dataclass
class Track:
    name: str
    xy: np.ndarray          # (N, 2) centreline points, evenly spaced by DS, closed (last -> first)
    width: float
    heading: np.ndarray = field(init=False)    # (N,) tangent angle, rad
    curvature: np.ndarray = field(init=False)  # (N,) 1/m, + turns left

    def __post_init__(self):
        d = np.roll(self.xy, -1, axis=0) - np.roll(self.xy, 1, axis=0)
        self.heading = np.arctan2(d[:, 1], d[:, 0])
        dh = np.angle(np.exp(1j * (np.roll(self.heading, -1) - np.roll(self.heading, 1))))
        self.curvature = dh / (2 * DS)

    @property
    def length(self) -> float:
        return len(self.xy) * DS

    @property
    def normal(self) -> np.ndarray:
        return np.stack([-np.sin(self.heading), np.cos(self.heading)], axis=1)

    def project(self, x: float, y: float, hint: int | None = None, window: int = 150) -> tuple[int, float]:
        """Nearest centreline index and signed cross-track error (m, + left). With `hint` (the last
        index) only a window around it is searched: O(window) instead of O(N)."""
        n = len(self.xy)
        if hint is None:
            idx = np.arange(n)
        else:
            idx = np.arange(hint - window, hint + window + 1) % n
        pts = self.xy[idx]
        d2 = (pts[:, 0] - x) ** 2 + (pts[:, 1] - y) ** 2
        i = int(idx[int(np.argmin(d2))])
        h = self.heading[i]
        cte = -(x - self.xy[i, 0]) * np.sin(h) + (y - self.xy[i, 1]) * np.cos(h)
        return i, float(cte)

    def point_at(self, i: int, ahead_m: float = 0.0) -> np.ndarray:
        return self.xy[(i + int(round(ahead_m / DS))) % len(self.xy)]

    def max_curvature_ahead(self, i: int, ahead_m: float) -> float:
        k = int(ahead_m / DS)
        return float(np.abs(self.curvature[np.arange(i, i + k) % len(self.xy)]).max())

    def start_pose(self) -> tuple[float, float, float]:
        return float(self.xy[0, 0]), float(self.xy[0, 1]), float(self.heading[0])


def _resample_closed(pts: np.ndarray) -> np.ndarray:
    """Evenly spaced samples (DS apart) along a closed polyline."""
    closed = np.vstack([pts, pts[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = int(round(s[-1] / DS))
    t = np.linspace(0.0, s[-1], n, endpoint=False)
    return np.stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])], axis=1)


def _oval(scale: float) -> np.ndarray:
    straight, radius = 4.0 * scale, 1.5 * scale
    a = np.linspace(-np.pi / 2, np.pi / 2, 2000)
    right = np.stack([straight / 2 + radius * np.cos(a), radius * np.sin(a)], axis=1)
    left = np.stack([-straight / 2 - radius * np.cos(a), -radius * np.sin(a)], axis=1)
    return np.vstack([right, left])  # counter-clockwise: the car turns left


def _harmonic_loop(scale: float, r0: float, harmonics) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 8000, endpoint=False)
    r = np.full_like(t, r0)
    for k, amp, phase in harmonics:
        r += amp * np.sin(k * t + phase)
    return scale * np.stack([r * np.cos(t), 0.8 * r * np.sin(t)], axis=1)


SHAPES = {
    "oval": _oval,
    "winding": lambda s: _harmonic_loop(s, 3.2, [(3, 0.45, 0.3), (5, 0.05, 1.1), (2, 0.3, 0.0)]),
    "wiggle": lambda s: _harmonic_loop(s, 3.0, [(4, 0.2, 0.9), (2, 0.4, 2.0)]),
}


def make_track(name: str, width: float = 0.8, scale: float = 1.0) -> Track:
    if name not in SHAPES:
        raise UserError(f"unknown track {name!r}; choose one of {', '.join(SHAPES)}")
    if not 0.3 <= width <= 3.0 or not 0.3 <= scale <= 5.0:
        raise UserError(f"track width {width} m / scale {scale} out of range (0.3-3 m / 0.3-5)")
    track = Track(name, _resample_closed(SHAPES[name](scale)), width)
    r_min = 1.0 / max(np.abs(track.curvature).max(), 1e-9)
    if r_min < width / 2 + 0.1:
        raise UserError(f"track {name!r} at scale {scale} bends tighter (r={r_min:.2f} m) than half its width")
    return track
