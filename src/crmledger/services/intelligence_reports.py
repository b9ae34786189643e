"""The customer-intelligence reports over the whole book: profitability, RFM, cohorts and
receivables KPIs, each read in one transaction from aggregated rows.

Profitability is computed per customer and month first (:mod:`.intelligence_figures`), the
cost to serve of each such cell rounded once; grouping by customer, owner, segment, RFM segment
or month adds cells up, so every grouping has the same totals. By product, each customer's
cost to serve is shared out over its products in proportion to their net revenue
(``core.profitability.allocate``, exact to the cent); a customer's cost without revenue in the
period stays on a line of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.errors import InvalidFieldError
from crmledger.core.intelligence import (
    SEGMENTS,
    Cohort,
    Concentration,
    Retention,
    RfmBreaks,
    RfmScore,
    SegmentSummary,
    cohorts,
    collection_effectiveness,
    concentration,
    days_between,
    dso,
    month_index,
    month_label,
    observed_retention,
    rfm_scores,
    segment_summary,
)
from crmledger.core.profitability import (
    CostBreakdown,
    CostToServe,
    ProfitLine,
    allocate_costs,
    cost_of,
)
from crmledger.services.intelligence_figures import (
    Cell,
    CellKey,
    Money,
    activity,
    cells,
    histories,
    money_of,
    purchase_months,
)
from crmledger.services.intelligence_ports import (
    IntelligenceUnitOfWork,
    ReceivableRow,
    SalesRow,
    Scope,
)

BY = ("customer", "product", "owner", "segment", "rfm_segment", "month")
SORTS = ("key", "revenue", "cost_of_goods", "gross_margin", "cost_to_serve", "net")
NO_PRODUCT, NO_SALES = "", "unallocated"


def check_choice(field: str, value: str, choices: Sequence[str]) -> str:
    """``value`` if one of ``choices``, else :class:`InvalidFieldError` naming ``field``."""
    if value not in choices:
        raise InvalidFieldError(field, f"one of {', '.join(choices)}")
    return value


# -- profitability --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfitabilityReport:
    """Profit lines grouped ``by`` one dimension over ``start..end`` (inclusive; None: open),
    the page asked for (``lines``), how many lines there are, and their totals."""

    by: str
    start: date | None
    end: date | None
    as_of: date
    base_currency: str
    lines: tuple[ProfitLine, ...]
    count: int
    totals: ProfitLine
    config: CostToServe


KeyOf = Callable[[int, int], tuple[str, str]]


def profit_cells(
    uow: IntelligenceUnitOfWork, scope: Scope, today: date
) -> tuple[Money, dict[CellKey, Cell]]:
    """Every customer's cells of the period."""
    reads = uow.intelligence
    sales, costs = reads.sales(scope), reads.costs(scope)
    money = money_of(uow, [(c.currency, c.month) for c in costs])
    counts, credit = reads.service_counts(scope), reads.credit_days(scope)
    return money, cells(money, sales, costs, counts, credit, today)


def grouped(
    found: Mapping[CellKey, Cell], key_of: KeyOf, config: CostToServe, scale: int
) -> list[ProfitLine]:
    """Cells added up per key; each cell's cost to serve computed first."""
    lines: dict[str, ProfitLine] = {}
    for (party, month), cell in found.items():
        key, label = key_of(party, month)
        line = ProfitLine(
            key, label, cell.revenue, cell.cost_of_goods, cost_of(cell.events, config, scale)
        )
        lines[key] = lines[key] + line if key in lines else line
    return list(lines.values())


