"""Energy per inference: the monitor's energy between the marks around the timed inferences.

Its provenance is the weaker of the monitor's and the latency's (provenance.weakest): the simulated
monitor's watts come from the board YAML, so on the sim rig it is modelled (a model check)."""
import pytest

from edgekit.hil.range import compute_cost, modelled_inference_time
from edgekit.provenance import figure, weakest


def test_energy_per_inference(latencies, bench, rig, record, check):
    mon = bench.monitor
    joules = mon.energy_between("infer-start", "infer-end", field="board_w" if mon.provenance == "modelled" else "watts")
    mj = joules / len(latencies.ms) * 1e3
    fig = record("energy_per_inference", figure(
        mj, "mJ", weakest(mon.provenance, latencies.provenance),
        arithmetic=f"∫P dt between marks / {len(latencies.ms)} inferences = {joules:.4g} J / {len(latencies.ms)}",
        monitor=type(mon).__name__, monitor_provenance=mon.provenance, latency_provenance=latencies.provenance))
    check("energy_per_inference", fig, rig.thresholds.energy_per_inference_mj)


def test_accelerator_energy_per_inference_modelled(board, rig, record, check, model_profile):
    """The board's accelerator, modelled from its YAML and the model's MACs until an accelerator
    backend measures it: a model check."""
    if board.accelerator is None:
        pytest.skip(f"{board.name} has no accelerator")
    if model_profile is None:
        pytest.skip("no model: its MACs are unknown")
    t = modelled_inference_time(board, "accelerator", model_profile["macs"], rig.accelerator_utilisation)
    cost = compute_cost(board, "accelerator", t.seconds, rig.inference.rate_hz)
    record("accelerator_latency", figure(t.seconds * 1e3, "ms", "modelled", arithmetic=t.arithmetic, assumptions=t.assumptions))
    fig = record("accelerator_energy_per_inference", figure(cost.energy_per_inference_j * 1e3, "mJ", "modelled",
                                                            arithmetic=cost.arithmetic))
    check("accelerator_energy_per_inference", fig, rig.thresholds.energy_per_inference_mj)
