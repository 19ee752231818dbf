"""Failsafe: when the link goes silent the board must zero the throttle within the rig's limit."""
from edgekit.hil.bench import need
from edgekit.provenance import figure


def test_failsafe_on_link_loss(bench, rig, record, check):
    tw = need(bench.twin)
    fs = need(tw.wait_failsafe, 60.0)
    ms = fs["stop_after_us"] / 1e3
    fig = record("failsafe_stop", figure(ms, "ms", tw.provenance, what="board clock: last fresh command → throttle 0 and steering centre",
                                         **tw.clock_note))
    check("failsafe_stop", fig, rig.thresholds.failsafe_ms)
