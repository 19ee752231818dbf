"""The edgekit graph IR: what the code generator knows about a model after reading it.

Tensors carry shape, dtype, quantization (per-tensor or per-channel with its axis) and, for
constants, their data. Ops carry their TFLite builtin name, options as a plain dict, and tensor
indices (-1 for an absent optional input).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str                      # numpy dtype name: int8, int32, float32, ...
    scale: np.ndarray | None = None  # float32 array, len 1 (per-tensor) or per channel
    zero_point: np.ndarray | None = None
    quant_axis: int = 0
    data: np.ndarray | None = None   # constant tensors only

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    @property
    def per_channel(self) -> bool:
        return self.scale is not None and len(self.scale) > 1

    def s(self) -> np.float32:
        """The per-tensor scale as float32 (TFLM keeps `params.scale` as a float)."""
        return np.float32(self.scale[0])

    def zp(self) -> int:
        return int(self.zero_point[0]) if self.zero_point is not None and len(self.zero_point) else 0


@dataclass
class Op:
    index: int
    kind: str                       # TFLite builtin name, e.g. CONV_2D
    inputs: list[int]
    outputs: list[int]
    options: dict = field(default_factory=dict)


@dataclass
class Graph:
    name: str
    path: str
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    float_io: set[int] = field(default_factory=set)   # int8 I/O tensors that were float in the model

    def t(self, i: int) -> Tensor:
        return self.tensors[i]
