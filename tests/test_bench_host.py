"""`edgekit bench`: interleaved rounds over four runtimes (each right after each other one equally often),
median + p99, ratios, CPU and variant."""
from __future__ import annotations

import json


def test_interleaved_rounds_time_every_runtime_equally():
    from collections import Counter

    from edgekit.cli.bench import interleaved
    for names, runs in (("abc", 4), ("abcd", 6)):
        order = []
        res = interleaved({n: (lambda n=n: order.append(n)) for n in names}, runs)
        k = len(names)
        assert order[:k] == list(names)                       # warm-up
        timed = order[k:]
        rounds = [timed[k * r: k * (r + 1)] for r in range(runs)]
        assert all(sorted(r) == list(names) for r in rounds)   # each round runs each runtime once
        # each runtime right after each other one equally often (TFLM's long invoke leaves the
        # next runtime cold: no runtime may always be that one), never right after itself
        after = Counter(zip(timed[1:], timed[:-1]))
        assert all(a != b for a, b in after)
        for a in names:
            counts = [after[(a, b)] for b in names if b != a]
            assert max(counts) - min(counts) <= 1, (names, a, counts)
        assert all(v["runs"] == runs and v["p99_ms"]["value"] >= v["median_ms"]["value"] for v in res.values())


def test_balanced_orders_pair_every_runtime_with_every_predecessor_once():
    from edgekit.cli.bench import balanced_orders
    for n in (1, 2, 3, 4, 5):
        orders = balanced_orders(n)
        assert all(sorted(o) == list(range(n)) for o in orders)
        stream = [i for o in orders for i in o]
        pairs = [(stream[k], stream[k - 1]) for k in range(len(stream))] if n > 1 else []
        if n <= 4:
            assert sorted(pairs) == sorted((a, b) for a in range(n) for b in range(n) if a != b)


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
