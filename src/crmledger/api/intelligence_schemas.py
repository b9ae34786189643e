"""Query parameters and response bodies of the customer-intelligence reports, and the parts
the customer 360 (:mod:`.customer_360_schemas`) shares with them.

Money is a decimal string in the base currency; scores, percentages and days are decimal
strings too (``"12.5"``), counts are integers. Profitability travels with the cost-to-serve
settings it used::

    GET /api/v1/reports/profitability?by=customer&sort=net&limit=2
    →  {"by": "customer", "count": 3, "totals": {...}, "items": [{"key": "7",
        "label": "Acme GmbH", "revenue": "500.00", ..., "net": "-12.40"}, ...],
        "cost_to_serve": {"settings": {"complaint": "40.00", ...}}, "next_cursor": "Wzld"}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.routes.common import MAX_LIMIT
from crmledger.api.schemas import Day, money
from crmledger.core.intelligence import (
    Cohort,
    Concentration,
    RfmBreaks,
    RfmScore,
    SegmentSummary,
)
from crmledger.core.profitability import CostBreakdown, CostToServe, ProfitLine, flat
from crmledger.services.intelligence_reports import (
    CohortReport,
    Debtor,
    ProfitabilityReport,
    ReceivablesReport,
    RfmReport,
)

By = Literal["customer", "product", "owner", "segment", "rfm_segment", "month"]
Sort = Literal[
    "key", "-key", "revenue", "-revenue", "cost_of_goods", "-cost_of_goods", "gross_margin",
    "-gross_margin", "cost_to_serve", "-cost_to_serve", "net", "-net",
]  # fmt: skip
Segment = Literal[
    "Champions", "Loyal customers", "Potential loyalists", "New customers", "Promising",
    "Need attention", "About to sleep", "At risk", "Can't lose them", "Hibernating",
]  # fmt: skip
Month = str


def opt(value: Decimal | None) -> str | None:
    """A decimal as text, or None."""
    return None if value is None else money(value)


# -- query parameters -----------------------------------------------------------------------


class ProfitabilityFilters(BaseModel):
    """Grouping, period, order and page of the profitability report (unknown parameters are
    refused)."""

    model_config = ConfigDict(extra="forbid")

    by: By = Field("customer", examples=["customer", "product", "month"])
    date_from: Day | None = Field(
        None, alias="from", description="First day (inclusive).", examples=["2026-01-01"]
    )
    date_to: Day | None = Field(
        None, alias="to", description="Last day (inclusive).", examples=["2026-06-30"]
    )
    sort: Sort = Field("-revenue", description="A column; `-` first for descending.")
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


class RfmFilters(BaseModel):
    """One segment's customers only, and the page (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    segment: Segment | None = None
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


