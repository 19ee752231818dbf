"""The deploy self-test of a Linux car computer: K inputs baked on the host with TFLM's outputs for
them (edgekit.golden, the bit-exact reference), run on the board through the slot's compiled model
(edgekit.runtime, the same loader the pilot uses) and compared byte for byte.

    bake(model_dir, n) -> bytes      on the host (needs TFLM); an .npz: in_K, out_K_J
    check(model_dir, vectors) -> {ok, inputs, equal_inputs, detail}   on the board (needs a C compiler)
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np


def _infos(model_dir: Path, key: str):
    from edgekit.runtime import CompiledModel
    return [CompiledModel._info(r) for r in json.loads((Path(model_dir) / "report.json").read_text())[key]]


def bake(model_dir: Path, n: int = 4, seed: int = 0) -> bytes:
    """n seeded int8 inputs and TFLM's outputs for them (float outputs stay float: the board
    dequantizes its int8 output as TFLM's DEQUANTIZE does, then compares exactly)."""
    from edgekit.golden import tflm_invoke

    model_dir = Path(model_dir)
    inputs = _infos(model_dir, "inputs")
    rng = np.random.default_rng(seed)
    arrays = {}
    for k in range(n):
        xs = [rng.integers(-128, 128, size=i.shape, dtype=np.int8) for i in inputs]
        ref = tflm_invoke(model_dir / "source.tflite", [i.dequantize(x) if i.float_in_model else x
                                                         for i, x in zip(inputs, xs)])
        arrays[f"in_{k}"] = np.concatenate([x.ravel() for x in xs])
        for j, r in enumerate(ref):
            arrays[f"out_{k}_{j}"] = np.asarray(r).ravel()
    buf = io.BytesIO()
    np.savez(buf, n=np.int64(n), **arrays)
    return buf.getvalue()


def check(model_dir: Path, vectors: Path) -> dict:
    """Run the baked inputs through the compiled model in `model_dir`; ok only if every output
    byte (or dequantized value) equals TFLM's."""
    import edgekit.runtime as rt

    data = np.load(vectors)
    n = int(data["n"])
    model = rt.load(model_dir)
    equal, first_bad = 0, None
    for k in range(n):
        ours = model.invoke_raw(data[f"in_{k}"])
        same = True
        for j, o in enumerate(model.outputs):
            ref = data[f"out_{k}_{j}"]
            q = ours[o.offset: o.offset + o.nbytes].view(o.dtype)
            mine = o.dequantize(q) if ref.dtype == np.float32 else q
            same &= bool(np.array_equal(mine, ref.astype(mine.dtype)))
        equal += same
        if not same and first_bad is None:
            first_bad = k
    ok = equal == n and n > 0
    detail = (f"{equal}/{n} inputs bit-identical to TFLM" if first_bad is None or ok
              else f"{equal}/{n} inputs bit-identical to TFLM (first difference: input {first_bad})")
    return {"ok": ok, "inputs": n, "equal_inputs": equal, "detail": detail}
