"""Backends behind one interface: `cpu` (the generated C), `edgetpu`, `hailo`.

The board YAML's `accelerator.backend` is the default (else `cpu`); `--backend` overrides. For
each accelerator, `reach()` says how it can be reached here: the vendor's library (figures are
`measured-hw`), edgekit's twin of that library (functional only, never timed as the accelerator),
or the latency model (`modelled`). `load()` runs a compiled folder segment by segment.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.errors import ToolError, UserError

BACKENDS = ("cpu", "edgetpu", "hailo")
FIX = {
    "edgetpu": "on the board: sudo apt-get install libedgetpu1-std (Coral's apt repository "
               "packages.cloud.google.com/apt coral-edgetpu-stable; not in Debian or PyPI)",
    "hailo": "on the board: sudo apt install hailo-all (Raspberry Pi OS) or HailoRT 4.x .deb from hailo.ai "
             "(branch hailo8 for Hailo-8/8L; not in Debian or PyPI)",
}


def default_backend(board) -> str:
    """accelerator.backend, else recognised from the accelerator's name, else cpu."""
    from edgekit.accel.partition import accelerator_kind
    return accelerator_kind(board) or "cpu"


def board_backends(board) -> list[str]:
    b = default_backend(board)
    return ["cpu"] if b == "cpu" else [b, "cpu"]


def choose(board, backend: str | None) -> str:
    if backend is None:
        return default_backend(board)
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if backend not in board_backends(board):
        raise UserError(f"board {board.name} has no {backend} backend (it has: {', '.join(board_backends(board))})")
    return backend


def vendor_library(backend: str) -> str | None:
    """The real vendor library on this machine (EDGEKIT_<B>_LIBRARY overrides the search)."""
    env = os.environ.get(f"EDGEKIT_{backend.upper()}_LIBRARY")
    if env:
        return env
    if backend == "hailo":
        from edgekit.accel.hailort import find_library
        return find_library()
    if backend == "edgetpu":
        from edgekit.accel.edgetpu_rt import find_library
        return find_library()
    return None


@dataclass
class Reach:
    backend: str
    how: str            # "native", "library", "twin", "model"
    provenance: str | None
    detail: str
    fix: str = ""


def reach(board) -> list[Reach]:
    """Every way this machine can run each of the board's backends, best first."""
    out = [Reach("cpu", "native", "measured-host",
                 "generated C built for this host (on the board: the same C, cross-compiled)")]
    b = default_backend(board)
    if b == "cpu":
        return out
    acc = board.accelerator
    if acc.driver:
        out.insert(0, Reach(b, "model", "modelled",
                            f"driven by {acc.driver}: no host library to load; figures from the latency model"))
        return out
    lib = vendor_library(b)
    from edgekit.accel.twins import is_twin
    if lib and not is_twin(lib):
        out.insert(0, Reach(b, "library", "measured-hw", f"{acc.vendor_library} found: {lib}"))
        out.insert(1, Reach(b, "model", "modelled", "the latency model, beside the measurement"))
    else:
        out.insert(0, Reach(b, "model", "modelled", f"{acc.vendor_library} not installed: figures from the latency model",
                            FIX.get(b, "")))
        out.insert(1, Reach(b, "twin", None, f"edgekit's twin of {acc.vendor_library} (functional only, never timed)"))
    return out


def attach_partition(out_dir, tflite_path, board, hef: str | None = None) -> dict:
    """Partition the model for `board`, generate C per segment, add `partition` to report.json."""
    from edgekit.accel.latency import predict_segment
    from edgekit.accel.partition import partition
    from edgekit.accel.segments import compile_segments
    from edgekit.codegen.reader import read_tflite
    out_dir = Path(out_dir)
    graph = read_tflite(tflite_path)
    if hef is not None and not Path(hef).is_file():
        raise UserError(f"no such HEF file: {hef}")
    part = partition(tflite_path, board, hef=hef, graph=graph, work_dir=out_dir / "edgetpu")
    accel = [s for s in part["segments"] if s["backend"] != "cpu"]
    if hef is not None and len([s for s in accel if s["backend"] == "hailo"]) != 1:
        raise UserError("--hef needs exactly one Hailo segment in the partition")
    part["default_backend"] = default_backend(board)
    part["model_inputs"], part["model_outputs"] = list(graph.inputs), list(graph.outputs)
    if board.accelerator is not None:
        compile_segments(tflite_path, out_dir, part, graph=graph)
        for s in accel:
            s["modelled"] = predict_segment(board, s)
            if hef is not None and s["backend"] == "hailo":   # keep the folder self-contained
                import shutil
                kept = out_dir / "segments" / str(s["segment"]) / "model.hef"
                shutil.copyfile(hef, kept)
                part["hef"] = str(kept.resolve())
            if s["backend"] == "hailo":
                from edgekit.accel.hef import export_for_dfc
                export_for_dfc(tflite_path, s, out_dir / "segments" / str(s["segment"]))
    rep_path = out_dir / "report.json"
    rep = json.loads(rep_path.read_text())
    rep["partition"] = part
    rep_path.write_text(json.dumps(rep, indent=2) + "\n")
    return part


