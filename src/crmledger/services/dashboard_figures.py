"""The dashboard's figures from documents, deals and answers (the ledger's are in
:mod:`crmledger.services.dashboard_ledger`), each from one or two aggregated reads.

- aging: open invoices by due day (read by the caller), bucketed here (their open amounts
  in the base currency);
- pipeline: open deals by stage and currency, weighted by probability (one rounding per
  stage and currency), converted at the latest rate on or before today;
- NPS: answers by month, and their total over the comparison period;
- top customers: ranked by the database on their margin (see :meth:`DashboardReads.margins`),
  the figures of customers with foreign amounts converted as customer intelligence does
  (invoices at their booked rate, cost of goods at the month's closing rate), so they equal
  the profitability report's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.dashboard import (
    AgingBucket,
    CustomerMargin,
    NpsMonth,
    StageFigures,
    aging,
    months_of,
    weighted,
)
from crmledger.core.money import from_minor, quantize
from crmledger.core.statement_periods import Period
from crmledger.services.billing_common import parse_rate
from crmledger.services.dashboard_ports import DashboardUnitOfWork, DueRow, MarginRow
from crmledger.services.intelligence_figures import Money, money_of
from crmledger.services.products import book_scales, scale_of


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Open deals by stage, and the currencies left out for want of a rate."""

    stages: tuple[StageFigures, ...]
    left_out: tuple[str, ...]


def aging_buckets(rows: Iterable[DueRow], money: Money, today: date) -> tuple[AgingBucket, ...]:
    """Open invoices (by due day) by days overdue on ``today``."""
    found = ((r.due_on, r.documents, money.amount(r.open_base_minor, money.base)) for r in rows)
    return aging(found, today, money.zero)


def _rate(uow: DashboardUnitOfWork, money: Money, currency: str, today: date) -> Decimal | None:
    if currency == money.base:
        return Decimal(1)
    found = uow.billing.rate_on(currency, today)
    return None if found is None else parse_rate(found[1])


@dataclass
class _Stage:
    deals: int
    amount: Decimal
    weighted: Decimal


def _stage_sums(
    uow: DashboardUnitOfWork, money: Money, today: date
) -> tuple[dict[tuple[str, str], _Stage], set[str]]:
    scales = book_scales(uow)
    sums: dict[tuple[str, str], _Stage] = {}
    left: set[str] = set()
    for row in uow.dashboard.pipeline():
        rate = _rate(uow, money, row.currency, today)
        if rate is None:
            left.add(row.currency)
            continue
        scale = scale_of(row.currency, scales)
        cell = sums.setdefault((row.pipeline, row.stage), _Stage(0, money.zero, money.zero))
        cell.deals += row.deals
        cell.amount += quantize(from_minor(row.amount_minor, scale) * rate, money.base_scale)
        chance = from_minor(weighted(row.weighted_bp_minor), scale) * rate
        cell.weighted += quantize(chance, money.base_scale)
    return sums, left


def pipeline_stages(uow: DashboardUnitOfWork, money: Money, today: date) -> Pipeline:
    """Every open stage of every pipeline, in board order, with its deals in the base
    currency."""
    sums, left = _stage_sums(uow, money, today)
    empty = _Stage(0, money.zero, money.zero)
    stages = [
        StageFigures(
            pipe.key, pipe.name, stage.key, stage.name, cell.deals, cell.amount, cell.weighted
        )
        for pipe in uow.deals.pipelines()
        for stage in pipe.stages
        if stage.kind == "open"
        for cell in (sums.get((pipe.key, stage.key), empty),)
    ]
    return Pipeline(tuple(stages), tuple(sorted(left)))


def nps_months(uow: DashboardUnitOfWork, period: Period) -> tuple[NpsMonth, ...]:
    """The NPS answers of every month of ``period`` (months without answers included)."""
    counts: dict[str, list[int]] = {p.start.strftime("%Y-%m"): [0, 0, 0] for p in months_of(period)}
    for row in uow.dashboard.nps(period.start, period.end):
        cell = counts[row.day.strftime("%Y-%m")]
        cell[0] += row.responses
        cell[1] += row.promoters
        cell[2] += row.detractors
    return tuple(NpsMonth(label, *cell) for label, cell in counts.items())


def nps_total(months: Iterable[NpsMonth]) -> NpsMonth:
    """The answers of ``months`` together."""
    chosen = list(months)
    return NpsMonth(
        "",
        sum(m.responses for m in chosen),
        sum(m.promoters for m in chosen),
        sum(m.detractors for m in chosen),
    )


def _foreign(
    uow: DashboardUnitOfWork, period: Period, parties: list[int]
) -> tuple[Money, dict[int, list[Decimal]]]:
    """Revenue and cost of goods of ``parties``, converted per group as intelligence does."""
    reads = uow.dashboard
    sales = reads.party_sales(period.start, period.end, parties) if parties else []
    costs = reads.party_costs(period.start, period.end, parties) if parties else []
    money = money_of(uow, [(c.currency, c.month) for c in costs])
    figures: dict[int, list[Decimal]] = defaultdict(lambda: [money.zero, money.zero])
    for s in sales:
        value = money.to_base(s.net_minor, s.currency, s.rate)
        figures[s.party_id][0] += value if s.kind == "invoice" else -value
    for c in costs:
        figures[c.party_id][1] += money.cost_to_base(c.cost_minor, c.currency, c.month)
    return money, figures


def top_customers(
    uow: DashboardUnitOfWork, period: Period, limit: int
) -> tuple[CustomerMargin, ...]:
    """The ``limit`` customers with the largest gross margin in ``period``, largest first
    (ties by party id); their names are left blank."""
    money = money_of(uow)
    rows: list[MarginRow] = uow.dashboard.margins(period.start, period.end, money.base, limit)
    money, figures = _foreign(uow, period, [r.party_id for r in rows if r.foreign])
    for r in rows:
        if not r.foreign:
            figures[r.party_id] = [
                money.amount(r.revenue_minor, money.base),
                money.amount(r.cost_minor, money.base),
            ]
    ranked = sorted(figures.items(), key=lambda kv: (kv[1][1] - kv[1][0], kv[0]))[:limit]
    return tuple(CustomerMargin(party, "", revenue, cost) for party, (revenue, cost) in ranked)
