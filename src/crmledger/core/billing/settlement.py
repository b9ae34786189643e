"""Settling documents: allocating money to open items, and the state that follows from it.

Every issued document and every payment has an *open* amount in its currency and an *open
base value* in the book's base currency. An allocation moves an amount from a credit (a
payment, a credit note) to a debit (an invoice), both in the same currency, and draws down
both open values::

    >>> items = [OpenItem(1, date(2026, 1, 5), Decimal("100.00"), Decimal("100.00")),
    ...          OpenItem(2, date(2026, 1, 9), Decimal("50.00"), Decimal("50.00"))]
    >>> allocations, left = oldest_first(Decimal("120.00"), items)
    >>> [(a.target, a.amount) for a in allocations], left
    ([(1, Decimal('100.00')), (2, Decimal('20.00'))], Decimal('0.00'))

An allocation's base value is the item's whole remaining open base when it settles the item,
else its proportional share rounded half-even, so a settled item always leaves exactly zero
behind in the base currency. Where the debit and the credit were booked at different rates,
their base shares differ and the difference is a realised exchange gain or loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import quantize


class InvoiceStatus(StrEnum):
    """Where an invoice (or bill) stands; ``void`` means credited in full."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


def status_of(gross: Decimal, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """The status of an issued document from what was paid and credited against it."""
    if credited >= gross:
        return InvoiceStatus.VOID
    if paid + credited >= gross:
        return InvoiceStatus.PAID
    if paid + credited > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.ISSUED


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open debit or credit: its id, the date it is ordered by, what is left open."""

    id: int
    on: date
    open: Decimal
    open_base: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    """``amount`` of a credit applied to the debit ``target``."""

    target: int
    amount: Decimal


def oldest_first(amount: Decimal, items: Sequence[OpenItem]) -> tuple[list[Allocation], Decimal]:
    """Spread ``amount`` over ``items``, oldest first (ties by id); return the allocations
    and what is left over."""
    left = amount
    allocations = []
    for item in sorted(items, key=lambda i: (i.on, i.id)):
        if left <= 0:
            break
        share = min(left, item.open)
        if share > 0:
            allocations.append(Allocation(item.id, share))
            left -= share
    return allocations, left


def chosen(
    amount: Decimal, items: Sequence[OpenItem], wanted: Sequence[Allocation]
) -> tuple[list[Allocation], Decimal]:
    """Check allocations a user chose: known open items, each within its open amount, in
    all no more than ``amount``; return them and what is left over."""
    by_id = {item.id: item for item in items}
    total = Decimal(0)
    seen: set[int] = set()
    for index, allocation in enumerate(wanted):
        where = f"allocations[{index}]"
        item = by_id.get(allocation.target)
        if item is None:
            raise InvalidFieldError(f"{where}.invoice_id", "not an open document of this party")
        if allocation.target in seen:
            raise InvalidFieldError(f"{where}.invoice_id", "allocated twice")
        seen.add(allocation.target)
        if allocation.amount <= 0 or allocation.amount > item.open:
            raise InvalidFieldError(
                f"{where}.amount", f"must be more than 0 and at most the open {item.open}"
            )
        total += allocation.amount
    if total > amount:
        raise InvalidFieldError("allocations", f"allocate at most {amount}, not {total}")
    return list(wanted), amount - total


def base_share(item: OpenItem, amount: Decimal, base_scale: int) -> Decimal:
    """The base value ``amount`` takes out of ``item``: all that is left when it settles
    the item, else the proportional share rounded half-even."""
    if amount == item.open:
        return item.open_base
    return quantize(item.open_base * amount / item.open, base_scale)
