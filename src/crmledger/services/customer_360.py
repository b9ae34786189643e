"""One customer seen whole: profile, contacts, pipeline, timeline, documents, money, how it
pays, what it brought and cost, how satisfied it is, its segment, value and churn risk.

:func:`customer_360` reads it in one transaction with a fixed number of queries, each on an
index that starts with ``party_id`` (the party's recent items by keyset, its aggregates by
``GROUP BY``), so its cost does not grow with the size of the book. Only the RFM quintile
boundaries and the observed retention need the whole book; they come from a
:class:`~crmledger.services.intelligence_snapshot.BookSnapshot` computed once and reused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from crmledger.core.churn import ChurnModel, ChurnRisk, ChurnSignals, churn_risk
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.satisfaction import nps, period_key
from crmledger.core.intelligence import (
    ANNUAL_DISCOUNT_RATE,
    DEFAULT_MONTHLY_RETENTION,
    HORIZON_MONTHS,
    MIN_RETENTION_BASE,
    CustomerActivity,
    LifetimeValue,
    PaymentBehaviour,
    RfmScore,
    days_between,
    days_to_pay,
    lifetime_value,
    rfm_score,
    usual_gap,
)
from crmledger.core.money import quantize
from crmledger.core.profitability import CostToServe, ProfitLine
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.crm_ports import ContractQuery, DocumentQuery, InteractionQuery
from crmledger.services.errors import NotFoundError
from crmledger.services.intelligence_figures import (
    History,
    Money,
    cells,
    histories,
    money_of,
    months_active,
)
from crmledger.services.intelligence_ports import IntelligenceUnitOfWork, Scope
from crmledger.services.intelligence_reports import grouped
from crmledger.services.intelligence_snapshot import BookSnapshot
from crmledger.services.party_codec import PartyCodec
from crmledger.services.settling import PartyBalance, party_balance

#: How many recent items of each kind the 360 lists.
RECENT = 10
#: How many quarters of NPS the satisfaction trend shows.
NPS_QUARTERS = 8
OPEN_DEALS_MAX = 200


@dataclass(frozen=True, slots=True)
class ContactLine:
    """A person of an organisation (or the organisation of a person)."""

    party_id: int
    name: str
    role: str
    primary: bool
    email: str


@dataclass(frozen=True, slots=True)
class OpenDeal:
    """An open deal and its probability-weighted amount (rounded to its currency)."""

    id: int
    title: str
    stage: str
    amount: Decimal
    currency: str
    probability: Decimal
    weighted: Decimal
    expected_close: date | None


@dataclass(frozen=True, slots=True)
class PipelineTotal:
    """The open deals' amount and weighted amount in one currency."""

    currency: str
    amount: Decimal
    weighted: Decimal


@dataclass(frozen=True, slots=True)
class RecentItem:
    """A recent interaction or open complaint."""

    id: int
    kind: str
    subject: str
    status: str
    priority: str
    occurred_at: datetime
    due: datetime | None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """A recent order, contract or invoice as the 360 lists it."""

    id: int
    kind: str
    number: str
    status: str
    day: date | None
    amount: Decimal | None
    currency: str
    open: Decimal | None = None
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class NpsPeriod:
    """The NPS of one quarter's answers."""

    period: str
    responses: int
    score: Decimal


@dataclass(frozen=True, slots=True)
class Customer360:
    """Everything about one customer; money in the base currency unless a line says."""

    party: Party
    as_of: date
    base_currency: str
    contacts: tuple[ContactLine, ...]
    open_deals: tuple[OpenDeal, ...]
    pipeline: tuple[PipelineTotal, ...]
    interactions: tuple[RecentItem, ...]
    open_complaints: tuple[RecentItem, ...]
    orders: tuple[DocumentLine, ...]
    contracts: tuple[DocumentLine, ...]
    invoices: tuple[DocumentLine, ...]
    balance: PartyBalance
    payment: PaymentBehaviour
    lifetime: ProfitLine
    satisfaction: tuple[NpsPeriod, ...]
    rfm: RfmScore | None
    lifetime_value: LifetimeValue | None
    churn: ChurnRisk
    cost_to_serve: CostToServe


