"""`edgekit bench`: interleaved rounds over four runtimes, median + p99, ratios, CPU and variant."""
from __future__ import annotations

import json


def test_interleaved_rounds_time_every_runtime_equally():
    from edgekit.cli.bench import interleaved
    order = []
    res = interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b"),
                       "c": lambda: order.append("c")}, 4)
    assert order[:3] == ["a", "b", "c"]                       # warm-up
    rounds = [order[3 + 3 * r: 6 + 3 * r] for r in range(4)]
    assert rounds[0] == ["a", "b", "c"] and rounds[1] == ["b", "c", "a"]   # rotating order
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    assert all(v["runs"] == 4 and v["p99_ms"]["value"] >= v["median_ms"]["value"] for v in res.values())


def test_bench_json_has_xnnpack_ratios_cpu_and_variant(mlperf_models, capsys):
    from edgekit.cli import main
    assert main(["bench", str(mlperf_models["ad01_int8"]), "--runs", "20", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["threads"] == 1 and rep["cpu"]["model"] != "unknown"
    assert "LiteRT default (XNNPACK)" in rep["runtimes"]
    r = rep["ratios"]["edgekit/LiteRT default (XNNPACK)"]
    ek = rep["runtimes"]["edgekit C"]["median_ms"]["value"]
    xnn = rep["runtimes"]["LiteRT default (XNNPACK)"]["median_ms"]["value"]
    assert r["provenance"] == "measured-host" and abs(r["value"] - ek / xnn) < 1e-3 * r["value"] + 1e-4
    assert rep["edgekit_build"]["variant"]["selected"]
