"""Failsafe: when the link to the perception computer drops, the car must stop within the rig's limit."""
import pytest

from edgekit.hil.bench import need
from edgekit.provenance import figure


def test_failsafe_on_link_loss(bench, rig, record):
    pilot = need(bench.pilot_runner)
    try:
        drop = getattr(pilot.runner, "drop_link", None)
        if drop is None:
            pytest.skip(f"{pilot.description} cannot drop its link (needs TwinRunner.drop_link)")
        ms = drop()   # time until the board commands zero throttle, by the board's clock
        record("failsafe_stop", figure(float(ms), "ms", pilot.provenance, pilot=pilot.description))
        assert ms <= rig.thresholds.failsafe_ms
    finally:
        pilot.runner.close()
