"""Recurring contracts: a price billed every month, quarter or year from a start date.

Billing dates are always computed from the start date, never from the previous billing
date, so a contract started on the 31st bills on the last day of short months and returns to
the 31st whenever the month has one::

    >>> [billing_date(date(2026, 1, 31), i, Frequency.MONTHLY).isoformat() for i in range(4)]
    ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']

(Adding a month to 28 February cumulatively would give 28 March and drift for good.)

A contract's price can change over time; each :class:`PriceChange` applies from its
effective date until the next one::

    >>> c = Contract(party_id=7, description="Support", currency="EUR",
    ...     frequency=Frequency.QUARTERLY, start=date(2026, 1, 15), next_billing=date(2026, 1, 15),
    ...     prices=(PriceChange(date(2026, 1, 15), Decimal("300.00")),))
    >>> c = change_price(c, date(2026, 7, 1), Decimal("330.00"))
    >>> for day in due_billings(c, date(2026, 12, 31)):
    ...     print(day, price_on(c, day))
    2026-01-15 300.00
    2026-04-15 300.00
    2026-07-15 330.00
    2026-10-15 330.00

``end`` is the last day of service, inclusive: a billing date on ``end`` is billed, one after
it is not. The service bills the dates :func:`due_billings` returns, one by one, calling
:func:`advance` after each; once the next billing date lies past ``end`` the contract is
``ended``.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from crmledger.core.currencies import iso_currency
from crmledger.core.errors import ExcessPrecisionError, InvalidFieldError, TransitionError
from crmledger.core.money import to_minor


class Frequency(StrEnum):
    """How often a contract bills."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        """Months between two billing dates."""
        return {"monthly": 1, "quarterly": 3, "yearly": 12}[self.value]


class ContractStatus(StrEnum):
    """Whether a contract still bills."""

    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PriceChange:
    """The price per billing period from ``effective`` on."""

    effective: date
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    """A recurring sale to a party. ``prices`` is sorted; the first applies from ``start``."""

    id: int | None = None
    party_id: int
    product_id: int | None = None
    description: str
    currency: str
    frequency: Frequency
    start: date
    end: date | None = None
    next_billing: date
    prices: tuple[PriceChange, ...]
    status: ContractStatus = ContractStatus.ACTIVE
    version: int = 1


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` (may be negative), clamped to the end of a short month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def billing_date(start: date, period_index: int, frequency: Frequency) -> date:
    """The billing date of period ``period_index`` (0 = ``start``), always from the start."""
    if period_index < 0:
        raise InvalidFieldError("period_index", "billing periods count from 0")
    return add_months(start, period_index * frequency.months)


def period_index(start: date, day: date, frequency: Frequency) -> int | None:
    """Which period ``day`` is the billing date of, or ``None`` if it is not one."""
    months = (day.year - start.year) * 12 + day.month - start.month
    index, rest = divmod(months, frequency.months)
    if rest or index < 0 or billing_date(start, index, frequency) != day:
        return None
    return index


def _scale(currency: str, scales: Mapping[str, int] | None) -> int:
    if scales is not None and currency in scales:
        return scales[currency]
    found = iso_currency(currency)
    if found is None:
        raise InvalidFieldError("currency", f"unknown currency {currency!r}")
    return found.scale


def _check_amount(field: str, amount: Decimal, currency: str, scale: int) -> None:
    if not amount.is_finite() or amount < 0:
        raise InvalidFieldError(field, "a price must be a number of at least 0")
    try:
        to_minor(amount, scale, currency)
    except ExcessPrecisionError as err:
        raise InvalidFieldError(field, str(err)) from err


def _check_prices(contract: Contract, scale: int) -> None:
    if not contract.prices:
        raise InvalidFieldError("prices", "a contract needs a price")
    if contract.prices[0].effective != contract.start:
        raise InvalidFieldError("prices[0].effective", "the first price applies from the start")
    previous: date | None = None
    for index, change in enumerate(contract.prices):
        if previous is not None and change.effective <= previous:
            raise InvalidFieldError(
                f"prices[{index}].effective", "price changes are sorted, one per date"
            )
        previous = change.effective
        _check_amount(f"prices[{index}].amount", change.amount, contract.currency, scale)


def validate_contract(contract: Contract, scales: Mapping[str, int] | None = None) -> Contract:
    """Return ``contract`` if it keeps every rule, else raise :class:`InvalidFieldError`.

    ``end`` is not before ``start``; ``next_billing`` is one of the contract's billing dates;
    prices are sorted by a strictly increasing effective date, the first one effective on
    ``start``, each at least 0 within the currency's scale (``scales`` declares non-ISO
    currencies).
    """
    scale = _scale(contract.currency, scales)
    if contract.end is not None and contract.end < contract.start:
        raise InvalidFieldError("end", "a contract cannot end before it starts")
    if period_index(contract.start, contract.next_billing, contract.frequency) is None:
        raise InvalidFieldError(
            "next_billing", f"{contract.next_billing.isoformat()} is not a billing date"
        )
    _check_prices(contract, scale)
    return contract


def price_on(contract: Contract, day: date) -> Decimal:
    """The price that applies on ``day`` (the latest change effective on or before it)."""
    applicable = [change.amount for change in contract.prices if change.effective <= day]
    if not applicable:
        raise InvalidFieldError("day", f"the contract has no price on {day.isoformat()}")
    return applicable[-1]


def _after_end(contract: Contract, day: date) -> bool:
    return contract.end is not None and day > contract.end


def due_billings(contract: Contract, through: date) -> list[date]:
    """Billing dates from ``next_billing`` up to ``through`` and ``end`` (both inclusive).

    An ended or cancelled contract has none.
    """
    if contract.status is not ContractStatus.ACTIVE:
        return []
    index = period_index(contract.start, contract.next_billing, contract.frequency)
    if index is None:
        raise InvalidFieldError("next_billing", "next_billing is not a billing date")
    due: list[date] = []
    day = contract.next_billing
    while day <= through and not _after_end(contract, day):
        due.append(day)
        index += 1
        day = billing_date(contract.start, index, contract.frequency)
    return due


def advance(contract: Contract, billed: date) -> Contract:
    """Record that ``billed`` (the contract's ``next_billing``) was billed; move to the next.

    The contract becomes ``ended`` when the following billing date lies past ``end``.
    """
    if contract.status is not ContractStatus.ACTIVE:
        raise TransitionError(f"a {contract.status} contract does not bill")
    if billed != contract.next_billing:
        raise InvalidFieldError(
            "billed", f"the next billing date is {contract.next_billing.isoformat()}"
        )
    if _after_end(contract, billed):
        raise InvalidFieldError("billed", "the billing date lies after the contract's end")
    index = period_index(contract.start, billed, contract.frequency)
    if index is None:
        raise InvalidFieldError("billed", f"{billed.isoformat()} is not a billing date")
    following = billing_date(contract.start, index + 1, contract.frequency)
    status = ContractStatus.ENDED if _after_end(contract, following) else contract.status
    return replace(contract, next_billing=following, status=status)


def change_price(
    contract: Contract,
    effective: date,
    amount: Decimal,
    scales: Mapping[str, int] | None = None,
) -> Contract:
    """Add a price change; ``effective`` lies within the contract, on a date with no change."""
    if contract.status is not ContractStatus.ACTIVE:
        raise TransitionError(f"the price of a {contract.status} contract cannot change")
    if effective < contract.start or _after_end(contract, effective):
        raise InvalidFieldError("effective", "a price change takes effect within the contract")
    if any(change.effective == effective for change in contract.prices):
        raise InvalidFieldError("effective", f"the price already changes on {effective}")
    _check_amount("amount", amount, contract.currency, _scale(contract.currency, scales))
    prices = sorted((*contract.prices, PriceChange(effective, amount)), key=lambda c: c.effective)
    return replace(contract, prices=tuple(prices))


def cancel(contract: Contract) -> Contract:
    """Stop an active contract from billing again; an ended or cancelled one cannot be."""
    if contract.status is not ContractStatus.ACTIVE:
        raise TransitionError(f"a {contract.status} contract cannot be cancelled")
    return replace(contract, status=ContractStatus.CANCELLED)
