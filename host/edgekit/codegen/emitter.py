"""C emitter: IR + memory plan -> model.h, model.c, ek_model.h (the facade), runtime/, Makefile."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np

from edgekit.codegen.ir import Graph
from edgekit.codegen.lower_registry import first_refusal, lowering, refusal
from edgekit.codegen.planner import Plan
from edgekit.errors import UserError
from edgekit.paths import FIRMWARE

RUNTIME = FIRMWARE / "runtime"
_CTYPES = {"int8": "int8_t", "int32": "int32_t", "int16": "int16_t", "uint8": "uint8_t", "float32": "float"}


def c_name(name: str) -> str:
    s = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()
    return s if s and not s[0].isdigit() else f"m_{s}"


class EmitContext:
    """What a lowering function may ask for: pointers to tensors, new const arrays, param structs."""

    def __init__(self, graph: Graph, plan: Plan, prefix: str, variant: str = "portable"):
        self.graph, self.plan, self.prefix = graph, plan, prefix
        self.variant = variant          # kernel tier for the board (edgekit.codegen.build.select_variant)
        self.variant_ops: dict[str, int] = {}   # kernel function -> ops lowered to it
        self.decls: list[str] = []
        self.op_index = 0
        self._weights: dict[int, str] = {}
        self.weight_bytes = 0
        self.scratch_i16 = 0   # one int16 scratch array shared by the kernels that need one (conv im2col)
        self.static_scratch_bytes = 0   # per-op static arrays beside the arena (TRANSPOSE_CONV accumulators)

    def unsupported(self, op, why: str):
        raise UserError(f"{self.graph.path}: op {op.index} ({op.kind}) not supported: {why}")

    def _array(self, name: str, arr: np.ndarray, ctype: str) -> str:
        flat = np.asarray(arr).ravel()
        self.weight_bytes += flat.size * np.dtype(flat.dtype).itemsize
        if ctype == "float":
            body = ", ".join(f"{float(v)!r}f" for v in flat)
        else:
            body = ",".join(str(int(v)) for v in flat)
            body = re.sub(r"((?:[^,]*,){32})", r"\1\n    ", body)
        self.decls.append(f"static const {ctype} {name}[{max(flat.size, 1)}] EK_ALIGN16 = {{\n    {body or '0'}\n}};")
        return name

    def const(self, arr: np.ndarray, ctype: str, what: str) -> str:
        return self._array(f"{self.prefix}_op{self.op_index}_{what}", arr, ctype)

    def scratch(self, n_i16: int) -> str:
        """Name of the shared int16 scratch array, grown to at least n_i16 elements."""
        self.scratch_i16 = max(self.scratch_i16, int(n_i16))
        return f"{self.prefix}_scratch"

    def params(self, ctype: str, fields: dict) -> str:
        def v(x):
            return "{" + ", ".join(str(int(e)) for e in x) + "}" if isinstance(x, (list, tuple)) else str(x)
        name = f"{self.prefix}_op{self.op_index}_params"
        body = ", ".join(f".{k} = {v(x)}" for k, x in fields.items())
        self.decls.append(f"static const {ctype} {name} = {{{body}}};")
        return name

    def same_storage(self, a: int, b: int) -> bool:
        return self.plan.storage[a] is self.plan.storage[b]

    def ptr(self, t: int) -> str:
        tensor = self.graph.t(t)
        if tensor.is_const:
            if t not in self._weights:
                ctype = _CTYPES.get(tensor.dtype)
                if ctype is None:
                    raise UserError(f"{self.graph.path}: constant tensor {t} has unsupported dtype {tensor.dtype}")
                self._weights[t] = self._array(f"{self.prefix}_t{t}", tensor.data, ctype)
            return self._weights[t]
        kind, off = self.plan.place(t)
        base = {"in": "in", "out": "out", "arena": "arena"}[kind]
        return f"({base} + {off})"


def _index_output(op, t: int, graph: Graph) -> bool:
    """ARG_MAX writes int32/int64 indices: the one non-int8 tensor a lowering produces."""
    return op.kind == "ARG_MAX" and t in op.outputs and graph.t(t).dtype in ("int32", "int64")


def emit(graph: Graph, plan: Plan, out_dir: Path, name: str, variant: str = "portable") -> dict:
    prefix = f"ek_{name}"
    ctx = EmitContext(graph, plan, prefix, variant)
    calls, sources = [], {"ek_copy.c"}
    trace, trace_bytes = [], 0
    missing = first_refusal(graph)
    if missing is not None:
        raise UserError(f"{graph.path}: op {missing.index} ({missing.kind}) is not supported by edgekit compile: "
                        f"{refusal(missing.kind)}")
    for k, op in enumerate(graph.ops):
        ctx.op_index = k
        fn = lowering(op.kind)
        for t in op.inputs + op.outputs:
            if t >= 0 and not graph.t(t).is_const and graph.t(t).dtype != "int8" and not _index_output(op, t, graph):
                ctx.unsupported(op, f"tensor {t} has dtype {graph.t(t).dtype} (edgekit compiles full-INT8 models)")
            if t >= 0 and graph.t(t).dtype == "int8" and graph.t(t).scale is None:
                ctx.unsupported(op, f"int8 tensor {t} has no quantization parameters")
        try:
            srcs, call = fn(ctx, op)
        except UserError:
            raise
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
            raise UserError(f"{graph.path}: op {op.index} ({op.kind}) has unexpected shapes or options: "
                            f"{type(exc).__name__}: {exc}") from None
        sources.update(srcs)
        fn_name = call.split("(", 1)[0]
        if fn_name.isidentifier():   # not the comment a view op lowers to
            ctx.variant_ops[fn_name] = ctx.variant_ops.get(fn_name, 0) + 1
        calls.append(f"    {call}  /* op {op.index} {op.kind} */")
        for t in op.outputs:
            calls.append(f"    EK_TRACE_OUT({trace_bytes}, {ctx.ptr(t)}, {graph.t(t).nbytes});")
            trace.append(dict(op=op.index, kind=op.kind, tensor=t, offset=trace_bytes, bytes=graph.t(t).nbytes))
            trace_bytes += graph.t(t).nbytes
    if ctx.scratch_i16:
        ctx.decls.insert(0, f"static int16_t {prefix}_scratch[{ctx.scratch_i16}] EK_ALIGN16;")
    in_bytes = sum(graph.t(t).nbytes for t in graph.inputs)
    out_bytes = sum(graph.t(t).nbytes for t in graph.outputs)
    up = prefix.upper()
    io_rows = []
    for kind, ids, offs in (("inputs", graph.inputs, plan.input_offsets), ("outputs", graph.outputs, plan.output_offsets)):
        for t in ids:
            x = graph.t(t)
            io_rows.append(dict(group=kind, name=x.name, shape=list(x.shape), dtype=x.dtype,
                                scale=float(x.s()) if x.scale is not None else 0.0, zero_point=x.zp(),
                                offset=offs[t], bytes=x.nbytes, float_in_model=t in graph.float_io))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.h").write_text(_model_h(up, prefix, name, plan, in_bytes, out_bytes, io_rows))
    (out_dir / "ek_model.h").write_text(_facade(name, up))
    arena_decl = (f"static int8_t {prefix}_arena[{up}_ARENA_BYTES > 0 ? {up}_ARENA_BYTES : 1] EK_ALIGN16;")
    body = "\n".join(calls)
    uses_arena = "arena" in body
    model_c = "\n".join([
        f"/* Generated by edgekit compile from {Path(graph.path).name}: do not edit. */",
        "#include <stddef.h>", "#include <stdint.h>", '#include "model.h"', '#include "ek_model.h"',
        '#include "ek_kernels.h"', TRACE_MACROS, *ctx.decls, "", arena_decl, "", _io_table(prefix, io_rows), "",
        f"int {prefix}_invoke(const int8_t *in, int8_t *out) {{",
        f"    int8_t *arena = {prefix}_arena;" if uses_arena else f"    (void){prefix}_arena;",
        "    (void)in; (void)out;", body, "    return 0;", "}", "",
        f"int ek_model_invoke(const int8_t *in, int8_t *out) {{ return {prefix}_invoke(in, out); }}", ""])
    (out_dir / "model.c").write_text(model_c)
    _copy_runtime(out_dir, sorted(sources))
    return dict(trace=trace, trace_bytes=trace_bytes, in_bytes=in_bytes, out_bytes=out_bytes, weight_bytes=ctx.weight_bytes, io=io_rows,
                scratch_bytes=2 * ctx.scratch_i16 + ctx.static_scratch_bytes,
                sources=sorted(sources), variant_ops=ctx.variant_ops)


TRACE_MACROS = """
/* Debug builds (-DEK_TRACE) copy every op's output into ek_trace_buffer (for edgekit verify --layers). */
#ifdef EK_TRACE
#include <string.h>
int8_t *ek_trace_buffer = NULL;
#define EK_TRACE_OUT(off, p, n) do { if (ek_trace_buffer) memcpy(ek_trace_buffer + (off), (p), (n)); } while (0)
#else
#define EK_TRACE_OUT(off, p, n) ((void)0)
#endif
"""


def _model_h(up, prefix, name, plan, in_bytes, out_bytes, io_rows):
    n_in = sum(r["group"] == "inputs" for r in io_rows)
    return f"""/* Generated by edgekit compile: model "{name}". */
