"""The dashboard as a page shows it: key-figure cards with their change, and the six charts
drawn as SVG (:mod:`crmledger.formats.charts`) with a link on every bar that stands for
something a reader can open; and the charts of the insights page::

    cards = kpi_cards(board)       # "12,400.00 EUR", "▲ +1,200.00 (+10.7 %)", "good"
    charts = dashboard_charts(board)

The links: a month opens that month's income statement, an aging bucket the receivables
aging's open documents of that bucket, a stage its column of the deals board, a customer
the customer's page, a waterfall step the cash-flow statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from urllib.parse import quote

from crmledger.core.dashboard import AGING_BOUNDS, AgingBucket, Kpi, StageFigures
from crmledger.core.intelligence import SegmentSummary
from crmledger.core.profitability import ProfitLine
from crmledger.core.statement_periods import Period
from crmledger.formats.charts import Chart, Point, Series, Step, svg, waterfall
from crmledger.services.dashboard import Dashboard
from crmledger.web.crm_view import money
from crmledger.web.params import with_query

#: Figures whose fall is the good news.
LOWER_IS_BETTER = frozenset({"dso", "overdue"})
NPS_RANGE = (-100, 100)


@dataclass(frozen=True, slots=True)
class Card:
    """A key figure as shown: its value, its change and whether that is good news."""

    key: str
    label: str
    value: str
    change: str
    tone: str
    previous: str


@dataclass(frozen=True, slots=True)
class Figure:
    """A chart on a page: its heading, the SVG, and the report it summarises."""

    key: str
    title: str
    svg: str
    href: str
    link: str


def _shown(kpi: Kpi, value: Decimal | None, currency: str) -> str:
    if value is None:
        return "n/a"
    if kpi.unit == "days":
        return f"{value} days"
    if kpi.unit == "score":
        return f"{value:+}" if value else "0.0"
    return money(value, currency)


def _change(kpi: Kpi) -> tuple[str, str]:
    change = kpi.change
    if change is None:
        return "", ""
    if not change:
        return "no change", "same"
    arrow = "▲" if change > 0 else "▼"
    better = (change < 0) if kpi.key in LOWER_IS_BETTER else (change > 0)
    text = f"{arrow} {change:+,f}"
    if kpi.unit == "money" and kpi.previous:
        share = (change / abs(kpi.previous) * 100).quantize(Decimal("0.1"))
        text += f" ({share:+} %)"
    elif kpi.unit == "score":
        text += " points"
    elif kpi.unit == "days":
        text += " days"
    return text, "good" if better else "bad"


def kpi_cards(board: Dashboard) -> list[Card]:
    """The key figures as cards."""
    cards = []
    for kpi in board.kpis:
        change, tone = _change(kpi)
        previous = "" if kpi.previous is None else _shown(kpi, kpi.previous, board.currency)
        shown = _shown(kpi, kpi.value, board.currency)
        cards.append(Card(kpi.key, kpi.label, shown, change, tone, previous))
    return cards


def statement_url(kind: str, period: Period) -> str:
    """The statement ``kind`` (``income-statement``, ``cash-flow``) of ``period``."""
    values = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    return with_query(f"/reports/{kind}", values)


def aging_url(bucket: AgingBucket) -> str:
    """The open documents of ``bucket`` today, on the receivables aging (same bounds)."""
    bounds = ",".join(str(b) for b in AGING_BOUNDS)
    return with_query(
        "/reports/aging", {"kind": "receivable", "buckets": bounds, "bucket": str(bucket.index)}
    )


def stage_url(stage: StageFigures) -> str:
    """The stage's column on its pipeline's board."""
    return f"/deals?pipeline={quote(stage.pipeline, safe='')}#col-{quote(stage.stage, safe='')}"


def _months(board: Dashboard) -> Chart:
    cur = board.currency
    revenue, margin = [], []
    for m in board.months:
        href = statement_url("income-statement", m.period)
        shown = money(m.revenue, cur)
        revenue.append(Point(m.revenue, shown, href, f"{m.month} revenue: {shown}"))
        shown = money(m.gross_margin, cur)
        margin.append(Point(m.gross_margin, shown, href, f"{m.month} gross margin: {shown}"))
    return Chart(
        "bar",
        "Revenue and gross margin by month",
        tuple(m.month for m in board.months),
        (Series("Revenue", tuple(revenue)), Series("Gross margin", tuple(margin))),
    )


def _aging(board: Dashboard) -> Chart:
    points = tuple(
        Point(
            b.amount,
            money(b.amount, board.currency),
            aging_url(b),
            f"{b.label}: {money(b.amount, board.currency)} in {b.documents} invoices",
        )
        for b in board.aging
    )
    labels = tuple(b.label for b in board.aging)
    return Chart("hbar", "Receivables by days overdue", labels, (Series("Open", points),))


def _pipeline(board: Dashboard) -> Chart:
    several = len({s.pipeline for s in board.pipeline}) > 1
    labels = tuple(f"{s.pipeline_name}: {s.name}" if several else s.name for s in board.pipeline)
    cur = board.currency
    open_amounts = tuple(
        Point(
            s.amount,
            money(s.amount, cur),
            stage_url(s),
            f"{s.name}: {s.deals} open deals, {money(s.amount, cur)}",
        )
        for s in board.pipeline
    )
    weighted = tuple(
        Point(
            s.weighted,
            money(s.weighted, cur),
            stage_url(s),
            f"{s.name}: {money(s.weighted, cur)} weighted by probability",
        )
        for s in board.pipeline
    )
    return Chart(
        "bar",
        "Pipeline by stage",
        labels,
        (Series("Open", open_amounts), Series("Weighted", weighted)),
    )


def _nps(board: Dashboard) -> Chart:
    points = tuple(
        Point(m.score, f"{m.score}", None, f"{m.month}: NPS {m.score} from {m.responses} answers")
        if m.score is not None
        else Point(None)
        for m in board.nps
    )
    return Chart(
        "line",
        "NPS by month",
        tuple(m.month for m in board.nps),
        (Series("NPS", points),),
        low=NPS_RANGE[0],
        high=NPS_RANGE[1],
    )


def _customers(board: Dashboard) -> Chart:
    cur = board.currency
    points = tuple(
        Point(
            c.gross_margin,
            money(c.gross_margin, cur),
            f"/customers/{c.party_id}",
            f"{c.name}: {money(c.gross_margin, cur)} gross margin on {money(c.revenue, cur)}",
        )
        for c in board.top_customers
    )
    labels = tuple(c.name for c in board.top_customers)
    return Chart("hbar", "Top customers by gross margin", labels, (Series("Margin", points),))


def _steps(board: Dashboard) -> list[Step]:
    href = statement_url("cash-flow", board.period)
    return [
        Step(s.label, s.amount, s.total, money(s.amount, board.currency), href)
        for s in board.cash_flow
    ]


@lru_cache(maxsize=16)
def dashboard_charts(board: Dashboard) -> tuple[Figure, ...]:
    """The six charts of the dashboard, for a page (style from the shared stylesheet); the
    same figures draw the same charts, so they are drawn once while nothing changes."""
    income = statement_url("income-statement", board.period)
    cash = statement_url("cash-flow", board.period)
    drawn = [
        ("months", _months(board), income, "Income statement"),
        ("aging", _aging(board), "/invoices?kind=invoice", "Open invoices"),
        ("pipeline", _pipeline(board), "/deals", "Deals board"),
        ("nps", _nps(board), "/customers", "Customers"),
        ("customers", _customers(board), "/insights", "Profitability"),
    ]
    figures = [
        Figure(key, chart.title, svg(chart, inline_style=False), href, link)
        for key, chart, href, link in drawn
    ]
    flow = waterfall("Cash flow", _steps(board), inline_style=False)
    figures.append(Figure("cash", "Cash flow", flow, cash, "Cash-flow statement"))
    return tuple(figures)


def profit_chart(lines: Sequence[ProfitLine], currency: str) -> Figure | None:
    """The net profitability of the first ten customers of a page of the profitability
    report, each bar opening the customer; ``None`` for an empty page."""
    shown = list(lines[:10])
    if not shown:
        return None
    points = tuple(
        Point(
            line.net,
            money(line.net, currency),
            f"/customers/{line.key}",
            f"{line.label}: {money(line.net, currency)} net on {money(line.revenue, currency)}",
        )
        for line in shown
    )
    chart = Chart(
        "hbar",
        "Net profitability",
        tuple(line.label for line in shown),
        (Series("Net", points),),
    )
    return Figure("profit", chart.title, svg(chart, inline_style=False), "#profitability", "Table")


def segment_chart(segments: Sequence[SegmentSummary], currency: str) -> Figure:
    """Revenue by RFM segment."""
    points = tuple(
        Point(
            s.revenue,
            money(s.revenue, currency),
            None,
            f"{s.segment}: {s.customers} customers, {money(s.revenue, currency)} ({s.share} %)",
        )
        for s in segments
    )
    chart = Chart(
        "hbar",
        "Revenue by RFM segment",
        tuple(s.segment for s in segments),
        (Series("Revenue", points),),
    )
    return Figure("segments", chart.title, svg(chart, inline_style=False), "#segments", "Table")
