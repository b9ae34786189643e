"""Tampering behind the application's back: ``audit verify`` names the first bad entry.

An attacker with database access can switch the guard triggers off; the hash chain is what
still gives them away.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from crmledger.bootstrap import App
from crmledger.cli.main import app as cli
from tests.helpers import sale


@contextmanager
def guards_off(app: App) -> Iterator[None]:
    """Run raw SQL with the ledger guards disabled, as a DB superuser could."""
    with app.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            for name in names.scalars().all():
                conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            conn.execute(text("SET session_replication_role = replica"))
    yield


def tamper(app: App, *statements: str) -> None:
    with guards_off(app), app.engine.begin() as conn:
        if conn.dialect.name != "sqlite":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement))


@pytest.fixture
def book(app: App) -> App:
    """Ten posted entries, ids 1..10, numbers GJ/2026/1..10."""
    app.ledger.post([sale(f"2026-01-{d:02d}", f"{d}.00") for d in range(1, 11)])
    assert app.audit.verify().ok
    return app


def first_finding(app: App) -> str:
    report = app.audit.verify()
    assert not report.ok
    return report.findings[0].reference


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("narration", "'Sale (edited)'"),
        ("date", "'2026-01-20'"),
        ("payee", "'Someone'"),
        ("reference", "'INV-1'"),
        ("party", "'p-42'"),
        ("tags", "'[\"x\"]'"),
        ("meta", '\'[["k","v"]]\''),
        ("fiscal_year", "2025"),
        ("number", "77"),
        ("hash", "'$1$' || repeat('0', 64)"),
        ("chain_seq", "chain_seq + 100"),
        ("previous_hash", "'$1$' || repeat('1', 64)"),
    ],
)
def test_changing_a_hashed_entry_column_is_named(book: App, column: str, value: str) -> None:
    if book.engine.dialect.name == "sqlite":
        value = value.replace("repeat('0', 64)", "'" + "0" * 64 + "'").replace(
            "repeat('1', 64)", "'" + "1" * 64 + "'"
        )
    tamper(book, f"UPDATE journal_entries SET {column} = {value} WHERE id = 4")
    assert first_finding(book).startswith("GJ/")
    # Moving an entry in the chain breaks the link of the one that followed it.
    assert ("(id 5)" if column == "chain_seq" else "(id 4)") in first_finding(book)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("amount_minor", "amount_minor + 1"),
        ("account_id", "(SELECT id FROM accounts WHERE name = 'Expenses:Rent')"),
        ("commodity", "'USD'"),
        ("memo", "'note'"),
        ("party", "'p-1'"),
    ],
)
def test_changing_a_hashed_posting_column_is_named(book: App, column: str, value: str) -> None:
    with book.engine.begin() as conn:
        conn.execute(text("INSERT INTO commodities (code, scale, name) VALUES ('USD', 2, '')"))
    tamper(book, f"UPDATE postings SET {column} = {value} WHERE entry_id = 6 AND line_no = 0")
    assert "(id 6)" in first_finding(book)


@pytest.mark.parametrize("kind", ["cost", "price"])
def test_adding_a_conversion_to_a_posting_is_named(book: App, kind: str) -> None:
    tamper(
        book,
        "INSERT INTO posting_conversions (posting_id, weight_commodity, weight_minor, "
        f"{kind}_number, {kind}_commodity, {kind}_total) SELECT id, 'EUR', amount_minor, '1', "
        "'EUR', false FROM postings WHERE entry_id = 6 AND line_no = 0",
    )
    assert "(id 6)" in first_finding(book)


def test_deleting_an_entry_is_named(book: App) -> None:
    tamper(
        book, "DELETE FROM postings WHERE entry_id = 5", "DELETE FROM journal_entries WHERE id = 5"
    )
    assert "(id 6)" in first_finding(book)


def test_deleting_the_last_entry_is_named(book: App) -> None:
    tamper(
        book,
        "DELETE FROM postings WHERE entry_id = 10",
        "DELETE FROM journal_entries WHERE id = 10",
    )
    report = book.audit.verify()
    assert not report.ok
    assert "(id 9)" in report.findings[0].reference
    assert "head" in report.findings[0].reason


def test_inserting_an_entry_is_named(book: App) -> None:
    with book.engine.connect() as conn:
        head = conn.execute(text("SELECT hash FROM journal_entries WHERE id = 3")).scalar_one()
    tamper(
        book,
        "INSERT INTO journal_entries (id, journal, fiscal_year, number, date, narration, state, "
        "hash, previous_hash, tags, links, meta, chain_seq) VALUES (11, 'GJ', 2026, 11, "
        f"'2026-01-03', 'forged', 'posted', '$1$' || '{'a' * 64}', '{head}', '[]', '[]', '[]', "
        "11)",
        "INSERT INTO postings (id, entry_id, line_no, account_id, commodity, amount_minor) "
        "SELECT 100 + line_no, 11, line_no, account_id, commodity, amount_minor "
        "FROM postings WHERE entry_id = 3",
    )
    assert "(id 11)" in first_finding(book)


def test_cli_audit_verify_exits_non_zero_and_names_the_entry(book: App) -> None:
    runner = CliRunner()
    url = book.settings.database_url
    ok = runner.invoke(cli, ["--db", url, "audit", "verify"])
    assert ok.exit_code == 0, ok.output
    tamper(book, "UPDATE postings SET amount_minor = amount_minor * 10 WHERE entry_id = 7")
    bad = runner.invoke(cli, ["--db", url, "audit", "verify", "--format", "json"])
    assert bad.exit_code == 1
    assert "GJ/2026/7 (id 7)" in bad.output
