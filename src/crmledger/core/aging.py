"""Receivables and payables aged by days overdue, as of any day, in the base currency.

An *item* is an issued document (invoice, credit note, bill) or a payment on a control
account. What is still open of it on a day is its amount less what allocations dated on or
before that day took from it; its open *base* value is drawn down the way the settlement
drew it (:func:`~crmledger.core.billing.settlement.base_share`, replayed in the order the
allocations were made), so the open base values of all items add up to the control
account's balance on that day, exchange differences included.

Items that a party owes (an invoice, a bill) fall in a bucket by how many days past their
due day they are; items in the party's favour (a credit note, a payment not yet allocated)
are its *unapplied credit*. Buckets are given by their upper day bounds::

    >>> parse_bounds("0,30,60,90")
    (30, 60, 90)
    >>> [b.label for b in buckets_of((30, 60, 90))]
    ['Current', '1-30', '31-60', '61-90', 'Over 90']
    >>> bucket_index(date(2026, 5, 20), date(2026, 6, 30), (30, 60, 90))   # 41 days
    2
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.billing.settlement import OpenItem, base_share
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import from_minor

#: The side of each item on its control account: +1 where the party owes (or is owed
#: less), -1 where it is the party's credit. Receivables: invoices and refunds against
#: credit notes and receipts; payables: bills and refunds from vendors against payments.
SIDES: dict[str, int] = {
    "invoice": 1,
    "refund": 1,
    "credit_note": -1,
    "receipt": -1,
    "bill": 1,
    "vendor_refund": 1,
    "vendor_payment": -1,
}
#: Per kind of aging, the kinds of document and of payment on its control account.
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "receivable": (("invoice", "credit_note"), ("receipt", "refund")),
    "payable": (("bill",), ("vendor_payment", "vendor_refund")),
}
DEFAULT_BOUNDS = (30, 60, 90)
MAX_BUCKETS = 12
MAX_DAYS = 3660

Key = tuple[str, int]  # ("document", id) or ("payment", id)


def parse_bounds(value: str | Sequence[int] | None) -> tuple[int, ...]:
    """Bucket bounds from ``"30,60,90"`` (a leading 0, the end of *current*, may be
    given); increasing whole days from 1 to 3660, at most 12."""
    if value is None:
        return DEFAULT_BOUNDS
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise InvalidFieldError("buckets", f"{value!r} is not whole days like 30,60,90")
        numbers = [int(p) for p in parts]
    else:
        numbers = list(value)
    if numbers[:1] == [0]:
        numbers = numbers[1:]
    if not numbers or len(numbers) > MAX_BUCKETS:
        raise InvalidFieldError("buckets", f"give 1 to {MAX_BUCKETS} day bounds, like 30,60,90")
    if numbers != sorted(set(numbers)) or not 1 <= numbers[0] <= numbers[-1] <= MAX_DAYS:
        raise InvalidFieldError("buckets", f"bounds increase, from 1 to {MAX_DAYS} days")
    return tuple(numbers)


@dataclass(frozen=True, slots=True)
class Bucket:
    """A bucket: ``low`` to ``high`` days overdue (``None``: no bound); bucket 0 is
    *current*: not yet due, or no due day."""

    index: int
    label: str
    low: int | None
    high: int | None


def buckets_of(bounds: Sequence[int]) -> tuple[Bucket, ...]:
    """Current, then one bucket per bound, then *over* the last bound."""
    found = [Bucket(0, "Current", None, 0)]
    low = 1
    for bound in bounds:
        found.append(Bucket(len(found), f"{low}-{bound}", low, bound))
        low = bound + 1
    found.append(Bucket(len(found), f"Over {bounds[-1]}", low, None))
    return tuple(found)


def days_overdue(due_on: date | None, as_of: date) -> int:
    """Days past ``due_on`` on ``as_of`` (0 when not yet due or without a due day)."""
    return 0 if due_on is None or due_on >= as_of else (as_of - due_on).days


def bucket_index(due_on: date | None, as_of: date, bounds: Sequence[int]) -> int:
    """The bucket of an item due on ``due_on``, seen on ``as_of``."""
    days = days_overdue(due_on, as_of)
    return 0 if days == 0 else 1 + sum(1 for bound in bounds if days > bound)


# -- what is open on a day -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """An issued document or a payment: its full ``amount`` (minor units of ``currency``,
    positive) and its value in the base currency when it was posted (``base``)."""

    key: Key
    kind: str
    number: str
    party_id: int
    currency: str
    day: date
    due_on: date | None
    amount: int
    base: int


@dataclass(frozen=True, slots=True)
class Move:
    """An allocation: ``amount`` of the credit item settled against the debit item."""

    id: int
    debit: Key
    credit: Key
    amount: int
    on: date


@dataclass(frozen=True, slots=True)
class OpenPart:
    """What is open of ``item`` on a day, in its currency and in the base currency (minor
    units, positive as the item's own amount)."""

    item: Item
    open: int
    open_base: int


def _share(state: list[int], amount: int) -> int:
    if state[0] == 0:
        return 0
    item = OpenItem(0, date.min, Decimal(state[0]), Decimal(state[1]))
    return int(base_share(item, Decimal(amount), 0))


def open_on(items: Iterable[Item], moves: Iterable[Move], as_of: date) -> list[OpenPart]:
    """Each item's open part on ``as_of`` (items with nothing open are left out).

    Every allocation is replayed in the order it was made, so each takes the base share
    it took when it was made; those dated after ``as_of`` are then given back.
    """
    found = list(items)
    state = {i.key: [i.amount, i.base] for i in found}
    drawn = {i.key: [0, 0] for i in found}
    for move in sorted(moves, key=lambda m: m.id):
        for key in (move.debit, move.credit):
            current = state.get(key)
            if current is None:
                continue
            share = _share(current, move.amount)
            current[0] -= move.amount
            current[1] -= share
            if move.on <= as_of:
                drawn[key][0] += move.amount
                drawn[key][1] += share
    parts = []
    for item in found:
        dated = item.day <= as_of
        amount = (item.amount if dated else 0) - drawn[item.key][0]
        base = (item.base if dated else 0) - drawn[item.key][1]
        if amount or base:
            parts.append(OpenPart(item, amount, base))
    return parts


# -- the report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgedItem:
    """An open item as the report shows it: ``open`` in its currency and ``base`` in the
    base currency, positive where the party owes, negative for its credit; ``bucket`` is
    ``None`` for credit."""

    source: str
    id: int
    kind: str
    number: str
    day: date
    due_on: date | None
    days_overdue: int
    currency: str
    open: Decimal
    base: Decimal
    bucket: int | None


@dataclass(frozen=True, slots=True)
class AgedParty:
    """A party's open items: per bucket, its unapplied credit (zero or less), the total."""

    party_id: int
    name: str
    buckets: tuple[Decimal, ...]
    credit: Decimal
    total: Decimal
    items: tuple[AgedItem, ...]


@dataclass(frozen=True, slots=True)
class AgingReport:
    """Receivables or payables on ``as_of`` in ``currency`` (the base currency), and the
    balance of ``control_account`` they reconcile with (positive where owed)."""

    kind: str
    as_of: date
    currency: str
    scale: int
    bounds: tuple[int, ...]
    parties: tuple[AgedParty, ...]
    totals: tuple[Decimal, ...]
    credit: Decimal
    total: Decimal
    control_account: str
    control: Decimal

    @property
    def buckets(self) -> tuple[Bucket, ...]:
        """The buckets, current first."""
        return buckets_of(self.bounds)

    @property
    def difference(self) -> Decimal:
        """What the control account holds beyond the open items (a revaluation, an
        entry made by hand); zero when they reconcile."""
        return self.control - self.total

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader should know about the figures."""
        control = f"{self.control_account} on {self.as_of.isoformat()}: {self.control:,f}"
        if not self.difference:
            return (f"{control} {self.currency}, the total above.",)
        return (
            f"{control} {self.currency}; {self.difference:,f} of it is not from open "
            "documents or payments (a revaluation or an entry made by hand).",
        )


@dataclass(frozen=True, slots=True)
class Scales:
    """Decimal places: the base currency's and each currency's."""

    base: int
    currencies: Mapping[str, int]


def aged_item(part: OpenPart, as_of: date, bounds: Sequence[int], scales: Scales) -> AgedItem:
    """``part`` as the report shows it."""
    item = part.item
    side = SIDES[item.kind]
    base = from_minor(side * part.open_base, scales.base)
    owed = base > 0 or (base == 0 and side * part.open > 0)
    return AgedItem(
        source=item.key[0],
        id=item.key[1],
        kind=item.kind,
        number=item.number,
        day=item.day,
        due_on=item.due_on,
        days_overdue=days_overdue(item.due_on, as_of) if owed else 0,
        currency=item.currency,
        open=from_minor(side * part.open, scales.currencies.get(item.currency, 2)),
        base=base,
        bucket=bucket_index(item.due_on, as_of, bounds) if owed else None,
    )


def aged_party(
    party_id: int, name: str, items: Sequence[AgedItem], size: int, zero: Decimal
) -> AgedParty:
    """A party's row from its aged items (``size`` buckets; ``zero`` at the base scale)."""
    buckets = [zero] * size
    credit = zero
    for item in items:
        if item.bucket is None:
            credit += item.base
        else:
            buckets[item.bucket] += item.base
    ordered = tuple(sorted(items, key=lambda i: (i.day, i.source, i.id)))
    total = sum(buckets, zero) + credit
    return AgedParty(party_id, name, tuple(buckets), credit, total, ordered)


@dataclass(frozen=True, slots=True)
class Control:
    """The control account and its balance on the day, positive where owed."""

    account: str
    balance: Decimal


def aging_report(
    kind: str,
    as_of: date,
    bounds: Sequence[int],
    parts: Iterable[OpenPart],
    names: Mapping[int, str],
    scales: Scales,
    control: Control,
    currency: str,
) -> AgingReport:
    """The report of ``parts``; parties by name, then id."""
    size = len(bounds) + 2
    zero = from_minor(0, scales.base)
    by_party: dict[int, list[AgedItem]] = {}
    for part in parts:
        by_party.setdefault(part.item.party_id, []).append(aged_item(part, as_of, bounds, scales))
    parties = [
        aged_party(pid, names.get(pid, f"Party {pid}"), items, size, zero)
        for pid, items in by_party.items()
    ]
    parties.sort(key=lambda p: (p.name.casefold(), p.party_id))
    totals = tuple(sum((p.buckets[i] for p in parties), zero) for i in range(size))
    credit = sum((p.credit for p in parties), zero)
    return AgingReport(
        kind=kind,
        as_of=as_of,
        currency=currency,
        scale=scales.base,
        bounds=tuple(bounds),
        parties=tuple(parties),
        totals=totals,
        credit=credit,
        total=sum(totals, zero) + credit,
        control_account=control.account,
        control=control.balance,
    )
