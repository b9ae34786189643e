"""From aggregated rows to figures in the base currency: revenue, cost of goods and what
serving each customer took, per customer and month.

Amounts convert at each document's booked rate (``billing_documents.rate``), rounded half-even
to the base currency's places once per aggregated row: per party, month, currency and rate
for revenue, so a book in one currency adds up to the last cent. A cost of goods counted in
another currency than the base converts at the rate table's rate on the month's last day.

Money-days of credit (for the financing cost) are each invoice's amounts times the days they
stayed open: settled amounts from the invoice's date to the allocation's date, what is still
open until ``today``; they count in the month the invoice was issued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.intelligence import CustomerActivity, days_between, month_index, month_of_key
from crmledger.core.money import from_minor, quantize
from crmledger.core.profitability import ServiceEvents
from crmledger.services.billing_common import base_currency, fx_on
from crmledger.services.intelligence_ports import (
    CostRow,
    CreditDaysRow,
    SalesRow,
    ServiceCountRow,
)
from crmledger.services.ports import UnitOfWork
from crmledger.services.products import book_scales, scale_of


@dataclass(frozen=True, slots=True)
class Money:
    """Converts minor units of any currency to the base currency."""

    base: str
    base_scale: int
    scales: Mapping[str, int]
    cost_rates: Mapping[tuple[str, int], Decimal] = field(default_factory=dict)

    def scale(self, currency: str) -> int:
        """The decimal places of ``currency``."""
        return scale_of(currency, self.scales)

    def amount(self, minor: int, currency: str) -> Decimal:
        """``minor`` units of ``currency`` as a decimal."""
        return from_minor(minor, self.scale(currency))

    def to_base(self, minor: int, currency: str, rate: str | None) -> Decimal:
        """``minor`` units of ``currency`` booked at ``rate``, in the base currency."""
        value = self.amount(minor, currency)
        if currency == self.base or rate is None:
            return quantize(value, self.base_scale)
        return quantize(value * Decimal(rate), self.base_scale)

    def cost_to_base(self, minor: int, currency: str, month: int) -> Decimal:
        """A cost of goods of month ``yyyymm`` in the base currency."""
        value = self.amount(minor, currency)
        if currency == self.base:
            return quantize(value, self.base_scale)
        return quantize(value * self.cost_rates[(currency, month)], self.base_scale)

    @property
    def zero(self) -> Decimal:
        """Nothing, at the base currency's scale."""
        return from_minor(0, self.base_scale)


def _month_end(key: int) -> date:
    year, month = divmod(key, 100)
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def money_of(uow: UnitOfWork, costs: Iterable[tuple[str, int]] = ()) -> Money:
    """The book's base currency and scales, with the rates the ``(cost currency, month)``
    pairs need (a missing rate is refused as invoicing refuses it)."""
    base = base_currency(uow)
    scales = book_scales(uow)
    rates = {
        (currency, month): fx_on(uow, currency, _month_end(month)).rate
        for currency, month in set(costs)
        if currency != base
    }
    return Money(base, scale_of(base, scales), scales, rates)


@dataclass(frozen=True, slots=True)
class Cell:
    """What one customer brought and took in one month, in the base currency."""

    revenue: Decimal = Decimal(0)
    cost_of_goods: Decimal = Decimal(0)
    events: ServiceEvents = field(default_factory=ServiceEvents)

    def __add__(self, other: Cell) -> Cell:
        return Cell(
            self.revenue + other.revenue,
            self.cost_of_goods + other.cost_of_goods,
            self.events + other.events,
        )


CellKey = tuple[int, int]  # party id, month (yyyymm)


def _month_key(day: date) -> int:
    return day.year * 100 + day.month


class _Tally:
    """One cell's running sums while rows are read (mutable: a book holds many rows)."""

    __slots__ = ("complaints", "credit_notes", "dunning", "goods", "kinds", "money_days", "revenue")

    def __init__(self, zero: Decimal) -> None:
        self.revenue = zero
        self.goods = zero
        self.kinds: dict[str, int] = {}
        self.complaints = self.credit_notes = self.dunning = 0
        self.money_days = Decimal(0)

    def count(self, kind: str, n: int) -> None:
        if kind == "complaint":
            self.complaints += n
        elif kind == "dunning":
            self.dunning += n
        else:
            self.kinds[kind] = self.kinds.get(kind, 0) + n

    def cell(self) -> Cell:
        events = ServiceEvents(
            self.kinds, self.complaints, self.credit_notes, self.dunning, self.money_days
        )
        return Cell(self.revenue, self.goods, events)


def cells(
    money: Money,
    sales: Sequence[SalesRow],
    costs: Sequence[CostRow],
    counts: Sequence[ServiceCountRow],
    credit: Sequence[CreditDaysRow],
    today: date,
) -> dict[CellKey, Cell]:
    """Everything per ``(party, month)``."""
    found: dict[CellKey, _Tally] = defaultdict(lambda: _Tally(money.zero))
    for s in sales:
        tally = found[(s.party_id, s.month)]
        value = money.to_base(s.net_minor, s.currency, s.rate)
        if s.kind == "invoice":
            tally.revenue += value
        else:
            tally.revenue -= value
            tally.credit_notes += s.documents
    for c in costs:
        found[(c.party_id, c.month)].goods += money.cost_to_base(c.cost_minor, c.currency, c.month)
    for n in counts:
        found[(n.party_id, n.month)].count(n.kind, n.count)
    for d in credit:
        days = days_between(d.issued_on, d.settled_on or today)
        money_days = money.to_base(d.amount_minor, d.currency, d.rate) * days
        found[(d.party_id, _month_key(d.issued_on))].money_days += money_days
    return {key: tally.cell() for key, tally in found.items()}


@dataclass(frozen=True, slots=True)
class History:
    """A customer's invoices over all time: how many, the first and last day, and the net
    revenue (invoices less credit notes) in the base currency."""

    party_id: int
    invoices: int
    first: date | None
    last: date | None
    revenue: Decimal


def histories(money: Money, sales: Iterable[SalesRow]) -> dict[int, History]:
    """Each party's :class:`History` from its sales rows."""
    found: dict[int, History] = {}
    for s in sales:
        old = found.get(s.party_id) or History(s.party_id, 0, None, None, money.zero)
        value = money.to_base(s.net_minor, s.currency, s.rate)
        if s.kind != "invoice":
            found[s.party_id] = History(
                s.party_id, old.invoices, old.first, old.last, old.revenue - value
            )
            continue
        first = s.first_day if old.first is None else min(old.first, s.first_day)
        last = s.last_day if old.last is None else max(old.last, s.last_day)
        found[s.party_id] = History(
            s.party_id, old.invoices + s.documents, first, last, old.revenue + value
        )
    return found


def activity(found: Mapping[int, History]) -> list[CustomerActivity]:
    """RFM's input: the parties with at least one invoice."""
    return [
        CustomerActivity(h.party_id, h.last, h.invoices, h.revenue)
        for h in sorted(found.values(), key=lambda h: h.party_id)
        if h.invoices and h.last is not None
    ]


def purchase_months(sales: Iterable[SalesRow]) -> set[tuple[int, int]]:
    """``(party, month index)`` of every month a party was invoiced."""
    return {(s.party_id, month_of_key(s.month)) for s in sales if s.kind == "invoice"}


def months_active(first: date, today: date) -> int:
    """Months from the first purchase's month to this one, both counted."""
    return month_index(today) - month_index(first) + 1
