"""The customer 360's response body: every section of ``GET /parties/{party_id}/360``.

Money is a decimal string in the base currency unless a line names its own currency; each
modelled figure carries what explains it (lifetime value its assumptions, churn risk its
drivers, the lifetime profit line the cost-to-serve settings it used)::

    GET /api/v1/parties/7/360
    →  {"churn": {"score": 34, "level": "medium", "drivers": [{"name": "overdue",
        "value": "87 days", "contribution": "19.3", "explanation": "..."}, ...]}, ...}
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel

from crmledger.api.crm_schemas import PartyPublic
from crmledger.api.intelligence_schemas import (
    CostToServePublic,
    ProfitLinePublic,
    RfmScorePublic,
    opt,
)
from crmledger.api.payment_schemas import PartyBalancePublic
from crmledger.api.schemas import money
from crmledger.core.churn import ChurnRisk
from crmledger.core.intelligence import LifetimeValue, PaymentBehaviour
from crmledger.services.customer_360 import (
    ContactLine,
    Customer360,
    DocumentLine,
    NpsPeriod,
    OpenDeal,
    PipelineTotal,
    RecentItem,
)


class DriverPublic(BaseModel):
    """One reason in a churn score and the points it adds."""

    name: str
    value: str
    contribution: str
    explanation: str


class ChurnPublic(BaseModel):
    """Churn risk 0..100 (the rounded sum of the drivers' points) and its level."""

    score: int
    level: Literal["low", "medium", "high"]
    drivers: list[DriverPublic]

    @classmethod
    def of(cls, risk: ChurnRisk) -> Self:
        """The API view of a churn risk."""
        return cls(
            score=risk.score,
            level=risk.level,  # type: ignore[arg-type]
            drivers=[
                DriverPublic(
                    name=d.name,
                    value=d.value,
                    contribution=money(d.contribution),
                    explanation=d.explanation,
                )
                for d in risk.drivers
            ],
        )


class LifetimeValuePublic(BaseModel):
    """Lifetime value = monthly margin x expected lifetime, with its assumptions."""

    value: str
    expected_lifetime_months: str
    formula: str
    margin_to_date: str
    months_active: int
    monthly_margin: str
    monthly_retention: str
    retention_source: Literal["observed", "default"]
    annual_discount_rate: str
    horizon_months: int

    @classmethod
    def of(cls, clv: LifetimeValue) -> Self:
        """The API view of a lifetime value."""
        a = clv.assumptions
        return cls(
            value=money(clv.value),
            expected_lifetime_months=money(clv.expected_lifetime_months),
            formula=clv.formula,
            margin_to_date=money(a.margin_to_date),
            months_active=a.months_active,
            monthly_margin=money(a.monthly_margin),
            monthly_retention=money(a.monthly_retention),
            retention_source=a.retention_source,  # type: ignore[arg-type]
            annual_discount_rate=money(a.annual_discount_rate),
            horizon_months=a.horizon_months,
        )


class PaymentBehaviourPublic(BaseModel):
    """Days taken to pay: average, the latest three, the ones before, and the trend."""

    paid_invoices: int
    average_days: str | None
    recent_days: str | None
    earlier_days: str | None
    trend_days: str | None
    direction: Literal["slower", "faster", "steady"] | None

    @classmethod
    def of(cls, p: PaymentBehaviour) -> Self:
        """The API view of payment behaviour."""
        return cls(
            paid_invoices=p.paid,
            average_days=opt(p.average),
            recent_days=opt(p.recent),
            earlier_days=opt(p.earlier),
            trend_days=opt(p.trend),
            direction=p.direction,  # type: ignore[arg-type]
        )


class ContactLinePublic(BaseModel):
    """A linked person or organisation."""

    party_id: int
    name: str
    role: str
    primary: bool
    email: str

    @classmethod
    def of(cls, c: ContactLine) -> Self:
        """The API view of a contact line."""
        return cls(party_id=c.party_id, name=c.name, role=c.role, primary=c.primary, email=c.email)


class OpenDealPublic(BaseModel):
    """An open deal, in its own currency."""

    id: int
    title: str
    stage: str
    amount: str
    currency: str
    probability: str
    weighted: str
    expected_close: dt.date | None

    @classmethod
    def of(cls, d: OpenDeal) -> Self:
        """The API view of an open deal."""
        return cls(
            id=d.id,
            title=d.title,
            stage=d.stage,
            amount=money(d.amount),
            currency=d.currency,
            probability=money(d.probability),
            weighted=money(d.weighted),
            expected_close=d.expected_close,
        )


class PipelinePublic(BaseModel):
    """Open deals' amount and weighted amount per currency."""

    currency: str
    amount: str
    weighted: str

    @classmethod
    def of(cls, p: PipelineTotal) -> Self:
        """The API view of a pipeline total."""
        return cls(currency=p.currency, amount=money(p.amount), weighted=money(p.weighted))


class RecentItemPublic(BaseModel):
    """A recent interaction or an open complaint (``due``: its resolution deadline)."""

    id: int
    kind: str
    subject: str
    status: str
    priority: str
    occurred_at: dt.datetime
    due: dt.datetime | None

    @classmethod
    def of(cls, i: RecentItem) -> Self:
        """The API view of an item."""
        return cls(
            id=i.id,
            kind=i.kind,
            subject=i.subject,
            status=i.status,
            priority=i.priority,
            occurred_at=i.occurred_at,
            due=i.due,
        )


class DocumentLinePublic(BaseModel):
    """A recent order, contract or invoice in its own currency (a contract's ``day`` is
    its next billing date)."""

    id: int
    kind: Literal["order", "contract", "invoice"]
    number: str
    status: str
    day: dt.date | None
    amount: str | None
    currency: str
    open: str | None
    due_on: dt.date | None

    @classmethod
    def of(cls, d: DocumentLine) -> Self:
        """The API view of a document line."""
        return cls(
            id=d.id,
            kind=d.kind,  # type: ignore[arg-type]
            number=d.number,
            status=d.status,
            day=d.day,
            amount=opt(d.amount),
            currency=d.currency,
            open=opt(d.open),
            due_on=d.due_on,
        )


class NpsPeriodPublic(BaseModel):
    """The NPS of one quarter's answers (-100..100)."""

    period: str
    responses: int
    nps: str

    @classmethod
    def of(cls, p: NpsPeriod) -> Self:
        """The API view of a quarter."""
        return cls(period=p.period, responses=p.responses, nps=money(p.score))


class Customer360Public(BaseModel):
    """Everything about one customer as of a day."""

    as_of: dt.date
    base_currency: str
    party: PartyPublic
    contacts: list[ContactLinePublic]
    open_deals: list[OpenDealPublic]
    pipeline: list[PipelinePublic]
    interactions: list[RecentItemPublic]
    open_complaints: list[RecentItemPublic]
    orders: list[DocumentLinePublic]
    contracts: list[DocumentLinePublic]
    invoices: list[DocumentLinePublic]
    balance: PartyBalancePublic
    payment: PaymentBehaviourPublic
    lifetime: ProfitLinePublic
    satisfaction: list[NpsPeriodPublic]
    rfm: RfmScorePublic | None
    lifetime_value: LifetimeValuePublic | None
    churn: ChurnPublic
    cost_to_serve: CostToServePublic

    @classmethod
    def of(cls, view: Customer360) -> Self:
        """The API view of a 360."""
        return cls(
            as_of=view.as_of,
            base_currency=view.base_currency,
            party=PartyPublic.of(view.party),
            contacts=[ContactLinePublic.of(c) for c in view.contacts],
            open_deals=[OpenDealPublic.of(d) for d in view.open_deals],
            pipeline=[PipelinePublic.of(p) for p in view.pipeline],
            interactions=[RecentItemPublic.of(i) for i in view.interactions],
            open_complaints=[RecentItemPublic.of(i) for i in view.open_complaints],
            orders=[DocumentLinePublic.of(d) for d in view.orders],
            contracts=[DocumentLinePublic.of(d) for d in view.contracts],
            invoices=[DocumentLinePublic.of(d) for d in view.invoices],
            balance=PartyBalancePublic.of(view.balance),
            payment=PaymentBehaviourPublic.of(view.payment),
            lifetime=ProfitLinePublic.of(view.lifetime),
            satisfaction=[NpsPeriodPublic.of(p) for p in view.satisfaction],
            rfm=None if view.rfm is None else RfmScorePublic.of(view.rfm, view.party.display_name),
            lifetime_value=(
                None if view.lifetime_value is None else LifetimeValuePublic.of(view.lifetime_value)
            ),
            churn=ChurnPublic.of(view.churn),
            cost_to_serve=CostToServePublic.of(view.cost_to_serve),
        )
