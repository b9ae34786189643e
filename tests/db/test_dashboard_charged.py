"""What the dashboard counts as charged to customers (the DSO's divisor) equals the debits
to the receivables account summed from the postings, wherever the period's edges cut a
month: near its start (the days before are read) or near its end (the month's balance less
the days after)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.entries import JournalEntry, Posting
from crmledger.core.statement_periods import Period
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.dashboard_ledger import ledger_figures

D = Decimal
RECEIVABLE = "Assets:Receivables:Customers"


def _day_of(n: int) -> date:
    return date(2026, 1, 1) + timedelta(days=n)


def _book(app: App) -> None:
    """An invoice every day of 2026 up to August, and a receipt every other day."""
    found = []
    for n in range(240):
        amount = D(100 + n)
        found.append(
            JournalEntry(
                date=_day_of(n),
                narration="Invoice",
                postings=(
                    Posting(RECEIVABLE, amount, "EUR"),
                    Posting("Income:Sales:Products", -amount, "EUR"),
                ),
            )
        )
        if n % 2:
            found.append(
                JournalEntry(
                    date=_day_of(n),
                    narration="Receipt",
                    postings=(
                        Posting("Assets:Bank:Checking", D(50), "EUR"),
                        Posting(RECEIVABLE, D(-50), "EUR"),
                    ),
                )
            )
    app.ledger.post(found)


def _debits(period: Period) -> Decimal:
    return sum((D(100 + n) for n in range(240) if period.start <= _day_of(n) <= period.end), D(0))


@pytest.mark.parametrize(
    ("period", "comparison"),
    [
        (Period(date(2026, 1, 10), date(2026, 3, 25)), Period(date(2026, 2, 1), date(2026, 4, 4))),
        (Period(date(2026, 3, 17), date(2026, 3, 29)), Period(date(2026, 5, 2), date(2026, 5, 30))),
        (Period(date(2026, 1, 1), date(2026, 6, 30)), Period(date(2026, 2, 27), date(2026, 7, 3))),
    ],
)
def test_charged_is_the_debits_to_receivables_in_the_period(
    app: App, period: Period, comparison: Period
) -> None:
    _book(app)
    with SqlUnitOfWorkFactory(app.engine)(readonly=True) as uow:
        figures = ledger_figures(uow, "EUR", period, comparison)
    assert figures.charged == (_debits(period), _debits(comparison))
