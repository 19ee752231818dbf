"""Readable terminal summary of a quantization report (rich tables on stderr)."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from edgekit.provenance import fmt


def render(rep: dict, console: Console | None = None) -> None:
    con = console or Console(stderr=True)
    con.print(f"[bold]{rep['model']}[/] → {rep.get('int8_model', '(inspected)')}", highlight=False)
    sizes = ", ".join(f"{k} {fmt(v)}" for k, v in rep["sizes"].items())
    con.print(f"sizes: {sizes}", highlight=False)
    con.print("ops: " + ", ".join(f"{k}×{v}" for k, v in rep["op_counts"].items()), highlight=False)
    if "calibration" in rep:
        c = rep["calibration"]
        con.print(f"calibration: {c['representative_frames']} representative, {c['held_out_frames']} held-out "
                  f"frames (seed {c['seed']}) from {c['source']}"
                  + (f"; held-out from {c['held_out_source']}" if c.get("held_out_source") != c["source"] else ""),
                  highlight=False)
    if "outputs" in rep:
        _outputs(con, rep)
    outputs = {io["name"]: f"output {o['name']}" for io, o in zip(rep["outputs_io"], rep.get("outputs", []))}
    _layers(con, rep["per_layer"], outputs)
    _edgetpu(con, rep["edgetpu"])


def _v(fig, digits=4):
    return f"{fig['value']:.{digits}g}" if fig else "-"


def _outputs(con, rep):
    t = Table(title="float vs INT8 on held-out frames (measured-host, LiteRT)")
    for col in ("output", "MAE int8-float", "max |int8-float|", "MAE float-label", "MAE int8-label", "Δ MAE"):
        t.add_column(col)
    for o in rep["outputs"]:
        rel = o.get("mae_relative_change")
        t.add_row(o["name"], _v(o["mae_int8_vs_float"]), _v(o["max_abs_int8_vs_float"]),
                  _v(o.get("mae_float_vs_label")), _v(o.get("mae_int8_vs_label")),
                  f"{rel['value']:+.1%}" if rel else "-")
    con.print(t)
    phys = rep.get("physical")
    if phys:
        con.print(f"pilot in car units (max steer {fmt(phys['max_steer_deg'])}, {phys['max_steer_deg']['source']}): "
                  f"steering int8-float MAE {fmt(phys['steering_mae_int8_vs_float'])}, "
                  f"max {fmt(phys['steering_max_int8_vs_float'])}; throttle MAE "
                  f"{fmt(phys['throttle_mae_int8_vs_float'])}", highlight=False)


def _layers(con, pl, outputs: dict):
    t = Table(title=f"per-layer error: INT8 ({pl['int8_runtime']}) vs {pl['reference']} reference "
                    f"({pl['frames']} frames, matched by {pl['matched_by']}; measured-host)")
    for col in ("#", "op", "layer", "shape", "SNR dB", "dB lost here", "rel RMS", "max abs"):
        t.add_column(col)
    drops = [l["snr_drop_db"] for l in pl["layers"] if l["snr_drop_db"] is not None]
    worst = max(drops) if drops else None
    for l in pl["layers"]:
        d = l["snr_drop_db"]
        mark = "[red]" if d is not None and d == worst and d > 1 else ""
        t.add_row(str(l["op_index"]), l["op"], outputs.get(l["tensor"]) or _layer_name(l["tensor"]), "×".join(map(str, l["shape"])),
                  f"{l['snr_db']:.1f}" if l["snr_db"] is not None else "exact",
                  f"{mark}{d:.1f}" if d is not None else "-",
                  f"{l['rel_rms_error']:.3g}" if l["rel_rms_error"] is not None else "-", f"{l['max_abs_error']:.3g}")
    con.print(t)


def _layer_name(tensor: str) -> str:
    """'pilot_1/conv2d_3_1/Relu;…' → 'conv2d_3_1': the Keras layer a converted tensor came from."""
    parts = tensor.split(";")[0].split("/")
    return (parts[1] if len(parts) > 2 else parts[0])[:24]


def _edgetpu(con, e):
    head = "[green]fully mapped[/]" if e["fully_mapped"] else f"{e['edgetpu_ops']} of {e['edgetpu_ops'] + e['cpu_ops']} ops"
    con.print(f"Edge TPU (modelled, static check of coral.ai rules): {head}; parameters "
              f"{fmt(e['parameter_bytes_on_edgetpu'])} vs on-chip cache {fmt(e['on_chip_cache_bytes'])}"
              + ("" if e["fits_on_chip_cache"] else " [yellow](does not fit: streamed from host)[/]"), highlight=False)
    f = e["first_unsupported"]
    if f:
        con.print(f"  splits at op {f['index']} {f['op']}: {'; '.join(f['reasons'][:3])}", highlight=False)
