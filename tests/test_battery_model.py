"""The Thevenin battery model against known figures and its own energy balance."""
import numpy as np
import pytest

from edgekit.hil.battery import LIPO_NOMINAL_V, BatteryParams, discharge, runtime_at_power


@pytest.fixture
def pack():
    return BatteryParams(cells=2, capacity_ah=5.0, r0_ohm=0.02, r1_ohm=0.01, c1_farad=2000.0, cutoff_v_per_cell=3.3)


def test_ocv_curve_endpoints(pack):
    assert pack.ocv(1.0) == pytest.approx(8.40)
    assert pack.ocv(0.5) == pytest.approx(7.68)
    assert pack.ocv(0.0) == pytest.approx(6.54)
    assert pack.nominal_wh == pytest.approx(5.0 * LIPO_NOMINAL_V * 2)


def test_energy_at_low_constant_power_matches_capacity_times_nominal_voltage(pack):
    """At a light load the pack delivers about its label energy (5 Ah × 7.4 V = 37 Wh):
    within the model's losses and the part of the OCV curve below cutoff."""
    d = runtime_at_power(pack, 5.0, dt_s=2.0)
    assert d.cutoff_reached
    assert d.energy_out_wh == pytest.approx(pack.nominal_wh, rel=0.05)
    assert d.duration_s / 3600 == pytest.approx(d.energy_out_wh / 5.0, rel=1e-3)   # t = E / P
    assert d.loss_wh < 0.01 * d.energy_out_wh


def test_energy_balance_out_plus_losses_equals_chemical_energy(pack):
    d = runtime_at_power(pack, 60.0, dt_s=1.0)
    chemical = pack.ocv_energy_wh(1.0, float(d.soc[-1]))
    assert d.energy_out_wh + d.loss_wh == pytest.approx(chemical, rel=0.005)


def test_heavier_load_delivers_less_energy_and_stops_earlier_in_soc(pack):
    light, heavy = runtime_at_power(pack, 15.0), runtime_at_power(pack, 200.0)
    assert heavy.energy_out_wh < light.energy_out_wh
    assert heavy.soc[-1] > light.soc[-1] + 0.1        # cutoff from the voltage sag, charge left
    assert "cutoff" in heavy.cutoff_reason


def test_power_is_delivered_each_step(pack):
    d = discharge(pack, np.full(600, 40.0), dt_s=1.0)
    assert not d.cutoff_reached
    np.testing.assert_allclose(d.voltage_v[1:] * d.current_a[1:], 40.0, rtol=1e-9)
    # SOC falls by the integrated current
    assert pack.initial_soc - d.soc[-1] == pytest.approx(d.current_a[1:].sum() / 3600 / 5.0, rel=1e-9)


def test_rc_pair_relaxes_after_a_load_step(pack):
    trace = np.concatenate([np.full(60, 100.0), np.full(200, 1e-6)])
    d = discharge(pack, trace, dt_s=1.0)
    v_end_of_load, v_rest = d.voltage_v[61], d.voltage_v[-1]
    ocv_rest = pack.ocv(float(d.soc[-1]))
    # right after the step the RC voltage still sags the terminal; after 10 τ it has recovered
    assert d.voltage_v[62] < ocv_rest - 0.05
    assert v_rest == pytest.approx(ocv_rest, abs=1e-3)
    assert v_end_of_load < v_rest


def test_impossible_power_is_a_cutoff_not_a_crash(pack):
    d = runtime_at_power(pack, 2000.0)      # above E²/(4·R0) ≈ 880 W
    assert d.cutoff_reached and "cannot deliver" in d.cutoff_reason
    assert d.duration_s == 0
