"""The reads customer intelligence needs: aggregates over documents, interactions, dunning
letters and answers, one query each, filtered by an indexed ``party_id`` for one customer.

Amounts are minor units of the row's currency; ``rate`` is the document's booked exchange
rate as text (None for the base currency); ``month`` is ``yyyymm``::

    SalesRow(party_id=7, kind="invoice", month=202605, currency="EUR", rate=None,
             documents=2, net_minor=30000, gross_minor=35700,
             first_day=date(2026, 5, 4), last_day=date(2026, 5, 20))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from crmledger.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose documents and which days (inclusive): one party or all, any dates or a range."""

    party_id: int | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class SalesRow:
    """Issued invoices or credit notes of one party, month, currency and rate."""

    party_id: int
    kind: str
    month: int
    currency: str
    rate: str | None
    documents: int
    net_minor: int
    gross_minor: int
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class CostRow:
    """The cost of goods on issued invoices of one party and month, in a cost currency."""

    party_id: int
    month: int
    currency: str
    cost_minor: int


@dataclass(frozen=True, slots=True)
class ProductSalesRow:
    """Issued invoice or credit note lines of one party and product (None: free text)."""

    party_id: int
    product_id: int | None
    kind: str
    month: int
    currency: str
    rate: str | None
    net_minor: int
    cost_currency: str | None
    cost_minor: int


@dataclass(frozen=True, slots=True)
class ServiceCountRow:
    """How many interactions of ``kind`` (or ``dunning`` letters) a party had in a month;
    interactions that are dunning letters count as ``dunning`` only."""

    party_id: int
    month: int
    kind: str
    count: int


@dataclass(frozen=True, slots=True)
class CreditDaysRow:
    """Part of an invoice's gross amount and how long it stayed open: settled (paid or
    credited) on ``settled_on``, or still open (``settled_on`` None)."""

    party_id: int
    currency: str
    rate: str | None
    issued_on: date
    settled_on: date | None
    amount_minor: int


@dataclass(frozen=True, slots=True)
class OpenDealRow:
    """An open deal with its stage's name and its effective probability (basis points)."""

    id: int
    title: str
    stage: str
    amount_minor: int
    currency: str
    probability_bp: int
    expected_close: date | None


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    """An open (or in progress) complaint."""

    id: int
    subject: str
    priority: str
    status: str
    occurred_at: datetime
    resolution_due: datetime | None


@dataclass(frozen=True, slots=True)
class ComplaintCounts:
    """A party's complaints since a day, and those still open (whenever raised)."""

    recent: int
    open: int


@dataclass(frozen=True, slots=True)
class DebtorRow:
    """A party's open invoices in the base currency, the overdue part, the oldest due day."""

    party_id: int
    open_base_minor: int
    overdue_base_minor: int
    oldest_due: date | None


@dataclass(frozen=True, slots=True)
class ReceivableRow:
    """What invoices issued on or before a day still had open on that day, by currency and
    rate, split into not yet due (``current``) and due."""

    currency: str
    rate: str | None
    current: bool
    amount_minor: int


@dataclass(frozen=True, slots=True)
class PartyDimension:
    """The owner and segment a party's figures are grouped by."""

    party_id: int
    owner_id: int | None
    segment: str


class IntelligenceReads(Protocol):
    """Aggregated reads for customer intelligence, in one unit of work's transaction."""

    def sales(self, scope: Scope) -> list[SalesRow]: ...
    def costs(self, scope: Scope) -> list[CostRow]: ...
    def product_sales(self, scope: Scope) -> list[ProductSalesRow]: ...
    def service_counts(self, scope: Scope) -> list[ServiceCountRow]: ...
    def credit_days(self, scope: Scope) -> list[CreditDaysRow]: ...
    def open_deals(self, party_id: int, limit: int) -> list[OpenDealRow]: ...
    def open_complaints(self, party_id: int, limit: int) -> list[ComplaintRow]: ...
    def complaint_counts(self, party_id: int, since: datetime) -> ComplaintCounts: ...
    def nps_answers(self, party_id: int) -> list[tuple[date, int]]:
        """``(answered_on, score)`` of the party's NPS answers, oldest first."""

    def oldest_overdue(self, party_id: int, today: date) -> date | None:
        """The earliest due day of the party's open invoices due before ``today``."""

    def debtors(self, today: date, limit: int) -> list[DebtorRow]:
        """The parties owing most on open invoices (base currency), largest first."""

    def receivables_at(self, day: date) -> list[ReceivableRow]: ...
    def open_receivables(self, today: date) -> tuple[int, int]:
        """Open invoices now in the base currency (minor units): all, and the overdue part."""

    def dimensions(self) -> list[PartyDimension]: ...
    def change_token(self) -> int:
        """A number that grows with every change to billing documents or payments."""


class IntelligenceUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also offers the intelligence reads."""

    @property
    def intelligence(self) -> IntelligenceReads:
        """Aggregated reads for customer intelligence in this transaction."""


class IntelligenceUnitOfWorkFactory(Protocol):
    """Opens units of work with the intelligence reads."""

    def __call__(self, readonly: bool = False) -> IntelligenceUnitOfWork: ...
