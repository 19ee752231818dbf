"""Static memory planner: every non-constant tensor gets a storage place.

- Graph inputs are read in place from the caller's `in` buffer, graph outputs are written
  straight into the caller's `out` buffer (the facade concatenates them), everything else
  lives in one static arena.
- RESHAPE/SQUEEZE/EXPAND_DIMS outputs are views of their input (same buffer), and elementwise
  ops whose input dies at that op write their output over it (in place).
- Arena buffers get offsets from their lifetimes [first writer, last reader]. Several orderings
  (by size, by lifetime length, by size x lifetime, by first use) are each placed best-fit and
  the smallest peak wins; TFLM's GreedyMemoryPlanner is the by-size ordering alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from edgekit.codegen.ir import Graph
from edgekit.codegen.overlap import min_delta

ALIGN = 16
VIEW_OPS = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}
INPLACE_OPS = {"ADD", "MUL", "LOGISTIC", "TANH", "QUANTIZE"}


@dataclass
class Buffer:
    id: int
    size: int
    members: list[int] = field(default_factory=list)
    kind: str = "arena"          # arena | in | out
    offset: int = 0
    start: int = 10**9
    end: int = -1


@dataclass
class Plan:
    storage: dict[int, Buffer]   # tensor index -> buffer
    buffers: list[Buffer]
    arena_bytes: int
    input_offsets: dict[int, int]
    output_offsets: dict[int, int]
    strategy: str

    def place(self, t: int) -> tuple[str, int]:
        b = self.storage[t]
        return b.kind, b.offset


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def plan_memory(g: Graph) -> Plan:
    parent: dict[int, int] = {}

    def find(t):
        while parent.get(t, t) != t:
            t = parent[t]
        return t

    ins, outs = set(g.inputs), set(g.outputs)

    def io_kinds(root):
        members = [t for t in list(parent) + [root] if find(t) == root]
        return {t for t in members if t in ins}, {t for t in members if t in outs}

    # views: alias RESHAPE output to its input unless that would mix caller buffers
    for op in g.ops:
        if op.kind in VIEW_OPS and not g.t(op.inputs[0]).is_const:
            a, b = find(op.inputs[0]), find(op.outputs[0])
            i1, o1 = io_kinds(a)
            i2, o2 = io_kinds(b)
            if len(i1 | i2) + len(o1 | o2) <= 1:
                parent[b] = a
    # lifetimes per alias root
    life: dict[int, list[int]] = {}
    for k, op in enumerate(g.ops):
        for t in op.outputs:
            r = find(t)
            life.setdefault(r, [k, k])[0] = min(life.get(r, [k, k])[0], k)
        for t in op.inputs:
            if t >= 0 and not g.t(t).is_const:
                r = find(t)
                lo, hi = life.get(r, [k, k])
                life[r] = [min(lo, k), max(hi, k)]
    # in place: output shares the buffer of an input that dies here
    for k, op in enumerate(g.ops):
        if op.kind not in INPLACE_OPS:
            continue
        y = find(op.outputs[0])
        if y in ins or y in outs or any(find(t) == y for t in outs):
            continue
        for t in op.inputs:
            if t < 0 or g.t(t).is_const:
                continue
            r = find(t)
            i1, o1 = io_kinds(r)
            if not i1 and not o1 and life[r][1] == k and g.t(t).nbytes == g.t(op.outputs[0]).nbytes and r != y:
                parent[y] = r
                life[r] = [life[r][0], max(life[r][1], life[y][1])]
                del life[y]
                break
    buffers: dict[int, Buffer] = {}
    storage: dict[int, Buffer] = {}
    used = {t for op in g.ops for t in op.inputs + op.outputs if t >= 0} | ins | outs
    for t in sorted(used):
        if g.t(t).is_const:
            continue
        r = find(t)
        b = buffers.setdefault(r, Buffer(len(buffers), 0))
        b.members.append(t)
        b.size = max(b.size, g.t(t).nbytes)
        storage[t] = b
    input_offsets, output_offsets = {}, {}
    off = 0
    for t in g.inputs:
        input_offsets[t] = off
        off += g.t(t).nbytes
    off = 0
    for t in g.outputs:
        output_offsets[t] = off
        off += g.t(t).nbytes
    for r, b in buffers.items():
        i1, o1 = io_kinds(r)
        if i1:
            b.kind, b.offset = "in", input_offsets[next(iter(i1))]
        elif o1:
            b.kind, b.offset = "out", output_offsets[next(iter(o1))]
        b.start, b.end = life.get(r, [0, 0])
    arena = [b for b in buffers.values() if b.kind == "arena"]
    best = None
    orders = {
        "size": lambda b: (-b.size, b.start),
        "lifetime": lambda b: (-(b.end - b.start), -b.size),
        "area": lambda b: (-b.size * (b.end - b.start + 1), -b.size),
        "first-use": lambda b: (b.start, -b.size),
    }
    pairs = _window_pairs(g, storage)
    for name, key in orders.items():
        for variant, use, force in (("", {}, True), ("+overlap", pairs, True), ("+overlap-greedy", pairs, False)):
            offsets, peak = _place(sorted(arena, key=key), use, force)
            if best is None or peak < best[1]:
                best = (name + variant, peak, offsets)
    name, peak, offsets = best or ("none", 0, {})
    for b in arena:
        b.offset = offsets[b.id]
    _assert_safe(arena, pairs, _align(peak))
    return Plan(storage, list(buffers.values()), _align(peak), input_offsets, output_offsets, name)


def _assert_safe(arena: list[Buffer], pairs, arena_bytes: int) -> None:
    """Every plan is checked: buffers alive at the same time never overlap, except a window-op
    output that stays at least `delta` below its input."""
    for i, a in enumerate(arena):
        assert 0 <= a.offset and a.offset % ALIGN == 0 and a.offset + a.size <= arena_bytes, a
        for b in arena[i + 1:]:
            if a.end < b.start or b.end < a.start or a.offset + a.size <= b.offset or b.offset + b.size <= a.offset:
                continue
            delta, role = pairs.get(a.id, {}).get(b.id, (None, None))
            ok = delta is not None and ((a.offset + delta <= b.offset) if role == "out" else (b.offset + delta <= a.offset))
            assert ok, f"memory plan overlaps live buffers {a.members} and {b.members}"


def _window_pairs(g: Graph, storage: dict[int, Buffer]) -> dict[int, dict[int, tuple[int, str]]]:
    """Input/output buffers of sliding-window ops that may partly overlap (see overlap.py):
    `pairs[buffer][partner] = (delta, role of buffer)`; chains (conv -> conv) are allowed."""
    pairs: dict[int, dict[int, tuple[int, str]]] = {}
    for k, op in enumerate(g.ops):
        delta = min_delta(g, op)
        if delta is None:
            continue
        x, y = storage.get(op.inputs[0]), storage.get(op.outputs[0])
        if x is None or y is None or x is y or x.kind != "arena" or y.kind != "arena":
            continue
        if x.end != k or y.start != k:
            continue
        pairs.setdefault(y.id, {})[x.id] = (_align(delta), "out")
        pairs.setdefault(x.id, {})[y.id] = (_align(delta), "in")
    return pairs


def _place(order: list[Buffer], pairs: dict[int, dict[int, tuple[int, str]]],
           force_units: bool = True) -> tuple[dict[int, int], int]:
    """Place buffers in `order`, each at the valid offset giving the lowest peak (then the lowest
    offset). Window-op partners may overlap as overlap.py allows; a buffer whose partner is not
    placed yet is tried together with it as one unit (output at c, input at c + delta)."""
    placed: dict[int, tuple[int, Buffer]] = {}
    by_id = {b.id: b for b in order}
    lo = hi = 0          # offsets may go negative while placing; normalised at the end

    def fits(b, c, extra=None):
        need = _align(b.size)
        others = list(placed.values()) + ([extra] if extra else [])
        for o, x in others:
            if x.end < b.start or b.end < x.start or c + need <= o or o + _align(x.size) <= c:
                continue
            rel = pairs.get(b.id, {}).get(x.id)
            if rel and ((rel[1] == "out" and c + rel[0] <= o) or (rel[1] == "in" and o + rel[0] <= c)):
                continue
            return False
        return True

    def candidates(b):
        tops = {lo} | {o + _align(x.size) for o, x in placed.values()}
        for pid, (delta, role) in pairs.get(b.id, {}).items():
            if pid in placed:
                po = placed[pid][0]
                tops.add(po - delta if role == "out" else po + delta)
        return tops

    def cost(*spans):
        return max([hi] + [c + n for c, n in spans]) - min([lo] + [c for c, _ in spans])

    for b in order:
        if b.id in placed:
            continue
        options = [] if force_units else [(cost((c, b.size)), c, None) for c in candidates(b) if fits(b, c)]
        for pid, (delta, role) in pairs.get(b.id, {}).items():
            if pid in placed:
                continue
            p = by_id[pid]
            shift = delta if role == "out" else -delta      # partner offset relative to b
            for c in candidates(b) | {t - shift for t in candidates(p)}:
                if fits(b, c) and fits(p, c + shift, (c, b)):
                    options.append((cost((c, b.size), (c + shift, p.size)), c, (p, c + shift)))
            break
        if not options:      # no partner left to pair with (or no room for the unit): alone
            options = [(cost((c, b.size)), c, None) for c in candidates(b) if fits(b, c)]
        _, c, mate = min(options, key=lambda t: (t[0], abs(t[1] - lo)))
        placed[b.id] = (c, b)
        if mate:
            placed[mate[0].id] = (mate[1], mate[0])
        lo = min(o for o, _ in placed.values())
        hi = max(o + x.size for o, x in placed.values())
    base = lo - lo % ALIGN if lo % ALIGN else lo
    peak = hi - base
    return {i: o - base for i, (o, _) in placed.items()}, peak
