"""``crmledger fx revalue`` and ``crmledger tax report`` on SQLite and PostgreSQL: a dollar
invoice revalued at the period end once, and June's tax as a table and as JSON."""

from __future__ import annotations

import sys

import pytest

from crmledger.cli.main import main
from tests.cli.test_billing_cli import doc, run, said


@pytest.fixture
def book(db_url: str) -> str:
    """A EUR book with Acme GmbH (party 1) and a consulting hour at 120.00."""
    run(db_url, "init", "--base-currency", "EUR")
    run(db_url, "party", "add", "Acme GmbH", "--country", "DE")
    run(db_url, "product", "add", "CONSULT-H", "Consulting hour", "--price", "120.00:EUR")
    return db_url


def refused(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    """What the console script wrote to stderr when it refused ``args`` (exit code 1)."""
    monkeypatch.setattr(sys, "argv", ["crmledger", "--db", db, *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    return " ".join(capsys.readouterr().err.split())


def test_fx_revalue_posts_once(
    book: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run(book, "fx", "rate", "USD", "0.9", "--date", "2026-06-01")
    run(
        book,
        "invoice",
        "create",
        "--party",
        "1",
        "--currency",
        "USD",
        "--date",
        "2026-06-02",
        "--line",
        "Support:1:100.00",
    )
    run(book, "invoice", "issue", "1")
    run(book, "fx", "rate", "USD", "0.95", "--date", "2026-06-30")
    out = said(book, "fx", "revalue", "--date", "2026-06-30")
    assert "Revaluation 2026-06-30 in EUR" in out
    assert "Posted FX/2026/1 (FXREV-2026-06-30): gain 5.95, loss 0.00 EUR;" in out
    assert "reversed by FX/2026/2 the next day." in out
    assert "2026-06-30 was revalued already" in refused(
        book, monkeypatch, capsys, "fx", "revalue", "--date", "2026-06-30"
    )
    again = doc(book, "fx", "revalue", "--date", "2026-07-31")
    assert (again["entry"], again["reversal"], again["net"]) == ("FX/2026/3", "FX/2026/4", "5.95")
    assert [(i["number"], i["difference"]) for i in again["items"]] == [("INV-2026-0001", "5.95")]


def test_tax_report_as_table_and_json(
    book: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run(
        book,
        "invoice",
        "create",
        "--party",
        "1",
        "--date",
        "2026-06-01",
        "--line",
        "CONSULT-H:10",
    )
    run(book, "invoice", "issue", "1")
    out = said(book, "tax", "report", "--from", "2026-06-01", "--to", "2026-06-30")
    assert "standard" in out
    assert "Collected 228.00, deductible 0.00, payable 228.00 EUR (1 documents)." in out
    report = doc(book, "tax", "report", "--from", "2026-06-01", "--to", "2026-06-30")
    assert report["lines"] == [
        {
            "category": "standard",
            "rate": "0.19",
            "collected_net": "1200.00",
            "collected_tax": "228.00",
            "deductible_net": "0.00",
            "deductible_tax": "0.00",
            "payable": "228.00",
        }
    ]
    assert (report["from"], report["to"], report["payable"]) == (
        "2026-06-01",
        "2026-06-30",
        "228.00",
    )
    backwards = ("tax", "report", "--from", "2026-06-30", "--to", "2026-06-01")
    assert "error: to: the period ends before it starts" in refused(
        book, monkeypatch, capsys, *backwards
    )
