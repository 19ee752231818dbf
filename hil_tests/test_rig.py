"""The model fits the board before anything runs."""
import os

from edgekit.hil.bench import need
from edgekit.provenance import figure


def test_model_fits_board(bench, board, record, check):
    model = need(bench.require_model)
    size = sum(f.stat().st_size for f in model.rglob("*") if f.is_file()) if model.is_dir() else os.path.getsize(model)
    fig = record("model_bytes", figure(size, "B", "measured-host", path=str(model)))
    check("model_bytes_fit_flash", fig, board.memory.flash_bytes)
