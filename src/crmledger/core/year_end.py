"""The year-end closing entry: every income and expense balance moved to retained earnings.

The entry is dated the last day of the year, in the closing journal ``CL``. Each account is
closed in each commodity it holds: an amount in the base currency by its opposite, an amount
in another currency that has a base value (an invoice in dollars booked at its rate) by its
opposite at that base value as a total price, an amount without one in its own commodity.
Retained earnings takes the sum, so the entry balances in every commodity::

    >>> entry = closing_entry(2026, [
    ...     Bucket("Income:Sales", "EUR", Decimal("-1000.00"), Decimal(0), Decimal("-1000.00")),
    ...     Bucket("Expenses:Rent", "EUR", Decimal("400.00"), Decimal(0), Decimal("400.00")),
    ... ], "Equity:RetainedEarnings", "EUR")
    >>> [(p.account, p.amount) for p in entry.postings]  # doctest: +NORMALIZE_WHITESPACE
    [('Income:Sales', Decimal('1000.00')), ('Expenses:Rent', Decimal('-400.00')),
     ('Equity:RetainedEarnings', Decimal('-600.00'))]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.statements import CLOSING_JOURNAL

#: The tag every closing entry carries.
CLOSING_TAG = "closing"


@dataclass(frozen=True, slots=True)
class Bucket:
    """What one account holds in one commodity: ``amount`` in all, ``open`` of it without
    a value in the base currency, and ``base``, the base value of the rest."""

    account: str
    commodity: str
    amount: Decimal
    open: Decimal
    base: Decimal


def reference_of(year: int) -> str:
    """The reference of the closing entry of ``year``: ``CLOSE-2026``."""
    return f"CLOSE-{year}"


def _closing(bucket: Bucket, base: str, retained: dict[str, Decimal]) -> list[Posting]:
    """The postings that take ``bucket`` to zero; what retained earnings takes is added to
    ``retained`` per commodity."""
    name, code = bucket.account, bucket.commodity
    if code == base:
        retained[base] = retained.get(base, Decimal(0)) + bucket.base
        return [Posting(name, -bucket.base, base)] if bucket.base else []
    lines = []
    valued = bucket.amount - bucket.open
    unpriced = bucket.open
    if valued and bucket.base and (valued > 0) == (bucket.base > 0):
        lines.append(Posting(name, -valued, code, price=Conversion(abs(bucket.base), base, True)))
    else:
        unpriced += valued
        if bucket.base:
            lines.append(Posting(name, -bucket.base, base))
    if unpriced:
        lines.append(Posting(name, -unpriced, code))
    retained[base] = retained.get(base, Decimal(0)) + bucket.base
    retained[code] = retained.get(code, Decimal(0)) + unpriced
    return lines


def closing_entry(
    year: int, buckets: Iterable[Bucket], retained_earnings: str, base: str
) -> JournalEntry | None:
    """The closing entry of ``year`` for the income and expense ``buckets`` (their
    balances on 31 December); ``None`` when there is nothing to close."""
    retained: dict[str, Decimal] = {}
    postings: list[Posting] = []
    for bucket in buckets:
        postings += _closing(bucket, base, retained)
    postings += [Posting(retained_earnings, v, c) for c, v in sorted(retained.items()) if v]
    if not postings:
        return None
    return JournalEntry(
        date=date(year, 12, 31),
        narration=f"Year-end close {year}: result to {retained_earnings}",
        postings=tuple(postings),
        journal=CLOSING_JOURNAL,
        reference=reference_of(year),
        tags=(CLOSING_TAG,),
    )
