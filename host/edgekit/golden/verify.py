"""`edgekit verify` logic: generated C (through cffi) against TFLM on seeded random inputs."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from edgekit.golden.child import time_calls
from edgekit.provenance import figure


def random_inputs(model, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield [rng.integers(-128, 128, size=i.shape, dtype=np.int8) for i in model.inputs]


def verify(tflite_path, n_inputs: int = 100, layers: bool = False, seed: int = 0,
           out_dir=None, on_step=None, variant: str | None = None) -> dict:
    """Compile for the host, run `n_inputs` random int8 inputs through the C code and TFLM and
    count bit-identical results. With `layers`, diff every op output and name the first op
    that diverges (per input; the earliest over all inputs is reported). `variant`: the kernel
    tier to compile (edgekit.codegen.build.select_variant; default portable)."""
    import edgekit.runtime as rt
    from edgekit.codegen import compile_model
    from edgekit.golden.child import ChildGolden

    tmp = golden = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="ek_verify_")
        out_dir = Path(tmp.name) / "model"
    try:
        result = compile_model(tflite_path, out_dir, board=None, variant=variant)
        model = rt.load(out_dir, trace=layers)
        golden = ChildGolden(tflite_path, preserve_all=layers)   # a TFLM abort: GoldenError, exit 2
        equal_inputs = equal_values = total_values = 0
        first_div = None
        max_abs = 0
        for k, xs in enumerate(random_inputs(model, n_inputs, seed)):
            if layers:
                got_layers = model.invoke_layers(xs)
            ours = model.invoke_raw(np.concatenate([x.ravel() for x in xs]))
            ref = golden([i.dequantize(x) if i.float_in_model else x for i, x in zip(model.inputs, xs)])
            same_parts, diffs = [], []
            for o, r in zip(model.outputs, ref):
                q = ours[o.offset: o.offset + o.nbytes].view(o.dtype)   # int8, or int32/int64 indices
                r = np.asarray(r).ravel()
                mine = o.dequantize(q) if r.dtype == np.float32 else q
                same_parts.append(mine == r.astype(mine.dtype))
                if r.dtype != np.float32:
                    diffs.append(np.abs(q.astype(int) - r.astype(int)))
            same = np.concatenate(same_parts)
            equal_inputs += int(same.all())
            equal_values += int(same.sum())
            total_values += same.size
            if not same.all() and diffs:
                max_abs = max(max_abs, int(np.concatenate(diffs).max()))
            if layers:
                for e in model.trace:
                    a, b = got_layers[e["tensor"]], _bytes(golden.tensor(e["tensor"]))
                    if not np.array_equal(a, b):
                        if first_div is None or e["op"] < first_div["op"]:
                            first_div = dict(op=e["op"], kind=e["kind"], tensor=e["tensor"], input=k,
                                             differing=int((a != b).sum()), of=int(a.size))
                        break
            if on_step:
                on_step()
        lat, cpu = _timed(lambda xs: model.invoke_raw(np.concatenate([x.ravel() for x in xs])), model, seed, 20)
        xs = next(random_inputs(model, 1, seed + 1))
        tflm_lat, tflm_cpu = golden.timed([i.dequantize(x) if i.float_in_model else x
                                           for i, x in zip(model.inputs, xs)], 5)
        tflm_arena = golden.arena_bytes()
        report = {
            "model": str(tflite_path), "inputs": n_inputs, "seed": seed, "variant": result.report["variant"],
            "bit_identical_inputs": equal_inputs,
            "bit_identical_fraction": figure(equal_inputs / max(n_inputs, 1), "", "measured-host",
                                             note="inputs whose every output byte equals TFLM's"),
            "equal_values_fraction": equal_values / max(total_values, 1),
            "max_abs_diff": max_abs,
            "arena_bytes": result.report["arena_bytes"],
            "weights_bytes": result.report["weights_bytes"],
            "tflm_arena_bytes": figure(tflm_arena, "B", "measured-host", note="TFLM RecordingMicroAllocator total"),
            "arena_vs_tflm": round(result.report["arena_bytes"]["value"] / tflm_arena, 3),
            "latency_ms": figure(round(lat, 4), "ms", "measured-host",
                                 note="generated C via cffi, median of 20, -O3 -march=native, 1 thread"),
            "cpu_ms": figure(round(cpu, 4), "ms", "measured-host",
                             note="process CPU time per invoke of the generated C (robust to a loaded host)"),
            "tflm_latency_ms": figure(round(tflm_lat, 4), "ms", "measured-host",
                                      note="TFLM Python interpreter, same inputs, median of 5, same moment"),
            "tflm_cpu_ms": figure(round(tflm_cpu, 4), "ms", "measured-host",
                                  note="process CPU time per TFLM invoke"),
        }
        if layers:
            report["first_divergence"] = first_div
        return report
    finally:
        if golden is not None:
            golden.close()
        if tmp is not None:
            tmp.cleanup()


def _bytes(t) -> np.ndarray:
    """A golden tensor as the bytes the trace holds: int8 as is, int32/int64 indices by their bytes."""
    t = np.ascontiguousarray(t)
    return t.view(np.int8).ravel() if t.dtype.kind == "i" and t.dtype.itemsize > 1 else t.astype(np.int8).ravel()


def _timed(run, model, seed: int, repeats: int) -> tuple[float, float]:
    """(median wall-clock ms, mean process-CPU ms) of `run(inputs)` after one warm-up call."""
    xs = next(random_inputs(model, 1, seed + 1))
    return time_calls(lambda: run(xs), repeats)
