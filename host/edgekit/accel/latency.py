"""Accelerator latency and energy model, fitted to published figures (docs/ACCELERATORS.md).

    t = n_mac_layers · t_layer + MACs / R                       (compute, fitted per accelerator)
      + (input + output bytes) / B_link                         (host <-> device transfer)
      + max(0, parameter bytes - cache) / B_link                (Edge TPU: parameters streamed each run)

t_layer (fixed cost per MAC layer) and R (effective MAC rate) are fitted by least squares to the
published per-model figures in PUBLISHED (R capped at the datasheet peak); the residuals on those
models are part of the result.
B_link is the interface's nominal line rate after encoding (an upper bound, LINKS). Energy is the
accelerator's typical power (board YAML) times t. Everything here is `modelled`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.provenance import figure

# Published architectures: MACs and parameters from the papers' tables, MAC layers counted from
# the papers' architecture tables (convolutions incl. depthwise, plus the classifier).
ARCH: dict[str, dict] = {
    "mobilenet_v1_224": {"macs": 569e6, "params": 4.2e6, "layers": 28, "in": 224 * 224 * 3, "out": 1001,
                         "source": "Howard et al. 2017 (arXiv:1704.04861) Tables 1 and 8"},
    "mobilenet_v2_224": {"macs": 300e6, "params": 3.4e6, "layers": 53, "in": 224 * 224 * 3, "out": 1001,
                         "source": "Sandler et al. 2018 (arXiv:1801.04381) Tables 2 and 4"},
    "efficientnet_lite0": {"macs": 407e6, "params": 4.7e6, "layers": 50, "in": 224 * 224 * 3, "out": 1000,
                           "source": "tensorflow/tpu models/official/efficientnet/lite README (params, MAdds); "
                                     "layers from Tan & Le 2019 Table 1 with lite's stem/head"},
}
# Published latencies (ms per inference) and the link each was measured over (docs/SOURCES.md §10).
PUBLISHED: dict[str, list[tuple]] = {
    "edgetpu": [
        ("mobilenet_v1_224", "usb3", 2.4, "coral.ai/docs/edgetpu/benchmarks, USB Accelerator on a desktop (USB 3)"),
        ("mobilenet_v2_224", "usb3", 2.6, "coral.ai/docs/edgetpu/benchmarks, USB Accelerator on a desktop (USB 3)"),
        ("mobilenet_v1_224", "pcie-gen2-x1", 2.4, "coral.ai/docs/edgetpu/benchmarks, Dev Board"),
        ("mobilenet_v2_224", "pcie-gen2-x1", 2.6, "coral.ai/docs/edgetpu/benchmarks, Dev Board"),
    ],
    # Hailo publishes batch-1 throughput (FPS), not latency: 1/FPS is a lower bound on latency,
    # with transfers overlapped; fitted without a link term.
    "hailo": [
        ("mobilenet_v1_224", None, 1000 / 2565, "hailo_model_zoo HAILO8L_classification: mobilenet_v1 2565 FPS"),
        ("mobilenet_v2_224", None, 1000 / 1738, "hailo_model_zoo HAILO8L_classification: mobilenet_v2_1.0 1738 FPS"),
        ("efficientnet_lite0", None, 1000 / 1057, "hailo_model_zoo HAILO8L_classification: efficientnet_lite0 1057 FPS"),
    ],
}
# Nominal line rates after encoding, bytes/s (upper bounds on throughput; assumptions, see docs).
LINKS = {
    "usb3": (500e6, "USB 3.0 SuperSpeed 5 Gb/s, 8b/10b"),
    "usb2": (60e6, "USB 2.0 High-Speed 480 Mb/s"),
    "pcie-gen2-x1": (500e6, "PCIe Gen2 x1 5 GT/s, 8b/10b"),
    "pcie-gen3-x1": (985e6, "PCIe Gen3 x1 8 GT/s, 128b/130b"),
}
PEAK_TOPS = {"edgetpu": 4.0, "hailo": 13.0}   # datasheets: Edge TPU 4 TOPS, Hailo-8L 13 TOPS (SOURCES §8)
EDGETPU_CACHE = 8 * 2**20   # coral.ai: "roughly 8 MB" of on-chip parameter memory (SOURCES §8)


@dataclass(frozen=True)
class Fit:
    kind: str
    t_layer_ms: float
    mac_rate: float            # MACs per second
    residuals: list[dict]

    def rms_error_pct(self) -> float:
        return float(np.sqrt(np.mean([r["error_pct"] ** 2 for r in self.residuals])))


def link_ms(link: str | None, nbytes: float) -> float:
    return 0.0 if link is None or nbytes <= 0 else nbytes / LINKS[link][0] * 1e3


def fit(kind: str) -> Fit:
    """Least-squares fit of (t_layer, 1/R) for `kind` ('edgetpu' or 'hailo'), transfer removed."""
    rows = PUBLISHED[kind]
    a = np.array([[ARCH[m]["layers"], ARCH[m]["macs"] / 1e9] for m, _, _, _ in rows])
    b = np.array([t - link_ms(link, ARCH[m]["in"] + ARCH[m]["out"]) for m, link, t, _ in rows])
    (t_layer, ms_per_gmac), *_ = np.linalg.lstsq(a, b, rcond=None)
    floor = 2.0 / PEAK_TOPS[kind]   # ms per GMAC at the datasheet peak (1 MAC = 2 ops)
    if ms_per_gmac < floor:   # faster than the chip's peak: not physical, pin R at the peak
        ms_per_gmac = floor
        t_layer = float(np.sum(a[:, 0] * (b - a[:, 1] * floor)) / np.sum(a[:, 0] ** 2))
    if t_layer < 0 or ms_per_gmac <= 0:
        raise ValueError(f"{kind}: the fit is not physical (t_layer={t_layer}, ms/GMAC={ms_per_gmac})")
    res = []
    for (m, link, t, src), row in zip(rows, a):
        pred = float(row @ [t_layer, ms_per_gmac]) + link_ms(link, ARCH[m]["in"] + ARCH[m]["out"])
        res.append({"model": m, "link": link, "published_ms": round(t, 4), "modelled_ms": round(pred, 4),
                    "error_pct": round((pred - t) / t * 100, 2), "source": src})
    return Fit(kind, float(t_layer), 1e12 / float(ms_per_gmac), res)


def _link_of(board) -> str | None:
    acc = board.accelerator
    return getattr(acc, "link", None)


def predict(board, macs: float, mac_layers: int, input_bytes: int, output_bytes: int, param_bytes: int) -> dict:
    """Modelled latency and energy of one accelerated segment on `board`."""
    from edgekit.accel.partition import accelerator_kind
    kind = accelerator_kind(board)
    if kind is None:
        raise ValueError(f"board {board.name} has no Edge TPU or Hailo accelerator")
    f = fit(kind)
    link = _link_of(board)
    compute = mac_layers * f.t_layer_ms + macs / f.mac_rate * 1e3
    io = link_ms(link, input_bytes + output_bytes)
    cache = board.accelerator.param_cache_bytes or (EDGETPU_CACHE if kind == "edgetpu" else None)
    spill_bytes = max(0, param_bytes - cache) if (kind == "edgetpu" and cache) else 0
    spill = link_ms(link, spill_bytes)
    t = compute + io + spill
    arith = (f"t = {mac_layers}·{f.t_layer_ms:.4g} ms + {macs:.4g} MAC / {f.mac_rate:.4g} MAC/s"
             f" + {input_bytes + output_bytes} B / B_{link}" + (f" + {spill_bytes} B spill / B_{link}" if spill_bytes else "")
             + f" = {compute:.4g} + {io:.4g}" + (f" + {spill:.4g}" if spill_bytes else "") + f" = {t:.4g} ms")
    watts = board.accelerator.watts
    return {
        "latency": figure(round(t, 4), "ms", "modelled", arithmetic=arith,
                          parts={"compute_ms": round(compute, 4), "transfer_ms": round(io, 4), "spill_ms": round(spill, 4)},
                          fit_rms_error_pct=round(f.rms_error_pct(), 2), source="docs/ACCELERATORS.md"),
        "energy": figure(round(t * watts, 4), "mJ", "modelled",
                         arithmetic=f"E = {watts:g} W (board YAML accelerator.watts) · {t:.4g} ms"),
        "link": link, "spill_bytes": spill_bytes,
    }


def predict_segment(board, seg: dict) -> dict:
    """predict() for a partition segment (edgekit.accel.partition)."""
    n_layers = sum(k in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV") for k in seg["op_kinds"])
    nbytes = lambda ts: sum(int(np.prod(t["shape"])) for t in ts)   # int8 tensors: one byte each
    return predict(board, seg["macs"]["value"], n_layers, nbytes(seg["inputs"]), nbytes(seg["outputs"]),
                   seg["parameter_bytes"]["value"])


# The pilot (DonkeyCar KerasLinear 120×160×3): 5 conv + 4 FC layers, 57 600 B in, 2 B out,
# 817 628 B of parameters (counted by edgekit.accel.partition on the converted pilot).
PILOT = {"mac_layers": 9, "input_bytes": 57600, "output_bytes": 2, "param_bytes": 817628}


def predict_from_macs(board, macs: float) -> dict:
    """For callers that know only the MACs (hil.range): the pilot's other features."""
    return predict(board, macs, **PILOT)


def fit_table() -> dict:
    """Both fits with their parameters and residuals, for `edgekit bench` and the docs."""
    out = {}
    for kind in PUBLISHED:
        f = fit(kind)
        out[kind] = {"t_layer_ms": figure(round(f.t_layer_ms, 5), "ms", "modelled"),
                     "mac_rate": figure(round(f.mac_rate / 1e9, 2), "GMAC/s", "modelled"),
                     "residuals": f.residuals, "rms_error_pct": round(f.rms_error_pct(), 2)}
    return out
