"""The benchmarks stay runnable: their data imports cleanly and the floor still measures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from benchmarks.generate import generate
from benchmarks.sqlite_floor import measure

from crmledger.bootstrap import App
from crmledger.services.imports import file_fingerprint


def test_generated_books_import_to_the_expected_balances(app: App, tmp_path: Path) -> None:
    expected = generate(200, tmp_path)
    for kind, name in (("entries", "entries.csv"), ("ledger", "books.journal")):
        path = tmp_path / name
        app.imports.import_parsed(
            app.readers[kind](path, False), fingerprint=file_fingerprint(path), kind=kind
        )
    balances = {(r.account, r.commodity): r.balance for r in app.reports.trial_balance().rows}
    doubled = {  # the same books imported twice, once from each format
        (account, commodity): 2 * Decimal(amount)
        for account, amounts in expected["balances"].items()
        for commodity, amount in amounts.items()
        if Decimal(amount)
    }
    assert {k: v for k, v in balances.items() if v} == doubled


def test_the_sqlite_floor_runs_on_the_current_schema(tmp_path: Path) -> None:
    assert measure(300, tmp_path) > 0


def test_the_crm_benchmark_runs_at_a_small_size(tmp_path: Path, monkeypatch) -> None:
    from benchmarks import crm

    monkeypatch.delenv(crm.POSTGRES_ENV, raising=False)
    monkeypatch.setattr(crm, "SAMPLES", 10)
    crm.main(["--parties", "60", "--interactions", "300", "--out", str(tmp_path)])
    import json

    [figures] = json.loads((tmp_path / "results.json").read_text())
    assert figures["database"] == "sqlite"
    assert figures["parties"] == 60
    assert set(figures["timings"]) == {
        "search name fragment",
        "search email",
        "search phone",
        "search box (all kinds)",
        "customer page",
    }


def test_the_billing_benchmark_runs_at_a_small_size(tmp_path: Path, monkeypatch) -> None:
    import json

    from benchmarks import billing

    monkeypatch.delenv(billing.POSTGRES_ENV, raising=False)
    monkeypatch.setattr(billing, "SAMPLES", 10)
    billing.main(["--invoices", "30", "--customers", "5", "--single", "10", "--out", str(tmp_path)])
    [figures] = json.loads((tmp_path / "results.json").read_text())
    assert figures["invoices"] == 30
    assert figures["invoices_per_second"] > 0
    assert figures["single_invoices_per_second"] > 0
    assert set(figures["timings"]) == {"customer balance + days to pay", "customer aging"}


def test_the_demo_benchmark_runs_at_a_small_size(tmp_path: Path, monkeypatch) -> None:
    import json

    from benchmarks import demo

    monkeypatch.delenv(demo.POSTGRES_ENV, raising=False)
    demo.main(["--customers", "10", "--years", "1", "--out", str(tmp_path)])
    [figures] = json.loads((tmp_path / "results.json").read_text())
    assert figures["customers"] == 10
    assert figures["invoices"] > 0
    assert figures["verified"] is True


def test_the_statements_benchmark_runs_at_a_small_size(tmp_path: Path, monkeypatch) -> None:
    import json

    from benchmarks import statements

    monkeypatch.delenv(statements.POSTGRES_ENV, raising=False)
    monkeypatch.setattr(statements, "SAMPLES", 3)
    statements.main(["--entries", "400", "--out", str(tmp_path)])
    [figures] = json.loads((tmp_path / "results.json").read_text())
    assert figures["database"] == "sqlite"
    assert figures["entries"] == 400
    assert len(figures["timings"]) == 4
    assert all(t["p50_ms"] > 0 for t in figures["timings"].values())
