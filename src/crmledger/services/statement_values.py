"""The ledger summed in the base currency over any span of days, for the statements.

One :class:`LedgerValues` answers every column of a statement from a few grouped reads:
the monthly sums (running balances corrected by conversions into the base currency), the
days of a month a column's edge cuts (summed from the postings), and the entries of the
closing and non-cash journals by day. Closing entries (journal ``CL``) are left out of
every span unless asked for, so a statement reads the same before and after a close::

    values = LedgerValues(uow, "EUR", date(2026, 12, 31))
    year = values.span(date(2026, 1, 1), date(2026, 12, 31))     # {(account, ccy): sums}
    balances, left_out = values.valued(year, date(2026, 12, 31))  # account -> Decimal

An amount without a base value (a posting in dollars with no price in euros) is valued at
the rate of the column's last day, rounded half-even per account; without a rate it is left
out and named, never guessed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.billing.entries import FxRate
from crmledger.core.cash_flow import NON_CASH_JOURNALS
from crmledger.core.money import from_minor
from crmledger.core.statement_periods import add_months, month_end
from crmledger.core.statements import CLOSING_JOURNAL
from crmledger.services.ports import UnitOfWork
from crmledger.services.statement_ports import ValueRow

#: Per account and commodity: amount, open amount, base value (minor units).
Sums = dict[tuple[str, str], list[int]]


def _period(day: date) -> int:
    return day.year * 100 + day.month


def _plus(target: Sums, key: tuple[str, str], cell: list[int]) -> None:
    found = target.setdefault(key, [0, 0, 0])
    found[0] += cell[0]
    found[1] += cell[1]
    found[2] += cell[2]


def _add(target: Sums, key: tuple[str, str], row: ValueRow, sign: int = 1) -> None:
    cell = target.setdefault(key, [0, 0, 0])
    cell[0] += sign * row.amount_minor
    cell[1] += sign * row.open_minor
    cell[2] += sign * row.base_minor


def _rest_of_month(start: date, end: date) -> tuple[date, date] | None:
    """The other days of the month of ``start`` .. ``end`` (both in one month), when they
    lie on one side of it; ``None`` when the span leaves days on both sides or none."""
    first, last = start.replace(day=1), month_end(start)
    if start == first and end < last:
        return end + timedelta(days=1), last
    if end == last and start > first:
        return first, start - timedelta(days=1)
    return None


class LedgerValues:
    """Sums of the ledger up to ``until``, in one unit of work."""

    def __init__(self, uow: UnitOfWork, base: str, until: date) -> None:
        self._uow = uow
        self.base = base
        self.scales = uow.ledger.scales()
        self.names = {i: name for name, (i, _) in uow.ledger.accounts().items()}
        months: dict[int, Sums] = {}
        for row in uow.statements.month_values(base, _period(until)):
            _add(months.setdefault(row.period, {}), self._key(row), row)
        # Running totals month by month: any run of whole months is two lookups.
        self._periods = sorted(months)
        self._totals: list[Sums] = []
        running: Sums = {}
        for period in self._periods:
            running = {key: list(cell) for key, cell in running.items()}
            for key, cell in months[period].items():
                _plus(running, key, cell)
            self._totals.append(running)
        journals = (CLOSING_JOURNAL, *NON_CASH_JOURNALS)
        self._journals = uow.statements.journal_values(base, journals, until)
        self._days: dict[tuple[date, date], list[ValueRow]] = {}
        self._rates: dict[tuple[str, date], Decimal | None] = {}

    def _key(self, row: ValueRow) -> tuple[str, str]:
        return self.names[row.account_id], row.commodity

    def _days_between(self, start: date, end: date) -> list[ValueRow]:
        if (start, end) not in self._days:
            self._days[(start, end)] = self._uow.statements.day_values(self.base, start, end)
        return self._days[(start, end)]

    def _pieces(self, start: date | None, end: date) -> tuple[int, int, list[tuple[date, date]]]:
        """Whole months (first, last period) and the cut days of ``start`` .. ``end``."""
        if start is not None and _period(start) == _period(end):
            if start.day == 1 and end == month_end(end):
                return _period(end), _period(end), []
            return 1, 0, [(start, end)]
        days = []
        first = 0
        if start is not None:
            first = _period(start)
            if start.day != 1:
                days.append((start, month_end(start)))
                first = _period(add_months(start, 1))
        last = _period(end)
        if end != month_end(end):
            days.append((end.replace(day=1), end))
            last = _period(end.replace(day=1) - timedelta(days=1))
        return first, last, days

    def span(self, start: date | None, end: date, *, closing: bool = False) -> Sums:
        """Everything dated ``start`` (``None``: the beginning) to ``end``; closing
        entries only when ``closing``."""
        first, last, days = self._pieces(start, end)
        sums = self._whole_months(first, last)
        for cut in days:
            self._add_cut(sums, *cut)
        if not closing:
            for row in self.journal(CLOSING_JOURNAL, start, end):
                _add(sums, self._key(row), row, -1)
        return sums

    def _add_cut(self, sums: Sums, start: date, end: date) -> None:
        """Add the days ``start`` .. ``end`` of one month to ``sums``: read from the
        postings or, when the rest of the month lies on one side and is read already or
        shorter, as the whole month less that rest (a column's edges and the balances
        before them cut the same months, so the rest is often read already)."""
        rest = _rest_of_month(start, end)
        if rest is None or not self._rest_is_cheaper((start, end), rest):
            for row in self._days_between(start, end):
                _add(sums, self._key(row), row)
            return
        month = _period(start)
        for key, cell in self._whole_months(month, month).items():
            _plus(sums, key, cell)
        for row in self._days_between(*rest):
            _add(sums, self._key(row), row, -1)

    def _rest_is_cheaper(self, cut: tuple[date, date], rest: tuple[date, date]) -> bool:
        """Whether reading ``rest`` costs less than reading ``cut``: it is read already
        (and ``cut`` is not), or it has fewer days."""
        if cut in self._days:
            return False
        return rest in self._days or rest[1] - rest[0] < cut[1] - cut[0]

    def _whole_months(self, first: int, last: int) -> Sums:
        """The sums of the months ``first`` to ``last`` (yyyymm, both included)."""
        upto = bisect_right(self._periods, last) - 1
        before = bisect_left(self._periods, first) - 1
        if upto < 0 or upto <= before:
            return {}
        sums = {key: list(cell) for key, cell in self._totals[upto].items()}
        if before >= 0:
            for key, cell in self._totals[before].items():
                _plus(sums, key, [-v for v in cell])
        return sums

    def journal(self, code: str, start: date | None, end: date) -> list[ValueRow]:
        """The rows of journal ``code`` (closing or non-cash) dated ``start`` to ``end``."""
        return [
            row
            for row in self._journals
            if row.journal == code
            and row.day is not None
            and (start is None or row.day >= start)
            and row.day <= end
        ]

    def journal_span(self, codes: Iterable[str], start: date | None, end: date) -> Sums:
        """Sums of the rows of ``codes`` dated ``start`` to ``end``."""
        sums: Sums = {}
        for code in codes:
            for row in self.journal(code, start, end):
                _add(sums, self._key(row), row)
        return sums

    def rate(self, commodity: str, day: date) -> Decimal | None:
        """Base units per unit of ``commodity`` on ``day`` (the latest rate on or before)."""
        if (commodity, day) not in self._rates:
            found = self._uow.billing.rate_on(commodity, day)
            self._rates[(commodity, day)] = None if found is None else Decimal(found[1])
        return self._rates[(commodity, day)]

    def valued(self, sums: Sums, on: date) -> tuple[dict[str, Decimal], set[str]]:
        """Per account, the base value of ``sums`` (open amounts at the rate of ``on``),
        and the commodities left out for want of a rate."""
        scale = self.scales[self.base]
        out: dict[str, Decimal] = {}
        left_out: set[str] = set()
        for (account, commodity), (_, open_minor, base_minor) in sums.items():
            value = from_minor(base_minor, scale)
            if open_minor:
                rate = self.rate(commodity, on)
                if rate is None:
                    left_out.add(commodity)
                else:
                    fx = FxRate(commodity, self.base, rate, scale)
                    value += fx.to_base(from_minor(open_minor, self.scales[commodity]))
            out[account] = out.get(account, from_minor(0, scale)) + value
        return out, left_out
