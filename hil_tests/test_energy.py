"""Energy per inference: the monitor's energy between the marks around the timed inferences."""
from edgekit.hil.range import PILOT_MACS, modelled_inference_time, compute_cost
from edgekit.provenance import figure


def test_energy_per_inference(latencies, bench, rig, board, record):
    mon = bench.monitor
    joules = mon.energy_between("infer-start", "infer-end", field="board_w" if mon.provenance == "modelled" else "watts")
    mj = joules / len(latencies.ms) * 1e3
    record("energy_per_inference", figure(
        mj, "mJ", mon.provenance if mon.provenance != "modelled" else "modelled",
        arithmetic=f"∫P dt between marks / {len(latencies.ms)} inferences = {joules:.4g} J / {len(latencies.ms)}",
        monitor=rig.monitor.kind, latency_provenance=latencies.provenance))
    assert mj <= rig.thresholds.energy_per_inference_mj


def test_accelerator_energy_per_inference_modelled(board, rig, record):
    """The board's accelerator, modelled from its YAML until an accelerator backend measures it."""
    if board.accelerator is None:
        import pytest
        pytest.skip(f"{board.name} has no accelerator")
    t = modelled_inference_time(board, "accelerator", PILOT_MACS, rig.accelerator_utilisation)
    cost = compute_cost(board, "accelerator", t.seconds, rig.inference.rate_hz)
    record("accelerator_latency", figure(t.seconds * 1e3, "ms", "modelled", arithmetic=t.arithmetic, assumptions=t.assumptions))
    record("accelerator_energy_per_inference", figure(cost.energy_per_inference_j * 1e3, "mJ", "modelled", arithmetic=cost.arithmetic))
    assert cost.energy_per_inference_j * 1e3 <= rig.thresholds.energy_per_inference_mj