@dataclass(frozen=True, slots=True)
class Reading:
    """What a 360 is read with: the moment, the settings and the book-wide snapshot."""

    today: date
    now: datetime
    config: CostToServe
    snapshot: BookSnapshot
    churn: ChurnModel


def _contacts(uow: IntelligenceUnitOfWork, codec: PartyCodec, party: Party) -> list[ContactLine]:
    is_org = party.kind is PartyKind.ORGANISATION
    links = uow.parties.contacts(party.id if is_org else None, None if is_org else party.id)
    others = {link.person_id if is_org else link.organisation_id: link for link in links}
    people = {r.id: codec.decode(r) for r in uow.parties.many(sorted(others))}
    lines = []
    for other_id, link in others.items():
        other = people[other_id]
        email = other.emails[0].address if other.emails else ""
        lines.append(ContactLine(other_id, other.display_name, link.role, link.primary, email))
    return sorted(lines, key=lambda c: (not c.primary, c.name.casefold(), c.party_id))


def _deals(
    uow: IntelligenceUnitOfWork, money: Money, party_id: int
) -> tuple[list[OpenDeal], list[PipelineTotal]]:
    deals = []
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in uow.intelligence.open_deals(party_id, OPEN_DEALS_MAX):
        amount = money.amount(row.amount_minor, row.currency)
        probability = Decimal(row.probability_bp) / 10000
        weighted = quantize(amount * probability, money.scale(row.currency))
        deals.append(
            OpenDeal(
                row.id,
                row.title,
                row.stage,
                amount,
                row.currency,
                probability,
                weighted,
                row.expected_close,
            )
        )
        totals[row.currency][0] += amount
        totals[row.currency][1] += weighted
    pipeline = [PipelineTotal(c, a, w) for c, (a, w) in sorted(totals.items())]
    return deals[:RECENT], pipeline


def _timeline(
    uow: IntelligenceUnitOfWork, party_id: int
) -> tuple[list[RecentItem], list[RecentItem]]:
    recent = [
        RecentItem(r.id or 0, r.kind, r.subject, r.status, r.priority, r.occurred_at, r.due_at)
        for r in uow.interactions.page(InteractionQuery(limit=RECENT, party_id=party_id))
    ]
    complaints = [
        RecentItem(
            c.id, "complaint", c.subject, c.status, c.priority, c.occurred_at, c.resolution_due
        )
        for c in uow.intelligence.open_complaints(party_id, RECENT)
    ]
    return recent, complaints


def _documents(
    uow: IntelligenceUnitOfWork, money: Money, party_id: int
) -> tuple[list[DocumentLine], list[DocumentLine], list[DocumentLine]]:
    orders = [
        DocumentLine(
            o.id,
            "order",
            o.number,
            o.status,
            o.ordered_on,
            money.amount(o.gross_minor, o.currency),
            o.currency,
        )
        for o in uow.commerce.order_page(DocumentQuery(limit=RECENT, party_id=party_id))
    ]
    contracts = [
        DocumentLine(c.id, "contract", c.description, c.status, c.next_billing, None, c.currency)
        for c in uow.commerce.contract_page(ContractQuery(limit=RECENT, party_id=party_id))
    ]
    query = BillingQuery(limit=RECENT, kind="invoice", party_id=party_id)
    invoices = [
        DocumentLine(
            d.id,
            "invoice",
            d.number or "",
            d.status,
            d.issued_on,
            money.amount(d.gross_minor, d.currency),
            d.currency,
            money.amount(d.open_minor, d.currency),
            d.due_on,
        )
        for d in uow.billing.document_page(query)
    ]
    return orders, contracts, invoices


def _satisfaction(answers: Sequence[tuple[date, int]]) -> tuple[list[NpsPeriod], int | None]:
    by_quarter: dict[str, list[int]] = defaultdict(list)
    for day, score in answers:
        by_quarter[period_key(day, "quarter")].append(score)
    periods = [
        NpsPeriod(key, len(scores), nps(scores) or Decimal(0))
        for key, scores in sorted(by_quarter.items())
    ]
    latest = answers[-1][1] if answers else None
    return periods[-NPS_QUARTERS:], latest


