"""The fusion benchmark stays runnable at a small size and scores every approach."""

from __future__ import annotations

from pathlib import Path

from benchmarks import fusion


def test_the_fusion_benchmark_runs_small(tmp_path: Path) -> None:
    figures = fusion.run(600, seed=5, folder=tmp_path, baselines=True, book=True)
    names = [r["approach"] for r in figures["approaches"]]
    assert names == ["crmledger", "exact", "splink-default"]
    ours, exact, default = figures["approaches"]
    assert ours["f1"] > exact["f1"]
    assert 0.0 < default["f1"] <= 1.0
    assert figures["book"]["created"] == figures["book"]["clusters"] > 0
    assert set(figures["book"]["stages"]) == {"prepare", "read", "match", "merge", "write"}