#ifndef {up}_H
#define {up}_H
#include <stdint.h>

#if defined(__GNUC__)
#define EK_ALIGN16 __attribute__((aligned(16)))
#else
#define EK_ALIGN16
#endif

#define {up}_INPUT_BYTES {in_bytes}
#define {up}_OUTPUT_BYTES {out_bytes}
#define {up}_ARENA_BYTES {plan.arena_bytes}
#define {up}_NUM_INPUTS {n_in}
#define {up}_NUM_OUTPUTS {len(io_rows) - n_in}

typedef struct {{
    const char *name;
    int32_t rank, shape[6];
    float scale;          /* real = scale * (q - zero_point) */
    int32_t zero_point;
    int32_t offset, bytes;  /* place in the concatenated in/out buffer */
    const char *dtype;      /* "int8", or "int32"/"int64" (ARG_MAX indices, native byte order) */
}} ek_io_info;

extern const ek_io_info {prefix}_inputs[];
extern const ek_io_info {prefix}_outputs[];

/* in: all inputs concatenated (int8), out: all outputs concatenated as bytes (an int32/int64
 * output is stored at its offset in native byte order, not necessarily aligned). 0 on success. */
int {prefix}_invoke(const int8_t *in, int8_t *out);
#endif
"""


def _facade(name, up):
    return f"""/* The generic model facade every consumer (cffi, firmware) uses. */
