"""What the dashboard reads beyond the ledger's sums: a handful of ``GROUP BY`` queries over
documents, deals and answers, each returning a few rows whatever the size of the book.

Amounts are minor units; ``month`` is ``yyyymm``::

    DueRow(due_on=date(2026, 5, 31), documents=14, open_base_minor=1_250_000)
    MarginRow(party_id=7, revenue_minor=900_000, cost_minor=350_000, foreign=False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from crmledger.services.intelligence_ports import IntelligenceUnitOfWork


@dataclass(frozen=True, slots=True)
class DueRow:
    """Open invoices due on one day (``None``: no due day): how many, and what they still
    owe in the base currency."""

    due_on: date | None
    documents: int
    open_base_minor: int


@dataclass(frozen=True, slots=True)
class StageRow:
    """Open deals of one pipeline stage in one currency: their amounts, and the sum of each
    amount times its effective probability in basis points (so one division rounds)."""

    pipeline: str
    stage: str
    currency: str
    deals: int
    amount_minor: int
    weighted_bp_minor: int


@dataclass(frozen=True, slots=True)
class NpsRow:
    """NPS answers of one day: how many, promoters (9-10) and detractors (0-6)."""

    day: date
    responses: int
    promoters: int
    detractors: int


@dataclass(frozen=True, slots=True)
class MarginRow:
    """A customer's issued invoices less credit notes (net) and cost of goods in a period.

    When ``foreign`` is false every amount was in the base currency and the minor units are
    exact base units; when true, some were not, and the figures must be read per currency
    (:meth:`DashboardReads.party_sales`) instead."""

    party_id: int
    revenue_minor: int
    cost_minor: int
    foreign: bool


@dataclass(frozen=True, slots=True)
class PartySales:
    """The net of one party's issued invoices or credit notes of one month, currency and
    booked rate."""

    party_id: int
    kind: str
    month: int
    currency: str
    rate: str | None
    net_minor: int


@dataclass(frozen=True, slots=True)
class PartyCost:
    """The cost of goods of one party's issued invoices of one month, in a cost currency."""

    party_id: int
    month: int
    currency: str
    cost_minor: int


class DashboardReads(Protocol):
    """Aggregated reads for the dashboard, in one unit of work's transaction."""

    def open_invoices(self) -> list[DueRow]:
        """Open invoices by due day."""

    def pipeline(self) -> list[StageRow]:
        """Open deals by pipeline, stage and currency."""

    def nps(self, start: date, end: date) -> list[NpsRow]:
        """NPS answers dated ``start`` to ``end`` by day."""

    def margins(self, start: date, end: date, base: str, limit: int) -> list[MarginRow]:
        """The ``limit`` customers with the largest margin (revenue less cost of goods) of
        those with base-currency amounts only, largest first; and every customer with
        amounts in other currencies (``foreign``), whose figures are left to the caller."""

    def party_sales(self, start: date, end: date, parties: Sequence[int]) -> list[PartySales]:
        """The issued invoices and credit notes of ``parties`` dated ``start`` to ``end``."""

    def party_costs(self, start: date, end: date, parties: Sequence[int]) -> list[PartyCost]:
        """The cost of goods of ``parties``' invoices dated ``start`` to ``end``."""


class DashboardUnitOfWork(IntelligenceUnitOfWork, Protocol):
    """A unit of work that also offers the dashboard's reads (and intelligence's, for the
    billing change token)."""

    @property
    def dashboard(self) -> DashboardReads:
        """Aggregated reads for the dashboard in this transaction."""


class DashboardUnitOfWorkFactory(Protocol):
    """Opens units of work with the dashboard's reads."""

    def __call__(self, readonly: bool = False) -> DashboardUnitOfWork: ...