class CohortFilters(BaseModel):
    """The first and last cohort month (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    month_from: Month | None = Field(
        None,
        alias="from",
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="YYYY-MM.",
        examples=["2026-01"],
    )
    month_to: Month | None = Field(
        None,
        alias="to",
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="YYYY-MM.",
        examples=["2026-06"],
    )


class ReceivablesFilters(BaseModel):
    """The period of the KPIs and how many debtors to list (unknown parameters are
    refused)."""

    model_config = ConfigDict(extra="forbid")

    date_from: Day | None = Field(
        None, alias="from", description="Default: 89 days before `to`.", examples=["2026-04-01"]
    )
    date_to: Day | None = Field(
        None, alias="to", description="Default: today.", examples=["2026-06-30"]
    )
    top: int = Field(10, ge=1, le=100, description="How many top debtors.")


# -- shared parts ---------------------------------------------------------------------------


class CostToServePublic(BaseModel):
    """The cost-to-serve settings a figure used (flat keys, decimal strings)."""

    settings: dict[str, str]

    @classmethod
    def of(cls, config: CostToServe) -> Self:
        """The API view of the settings."""
        return cls(settings=flat(config))


class CostBreakdownPublic(BaseModel):
    """The cost to serve by cause."""

    interactions: str
    complaints: str
    credit_notes: str
    dunning: str
    financing: str
    total: str

    @classmethod
    def of(cls, costs: CostBreakdown) -> Self:
        """The API view of a breakdown."""
        return cls(
            interactions=money(costs.interactions),
            complaints=money(costs.complaints),
            credit_notes=money(costs.credit_notes),
            dunning=money(costs.dunning),
            financing=money(costs.financing),
            total=money(costs.total),
        )


class ProfitLinePublic(BaseModel):
    """Revenue, cost of goods, gross margin, cost to serve and net profitability."""

    key: str
    label: str
    revenue: str
    cost_of_goods: str
    gross_margin: str
    margin_percent: str | None
    cost_to_serve: CostBreakdownPublic
    net: str

    @classmethod
    def of(cls, line: ProfitLine) -> Self:
        """The API view of a line."""
        return cls(
            key=line.key,
            label=line.label,
            revenue=money(line.revenue),
            cost_of_goods=money(line.cost_of_goods),
            gross_margin=money(line.gross_margin),
            margin_percent=opt(line.margin_percent),
            cost_to_serve=CostBreakdownPublic.of(line.cost_to_serve),
            net=money(line.net),
        )


class RfmScorePublic(BaseModel):
    """A customer's RFM measures (recency in days), scores 1..5 and segment."""

    party_id: int
    name: str
    recency_days: int
    frequency: int
    monetary: str
    r: int
    f: int
    m: int
    code: str
    segment: str

    @classmethod
    def of(cls, score: RfmScore, name: str = "") -> Self:
        """The API view of a score."""
        return cls(
            party_id=score.party_id,
            name=name,
            recency_days=score.recency_days,
            frequency=score.frequency,
            monetary=money(score.monetary),
            r=score.r,
            f=score.f,
            m=score.m,
            code=score.code,
            segment=score.segment,
        )


# -- reports --------------------------------------------------------------------------------


class ProfitabilityPublic(BaseModel):
    """A page of profit lines, their grand totals and the settings they used."""

    by: By
    start: dt.date | None
    end: dt.date | None
    as_of: dt.date
    base_currency: str
    count: int
    totals: ProfitLinePublic
    cost_to_serve: CostToServePublic
    items: list[ProfitLinePublic]
    next_cursor: str | None

    @classmethod
    def of(cls, report: ProfitabilityReport, next_cursor: str | None) -> Self:
        """The API view of a profitability page."""
        return cls(
            by=report.by,  # type: ignore[arg-type]
            start=report.start,
            end=report.end,
            as_of=report.as_of,
            base_currency=report.base_currency,
            count=report.count,
            totals=ProfitLinePublic.of(report.totals),
            cost_to_serve=CostToServePublic.of(report.config),
            items=[ProfitLinePublic.of(line) for line in report.lines],
            next_cursor=next_cursor,
        )


class RfmBreaksPublic(BaseModel):
    """The four quintile boundaries of each measure, worst first."""

    customers: int
    recency_days: list[int]
    frequency: list[int]
    monetary: list[str]

    @classmethod
    def of(cls, b: RfmBreaks) -> Self:
        """The API view of the boundaries."""
        return cls(
            customers=b.customers,
            recency_days=list(b.recency),
            frequency=list(b.frequency),
            monetary=[money(m) for m in b.monetary],
        )


class SegmentPublic(BaseModel):
    """A segment's customers, revenue and share of revenue (percent)."""

    segment: str
    description: str
    customers: int
    revenue: str
    share: str

    @classmethod
    def of(cls, s: SegmentSummary) -> Self:
        """The API view of a segment."""
        return cls(
            segment=s.segment,
            description=s.description,
            customers=s.customers,
            revenue=money(s.revenue),
            share=money(s.share),
        )


