"""`edgekit bench MODEL --board B`: every backend this machine can reach for the board.

The vendor library when present (`measured-hw`), edgekit's twin of it (a functional check
against the generated C: no timing, a twin is not the accelerator), and the latency model
(`modelled`, with its fit residuals on the published models).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edgekit.provenance import figure


def bench_board(tflite_path, board, out_dir: Path, runs: int, backend: str | None = None, checks: int = 20) -> dict:
    from edgekit.accel import backends
    from edgekit.accel.latency import fit_table
    from edgekit.accel.twins import twin_library
    from edgekit.codegen import compile_model
    from edgekit.golden.verify import random_inputs
    import edgekit.runtime as rt

    # The CPU side runs on this host, so the portable tier (the board's own tier may be another ISA's).
    compile_model(tflite_path, out_dir, board=board, variant="portable")
    part = backends.attach_partition(out_dir, tflite_path, board)
    cpu = rt.load(out_dir)
    wanted = [backends.choose(board, backend)] if backend else backends.board_backends(board)
    rows = []
    for way in backends.reach(board):
        if way.backend not in wanted:
            continue
        row: dict = {"backend": way.backend, "via": way.how, "detail": way.detail}
        if way.how == "native":
            row["note"] = "the generated C on this host (not the board's CPU): see the cpu rows of `edgekit bench`"
        elif way.how == "model":
            row["segments"] = [{"segment": s["segment"], "ops": len(s["ops"]), **s["modelled"]}
                               for s in part["segments"] if "modelled" in s]
            row["cpu_segments"] = [{"segment": s["segment"], "ops": len(s["ops"]), "macs": s["macs"]}
                                   for s in part["segments"] if s["backend"] == "cpu"]
            if way.fix:
                row["fix"] = way.fix
        elif way.how == "twin" and way.backend == "edgetpu":
            from edgekit.accel.edgetpu_rt import EdgeTpu
            tpu = EdgeTpu(twin_library("edgetpu"))
            row["binding"] = {"version": tpu.version(), "devices": [d.__dict__ for d in tpu.devices()]}
            row["note"] = ("functional only: the libedgetpu twin checks the binding (listing, options, delegate "
                           "lifetime) and cannot execute a TPU segment")
        elif way.how in ("twin", "library"):
            lib = str(twin_library("hailort" if way.backend == "hailo" else "edgetpu")) if way.how == "twin" else None
            try:
                with backends.load(out_dir, way.backend, board, library=lib) as m:
                    xs_all = list(random_inputs(cpu, checks, 0))
                    same = sum(all(np.array_equal(np.asarray(a).ravel(), np.asarray(b).ravel())
                                   for a, b in zip(m.invoke(list(xs)), _as_list(cpu.invoke(*xs))))
                               for xs in xs_all)
                    row["bit_exact_vs_generated_c"] = f"{same}/{len(xs_all)}"
                    if way.how == "library":
                        t = []
                        for _ in range(runs):
                            t0 = time.perf_counter()
                            m.invoke(list(xs_all[0]))
                            t.append((time.perf_counter() - t0) * 1e3)
                        row["median_ms"] = figure(round(float(np.median(t)), 4), "ms", "measured-hw",
                                                  note=f"{board.accelerator.vendor_library} on this machine, whole model")
                    else:
                        row["note"] = "functional only: twin timings are not accelerator figures"
            except Exception as exc:   # noqa: BLE001 - a backend that cannot run is reported, not fatal
                row["error"] = str(exc)
        rows.append(row)
    return {"board": board.name, "partition_note": part.get("note"), "backends": rows, "latency_model_fit": fit_table()}


def _as_list(y):
    return y if isinstance(y, list) else [y]


def format_board(res: dict) -> list[str]:
    from edgekit.provenance import fmt
    lines = [f"board {res['board']}: {res['partition_note']}"]
    for r in res["backends"]:
        head = f"  {r['backend']:8s} via {r['via']:8s}"
        if "error" in r:
            lines.append(f"{head} cannot run: {r['error']}")
        elif "segments" in r:
            for s in r["segments"]:
                lines.append(f"{head} segment {s['segment']}: {fmt(s['latency'])}, {fmt(s['energy'])}"
                             f"  [{s['latency']['arithmetic']}]")
        elif "median_ms" in r:
            lines.append(f"{head} {fmt(r['median_ms'])}, bit-exact {r['bit_exact_vs_generated_c']}")
        elif "binding" in r:
            lines.append(f"{head} binding ok ({r['binding']['version']}; {len(r['binding']['devices'])} device(s)); {r['note']}")
        elif "bit_exact_vs_generated_c" in r:
            lines.append(f"{head} bit-exact vs generated C {r['bit_exact_vs_generated_c']} ({r['note']})")
        else:
            lines.append(f"{head} {r['detail']}")
    for kind, f in res["latency_model_fit"].items():
        errs = ", ".join(f"{x['model']}{'@' + x['link'] if x['link'] else ''} {x['error_pct']:+.1f}%" for x in f["residuals"])
        lines.append(f"  latency model {kind}: t_layer {fmt(f['t_layer_ms'])}, R {fmt(f['mac_rate'])}; "
                     f"residuals {errs} (rms {f['rms_error_pct']}%)")
    return lines
