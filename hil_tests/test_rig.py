"""The rig and the board agree before anything runs: valid files, a model that fits the board."""
import os

from edgekit.hil.bench import need
from edgekit.provenance import figure


def test_rig_and_board(rig, board, record):
    assert rig.battery.cutoff_v_per_cell * rig.battery.cells > 0
    record("battery_nominal_energy", figure(rig.battery.capacity_ah * 3.7 * rig.battery.cells, "Wh", "modelled",
                                            arithmetic=f"{rig.battery.capacity_ah} Ah × 3.7 V × {rig.battery.cells} cells"))


def test_model_fits_board(bench, board, record):
    model = need(bench.require_model)
    size = sum(f.stat().st_size for f in model.rglob("*") if f.is_file()) if model.is_dir() else os.path.getsize(model)
    record("model_bytes", figure(size, "B", "measured-host", path=str(model)))
    assert size <= board.memory.flash_bytes
