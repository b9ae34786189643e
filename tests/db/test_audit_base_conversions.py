"""``audit verify`` checks the monthly sums of conversions into the base currency that the
financial statements read (``statement_base_conversions``, kept by triggers) against a
recomputation from the postings, on SQLite and PostgreSQL: a changed, a missing and an
invented row are each named, with the account, commodity and month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from crmledger.bootstrap import App
from crmledger.cli.main import app as cli
from crmledger.core.entries import Conversion, JournalEntry, Posting

D = Decimal


def dollar_sale(day: str, dollars: str, euros: str) -> JournalEntry:
    """A sale paid in dollars into the savings account, booked at its euro value."""
    return JournalEntry(
        date=date.fromisoformat(day),
        narration="Sale in dollars",
        postings=(
            Posting(
                "Assets:Bank:Savings",
                D(dollars),
                "USD",
                price=Conversion(D(euros), "EUR", total=True),
            ),
            Posting("Income:Sales:Products", -D(euros), "EUR"),
        ),
    )


@pytest.fixture
def book(app: App) -> App:
    app.ledger.post([dollar_sale("2026-03-05", "100.00", "92.00")])
    app.ledger.post([dollar_sale("2026-04-07", "50.00", "46.50")])
    with app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT period, amount_minor, weight_minor FROM statement_base_conversions")
        ).all()
    assert sorted((int(p), int(a), int(w)) for p, a, w in rows) == [
        (202603, 10000, 9200),
        (202604, 5000, 4650),
    ]
    assert app.audit.verify().ok
    return app


def tampered(app: App, statement: str) -> list[str]:
    with app.engine.begin() as conn:
        conn.execute(text(statement))
    report = app.audit.verify()
    assert not report.ok
    return [f"{f.reference}: {f.reason}" for f in report.findings]


def test_a_changed_sum_is_named(book: App) -> None:
    found = tampered(
        book,
        "UPDATE statement_base_conversions SET weight_minor = weight_minor + 1 "
        "WHERE period = 202604",
    )
    assert found == [
        "statement conversions Assets:Bank:Savings USD 2026-04: running sums (amount, weight) "
        "(5000, 4651) differ from recomputation (5000, 4650)"
    ]


def test_a_missing_and_an_invented_row_are_named(book: App) -> None:
    found = tampered(book, "DELETE FROM statement_base_conversions WHERE period = 202603")
    assert found == [
        "statement conversions Assets:Bank:Savings USD 2026-03: running sums (amount, weight) "
        "None differ from recomputation (10000, 9200)"
    ]
    with book.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO statement_base_conversions "
                "(account_id, commodity, period, amount_minor, weight_minor) "
                "SELECT id, 'USD', 202603, 10000, 9200 FROM accounts "
                "WHERE name = 'Assets:Bank:Savings'"
            )
        )
    assert book.audit.verify().ok
    found = tampered(
        book,
        "INSERT INTO statement_base_conversions "
        "(account_id, commodity, period, amount_minor, weight_minor) "
        "SELECT id, 'USD', 202605, 1, 1 FROM accounts WHERE name = 'Assets:Cash'",
    )
    assert found == [
        "statement conversions Assets:Cash USD 2026-05: running sums (amount, weight) "
        "(1, 1) differ from recomputation None"
    ]


def test_the_cli_reports_the_mismatch_and_fails(book: App) -> None:
    with book.engine.begin() as conn:
        conn.execute(text("UPDATE statement_base_conversions SET amount_minor = 1"))
    answer = CliRunner().invoke(cli, ["--db", str(book.engine.url), "audit", "verify"])
    assert answer.exit_code != 0
    words = answer.output.split()
    assert {"statement", "conversions", "2026-03", "recomputation", "9200)"} <= set(words)
