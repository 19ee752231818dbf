"""Calibration and held-out frames for `edgekit quantize`.

DATA is one or more DonkeyCar tub folders, a `.npy` of frames (N×H×W×C), or a `.npz` with
`frames` and optional `angles` / `throttles`. uint8 frames are camera pixels: the model input is
`pixel / 255` (DonkeyCar's convention, and what the pilot's INT8 input scale 1/255 assumes).
Float frames are taken as model inputs unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.errors import UserError


@dataclass
class Frames:
    frames: np.ndarray                  # N×H×W×C, uint8 pixels or float model inputs
    angles: np.ndarray | None = None    # labels, when the data has them (tubs, .npz)
    throttles: np.ndarray | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.frames)

    def model_inputs(self, idx=None) -> np.ndarray:
        x = self.frames if idx is None else self.frames[idx]
        return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)

    def take(self, idx) -> "Frames":
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        return Frames(self.frames[idx], pick(self.angles), pick(self.throttles), self.source)


def load(paths: list[str], limit: int | None = None, seed: int = 0) -> Frames:
    """Frames from tubs / .npy / .npz; every path must exist and the result must not be empty."""
    if not paths:
        raise UserError("no calibration data given (--calib TUB_DIR... or FRAMES.npy)")
    parts: list[Frames] = []
    for p in map(Path, paths):
        if not p.exists():
            raise UserError(f"calibration data not found: {p}")
        if p.is_dir():
            parts.append(_read_tub(p, limit, seed))
        elif p.suffix == ".npy":
            parts.append(Frames(_load_array(p), source=str(p)))
        elif p.suffix == ".npz":
            parts.append(_load_npz(p))
        else:
            raise UserError(f"calibration data must be a tub folder, .npy or .npz: {p}")
    frames = _concat(parts)
    if len(frames) == 0:
        raise UserError(f"calibration data is empty: {', '.join(paths)}")
    if frames.frames.ndim != 4:
        raise UserError(f"calibration frames must be N×H×W×C, got shape {tuple(frames.frames.shape)}")
    if limit is not None and len(frames) > limit:
        idx = np.sort(np.random.default_rng(seed).choice(len(frames), limit, replace=False))
        frames = frames.take(idx)
    return frames


def split(data: Frames, samples: int, seed: int = 0, max_held_out: int = 200) -> tuple[Frames, Frames]:
    """(representative, held-out): `samples` frames drawn at random (seeded) for calibration, the
    rest held out for the accuracy report. With too few frames, 20% (at least 1) is held out."""
    n = len(data)
    order = np.random.default_rng(seed).permutation(n)
    n_rep = min(samples, n - max(1, n // 5)) if n > 1 else n
    rep, rest = order[:n_rep], order[n_rep:]
    if not len(rest):  # a single frame: it is both (the report says held_out_frames = 1 of 1)
        rest = rep
    return data.take(np.sort(rep)), data.take(np.sort(rest[:max_held_out]))


def check_shape(data: Frames, input_shape: tuple[int, ...]) -> None:
    """Frames must match the model input (without the batch dimension)."""
    want = tuple(int(d) for d in input_shape[1:])
    got = tuple(data.frames.shape[1:])
    if got != want:
        raise UserError(f"calibration frames are {got} but the model input is {want} ({data.source})")


def _load_array(p: Path) -> np.ndarray:
    try:
        return np.load(p, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 — any unreadable file is bad input
        raise UserError(f"cannot read calibration frames {p}: {exc}") from None


def _load_npz(p: Path) -> Frames:
    try:
        with np.load(p, allow_pickle=False) as z:
            if "frames" not in z:
                raise UserError(f"{p} has no 'frames' array (keys: {', '.join(z.files)})")
            get = lambda k: np.asarray(z[k], np.float32) if k in z else None  # noqa: E731
            return Frames(z["frames"], get("angles"), get("throttles"), str(p))
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"cannot read calibration data {p}: {exc}") from None


def _read_tub(p: Path, limit: int | None, seed: int) -> Frames:
    """A DonkeyCar tub v2 through the simulator's reader (`edgekit.sim.tub.read_frames`)."""
    from edgekit.sim.tub import read_frames

    try:
        frames, angles, throttles = read_frames([p], limit, seed)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"cannot read tub {p}: {exc}") from None
    return Frames(np.asarray(frames), np.asarray(angles, np.float32), np.asarray(throttles, np.float32), str(p))


def _concat(parts: list[Frames]) -> Frames:
    if len(parts) == 1:
        return parts[0]
    shapes = {tuple(f.frames.shape[1:]) for f in parts if len(f)}
    if len(shapes) > 1:
        raise UserError(f"calibration sources have different frame shapes: {sorted(shapes)}")
    labelled = all(f.angles is not None for f in parts)
    cat = lambda k: np.concatenate([getattr(f, k) for f in parts]) if labelled else None  # noqa: E731
    return Frames(np.concatenate([f.frames for f in parts]), cat("angles"), cat("throttles"),
                  ", ".join(f.source for f in parts))
