"""The dashboard's query parameters and response body: key figures with the comparison
period's, and the series of its charts.

Money, days and scores are decimal strings (``null`` when the book cannot say: an NPS
without answers, a DSO without sales); counts are integers::

    GET /api/v1/dashboard?from=2026-01-01&to=2026-06-30&compare=last-year
    →  {"period": {"start": "2026-01-01", "end": "2026-06-30"}, "currency": "EUR",
        "kpis": [{"key": "revenue", "label": "Revenue", "value": "7800.00",
                  "previous": "5200.00", "change": "2600.00", "unit": "money"}, ...],
        "months": [{"month": "2026-01", "revenue": "1200.00", "gross_margin": "800.00"}, ...],
        "aging": [...], "pipeline": [...], "nps": [...], "top_customers": [...],
        "cash_flow": [...], "notes": []}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.schemas import Day, money
from crmledger.core.dashboard import (
    AgingBucket,
    CustomerMargin,
    FlowStep,
    Kpi,
    MonthFigures,
    NpsMonth,
    StageFigures,
)
from crmledger.core.statement_periods import Period
from crmledger.services.dashboard import Dashboard

Compare = Literal["last-year", "previous"]


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else money(value)


class DashboardFilters(BaseModel):
    """The period and what it is compared with (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    date_from: Day | None = Field(
        None,
        alias="from",
        description="First day (inclusive); default: 1 January of `to`'s year.",
        examples=["2026-01-01"],
    )
    date_to: Day | None = Field(
        None,
        alias="to",
        description="Last day (inclusive); default: today.",
        examples=["2026-06-30"],
    )
    compare: Compare = Field(
        "last-year",
        description="`last-year`: the same days a year before; `previous`: the period of the "
        "same length just before.",
    )


class PeriodPublic(BaseModel):
    """Two days, both included."""

    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, period: Period) -> Self:
        """The API view of a period."""
        return cls(start=period.start, end=period.end)


class KpiPublic(BaseModel):
    """A key figure, the comparison period's, and the difference."""

    key: str
    label: str
    value: str | None
    previous: str | None
    change: str | None
    unit: Literal["money", "days", "score"]

    @classmethod
    def of(cls, kpi: Kpi) -> Self:
        """The API view of a key figure."""
        unit: Literal["money", "days", "score"] = (
            "days" if kpi.unit == "days" else "score" if kpi.unit == "score" else "money"
        )
        return cls(
            key=kpi.key,
            label=kpi.label,
            value=_opt(kpi.value),
            previous=_opt(kpi.previous),
            change=_opt(kpi.change),
            unit=unit,
        )


class MonthPublic(BaseModel):
    """Revenue and gross margin of a month (or of the part of it in the period)."""

    month: str
    start: dt.date
    end: dt.date
    revenue: str
    gross_margin: str

    @classmethod
    def of(cls, m: MonthFigures) -> Self:
        """The API view of a month."""
        return cls(
            month=m.month,
            start=m.period.start,
            end=m.period.end,
            revenue=money(m.revenue),
            gross_margin=money(m.gross_margin),
        )


class AgingPublic(BaseModel):
    """Open invoices overdue by ``low`` to ``high`` days (both null: not yet due)."""

    label: str
    low: int | None
    high: int | None
    documents: int
    amount: str

    @classmethod
    def of(cls, b: AgingBucket) -> Self:
        """The API view of a bucket."""
        return cls(
            label=b.label, low=b.low, high=b.high, documents=b.documents, amount=money(b.amount)
        )


class StagePublic(BaseModel):
    """Open deals of a stage in the base currency, and weighted by probability."""

    pipeline: str
    stage: str
    name: str
    deals: int
    amount: str
    weighted: str

    @classmethod
    def of(cls, s: StageFigures) -> Self:
        """The API view of a stage."""
        return cls(
            pipeline=s.pipeline,
            stage=s.stage,
            name=s.name,
            deals=s.deals,
            amount=money(s.amount),
            weighted=money(s.weighted),
        )


class NpsPublic(BaseModel):
    """A month's NPS answers and score (null without answers)."""

    month: str
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: str | None

    @classmethod
    def of(cls, m: NpsMonth) -> Self:
        """The API view of a month's answers."""
        return cls(
            month=m.month,
            responses=m.responses,
            promoters=m.promoters,
            passives=m.passives,
            detractors=m.detractors,
            score=_opt(m.score),
        )


class CustomerMarginPublic(BaseModel):
    """A customer's revenue, cost of goods and gross margin in the period."""

    party_id: int
    name: str
    revenue: str
    cost_of_goods: str
    gross_margin: str

    @classmethod
    def of(cls, c: CustomerMargin) -> Self:
        """The API view of a customer's margin."""
        return cls(
            party_id=c.party_id,
            name=c.name,
            revenue=money(c.revenue),
            cost_of_goods=money(c.cost_of_goods),
            gross_margin=money(c.gross_margin),
        )


class FlowStepPublic(BaseModel):
    """A waterfall bar: cash at the start or the end (``total``), or a flow."""

    key: str
    label: str
    amount: str
    total: bool

    @classmethod
    def of(cls, s: FlowStep) -> Self:
        """The API view of a step."""
        return cls(key=s.key, label=s.label, amount=money(s.amount), total=s.total)


class DashboardPublic(BaseModel):
    """Key figures and chart series of a period, in the base currency."""

    period: PeriodPublic
    comparison: PeriodPublic
    as_of: dt.date
    currency: str
    kpis: list[KpiPublic]
    months: list[MonthPublic]
    aging: list[AgingPublic]
    pipeline: list[StagePublic]
    nps: list[NpsPublic]
    top_customers: list[CustomerMarginPublic]
    cash_flow: list[FlowStepPublic]
    notes: list[str]

    @classmethod
    def of(cls, d: Dashboard) -> Self:
        """The API view of the dashboard."""
        return cls(
            period=PeriodPublic.of(d.period),
            comparison=PeriodPublic.of(d.comparison),
            as_of=d.as_of,
            currency=d.currency,
            kpis=[KpiPublic.of(k) for k in d.kpis],
            months=[MonthPublic.of(m) for m in d.months],
            aging=[AgingPublic.of(b) for b in d.aging],
            pipeline=[StagePublic.of(s) for s in d.pipeline],
            nps=[NpsPublic.of(m) for m in d.nps],
            top_customers=[CustomerMarginPublic.of(c) for c in d.top_customers],
            cash_flow=[FlowStepPublic.of(s) for s in d.cash_flow],
            notes=list(d.notes),
        )
