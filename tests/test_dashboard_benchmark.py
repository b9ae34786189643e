"""The dashboard benchmark stays runnable: a tiny book seeds, and the service, the page and
the API are timed (the figures themselves are for ``python -m benchmarks.dashboard``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_the_dashboard_benchmark_runs_at_a_small_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks import dashboard

    monkeypatch.delenv(dashboard.POSTGRES_ENV, raising=False)
    dashboard.main(
        [
            "--entries", "300",
            "--customers", "40",
            "--invoices", "120",
            "--deals", "20",
            "--answers", "30",
            "--samples", "2",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    [figures] = json.loads((tmp_path / "results.json").read_text())
    assert figures["database"] == "sqlite"
    assert figures["journal_entries"] >= 300 + 120
    assert set(figures["timings"]) == {
        "service dashboard()",
        "page GET /",
        "api GET /api/v1/dashboard",
    }
    assert all(t["p50_ms"] > 0 for t in figures["timings"].values())
