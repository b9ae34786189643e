"""The join figure stays runnable at a small size: four approaches, each in its own
process, and crmledger links every transaction of a known customer."""

from __future__ import annotations

from pathlib import Path

from benchmarks import fusion_join


def test_the_join_figure_runs_small_and_crmledger_loses_no_transaction(tmp_path: Path) -> None:
    figures = fusion_join.run(300, tmp_path)
    rows = {r["approach"]: r for r in figures["approaches"]}
    assert list(rows) == ["pandas", "duckdb-join", "polars-lazy", "crmledger"]
    ours = rows["crmledger"]
    assert ours["rows_out"] == figures["transactions"] == 3000
    assert ours["linked"] == ours["linked_right"] == figures["linkable"]
    # The seed approach loses the ids that do not cast and repeats the copies' rows.
    assert rows["pandas"]["linked"] < ours["linked"]
    assert rows["pandas"]["rows_out"] > rows["pandas"]["linked"]
    assert all(r["peak_mb"] > 0 and r["cpu_seconds"] > 0 for r in rows.values())
