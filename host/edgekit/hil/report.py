"""report.html: one self-contained page (inline SVG plots, no external files or scripts).

Plots: inference latency histogram, power trace, state of charge over time, range per option.
Every number on the page carries its unit and provenance, as in results.json.
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np

PROV_COLOUR = {"measured-hw": "#1b7837", "measured-host": "#5aae61", "emulated": "#2166ac", "modelled": "#b2182b"}


def _svg(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return f'<img alt="plot" src="data:image/svg+xml;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _plots(results: dict, traces: dict) -> list[tuple[str, str]]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    lat = traces.get("latency_ms") or traces.get("camera_to_actuator_ms")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    if lat:
        which = "on-device inference" if "latency_ms" in traces else "camera→actuator"
        ms = np.asarray(lat["ms"], dtype=float)
        spread = float(ms.max() - ms.min())
        if spread < 1e-3 * max(float(ms.mean()), 1e-9):   # a deterministic clock: one bar, say so
            ax.bar([float(ms.mean())], [len(ms)], width=max(0.02 * float(ms.mean()), 1e-3),
                   color=PROV_COLOUR.get(lat["provenance"], "grey"))
            ax.set_title(f"all {len(ms)} within {spread * 1e3:.3g} µs of {ms.mean():.4g} ms", fontsize=8)
        else:
            ax.hist(ms, bins=40, color=PROV_COLOUR.get(lat["provenance"], "grey"))
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.set_xlabel(f"{which} latency (ms, {lat['provenance']})")
        ax.set_ylabel("count")
    else:
        reason = next((t["message"] for t in results["tests"] if t["name"] == "test_inference_latency"), "")
        ax.text(0.5, 0.5, "latency not measured\n" + _wrap(reason), ha="center", va="center", fontsize=8)
        ax.set_axis_off()
    out.append(("Inference latency", _svg(fig)))

    fig, ax = plt.subplots(figsize=(6, 3.2))
    pw = traces.get("power")
    rows = results.get("range_comparison", {}).get("rows", [])
    if pw and len(pw["t_s"]) > 1:
        ax.plot(pw["t_s"], pw["watts"], lw=0.8, label="total (board + car)")
        if any(b is not None for b in pw["board_w"]):
            ax.plot(pw["t_s"], [b or 0 for b in pw["board_w"]], lw=0.8, label="board")
        for name, t in pw["marks"].items():
            ax.axvline(t, color="grey", lw=0.5, ls=":")
        ax.set_xlabel(f"time (s; {pw['monitor']} monitor, {pw['provenance']})")
        ax.set_ylabel("W")
        ax.legend(fontsize=7)
    elif rows:
        labels = [r["label"] for r in rows]
        ax.barh(labels, [r["compute_power"]["value"] for r in rows], color=PROV_COLOUR["modelled"])
        ax.set_xlabel("compute power at the option's rate (W, modelled: no power trace was recorded)")
        ax.tick_params(axis="y", labelsize=7)
    out.append(("Power", _svg(fig)))

    fig, ax = plt.subplots(figsize=(6, 3.2))
    bl = traces.get("battery_full")
    soc = traces.get("soc_modelled")
    if bl:
        ax.plot(np.asarray(bl["t_s"]) / 60, 100 * np.asarray(bl["soc"]),
                label=f"closed-loop trace repeated ({bl.get('mean_w', 0):.3g} W mean: simulated car + board)")
    if soc:
        for label, s in soc["series"].items():
            ax.plot(s["t_min"], 100 * np.asarray(s["soc"]), lw=1, label=f"{label} (rig {soc.get('drive_w', '?')} W drive)")
    ax.set_xlabel("minutes of driving (modelled battery)")
    ax.set_ylabel("state of charge (%)")
    ax.legend(fontsize=7)
    out.append(("State of charge", _svg(fig)))

    if rows:
        fig, ax = plt.subplots(figsize=(6, 0.45 * len(rows) + 1.2))
        y = np.arange(len(rows))
        ax.barh(y + 0.2, [r["range_without_compute"]["value"] for r in rows], 0.4, color="#cccccc", label="without compute")
        ax.barh(y - 0.2, [r["range"]["value"] for r in rows], 0.4,
                color=[PROV_COLOUR[r["range"]["provenance"]] for r in rows], label="with compute")
        ax.set_yticks(y, [r["label"] + ("" if r["sustainable"] else " (rate not sustained)") for r in rows], fontsize=7)
        provs = sorted({r["range"]["provenance"] for r in rows})
        ax.set_xlabel(f"projected range per charge (km, {', '.join(provs)})")
        ax.legend(fontsize=7)
        out.append(("Range per option", _svg(fig)))
    return out


def _wrap(text: str, width: int = 70) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width))


def _fmt(fig: dict) -> str:
    v = fig.get("value")
    text = f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))
    prov = fig.get("provenance", "")
    return f'{text} {html.escape(fig.get("unit", ""))} <span class="p" style="background:{PROV_COLOUR.get(prov, "#777")}">{prov}</span>'


CSS = """body{font-family:sans-serif;margin:1.5em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
.p{color:#fff;border-radius:3px;padding:0 4px;font-size:11px}.passed{color:#1b7837}.failed,.error{color:#b2182b;font-weight:bold}.skipped{color:#888}
.banner{font-size:28px;font-weight:bold;color:#fff;padding:8px 14px;border-radius:4px;display:inline-block}
.banner.passed{background:#1b7837}.banner.failed{background:#b2182b}.banner.incomplete{background:#e08214}
.not-run{color:#e08214;font-weight:bold}.grid{display:flex;flex-wrap:wrap;gap:12px}.grid div{flex:1 1 480px}.grid img{max-width:100%}small{color:#555}"""


def render(results: dict, traces: dict) -> str:
    b, rig, s = results["board"], results["rig"], results["summary"]
    verdict = results.get("verdict") or ("PASSED" if results["passed"] else "FAILED")
    h = [f"<!doctype html><html><head><meta charset='utf-8'><title>edgekit HIL — {html.escape(verdict)} — {html.escape(b['name'])} on {html.escape(rig['name'])}</title>",
         f"<style>{CSS}</style></head><body>",
         f"<div class='banner {verdict.lower()}'>{verdict}</div>",
         f"<p>{html.escape(results.get('why', ''))}</p>",
         f"<h1>HIL bench: {html.escape(b['title'])} on rig “{html.escape(rig['title'])}”</h1>",
         "<table>",
         f"<tr><th>board</th><td>{html.escape(b['title'])} ({html.escape(b['name'])}; {html.escape(b['cpu'].get('core', ''))} "
         f"at {b['cpu'].get('clock_mhz', '?')} MHz{', ' + html.escape(b['accelerator']['name']) if b.get('accelerator') else ''})</td></tr>",
         f"<tr><th>model</th><td>{_model_words(results)}</td></tr>",
         f"<tr><th>image</th><td>{_image_words(results['image'])}</td></tr>",
         f"<tr><th>rig</th><td>{html.escape(rig['title'])}: link {html.escape(_link_words(rig['link']))}, power monitor "
         f"{html.escape(rig['monitor']['kind'])}, car {html.escape(rig['car']['kind'])}</td></tr>",
         f"<tr><th>run</th><td>{s['passed']} passed, {s['failed']} failed, {s.get('not-run', 0) + s['error']} did not run, "
         f"{s['skipped']} skipped (not applicable); {results['created_utc']} UTC, {results['seconds']} s, edgekit {results['edgekit']}"
         f"{'; QUICK run: fewer timed inferences than the rig asks' if results.get('quick') else ''}</td></tr>",
         "</table>"]
    if results.get("did_not_run"):
        h.append("<h2>Did not run</h2><ul>" + "".join(
            f"<li><b>{html.escape(t['name'])}</b> ({t['outcome']}): {html.escape(t['reason'])}</li>" for t in results["did_not_run"]) + "</ul>")
    h.append("<p><small>Provenance: " + ", ".join(f"<span class='p' style='background:{PROV_COLOUR[k]}'>{k}</span> {html.escape(v)}"
                                                 for k, v in results["provenance_legend"].items()) + "</small></p>")
    h += _checks(results.get("checks", {}))
    h.append("<div class='grid'>")
    for title, img in _plots(results, traces):
        h.append(f"<div><h3>{title}</h3>{img}</div>")
    h.append("</div>")
    rows = results.get("range_comparison", {}).get("rows", [])
    if rows:
        h.append("<h2>Range per option</h2><p><small>" + html.escape(results["range_comparison"].get("formula", "")) +
                 f"; car {rig['car']['drive_power_w']} W at {rig['car']['speed_mps']} m/s; battery {rig['battery']['cells']}S "
                 f"{rig['battery']['capacity_ah']} Ah LiPo, cutoff {rig['battery']['cutoff_v_per_cell']} V/cell. "
                 "The arithmetic of each figure is in results.json.</small></p><table><tr><th>option</th><th>inference time</th>"
                 "<th>duty</th><th>compute power</th><th>energy / inference</th><th>range</th><th>minutes</th>"
                 "<th>without compute</th><th>range cost</th></tr>")
        for r in rows:
            warn = "" if r["sustainable"] else f"<br><small>rate not sustained: {r['achieved_rate']['value']:.3g} Hz at most</small>"
            h.append(f"<tr><td>{html.escape(r['label'])}{warn}</td><td>{_fmt(r['inference_time'])}</td><td>{r['duty']['value']:.3g}</td>"
                     f"<td>{_fmt(r['compute_power'])}</td><td>{_fmt(r['energy_per_inference'])}</td><td>{_fmt(r['range'])}</td>"
                     f"<td>{_fmt(r['minutes'])}</td><td>{r['range_without_compute']['value']:.4g} km / {r['minutes_without_compute']['value']:.4g} min</td>"
                     f"<td>{r['range_cost']['value']:.3g} %</td></tr>")
        h.append("</table>")
    h.append("<h2>Figures</h2><table><tr><th>figure</th><th>value</th><th>how</th><th>test</th></tr>")
    for name, f in results["figures"].items():
        how = f.get("arithmetic") or f.get("source") or f.get("what") or f.get("option") or ""
        h.append(f"<tr><td>{html.escape(name)}</td><td>{_fmt(f)}</td><td><small>{html.escape(str(how))}</small></td>"
                 f"<td><small>{html.escape(f.get('test', '').split('::')[-1])}</small></td></tr>")
    h.append("</table><h2>Tests</h2><table><tr><th>test</th><th>outcome</th><th>s</th><th>message</th></tr>")
    for t in results["tests"]:
        h.append(f"<tr><td>{html.escape(t['id'])}</td><td class='{t['outcome']}'>{t['outcome']}</td><td>{t['seconds']:.2f}</td>"
                 f"<td><small>{html.escape(t['message'])}</small></td></tr>")
    h.append("</table></body></html>")
    return "\n".join(h)


def _model_words(results: dict) -> str:
    model = results.get("model")
    if not model:
        return "none given"
    prof = results.get("model_profile")
    words = html.escape(str(model))
    if prof:
        mix = ", ".join(f"{k} ×{v['count']}" for k, v in prof["op_mix"].items())
        words += f" — {prof['macs'] / 1e6:.4g} M MACs per inference ({html.escape(mix)})"
    if results.get("standin"):
        words += " — the untrained timing stand-in (no driving score)"
    return words


def _image_words(img: dict) -> str:
    if not img.get("image") and not img.get("reported_hash"):
        return html.escape(img.get("reason") or img.get("how") or "unknown") + (
            f" (ran on {html.escape(img['ran_on'])})" if img.get("ran_on") else "")
    words = html.escape(str(img.get("image") or ""))
    if img.get("reported_hash"):
        words += f"; the board reports running image hash <code>{html.escape(img['reported_hash'])}</code>"
        if img.get("version"):
            words += f" (version {html.escape(str(img['version']))}, slot {img.get('slot')})"
        words += "; it matches the image flashed" if img.get("hash_matches") else ""
    elif img.get("sha256"):
        words += f" (sha256 <code>{html.escape(img['sha256'][:16])}…</code>)"
    if img.get("ran_on"):
        words += f", on {html.escape(img['ran_on'])}"
    if img.get("booted"):
        words += f", booted via {html.escape(img['booted'])}"
    if img.get("why"):
        words += f" ({html.escape(img['why'])})"
    return words


def _link_words(link: dict) -> str:
    return "the board's emulated twin" if link["kind"] == "twin" else f"serial {link.get('port')} at {link.get('baud')} baud"


def _checks(checks: dict) -> list[str]:
    out = []
    for kind, title in (("device", "Device checks (measurements of the board)"), ("model", "Model checks (on modelled figures)")):
        rows = checks.get(kind, [])
        if not rows:
            continue
        out.append(f"<h2>{title}</h2><table><tr><th>check</th><th>value</th><th>limit</th><th>result</th></tr>")
        for c in rows:
            out.append(f"<tr><td>{html.escape(c['name'])}</td><td>{_fmt(c)}</td><td>{html.escape(c['op'])} {c['limit']:g}</td>"
                       f"<td class='{'passed' if c['ok'] else 'failed'}'>{'ok' if c['ok'] else 'FAILED'}</td></tr>")
        out.append("</table>")
    return out


def write_report(results: dict, traces: dict, path) -> None:
    from pathlib import Path
    Path(path).write_text(render(results, traces))
