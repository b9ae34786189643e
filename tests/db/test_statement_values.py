"""A span of days summed from monthly balances and cut days (read directly, or as the
whole month less the rest of it) equals the same days summed from every posting."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from crmledger.bootstrap import App
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.statement_values import LedgerValues, Sums, _rest_of_month

D = Decimal


def _book(app: App) -> None:
    """Every third day of 2025: a euro sale, and alternately a dollar sale priced in
    euros and one without a price."""
    found = []
    day = date(2025, 1, 1)
    n = 0
    while day.year == 2025:
        found.append(
            JournalEntry(
                date=day,
                narration="Sale",
                postings=(
                    Posting("Assets:Bank:Checking", D(100 + n), "EUR"),
                    Posting("Income:Sales:Products", D(-100 - n), "EUR"),
                ),
            )
        )
        price = Conversion(D(90 + n), "EUR", True) if n % 2 else None
        found.append(
            JournalEntry(
                date=day,
                narration="Dollar sale",
                postings=(
                    Posting("Assets:Receivables:Customers", D(50 + n), "USD", price=price),
                    Posting("Income:Sales:Services", D(-50 - n), "USD", price=price),
                ),
            )
        )
        day += timedelta(days=3)
        n += 1
    app.ledger.post(found)


def _direct(values: LedgerValues, uow: object, start: date, end: date) -> Sums:
    sums: Sums = {}
    for row in uow.statements.day_values("EUR", start, end):  # type: ignore[attr-defined]
        key = (values.names[row.account_id], row.commodity)
        cell = sums.setdefault(key, [0, 0, 0])
        cell[0] += row.amount_minor
        cell[1] += row.open_minor
        cell[2] += row.base_minor
    return {k: v for k, v in sums.items() if any(v)}


def test_spans_equal_their_days_summed_from_the_postings(app: App) -> None:
    _book(app)
    spans = [
        (date(2025, 1, 15), date(2025, 11, 20)),  # both edges: rest of each month shorter
        (date(2025, 1, 1), date(2025, 1, 14)),  # the rest of January read already
        (date(2025, 3, 4), date(2025, 6, 27)),  # both edges: the cut days shorter
        (date(2025, 2, 10), date(2025, 2, 20)),  # inside one month: days on both sides
        (date(2025, 4, 1), date(2025, 4, 30)),  # a whole month
        (date(2025, 8, 31), date(2025, 9, 1)),  # one day each side of a month's end
        (date(2025, 11, 21), date(2025, 12, 31)),  # the rest of November read already
    ]
    with SqlUnitOfWorkFactory(app.engine)(readonly=True) as uow:
        values = LedgerValues(uow, "EUR", date(2025, 12, 31))
        for start, end in spans:
            found = {k: v for k, v in values.span(start, end).items() if any(v)}
            assert found == _direct(values, uow, start, end), (start, end)
            assert found, (start, end)


def test_the_rest_of_a_month_is_the_other_side_only() -> None:
    assert _rest_of_month(date(2025, 1, 15), date(2025, 1, 31)) == (
        date(2025, 1, 1),
        date(2025, 1, 14),
    )
    assert _rest_of_month(date(2024, 2, 1), date(2024, 2, 10)) == (
        date(2024, 2, 11),
        date(2024, 2, 29),
    )
    assert _rest_of_month(date(2025, 2, 10), date(2025, 2, 20)) is None
    assert _rest_of_month(date(2025, 4, 1), date(2025, 4, 30)) is None
