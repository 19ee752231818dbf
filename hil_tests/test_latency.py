"""On-device inference latency: p50/p90/p99 over ≥ 200 inferences after warm-up (--quick: fewer)."""
import numpy as np

from edgekit.provenance import derived, figure


def test_inference_latency(latencies, rig, quick, record, check):
    ms = latencies.ms
    p50, p90, p99 = (float(np.percentile(ms, q)) for q in (50, 90, 99))
    src = {"source": latencies.source, "count": len(ms), **latencies.extra}
    if quick:
        src["quick"] = f"--quick: {len(ms)} inferences, fewer than the rig's {rig.inference.count}"
    record("latency_p50", figure(p50, "ms", latencies.provenance, **src))
    record("latency_p90", figure(p90, "ms", latencies.provenance, **src))
    p99_fig = record("latency_p99", figure(p99, "ms", latencies.provenance, **src))
    record("latency_max_rate", derived(1000.0 / p99, "Hz", p99_fig, arithmetic=f"1000 / p99 {p99:.4g} ms"))
    record.trace("latency_ms", {"ms": ms, "provenance": latencies.provenance, "source": latencies.source})
    check("latency_p99", p99_fig, rig.thresholds.latency_p99_ms or 1000.0 / rig.inference.rate_hz)