#ifndef EK_MODEL_H
#define EK_MODEL_H
#include <stdint.h>
#include "model.h"
#define EK_MODEL_NAME "{name}"
#define EK_MODEL_INPUT_BYTES {up}_INPUT_BYTES
#define EK_MODEL_OUTPUT_BYTES {up}_OUTPUT_BYTES
#define EK_MODEL_ARENA_BYTES {up}_ARENA_BYTES
int ek_model_invoke(const int8_t *in, int8_t *out);  /* 0 on success */
#endif
"""


def _io_table(prefix, rows):
    out = []
    for group in ("inputs", "outputs"):
        items = []
        for r in (r for r in rows if r["group"] == group):
            shape = (r["shape"] + [0] * 6)[:6]
            cname = r["name"].replace("\\", "/").replace('"', "'")
            items.append(f'    {{"{cname}", {len(r["shape"])}, {{{", ".join(map(str, shape))}}}, '
                         f'{float(r["scale"])!r}f, {r["zero_point"]}, {r["offset"]}, {r["bytes"]}, "{r["dtype"]}"}}')
        out.append(f"const ek_io_info {prefix}_{group}[] = {{\n" + ",\n".join(items) + "\n};")
    return "\n".join(out)


def _copy_runtime(out_dir: Path, sources: list[str]):
    rt = out_dir / "runtime"
    if rt.exists():
        shutil.rmtree(rt)
    (rt / "include").mkdir(parents=True)
    (rt / "src").mkdir()
    (rt / "tools").mkdir()
    for h in (RUNTIME / "include").glob("*.h"):
        shutil.copy2(h, rt / "include" / h.name)
    for s in sources:
        shutil.copy2(RUNTIME / "src" / s, rt / "src" / Path(s).name)   # <isa>/x.c lands flat in src/
    for t in (RUNTIME / "tools").glob("*.c"):
        shutil.copy2(t, rt / "tools" / t.name)
