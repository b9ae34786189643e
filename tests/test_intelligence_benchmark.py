"""The customer-intelligence benchmark stays runnable: a tiny book seeds (customers,
invoices, interactions, bulk-loaded entries), passes the verifier, and the 360 and the
reports are timed (the figures themselves are for ``python -m benchmarks.intelligence``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_the_intelligence_benchmark_runs_at_a_small_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks import intelligence

    monkeypatch.delenv(intelligence.POSTGRES_ENV, raising=False)
    monkeypatch.setattr(intelligence, "SAMPLES", 20)
    intelligence.main(
        [
            "--customers", "30",
            "--invoices", "90",
            "--interactions", "60",
            "--entries", "200",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    [figures] = json.loads((tmp_path / "results.json").read_text())
    assert figures["database"] == "sqlite"
    assert figures["journal_entries"] >= 200 + 90
    assert "book verified" in figures["seed_seconds"]
    assert figures["customer_360"]["p99_ms"] >= figures["customer_360"]["p50_ms"] > 0
    assert figures["statements_per_360"] > 0
    assert set(figures["reports_seconds"]) == {
        "profitability by customer",
        "profitability by product",
        "rfm",
        "cohorts",
        "receivables",
    }
