"""The demo books load cleanly and hold the ledger's invariants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crmledger.bootstrap import App
from crmledger.services.demo import load_demo


def test_demo_books_load_verify_and_lock_the_first_quarter(app: App) -> None:
    books = load_demo(app.ledger, 2026)
    assert books.entries == 111
    assert app.ledger.info().lock_date == date(2026, 3, 31)
    report = app.audit.verify()
    assert report.ok
    assert report.entries_checked == books.entries
    tb = app.reports.trial_balance()
    assert tb.residuals() == {}  # the dollar purchase shows as conversions, and adds up
    rows = {(r.account, r.commodity): r for r in tb.rows}
    assert rows[("Expenses:Rent", "EUR")].balance == Decimal("21600.00")  # the mistake reversed
    assert rows[("Expenses:Office", "EUR")].balance == Decimal("240.00")
    assert rows[("Equity:Capital", "EUR")].balance == Decimal("-50000.00")