def _cpu_runner(seg_dir: Path):
    import edgekit.runtime as rt
    m = rt.load(seg_dir)

    def run(ins):
        outs = m.invoke(*[np.asarray(x, np.int8).reshape(i.shape) for x, i in zip(ins, m.inputs)])
        return outs if isinstance(outs, list) else [outs]
    return run


class _HailoRunner:
    """A Hailo segment. Frames cross the vstreams as float32: HailoRT quantizes them with the HEF's
    own parameters (the DFC's, not TFLite's), and the segment's int8 boundary tensors are
    rebuilt with their own scale and zero point, so segments join whatever the HEF chose."""

    def __init__(self, seg_dir: Path, hef: str | None, library: str):
        import edgekit.runtime as rt
        from edgekit.accel.hailort import HailoRT
        from edgekit.accel.hef import write_twin_hef
        from edgekit.accel.twins import is_twin
        rep = json.loads((seg_dir / "report.json").read_text())
        if hef is None:
            if not is_twin(library):
                raise ToolError(f"segment {rep['segment']} has no HEF: compile {seg_dir / 'dfc'} with Hailo's Dataflow "
                                "Compiler and pass it to `edgekit compile --hef FILE`")
            hef = str(write_twin_hef(seg_dir, seg_dir / "twin.hef"))
        info = rt.CompiledModel._info
        self.inputs = [info(r) for r in rep["inputs"]]
        self.outputs = [info(r) for r in rep["outputs"]]
        self.net = HailoRT(library).open(hef, "float32")

    def __call__(self, ins):
        outs = self.net.infer([i.dequantize(x).ravel() for i, x in zip(self.inputs, ins)])
        return [o.quantize(y).reshape(o.shape) for o, y in zip(self.outputs, outs)]

    def close(self):
        self.net.close()


class LoadedModel:
    """A compiled folder on one backend. `invoke([x, ...]) -> [y, ...]` (int8), `close()`."""

    def __init__(self, model, backend: str, how: str, closers=()):
        self.model, self.backend, self.how, self._closers = model, backend, how, list(closers)

    def invoke(self, xs):
        return self.model.invoke(list(xs))

    def close(self):
        for c in self._closers:
            c()
        self._closers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(model_dir, backend: str | None = None, board=None, library: str | None = None) -> LoadedModel:
    """Load a compile output on `backend` (default: the board's). `library` names the vendor
    library to load (the real one is found by default; pass a twin's path to test)."""
    from edgekit.accel.segments import SegmentedModel
    from edgekit.catalog import get_board
    model_dir = Path(model_dir)
    rep = json.loads((model_dir / "report.json").read_text())
    part = rep.get("partition")
    if part is None:
        raise UserError(f"{model_dir} has no partition: compile it with `edgekit compile --board B`")
    board = board or get_board(part["board"])
    backend = choose(board, backend)
    segs = part["segments"]
    if backend == "cpu":
        import edgekit.runtime as rt
        whole = rt.load(model_dir)
        class _Whole:
            def invoke(self, xs):
                o = whole.invoke(*xs)
                return o if isinstance(o, list) else [o]
        return LoadedModel(_Whole(), "cpu", "native")
    if backend == "edgetpu":
        return _load_edgetpu(part, board, library)
    lib = library or vendor_library("hailo")
    if not lib:
        raise ToolError(f"{board.accelerator.vendor_library} is not installed; {FIX['hailo']}. "
                        "The cpu backend still runs (--backend cpu)")
    dirs = [model_dir / "segments" / str(s["segment"]) for s in segs]
    runners, closers = [], []
    try:
        for s, d in zip(segs, dirs):
            if s["backend"] == "hailo":
                r = _HailoRunner(d, part.get("hef"), lib)
                closers.append(r.close)
                runners.append(r)
            else:
                runners.append(_cpu_runner(d))
    except BaseException:
        for c in closers:
            c()
        raise
    from edgekit.accel.twins import is_twin
    return LoadedModel(SegmentedModel(dirs, runners, part["model_inputs"], part["model_outputs"]), "hailo",
                       "twin" if is_twin(lib) else "library", closers)


