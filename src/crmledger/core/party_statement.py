"""A customer's or a vendor's statement of account, ready to print.

For a period and per currency: the balance before it, every document and payment in it
with the balance after each, the balance at its end, and how what is open at the end ages.
A line raises the balance where the party owes more (an invoice, a bill, a refund) and
lowers it otherwise (a credit note, a payment), so::

    closing = opening + sum(line.amount for line in lines)
            = sum(aging) + credit                     # what is open at the end

Amounts are :class:`~decimal.Decimal` in the currency's decimals; a renderer
(:mod:`crmledger.formats.statement_pdf`) formats them in the party's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.aging import SIDES, Item, OpenPart, bucket_index, buckets_of
from crmledger.core.billing.printable import Company, Customer
from crmledger.core.money import from_minor

#: Which statement a party gets: the kinds of item on its control account.
STATEMENT_KINDS = {"customer": "receivable", "vendor": "payable"}


@dataclass(frozen=True, slots=True)
class StatementLine:
    """A document or payment; ``amount`` raises (positive) or lowers the balance."""

    day: date
    kind: str
    number: str
    due_on: date | None
    amount: Decimal
    balance: Decimal

    @property
    def charge(self) -> Decimal | None:
        """The amount when it raises the balance."""
        return self.amount if self.amount > 0 else None

    @property
    def credit(self) -> Decimal | None:
        """The amount, as a positive number, when it lowers the balance."""
        return -self.amount if self.amount < 0 else None


@dataclass(frozen=True, slots=True)
class CurrencyStatement:
    """The statement in one currency; ``aging`` holds what is owed at the end per bucket
    (current first), ``credit`` the party's unapplied credit at the end (zero or less)."""

    currency: str
    scale: int
    opening: Decimal
    lines: tuple[StatementLine, ...]
    closing: Decimal
    aging: tuple[Decimal, ...]
    credit: Decimal

    @property
    def charges(self) -> Decimal:
        """What the period's documents added."""
        zero = from_minor(0, self.scale)
        return sum((line.amount for line in self.lines if line.amount > 0), zero)

    @property
    def credits(self) -> Decimal:
        """What the period's credit notes and payments took off (a positive number)."""
        zero = from_minor(0, self.scale)
        return zero - sum((line.amount for line in self.lines if line.amount < 0), zero)


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyStatement:
    """A statement of account for ``buyer`` from ``seller`` (our company): ``kind`` is
    ``customer`` or ``vendor``; ``language`` is the party's."""

    kind: str
    party_id: int
    start: date
    end: date
    language: str
    seller: Company
    buyer: Customer
    bounds: tuple[int, ...]
    sections: tuple[CurrencyStatement, ...]

    @property
    def bucket_labels(self) -> tuple[str, ...]:
        """The aging buckets' labels, current first."""
        return tuple(b.label for b in buckets_of(self.bounds))

    @property
    def numbers(self) -> tuple[str, ...]:
        """The numbers of every document and payment listed."""
        return tuple(line.number for s in self.sections for line in s.lines)


def _section(
    currency: str,
    scale: int,
    items: Sequence[Item],
    parts: Sequence[OpenPart],
    period: tuple[date, date],
    bounds: Sequence[int],
) -> CurrencyStatement:
    start, end = period
    zero = from_minor(0, scale)
    opening = zero + sum(
        (from_minor(SIDES[i.kind] * i.amount, scale) for i in items if i.day < start), zero
    )
    lines = []
    balance = opening
    for item in items:
        if start <= item.day <= end:
            amount = from_minor(SIDES[item.kind] * item.amount, scale)
            balance += amount
            line = StatementLine(item.day, item.kind, item.number, item.due_on, amount, balance)
            lines.append(line)
    aging = [zero] * (len(bounds) + 2)
    credit = zero
    for part in parts:
        owed = from_minor(SIDES[part.item.kind] * part.open, scale)
        if owed > 0:
            aging[bucket_index(part.item.due_on, end, bounds)] += owed
        else:
            credit += owed
    return CurrencyStatement(currency, scale, opening, tuple(lines), balance, tuple(aging), credit)


def statement_sections(
    items: Sequence[Item],
    parts: Sequence[OpenPart],
    period: tuple[date, date],
    bounds: Sequence[int],
    scales: Mapping[str, int],
    fallback: str,
) -> tuple[CurrencyStatement, ...]:
    """One section per currency with a balance, a line or something open (``items`` by
    day, ``parts`` open at the period's end); ``fallback``'s empty one when none has."""
    currencies = sorted({i.currency for i in items if i.day <= period[1]})
    sections = []
    for currency in currencies:
        section = _section(
            currency,
            scales.get(currency, 2),
            [i for i in items if i.currency == currency],
            [p for p in parts if p.item.currency == currency],
            period,
            bounds,
        )
        if section.opening or section.lines or section.closing or any(section.aging):
            sections.append(section)
    if not sections:
        sections.append(_section(fallback, scales.get(fallback, 2), [], [], period, bounds))
    return tuple(sections)