def product_lines(
    uow: IntelligenceUnitOfWork,
    scope: Scope,
    found: Mapping[CellKey, Cell],
    money: Money,
    config: CostToServe,
) -> list[ProfitLine]:
    """Revenue and cost of goods per product; each customer's cost to serve shared out over
    its products by net revenue."""
    rows = uow.intelligence.product_sales(scope)
    revenue: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    goods: dict[str, Decimal] = defaultdict(Decimal)
    rates = money_of(uow, [(r.cost_currency, r.month) for r in rows if r.cost_currency])
    for r in rows:
        key = NO_PRODUCT if r.product_id is None else str(r.product_id)
        value = money.to_base(r.net_minor, r.currency, r.rate)
        revenue[r.party_id][key] += value if r.kind == "invoice" else -value
        if r.cost_currency and r.kind == "invoice":
            goods[key] += rates.cost_to_base(r.cost_minor, r.cost_currency, r.month)
    costs: dict[int, CostBreakdown] = defaultdict(CostBreakdown)
    for (party, _), cell in found.items():
        costs[party] += cost_of(cell.events, config, money.base_scale)
    lines: dict[str, ProfitLine] = {}
    for party in sorted(set(revenue) | set(costs)):
        for line in _product_share(revenue.get(party, {}), costs[party], money.base_scale):
            lines[line.key] = lines[line.key] + line if line.key in lines else line
    return [
        ProfitLine(k, "", line.revenue, goods.get(k, money.zero), line.cost_to_serve)
        for k, line in lines.items()
    ]


def _product_share(
    revenue: Mapping[str, Decimal], costs: CostBreakdown, scale: int
) -> list[ProfitLine]:
    keys = sorted(revenue)
    weights = [max(revenue[k], Decimal(0)) for k in keys]
    lines = [ProfitLine(k, "", revenue[k], Decimal(0)) for k in keys]
    if not costs.total:
        return lines
    if sum(weights, Decimal(0)) <= 0:
        return [*lines, ProfitLine(NO_SALES, "", Decimal(0), Decimal(0), costs)]
    shares = allocate_costs(costs, weights, scale)
    return [
        ProfitLine(line.key, "", line.revenue, Decimal(0), share)
        for line, share in zip(lines, shares, strict=True)
    ]


def sort_lines(lines: Sequence[ProfitLine], sort: str) -> list[ProfitLine]:
    """``lines`` by ``sort`` (a name of :data:`SORTS`, ``-`` first for descending), then by
    key."""
    name = check_choice("sort", sort.removeprefix("-"), SORTS)
    ordered = sorted(lines, key=lambda line: line.key)
    if name == "key":
        return ordered[::-1] if sort.startswith("-") else ordered

    def value(line: ProfitLine) -> Decimal:
        found = getattr(line, name)
        return found.total if isinstance(found, CostBreakdown) else Decimal(found)

    return sorted(ordered, key=value, reverse=sort.startswith("-"))


def total_line(lines: Sequence[ProfitLine], zero: Decimal) -> ProfitLine:
    """The sum of ``lines``."""
    total = ProfitLine("total", "Total", zero, zero)
    for line in lines:
        total = total + line
    return total


# -- RFM ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RfmReport:
    """Every customer's RFM score (the page asked for), the boundaries and the segments."""

    as_of: date
    breaks: RfmBreaks
    segments: tuple[SegmentSummary, ...]
    scores: tuple[RfmScore, ...]
    count: int
    names: Mapping[int, str]


def book_sales(uow: IntelligenceUnitOfWork) -> tuple[Money, list[SalesRow]]:
    """Every invoice and credit note, aggregated."""
    return money_of(uow), uow.intelligence.sales(Scope())


def all_scores(
    money: Money, sales: Sequence[SalesRow], today: date
) -> tuple[RfmBreaks, list[RfmScore]]:
    """The book's RFM boundaries and scores."""
    return rfm_scores(activity(histories(money, sales)), today)


def segment_of(scores: Sequence[RfmScore]) -> dict[int, str]:
    """Each scored party's segment."""
    return {s.party_id: s.segment for s in scores}


def check_segment(name: str | None) -> str | None:
    """``name`` if a segment of :data:`SEGMENTS` (or None)."""
    if name is not None:
        check_choice("segment", name, list(SEGMENTS))
    return name


def summary(scores: Sequence[RfmScore]) -> tuple[SegmentSummary, ...]:
    """The segments' summary."""
    return tuple(segment_summary(scores))