def _lifetime_value(
    history: History | None, lifetime: ProfitLine, reading: Reading, scale: int
) -> LifetimeValue | None:
    if history is None or history.first is None:
        return None
    observed = reading.snapshot.retention
    if observed.monthly is not None and observed.base >= MIN_RETENTION_BASE:
        retention, source = observed.monthly, "observed"
    else:
        retention, source = DEFAULT_MONTHLY_RETENTION, "default"
    return lifetime_value(
        lifetime.gross_margin,
        months_active(history.first, reading.today),
        retention,
        source,
        ANNUAL_DISCOUNT_RATE,
        HORIZON_MONTHS,
        scale,
    )


def _signals(
    uow: IntelligenceUnitOfWork,
    party_id: int,
    history: History | None,
    payment: PaymentBehaviour,
    latest_nps: int | None,
    reading: Reading,
) -> ChurnSignals:
    window = timedelta(days=reading.churn.complaint_window_days)
    complaints = uow.intelligence.complaint_counts(party_id, reading.now - window)
    oldest = uow.intelligence.oldest_overdue(party_id, reading.today)
    recency, gap = None, None
    if history is not None and history.first is not None and history.last is not None:
        recency = days_between(history.last, reading.today)
        gap = usual_gap(history.first, history.last, history.invoices)
    return ChurnSignals(
        recency_days=recency,
        usual_gap_days=gap,
        days_to_pay_trend=payment.trend,
        max_days_overdue=days_between(oldest, reading.today) if oldest else 0,
        recent_complaints=complaints.recent,
        open_complaints=complaints.open,
        latest_nps=latest_nps,
    )


def _figures(
    uow: IntelligenceUnitOfWork, party_id: int, reading: Reading
) -> tuple[Money, ProfitLine, History | None]:
    """The customer's lifetime figures; the cost to serve is computed per month and added
    up, exactly as profitability by customer does."""
    scope = Scope(party_id=party_id)
    reads = uow.intelligence
    sales, costs = reads.sales(scope), reads.costs(scope)
    money = money_of(uow, [(c.currency, c.month) for c in costs])
    found = cells(
        money, sales, costs, reads.service_counts(scope), reads.credit_days(scope), reading.today
    )
    lines = grouped(found, lambda party, _: (str(party), ""), reading.config, money.base_scale)
    lifetime = lines[0] if lines else ProfitLine(str(party_id), "", money.zero, money.zero)
    return money, lifetime, histories(money, sales).get(party_id)


def customer_360(
    uow: IntelligenceUnitOfWork, codec: PartyCodec, party_id: int, reading: Reading
) -> Customer360:
    """The 360 of ``party_id`` read in ``uow``; :class:`NotFoundError` for no such party."""
    row = uow.parties.get(party_id)
    if row is None:
        raise NotFoundError(f"no party {party_id}")
    party = codec.decode(row)
    money, lifetime, history = _figures(uow, party_id, reading)
    lifetime = replace(lifetime, label=party.display_name)
    deals, pipeline = _deals(uow, money, party_id)
    recent, complaints = _timeline(uow, party_id)
    orders, contracts, invoices = _documents(uow, money, party_id)
    payment = days_to_pay(uow.billing.days_to_pay(party_id))
    satisfaction, latest = _satisfaction(uow.intelligence.nps_answers(party_id))
    rfm = None
    if history is not None and history.invoices and history.last is not None:
        mine = CustomerActivity(party_id, history.last, history.invoices, history.revenue)
        rfm = rfm_score(mine, reading.snapshot.breaks, reading.today)
    signals = _signals(uow, party_id, history, payment, latest, reading)
    return Customer360(
        party=party,
        as_of=reading.today,
        base_currency=money.base,
        contacts=tuple(_contacts(uow, codec, party)),
        open_deals=tuple(deals),
        pipeline=tuple(pipeline),
        interactions=tuple(recent),
        open_complaints=tuple(complaints),
        orders=tuple(orders),
        contracts=tuple(contracts),
        invoices=tuple(invoices),
        balance=party_balance(uow, party_id, reading.today),
        payment=payment,
        lifetime=lifetime,
        satisfaction=tuple(satisfaction),
        rfm=rfm,
        lifetime_value=_lifetime_value(history, lifetime, reading, money.base_scale),
        churn=churn_risk(signals, reading.churn),
        cost_to_serve=reading.config,
    )
