"""The benchmarks' bulk loader leaves a book exactly as posting through the service does:
the same rows in every table a posted entry touches, hashes and audit chain included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from benchmarks.books import verify
from benchmarks.bulk import Draft, Line, everyday, load, to_entry
from sqlalchemy import text

from crmledger.bootstrap import App, build, migrate
from crmledger.core.chart import chart
from crmledger.core.errors import UnbalancedEntryError
from tests.conftest import FAST_HASHER, POSTGRES_URL, FixedClock, _postgres_schema_url, settings_for

#: Every table a posted entry writes to, with the columns that order it.
TABLES = {
    "journal_entries": "id",
    "postings": "id",
    "posting_conversions": "posting_id",
    "account_balances": "account_id, commodity, period",
    "conversion_balances": "commodity, period",
    "statement_base_conversions": "account_id, commodity, period",
    "journals": "code",
    "journal_sequences": "journal, fiscal_year",
    "commodities": "code",
    "audit_log": "seq",
    "audit_state": "id",
}


def _open(url: str, folder: Path, clock: FixedClock) -> App:
    app = build(settings_for(url, folder), clock, FAST_HASHER)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    return app


@pytest.fixture
def second_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database of the same kind as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'loaded.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set CRMLEDGER_TEST_POSTGRES_URL")
    schema = _postgres_schema_url()
    try:
        yield next(schema)
    finally:
        schema.close()


def _rows(app: App) -> dict[str, list[tuple[Any, ...]]]:
    with app.engine.connect() as conn:
        found = {
            table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))]
            for table, key in TABLES.items()
        }
        ids = conn.execute(text("SELECT next_entry_id, next_posting_id FROM ledger_state"))
        found["ledger_state"] = [tuple(r) for r in ids]
    return found


def test_a_loaded_book_equals_a_posted_one(
    db_url: str, second_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    # Across a year end, with dollar invoices priced in euros, in uneven batches.
    drafts = list(everyday(450, seed=3, start=date(2024, 11, 1), days=120))
    posted = _open(db_url, tmp_path / "posted", clock)
    loaded = _open(second_url, tmp_path / "loaded", clock)
    try:
        scales = {"EUR": 2, "USD": 2}
        posted.ledger.post([to_entry(d, "EUR", scales) for d in drafts[:200]])
        posted.ledger.post([to_entry(d, "EUR", scales) for d in drafts[200:]])
        assert load(loaded, drafts[:200], clock.now(), batch=70, say=None) == 200
        assert load(loaded, drafts[200:], clock.now(), batch=1000, say=None) == 250
        expected, found = _rows(posted), _rows(loaded)
        assert len(found["journal_entries"]) == 450
        assert found["posting_conversions"], "no dollar invoice was drawn"
        assert found["statement_base_conversions"], "the triggers summed no conversion"
        for table, rows in expected.items():
            assert found[table] == rows, table
        checked = verify(loaded, date(2025, 2, 28))
        assert checked.entries_checked == 450
    finally:
        posted.engine.dispose()
        loaded.engine.dispose()


def test_the_loader_refuses_an_unbalanced_draft(app: App, clock: FixedClock) -> None:
    lines = (Line("Assets:Bank:Checking", "EUR", 100), Line("Income:Sales:Products", "EUR", -99))
    with pytest.raises(UnbalancedEntryError):
        load(app, [Draft(date(2026, 1, 5), "Short", lines)], clock.now(), say=None)
    assert app.reports.trial_balance().rows == ()