# -- cohorts --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CohortReport:
    """Cohorts by first-purchase month up to ``through`` and the observed retention."""

    as_of: date
    through: str
    cohorts: tuple[Cohort, ...]
    retention: Retention


def parse_month(field: str, text: str | None) -> int | None:
    """The month index of ``YYYY-MM`` text (None for None)."""
    if text is None:
        return None
    year, dash, month = text.partition("-")
    if not (dash and year.isdigit() and month.isdigit() and len(year) == 4 and len(month) == 2):
        raise InvalidFieldError(field, f"{text!r} is not a month as YYYY-MM")
    if not 1 <= int(month) <= 12:
        raise InvalidFieldError(field, f"{text!r} is not a month as YYYY-MM")
    return int(year) * 12 + int(month) - 1


def cohort_report(
    sales: Sequence[SalesRow], today: date, start: int | None, end: int | None
) -> CohortReport:
    """The cohorts of ``sales`` as of ``today``."""
    if start is not None and end is not None and end < start:
        raise InvalidFieldError("to", "the range ends before it starts")
    months = purchase_months(sales)
    through = month_index(today)
    found = cohorts(months, through, start, end)
    return CohortReport(
        today, month_label(through), tuple(found), observed_retention(months, through)
    )


# -- receivables ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Debtor:
    """A party owing on open invoices now (base currency)."""

    party_id: int
    name: str
    open: Decimal
    overdue: Decimal
    oldest_due: date | None
    days_overdue: int


@dataclass(frozen=True, slots=True)
class ReceivablesReport:
    """Receivables KPIs over ``start..end``: DSO on the period's credit sales, the
    collection effectiveness index, the top debtors now and revenue concentration."""

    start: date
    end: date
    days: int
    base_currency: str
    opening: Decimal
    receivables: Decimal
    overdue: Decimal
    credit_sales: Decimal
    collected: Decimal
    dso: Decimal | None
    cei: Decimal | None
    top_debtors: tuple[Debtor, ...]
    concentration: Concentration


def _owed(money: Money, rows: Sequence[ReceivableRow]) -> tuple[Decimal, Decimal]:
    total = current = money.zero
    for r in rows:
        value = money.to_base(r.amount_minor, r.currency, r.rate)
        total += value
        if r.current:
            current += value
    return total, current


def receivables(
    uow: IntelligenceUnitOfWork, start: date, end: date, today: date, top: int
) -> tuple[ReceivablesReport, list[int]]:
    """The KPIs (debtor names left blank) and the debtors' party ids."""
    money = money_of(uow)
    reads = uow.intelligence
    opening, _ = _owed(money, reads.receivables_at(start - timedelta(days=1)))
    closing, current = _owed(money, reads.receivables_at(end))
    sales = reads.sales(Scope(start=start, end=end))
    credit_sales = sum(
        (money.to_base(s.gross_minor, s.currency, s.rate) for s in sales if s.kind == "invoice"),
        money.zero,
    )
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    for s in sales:
        value = money.to_base(s.net_minor, s.currency, s.rate)
        revenue[s.party_id] += value if s.kind == "invoice" else -value
    days = (end - start).days + 1
    debtors = tuple(
        Debtor(
            d.party_id,
            "",
            money.amount(d.open_base_minor, money.base),
            money.amount(d.overdue_base_minor, money.base),
            d.oldest_due,
            days_between(d.oldest_due, today) if d.oldest_due else 0,
        )
        for d in reads.debtors(today, top)
    )
    report = ReceivablesReport(
        start=start,
        end=end,
        days=days,
        base_currency=money.base,
        opening=opening,
        receivables=closing,
        overdue=closing - current,
        credit_sales=credit_sales,
        collected=opening + credit_sales - closing,
        dso=dso(closing, credit_sales, days),
        cei=collection_effectiveness(opening, credit_sales, closing, current),
        top_debtors=debtors,
        concentration=concentration(revenue.values()),
    )
    return report, [d.party_id for d in debtors]