class RfmPublic(BaseModel):
    """A page of customers' RFM scores, with the boundaries and every segment."""

    as_of: dt.date
    breaks: RfmBreaksPublic
    segments: list[SegmentPublic]
    count: int
    items: list[RfmScorePublic]
    next_cursor: str | None

    @classmethod
    def of(cls, report: RfmReport, next_cursor: str | None) -> Self:
        """The API view of an RFM page."""
        return cls(
            as_of=report.as_of,
            breaks=RfmBreaksPublic.of(report.breaks),
            segments=[SegmentPublic.of(s) for s in report.segments],
            count=report.count,
            items=[RfmScorePublic.of(s, report.names.get(s.party_id, "")) for s in report.scores],
            next_cursor=next_cursor,
        )


class CohortPublic(BaseModel):
    """A first-purchase month, its size, and who bought again k months later."""

    month: str
    customers: int
    active: list[int]
    retention: list[str]

    @classmethod
    def of(cls, c: Cohort) -> Self:
        """The API view of a cohort."""
        return cls(
            month=c.label,
            customers=c.customers,
            active=list(c.active),
            retention=[money(r) for r in c.retention],
        )


class RetentionPublic(BaseModel):
    """Observed year-on-year retention (null when not observable)."""

    base: int
    kept: int
    annual: str | None
    monthly: str | None


class CohortsPublic(BaseModel):
    """Cohorts by first-purchase month up to ``through``."""

    as_of: dt.date
    through: str
    cohorts: list[CohortPublic]
    retention: RetentionPublic

    @classmethod
    def of(cls, report: CohortReport) -> Self:
        """The API view of the cohorts."""
        r = report.retention
        return cls(
            as_of=report.as_of,
            through=report.through,
            cohorts=[CohortPublic.of(c) for c in report.cohorts],
            retention=RetentionPublic(
                base=r.base, kept=r.kept, annual=opt(r.annual), monthly=opt(r.monthly)
            ),
        )


class DebtorPublic(BaseModel):
    """A party's open invoices now, the overdue part and its oldest due day."""

    party_id: int
    name: str
    open: str
    overdue: str
    oldest_due: dt.date | None
    days_overdue: int

    @classmethod
    def of(cls, d: Debtor) -> Self:
        """The API view of a debtor."""
        return cls(
            party_id=d.party_id,
            name=d.name,
            open=money(d.open),
            overdue=money(d.overdue),
            oldest_due=d.oldest_due,
            days_overdue=d.days_overdue,
        )


class ConcentrationPublic(BaseModel):
    """Revenue concentration: top-N shares (percent) and the Herfindahl-Hirschman index."""

    customers: int
    revenue: str
    top_shares: dict[str, str]
    herfindahl: str

    @classmethod
    def of(cls, c: Concentration) -> Self:
        """The API view of the concentration."""
        return cls(
            customers=c.customers,
            revenue=money(c.total),
            top_shares={str(n): money(s) for n, s in c.top},
            herfindahl=money(c.herfindahl),
        )


class ReceivablesPublic(BaseModel):
    """DSO, collection effectiveness, top debtors and revenue concentration."""

    start: dt.date
    end: dt.date
    days: int
    base_currency: str
    opening_receivables: str
    receivables: str
    overdue: str
    credit_sales: str
    collected: str
    dso: str | None
    cei: str | None
    top_debtors: list[DebtorPublic]
    concentration: ConcentrationPublic

    @classmethod
    def of(cls, r: ReceivablesReport) -> Self:
        """The API view of the KPIs."""
        return cls(
            start=r.start,
            end=r.end,
            days=r.days,
            base_currency=r.base_currency,
            opening_receivables=money(r.opening),
            receivables=money(r.receivables),
            overdue=money(r.overdue),
            credit_sales=money(r.credit_sales),
            collected=money(r.collected),
            dso=opt(r.dso),
            cei=opt(r.cei),
            top_debtors=[DebtorPublic.of(d) for d in r.top_debtors],
            concentration=ConcentrationPublic.of(r.concentration),
        )
