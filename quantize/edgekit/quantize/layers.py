"""Per-layer quantization error: which layer of the INT8 model loses accuracy.

For every operator output (activation tensor) of the INT8 model, TFLM (all tensors preserved,
the golden integer kernels) gives the int8 values; they are dequantized and compared with a float
reference run by LiteRT (all tensors preserved) on the same frames:

- `float` reference: the float .tflite converted from the same Keras model. Tensors are matched
  by name (the converter names an INT8 tensor like its float twin), else by position: the k-th
  output of the k-th op of the same type.
- `dequantized` reference (when there is no float model, e.g. MLPerf Tiny): the INT8 graph with
  every constant dequantized to float32 and every activation made float32, fed the dequantized
  int8 input. It isolates the activation/requantization error from weight rounding.

Per tensor: SNR = 10·log10(Σ ref² / Σ (ref − int8)²) in dB, relative RMS error, max abs error,
and `snr_drop_db`: how much SNR this op loses relative to its worst activation input (the error
this layer adds, in dB; the accumulated error is `snr_db`).
"""
from __future__ import annotations

import numpy as np

from edgekit.quantize import flatbuf, run


def dequantized_float_model(int8_buf: bytes) -> bytes:
    """The INT8 graph rewritten to float32: constants dequantized, quantization dropped."""
    from ai_edge_litert import schema_py_generated as schema

    model = flatbuf.parse(int8_buf)
    sg = model.subgraphs[0]
    ops = {flatbuf.op_name(model, op.opcodeIndex) for op in sg.operators}
    if ops & {"QUANTIZE", "DEQUANTIZE"}:
        raise ValueError("graph has QUANTIZE/DEQUANTIZE ops: no dequantized float twin")
    for t in sg.tensors:
        q = t.quantization
        quantized = q is not None and q.scale is not None and len(q.scale) > 0
        nbytes = flatbuf.buffer_bytes(model, t)
        if nbytes and quantized and t.type in flatbuf.NUMPY_TYPES:
            raw = np.frombuffer(bytes(bytearray(model.buffers[t.buffer].data)), flatbuf.NUMPY_TYPES[t.type])
            values = _dequantize(raw.reshape([int(d) for d in t.shape]), q)
            b = schema.BufferT()
            b.data = np.frombuffer(values.astype(np.float32).tobytes(), np.uint8)
            model.buffers.append(b)
            t.buffer = len(model.buffers) - 1
            t.type, t.quantization = flatbuf.FLOAT32, None
        elif not nbytes and t.type in (flatbuf.INT8, flatbuf.UINT8, flatbuf.INT16):
            t.type, t.quantization = flatbuf.FLOAT32, None
    return flatbuf.serialize(model)


def _dequantize(values: np.ndarray, q) -> np.ndarray:
    scale = np.asarray(q.scale, np.float64)
    zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0], np.float64)
    if scale.size > 1:  # per-channel along quantizedDimension
        shape = [1] * values.ndim
        shape[q.quantizedDimension] = scale.size
        scale, zp = scale.reshape(shape), zp.reshape(shape) if zp.size > 1 else zp
    return (values.astype(np.float64) - zp) * scale


