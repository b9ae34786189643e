"""Journal entries: frozen values and the pure rules that govern them.

An entry is two or more postings that balance. A posting may carry a *conversion* (a cost
``{...}`` or a price ``@``/``@@`` in plain-text-accounting terms); its *weight* is then
counted in the conversion's commodity instead of its own::

    >>> p1 = Posting("Assets:Bank:EUR", Decimal("100"), "EUR",
    ...              price=Conversion(Decimal("1.10"), "USD"))
    >>> p2 = Posting("Assets:Bank:USD", Decimal("-110"), "USD")
    >>> check_balanced((p1, p2), {"EUR": 2, "USD": 2})

Groups without any conversion must sum to exactly zero. A group touched by conversions may
leave a residual of at most half a minor unit per converted posting, the rounding a unit
price can cause (the same tolerance ledger-cli and beancount apply).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from crmledger.core.errors import InvalidEntryError, UnbalancedEntryError, UnknownCommodityError
from crmledger.core.money import quantize, to_minor

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EntryState(StrEnum):
    """Life of an entry: a draft may change; posted and reversed entries never do."""

    DRAFT = "draft"
    POSTED = "posted"
    REVERSED = "reversed"


@dataclass(frozen=True, slots=True)
class Conversion:
    """A cost or price attached to a posting: ``number`` per unit, or in total."""

    number: Decimal
    commodity: str
    total: bool = False

    def weight_of(self, units: Decimal) -> Decimal:
        """Value of ``units`` in this conversion's commodity."""
        if self.total:
            return self.number if units >= 0 else -self.number
        return units * self.number


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of an entry: ``amount`` of ``commodity`` to ``account``."""

    account: str
    amount: Decimal
    commodity: str
    cost: Conversion | None = None
    price: Conversion | None = None
    party: str | None = None
    memo: str = ""

    @property
    def conversion(self) -> Conversion | None:
        """The conversion that weighs this posting: its cost if any, else its price."""
        return self.cost or self.price

    @property
    def weight_commodity(self) -> str:
        """The commodity in which this posting counts toward the balance."""
        conversion = self.conversion
        return conversion.commodity if conversion else self.commodity

    @property
    def weight(self) -> Decimal:
        """Exact value of the posting in :attr:`weight_commodity`."""
        conversion = self.conversion
        return conversion.weight_of(self.amount) if conversion else self.amount

    def negated(self) -> Posting:
        """The same posting with the opposite sign (a reversal line)."""
        return replace(self, amount=-self.amount)


Meta = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A journal entry (voucher). ``number`` and ``hash`` are set when it is posted."""

    date: date
    narration: str
    postings: tuple[Posting, ...]
    journal: str = "GJ"
    payee: str | None = None
    party: str | None = None
    reference: str | None = None
    tags: tuple[str, ...] = ()
    meta: Meta = ()
    state: EntryState = EntryState.DRAFT
    id: int | None = None
    number: int | None = None
    hash: str | None = None
    previous_hash: str | None = None
    reverses: int | None = None
    reversed_by: int | None = None
    links: tuple[str, ...] = field(default=())
    year: int | None = None

    @property
    def fiscal_year(self) -> int:
        """The year whose sequence numbers this entry: as stored, else the calendar year."""
        return self.date.year if self.year is None else self.year


def check_shape(entry: JournalEntry) -> None:
    """Structural rules: two or more postings, a journal code, no zero-only entry."""
    if len(entry.postings) < 2:
        raise InvalidEntryError("an entry needs at least two postings")
    if not entry.journal or not entry.journal.isalnum():
        raise InvalidEntryError(f"journal code {entry.journal!r} must be alphanumeric")
    if all(p.amount == 0 for p in entry.postings):
        raise InvalidEntryError("an entry needs at least one non-zero posting")
    texts = (entry.narration, entry.payee or "", entry.reference or "", *entry.tags)
    if _CONTROL.search("\n".join(texts)):
        raise InvalidEntryError(
            "narration, payee, reference and tags must not hold control characters"
        )


def weights_minor(posting: Posting, scales: Mapping[str, int]) -> tuple[int, int]:
    """The posting's amount and its weight in minor units, as stored.

    The amount must fit its commodity's scale exactly; a converted weight is rounded
    half-even to the scale of the weight commodity.
    """
    amount_scale = _scale(scales, posting.commodity)
    amount_minor = to_minor(posting.amount, amount_scale, posting.commodity)
    if posting.conversion is None:
        return amount_minor, amount_minor
    weight_scale = _scale(scales, posting.weight_commodity)
    return amount_minor, int(quantize(posting.weight, weight_scale).scaleb(weight_scale))


def residuals(postings: tuple[Posting, ...]) -> dict[str, Decimal]:
    """Exact sum of weights per weight commodity."""
    sums: dict[str, Decimal] = {}
    for posting in postings:
        key = posting.weight_commodity
        sums[key] = sums.get(key, Decimal(0)) + posting.weight
    return sums


def check_balanced(postings: tuple[Posting, ...], scales: Mapping[str, int]) -> None:
    """Raise :class:`UnbalancedEntryError` unless every weight group balances."""
    converted: dict[str, int] = {}
    for posting in postings:
        _scale(scales, posting.commodity)
        if posting.conversion is not None:
            key = posting.weight_commodity
            converted[key] = converted.get(key, 0) + 1
    bad: dict[str, Decimal] = {}
    for commodity, residual in residuals(postings).items():
        tolerance = Decimal(converted.get(commodity, 0)).scaleb(-_scale(scales, commodity)) / 2
        if abs(residual) > tolerance:
            bad[commodity] = residual
    if bad:
        raise UnbalancedEntryError(bad)


def reversal_of(entry: JournalEntry, on: date, narration: str | None = None) -> JournalEntry:
    """A new draft entry that cancels ``entry`` line by line, dated ``on``."""
    return JournalEntry(
        date=on,
        narration=narration or f"Reversal of {entry.journal}/{entry.fiscal_year}/{entry.number}",
        postings=tuple(p.negated() for p in entry.postings),
        journal=entry.journal,
        payee=entry.payee,
        party=entry.party,
        reference=entry.reference,
        tags=entry.tags,
        reverses=entry.id,
    )


def _scale(scales: Mapping[str, int], commodity: str) -> int:
    try:
        return scales[commodity]
    except KeyError:
        raise UnknownCommodityError(commodity) from None
