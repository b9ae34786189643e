"""The dashboard's ledger figures: revenue and gross margin by month, cash, receivables, what
was charged to customers and the cash-flow waterfall, all from the monthly running
balances and the cut days at the period's edges (one
:class:`~crmledger.services.statement_values.LedgerValues`, and the debit turnover of the
receivables control account for DSO).

The figures are the statements' own: revenue and gross profit come from the income
statement's rules (the default layout) over one column per month plus the period and its
comparison, and the waterfall from the cash-flow statement of the period, so the dashboard
and the report pages never disagree::

    figures = ledger_figures(uow, "EUR", year_to_date, same_days_last_year)
    figures.revenue          # (this period, the comparison)
    [s.label for s in figures.steps]
    # ['Cash at the start', 'Operating', 'Investing', 'Financing', 'Cash at the end']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.billing.entries import FxRate
from crmledger.core.cash_flow import (
    NON_CASH_JOURNALS,
    FlowBalances,
    FlowClass,
    cash_flow,
    classify,
)
from crmledger.core.dashboard import FlowStep, MonthFigures, months_of
from crmledger.core.money import from_minor
from crmledger.core.statement_periods import Period, month_end
from crmledger.core.statements import Column, Statement, income_statement
from crmledger.services.billing_common import ACCOUNTS
from crmledger.services.ports import BalanceRow, UnitOfWork
from crmledger.services.statement_values import LedgerValues

#: The cash-flow statement's rows the waterfall shows, in order, and whether each is a level.
STEPS = (
    ("cash_opening", "Cash at the start", True),
    ("operating_total", "Operating", False),
    ("investing_total", "Investing", False),
    ("financing_total", "Financing", False),
    ("differences", "Exchange differences", False),
    ("cash_closing", "Cash at the end", True),
)


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    """Each pair is (this period, the comparison period); balances are at each one's end."""

    months: tuple[MonthFigures, ...]
    revenue: tuple[Decimal, Decimal]
    gross_margin: tuple[Decimal, Decimal]
    cash: tuple[Decimal, Decimal]
    receivables: tuple[Decimal, Decimal]
    charged: tuple[Decimal, Decimal]
    steps: tuple[FlowStep, ...]
    notes: tuple[str, ...]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ":")


def _sum(balances: Mapping[str, Decimal], names: Sequence[str], zero: Decimal) -> Decimal:
    return sum((balances.get(n, zero) for n in names), zero)


def _pair(statement: Statement, key: str) -> tuple[Decimal, Decimal]:
    return statement.amount(key, 0), statement.amount(key, 1)


def _steps(statement: Statement) -> tuple[FlowStep, ...]:
    keys = {row.key for row in statement.rows}
    return tuple(
        FlowStep(key, label, statement.amount(key), total)
        for key, label, total in STEPS
        if key in keys
    )


def _turnover_before(uow: UnitOfWork, day: date) -> list[BalanceRow]:
    """Debits and credits per account and commodity of everything dated before ``day``:
    the monthly running balances, and the postings of ``day``'s month before it or, when
    fewer days are left in the month, the month's balance less the postings from ``day``
    on (negative rows)."""
    period = day.year * 100 + day.month
    if day.day == 1:
        return uow.ledger.balances(period)
    last = month_end(day)
    if (day - day.replace(day=1)).days <= (last - day).days + 1:
        rows = uow.ledger.balances(period)
        return rows + uow.ledger.turnover_between(day.replace(day=1), day - timedelta(days=1))
    after = last + timedelta(days=1)
    rows = uow.ledger.balances(after.year * 100 + after.month)
    return rows + [
        BalanceRow(r.account, r.commodity, -r.debit_minor, -r.credit_minor)
        for r in uow.ledger.turnover_between(day, last)
    ]


class _Reader:
    """The ledger's sums in the base currency and the commodities left out for want of a
    rate, per day they were valued on."""

    def __init__(self, uow: UnitOfWork, base: str, until: date) -> None:
        self.values = LedgerValues(uow, base, until)
        self.left: dict[str, set[str]] = {}

    def sums(self, first: date | None, last: date) -> dict[str, Decimal]:
        """Per account, the postings dated ``first`` (None: from the beginning) to
        ``last``, valued on ``last``."""
        found, left = self.values.valued(self.values.span(first, last), last)
        if left:
            self.left.setdefault(last.isoformat(), set()).update(left)
        return found

    def charged(self, uow: UnitOfWork, names: Sequence[str], period: Period) -> Decimal:
        """The debits to ``names`` in ``period`` (what was charged to customers), in the
        base currency; other commodities at the rate of the period's last day."""
        debits: dict[str, int] = defaultdict(int)
        for day, sign in ((period.end + timedelta(days=1), 1), (period.start, -1)):
            for row in _turnover_before(uow, day):
                if row.account in names:
                    debits[row.commodity] += sign * row.debit_minor
        base, scales = self.values.base, self.values.scales
        total = from_minor(0, scales[base])
        for commodity, minor in sorted(debits.items()):
            amount = from_minor(minor, scales[commodity])
            rate = Decimal(1) if commodity == base else self.values.rate(commodity, period.end)
            if rate is None:
                self.left.setdefault(period.end.isoformat(), set()).add(commodity)
            else:
                total += FxRate(commodity, base, rate, scales[base]).to_base(amount)
        return total

    def notes(self, base: str) -> tuple[str, ...]:
        return tuple(
            f"Amounts in {', '.join(sorted(codes))} have no value in {base} on {day} "
            "(no exchange rate) and are left out."
            for day, codes in sorted(self.left.items())
        )


def ledger_figures(uow: UnitOfWork, base: str, period: Period, comparison: Period) -> LedgerFigures:
    """Revenue, margin, cash, receivables and the waterfall of ``period``."""
    chart = {name: account for name, (_, account) in uow.ledger.accounts().items()}
    overrides = {n: FlowClass(c) for n, c in uow.statements.flow_classes().items()}
    classes = classify(chart, overrides)
    read = _Reader(uow, base, max(period.end, comparison.end))
    scale = read.values.scales[base]
    zero = Decimal(0).scaleb(-scale)
    months = months_of(period)
    columns = [Column(p.label, p.start, p.end) for p in (period, comparison, *months)]
    activity = [read.sums(p.start, p.end) for p in (period, comparison, *months)]
    income = income_statement(columns, activity, chart, base, scale)
    closing = read.sums(None, period.end)
    earlier = read.sums(None, comparison.end)
    noncash = read.values.journal_span(NON_CASH_JOURNALS, period.start, period.end)
    flow = FlowBalances(
        [read.sums(None, period.start - timedelta(days=1))],
        [activity[0]],
        [closing],
        [read.values.valued(noncash, period.end)[0]],
    )
    statement = cash_flow(columns[:1], flow, classes, chart, base, scale)
    cash = [n for n, c in classes.items() if c is FlowClass.CASH]
    receivable = [n for n in chart if _under(n, ACCOUNTS.receivable)]
    return LedgerFigures(
        months=tuple(
            MonthFigures(
                p,
                income.amount("revenue_total", i + 2),
                income.amount("gross_profit", i + 2),
            )
            for i, p in enumerate(months)
        ),
        revenue=_pair(income, "revenue_total"),
        gross_margin=_pair(income, "gross_profit"),
        cash=(_sum(closing, cash, zero), _sum(earlier, cash, zero)),
        receivables=(_sum(closing, receivable, zero), _sum(earlier, receivable, zero)),
        charged=(read.charged(uow, receivable, period), read.charged(uow, receivable, comparison)),
        steps=_steps(statement),
        notes=read.notes(base),
    )