def per_layer(int8_buf: bytes, inputs: np.ndarray, float_buf: bytes | None = None) -> dict:
    """Per-op-output error of the INT8 model (TFLM) against a float reference (LiteRT).

    `inputs` are float model inputs (N×H×W×C); they are quantized for the INT8 model exactly as
    the deployed car would (round to the input scale)."""
    model = flatbuf.parse(int8_buf)
    sg = model.subgraphs[0]
    op_types = [flatbuf.op_name(model, op.opcodeIndex) for op in sg.operators]
    reference = "float" if float_buf is not None else "dequantized"
    ref_buf = float_buf if float_buf is not None else dequantized_float_model(int8_buf)
    ref_index = _match(model, op_types, flatbuf.parse(ref_buf)) if float_buf is not None else None

    micro, ref = run.tflm(int8_buf), run.litert(ref_buf, preserve_all=True)
    in_t = sg.tensors[sg.inputs[0]]
    in_scale, in_zp = float(in_t.quantization.scale[0]), int(in_t.quantization.zeroPoint[0])
    acc: dict[int, list[float]] = {}
    for x in inputs:
        q_in = run.quantize_input(x[None], in_scale, in_zp)
        micro.set_input(q_in, 0)
        micro.invoke()
        ref_in = x[None] if float_buf is not None else run.dequantize(q_in, in_scale, in_zp)
        ref.set_tensor(ref.get_input_details()[0]["index"], ref_in.astype(np.float32))
        ref.invoke()
        for op in sg.operators:
            for ti in op.outputs:
                ri = ti if ref_index is None else ref_index.get(int(ti))
                if ri is None:
                    continue
                t = sg.tensors[ti]
                if t.quantization is None or t.quantization.scale is None or not len(t.quantization.scale):
                    continue  # not a quantized activation (e.g. an int32 index output)
                qv = micro.GetTensor(int(ti), 0)["tensor_data"]
                deq = run.dequantize(qv, float(t.quantization.scale[0]), int(t.quantization.zeroPoint[0]))
                r = ref.get_tensor(ri).astype(np.float64).reshape(-1)
                e = r - deq.astype(np.float64).reshape(-1)
                a = acc.setdefault(int(ti), [0.0, 0.0, 0.0, 0])
                a[0] += float(r @ r); a[1] += float(e @ e); a[2] = max(a[2], float(np.abs(e).max())); a[3] += r.size

    layers, snr_of = [], {}
    for i, op in enumerate(sg.operators):
        for ti in op.outputs:
            if int(ti) not in acc:
                continue
            sig, err, mx, n = acc[int(ti)]
            snr = 10 * np.log10(sig / err) if err > 0 else float("inf")
            snr_of[int(ti)] = snr
            ins = [snr_of[int(j)] for j in op.inputs if int(j) in snr_of]
            layers.append({
                "op_index": i, "op": op_types[i], "tensor": flatbuf.tensor_name(sg.tensors[ti]),
                "shape": [int(d) for d in sg.tensors[ti].shape],
                "snr_db": _finite(snr), "rel_rms_error": _finite(np.sqrt(err / sig) if sig > 0 else float("inf")),
                "max_abs_error": mx,
                "snr_drop_db": _finite(min(ins) - snr) if ins and np.isfinite(min(ins)) and np.isfinite(snr) else None,
            })
    drops = [l for l in layers if l["snr_drop_db"] is not None]
    worst = max(drops, key=lambda l: l["snr_drop_db"]) if drops else None
    return {"reference": reference, "frames": int(len(inputs)), "int8_runtime": "tflm",
            "worst_layer": None if worst is None else {k: worst[k] for k in ("op_index", "op", "tensor", "snr_drop_db")},
            "reference_runtime": "litert (no delegates, all tensors preserved)",
            "matched_by": "name, then op position" if float_buf is not None else "same graph (tensor index)",
            "layers": layers}


def _finite(v):
    v = float(v)
    return v if np.isfinite(v) else None


def _match(model, op_types, fmodel) -> dict[int, int]:
    """INT8 op-output tensor index → float tensor index (by name, else k-th op of the same type)."""
    fsg, sg = fmodel.subgraphs[0], model.subgraphs[0]
    fnames = {flatbuf.tensor_name(t): i for i, t in enumerate(fsg.tensors)}
    f_by_type: dict[str, list] = {}
    for op in fsg.operators:
        f_by_type.setdefault(flatbuf.op_name(fmodel, op.opcodeIndex), []).append(op)
    seen: dict[str, int] = {}
    out = {}
    for op, kind in zip(sg.operators, op_types):
        k = seen[kind] = seen.get(kind, -1) + 1
        for j, ti in enumerate(op.outputs):
            name = flatbuf.tensor_name(sg.tensors[ti])
            if name in fnames:
                out[int(ti)] = fnames[name]
            elif k < len(f_by_type.get(kind, [])) and j < len(f_by_type[kind][k].outputs):
                out[int(ti)] = int(f_by_type[kind][k].outputs[j])
    return out
