"""The TFLM golden in a child process.

TFLM's Python interpreter aborts the whole process (SIGABRT from a TFLITE_CHECK) on some models
it cannot prepare. Measured here: Keras MobileNet V1/V2/V3 and EfficientNet built with
`weights=None` end in a SOFTMAX whose input scale is ~7.8e-9 (untrained logits are ~1e-6);
TFLM's CalculateSoftmaxParams needs `beta * scale * 2^26 > 1` and QuantizeMultiplierGreaterThanOne
aborts otherwise. No interpreter option (arena size, kPreserveAllTensors or not) avoids a check in
an op's Prepare, so the golden runs in a child: a dead child becomes a one-line GoldenError
(exit 2) naming the cause where it is known.

    with ChildGolden("model.tflite") as g:
        outs = g([x])
"""
from __future__ import annotations

import os
import pickle
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from edgekit.errors import UserError


class GoldenError(UserError):
    """The golden reference cannot run this model (exit 2: the model, not edgekit, is the cause)."""


def _send(f, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(struct.pack("<Q", len(data)) + data)
    f.flush()


def _recv(f):
    head = f.read(8)
    if len(head) < 8:
        raise EOFError
    (n,) = struct.unpack("<Q", head)
    return pickle.loads(f.read(n))


def arena_size(path) -> int:
    """An arena for TFLM's interpreter: its default (10 x the file size) fails with "Failed to
    allocate tail memory" on models with small weights and large activations (a 3x3 transposed
    conv on 8x8x3: 1.6 KB file). Every tensor's bytes, 4 times over, plus the default and 256 KiB."""
    import numpy as np
    import tflite
    buf = open(path, "rb").read()
    sg = tflite.Model.GetRootAsModel(buf, 0).Subgraphs(0)
    total = 0
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        total += int(np.prod(t.ShapeAsNumpy())) * 8 if t.ShapeLength() else 8
    return 10 * len(buf) + 4 * total + (256 << 10)


def diagnose(path) -> str:
    """Name the op of `path` that TFLM is known to abort on, or ''."""
    try:
        from edgekit.codegen.reader import read_tflite
        g = read_tflite(path)
    except Exception:     # an unreadable model: the caller's message is enough
        return ""
    for op in g.ops:
        if op.kind == "SOFTMAX":
            x = g.t(op.inputs[0])
            beta = float(op.options.get("beta", 1.0))
            if x.scale is not None and beta * float(x.s()) * 2.0 ** 26 <= 1.0:
                return (f"op {op.index} SOFTMAX has input scale {float(x.s()):.3g}, and TFLM requires "
                        f"beta*scale*2^26 > 1 (QuantizeMultiplierGreaterThanOne); untrained logits?")
    return ""


class ChildGolden:
    """`TflmRunner` (edgekit.golden) in a child process, with the same calls: g(inputs) -> outputs,
    g.tensor(i), plus g.arena_bytes() (TFLM's RecordingMicroAllocator total)."""

    def __init__(self, path, preserve_all: bool = True):
        self.path = str(path)
        self._err = tempfile.TemporaryFile()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        self.proc = subprocess.Popen([sys.executable, "-m", "edgekit.golden.child", self.path, str(int(preserve_all))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, env=env)
        self.n_inputs, self.n_outputs = self._reply()

    def _reply(self):
        try:
            status, value = _recv(self.proc.stdout)
        except (EOFError, pickle.UnpicklingError, struct.error):
            self._died()
        if status == "error":
            said = self._stderr_tail()
            self.close()
            raise GoldenError(f"{self.path}: the TFLM golden cannot run this model: {value}" + (f" ({said})" if said else ""))
        return value

    def _stderr_tail(self) -> str:
        """The first line TFLM printed (its MicroPrintf goes to the child's stderr), or ''."""
        self._err.seek(0)
        lines = [ln.strip() for ln in self._err.read().decode(errors="replace").splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith(("W0000", "I0000", "E0000"))]
        return lines[0][:200] if lines else ""

    def _died(self):
        rc = self.proc.wait()
        said = self._stderr_tail()
        self.close()
        how = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
        why = diagnose(self.path) or said or "no message"
        raise GoldenError(f"{self.path}: the TFLM golden cannot run this model: TFLM's interpreter died "
                          f"({how}): {why}")

    def _call(self, *msg):
        try:
            _send(self.proc.stdin, msg)
        except (BrokenPipeError, OSError):
            self._died()
        return self._reply()

    def __call__(self, inputs):
        return self._call("run", [x for x in inputs])

    def tensor(self, index: int):
        return self._call("tensor", index)

    def arena_bytes(self) -> int:
        return self._call("arena")

    def timed(self, inputs, repeats: int) -> tuple[float, float]:
        """(median wall ms, mean process-CPU ms) of invokes timed inside the child (no pipe cost)."""
        return self._call("time", [x for x in inputs], repeats)

    def close(self):
        if self.proc.poll() is None:
            try:
                _send(self.proc.stdin, ("quit",))
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self._err):
            if f and not f.closed:
                f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def time_calls(call, repeats: int) -> tuple[float, float]:
    """(median wall-clock ms, mean process-CPU ms) of `call()` after one warm-up call."""
    call()
    walls = []
    c0 = time.process_time()
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        walls.append((time.perf_counter() - t0) * 1000)
    cpu = (time.process_time() - c0) * 1000 / repeats
    return float(statistics.median(walls)), cpu


def _serve(path: str, preserve_all: bool) -> None:
    import numpy as np

    from edgekit.golden import TflmRunner, tflm_arena_bytes
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    sys.stdout = sys.stderr        # nothing else may write into the reply pipe
    try:
        runner = TflmRunner(path, preserve_all=preserve_all, arena_size=arena_size(path))
    except Exception as exc:       # TFLM reports a failed Prepare as a RuntimeError: pass it on
        _send(out, ("error", f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"))
        return
    _send(out, ("ok", (runner.n_inputs, runner.n_outputs)))
    sys.stderr.flush()
    while True:
        try:
            msg = _recv(inp)
        except EOFError:
            return
        try:
            if msg[0] == "run":
                reply = [np.array(o) for o in runner(msg[1])]
            elif msg[0] == "tensor":
                reply = runner.tensor(msg[1]).copy()
            elif msg[0] == "arena":
                reply = tflm_arena_bytes(path, arena_size(path))
            elif msg[0] == "time":
                reply = time_calls(lambda: runner(msg[1]), msg[2])
            else:
                return
        except Exception as exc:
            _send(out, ("error", f"{type(exc).__name__}: {exc}"))
            continue
        _send(out, ("ok", reply))


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2] == "1")