def _load_edgetpu(part: dict, board, library: str | None) -> LoadedModel:
    """The compiled Edge TPU model through LiteRT's external-delegate loader and libedgetpu."""
    if board.accelerator.driver:
        raise ToolError(f"on {board.name} the Edge TPU is driven by {board.accelerator.driver}; "
                        "there is no host backend to load (figures are modelled)")
    if not part.get("compiled"):
        raise ToolError("the model is not compiled for the Edge TPU (edgetpu_compiler was not on PATH at "
                        "compile time): the edgetpu backend cannot run it; use --backend cpu")
    lib = library or vendor_library("edgetpu")
    if not lib:
        raise ToolError(f"libedgetpu.so.1 is not installed; {FIX['edgetpu']}. The cpu backend still runs")
    from ai_edge_litert.interpreter import Interpreter, load_delegate
    device = "usb" if board.accelerator.link and board.accelerator.link.startswith("usb") else "pci"
    delegate = load_delegate(lib, {"device": device})
    it = Interpreter(model_path=part["edgetpu_model"], experimental_delegates=[delegate])
    it.allocate_tensors()

    class _Run:
        def invoke(self, xs):
            for d, x in zip(it.get_input_details(), xs):
                it.set_tensor(d["index"], np.asarray(x).reshape(d["shape"]))
            it.invoke()
            return [it.get_tensor(d["index"]) for d in it.get_output_details()]
    # The CPU ops after the TPU segment run in LiteRT here, inside the compiled model.
    return LoadedModel(_Run(), "edgetpu", "library")


def doctor_checks(board) -> list:
    """`edgekit doctor` lines: the backend the board uses, what is missing, what still runs."""
    from edgekit.checks import Check
    b = default_backend(board)
    if b == "cpu":
        why = ("no accelerator on this board" if board.accelerator is None else
               f"{board.accelerator.name} has no edgekit backend (edgetpu, hailo)")
        return [Check(f"{board.name}:backend", True, f"cpu: the generated C ({why})", needed=False)]
    acc = board.accelerator
    ways = reach(board)
    best = ways[0]
    runs = "still runs here: the cpu backend (generated C), modelled accelerator figures"
    if any(w.how == "twin" for w in ways):
        runs += f", the {b} binding against edgekit's twin library (functional tests only)"
    checks = [Check(f"{board.name}:backend", True, f"default {b} ({acc.name}); --backend cpu also works; {runs}",
                    needed=False)]
    if acc.driver:
        checks.append(Check(f"{board.name}:vendor:{acc.name}", False,
                            f"driven by {acc.driver}: the {b} segment is not run by edgekit on this board; "
                            "its figures are modelled (edgekit.accel.latency), the M7 runs the generated C",
                            "build the coralmicro SDK firmware (github.com/google-coral/coralmicro) for real TPU runs",
                            needed=False))
    elif best.how == "library":
        checks.append(Check(f"{board.name}:vendor:{acc.vendor_library}", True, best.detail + " (measured-hw)",
                            needed=False))
    else:
        checks.append(Check(f"{board.name}:vendor:{acc.vendor_library}", False,
                            f"not installed: the {b} backend cannot run here; {acc.name} figures are modelled",
                            FIX[b], needed=False))
    if b == "edgetpu":
        import shutil
        comp = shutil.which("edgetpu_compiler")
        checks.append(Check(f"{board.name}:edgetpu_compiler", comp is not None,
                            comp or "not on PATH: models are partitioned by the static rules, not compiled for the TPU",
                            "" if comp else "x86-64 only: apt-get install edgetpu-compiler from Coral's apt repository",
                            needed=False))
    if b == "hailo":
        checks.append(Check(f"{board.name}:hailo-dfc", False,
                            "Hailo's Dataflow Compiler makes the HEF (x86-64, hailo.ai developer zone; not installable "
                            "here): `edgekit compile` exports the segment for it (segments/N/dfc/)",
                            "run the DFC elsewhere, then `edgekit compile --hef FILE`", needed=False))
    return checks
