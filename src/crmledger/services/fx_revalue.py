"""Unrealised exchange revaluation of what is open in foreign currencies at a period end.

Every open invoice, credit note and bill, and every receipt or vendor payment not yet
allocated, in a currency other than the base, is valued again at the rate of the day
(the latest entered on or before it). The difference to the base value it still carries
(``open_base_minor``) moves the receivable or payable, party by party, against
``Income:FX:Unrealised`` or ``Expenses:FX:Unrealised``. In a EUR book, an invoice of
119.00 USD booked at 0.90 (107.10 EUR) and revalued at 0.95 (113.05 EUR)::

    FX  2026-06-30  FXREV-2026-06-30
      Assets:Receivables:Customers   5.95 EUR   (party 7)
      Income:FX:Unrealised          -5.95 EUR
    FX  2026-07-01  the same, reversed

The reversal the next day takes the book back to the booked values, so a settlement
later still posts the whole realised difference against the document's own
``open_base_minor``, which a revaluation never changes. A date is revalued once: a second
run finds the first entry by its reference and is refused. The amounts are those open
when the run is made (run it at the period end, before settling the next period's items).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from crmledger.core.accounts import Account
from crmledger.core.billing.entries import FxRate
from crmledger.core.entries import EntryState, JournalEntry, Posting, reversal_of
from crmledger.core.errors import InvalidFieldError, UnknownAccountError
from crmledger.core.money import from_minor
from crmledger.services.billing_common import ACCOUNTS, base_currency, fx_on
from crmledger.services.billing_ports import ForeignOpenRow
from crmledger.services.errors import ConflictError
from crmledger.services.ledger import add_iso_commodities
from crmledger.services.ports import Clock, EntryQuery, LedgerStore, UnitOfWork, UnitOfWorkFactory
from crmledger.services.posting import PostedRef, post_batch
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import OPERATOR, Actor, record

JOURNAL = "FX"
UNREALISED_GAIN = "Income:FX:Unrealised"
UNREALISED_LOSS = "Expenses:FX:Unrealised"
#: +1 where an item is a debit on its control account (an invoice, a payment to a vendor),
#: -1 where it is a credit (a credit note, a receipt, a bill).
SIDES = {"invoice": 1, "vendor_payment": 1, "credit_note": -1, "receipt": -1, "bill": -1}


def reference_of(on: date) -> str:
    """The reference of the revaluation of ``on``: ``FXREV-2026-06-30``."""
    return f"FXREV-{on.isoformat()}"


class AlreadyRevaluedError(ConflictError):
    """The date was revalued already (and reversed the next day); a second revaluation
    of it would count the difference twice."""

    field = "date"


@dataclass(frozen=True, slots=True)
class RevaluedItem:
    """One open item valued again: ``difference`` is revalued less booked base value, as a
    debit (positive) or credit on its control account."""

    kind: str
    id: int
    number: str
    party_id: int
    currency: str
    open: Decimal
    rate: Decimal
    booked_base: Decimal
    revalued_base: Decimal
    difference: Decimal

    @property
    def control(self) -> str:
        """The receivable or the payable the item sits on."""
        return ACCOUNTS.payable if self.kind in ("bill", "vendor_payment") else ACCOUNTS.receivable


@dataclass(frozen=True, slots=True)
class Revaluation:
    """A run: the items valued again, the gain and loss in ``base``, and the entry and its
    reversal (``None`` when nothing moved, and nothing was posted)."""

    on: date
    base: str
    reference: str
    items: tuple[RevaluedItem, ...]
    gain: Decimal
    loss: Decimal
    entry: PostedRef | None
    reversal: PostedRef | None

    @property
    def net(self) -> Decimal:
        """Gain less loss."""
        return self.gain - self.loss


def revalue_item(row: ForeignOpenRow, fx: FxRate, scale: int) -> RevaluedItem:
    """``row``'s open amount at ``fx`` (rounded half-even) against its booked base value."""
    booked = from_minor(row.open_base_minor, fx.base_scale)
    amount = from_minor(row.open_minor, scale)
    revalued = fx.to_base(amount)
    return RevaluedItem(
        kind=row.kind,
        id=row.id,
        number=row.number,
        party_id=row.party_id,
        currency=row.currency,
        open=amount,
        rate=fx.rate,
        booked_base=booked,
        revalued_base=revalued,
        difference=SIDES[row.kind] * (revalued - booked),
    )


def control_sums(items: Iterable[RevaluedItem]) -> dict[tuple[str, int], Decimal]:
    """The differences per control account and party, without the zero ones."""
    sums: dict[tuple[str, int], Decimal] = {}
    for item in items:
        key = (item.control, item.party_id)
        sums[key] = sums.get(key, Decimal(0)) + item.difference
    return {key: amount for key, amount in sorted(sums.items()) if amount}


def gain_and_loss(
    sums: Mapping[tuple[str, int], Decimal], zero: Decimal
) -> tuple[Decimal, Decimal]:
    """The sum of the debits (gains) and of the credits (losses, positive) in ``sums``."""
    gain = sum((amount for amount in sums.values() if amount > 0), zero)
    loss = sum((-amount for amount in sums.values() if amount < 0), zero)
    return gain, loss


def revaluation_entry(on: date, base: str, sums: Mapping[tuple[str, int], Decimal]) -> JournalEntry:
    """Each control account and party debited (or credited) by its difference, against
    the unrealised gain and loss accounts."""
    gain, loss = gain_and_loss(sums, Decimal(0))
    postings = [
        Posting(account, amount, base, party=str(party))
        for (account, party), amount in sums.items()
    ]
    if gain:
        postings.append(Posting(UNREALISED_GAIN, -gain, base))
    if loss:
        postings.append(Posting(UNREALISED_LOSS, loss, base))
    return JournalEntry(
        date=on,
        narration=f"Unrealised exchange revaluation {on.isoformat()}",
        postings=tuple(postings),
        journal=JOURNAL,
        reference=reference_of(on),
    )


def _open_unrealised(name: str) -> Account:
    """Open an unrealised gain or loss account the chart lacks; refuse any other."""
    if name not in (UNREALISED_GAIN, UNREALISED_LOSS):
        raise UnknownAccountError(name)
    return Account(name)


def _already(store: LedgerStore, on: date) -> JournalEntry | None:
    """The revaluation entry of ``on``, if one was posted."""
    query = EntryQuery(limit=100, journal=JOURNAL, date_from=on, date_to=on)
    while True:
        page = store.entries_page(query)
        for entry in page:
            if entry.reference == reference_of(on) and entry.state is not EntryState.DRAFT:
                return entry
        if len(page) < query.limit:
            return None
        last = page[-1]
        query = replace(query, after=(last.date, last.id or 0))


def _items(uow: UnitOfWork, base: str, on: date) -> list[RevaluedItem]:
    scales = book_scales(uow)
    rates: dict[str, FxRate] = {}
    items = []
    for row in uow.billing.open_foreign(base, on):
        if row.currency not in rates:
            rates[row.currency] = fx_on(uow, row.currency, on)
        items.append(revalue_item(row, rates[row.currency], scale_of(row.currency, scales)))
    return items


def _post(uow: UnitOfWork, entry: JournalEntry, at: datetime) -> tuple[PostedRef, PostedRef]:
    """Post ``entry`` and its reversal the next day; mark it reversed."""
    store = uow.ledger
    add_iso_commodities(store, [entry])
    [ref] = post_batch(store, [entry], at, open_account=_open_unrealised)
    posted = replace(entry, id=ref.id, number=ref.number, state=EntryState.POSTED)
    back = reversal_of(
        posted,
        entry.date + timedelta(days=1),
        f"Reversal of the unrealised exchange revaluation {entry.date.isoformat()}",
    )
    [back_ref] = post_batch(store, [back], at)
    store.mark_reversed(ref.id, back_ref.id)
    return ref, back_ref


class RevaluationService:
    """Unrealised exchange revaluation at a period end (see the module docstring)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> RevaluationService:
        """The same service for another actor."""
        return RevaluationService(self._uow, self._clock, actor)

    def revalue(self, on: date) -> Revaluation:
        """Value what is open in foreign currencies at the rates of ``on`` and post the
        difference dated ``on`` with its reversal dated the next day, in one transaction.

        Raises :class:`AlreadyRevaluedError` for a date revalued before and
        :class:`~crmledger.services.billing_common.MissingRateError` (an
        :class:`InvalidFieldError` naming the currency) when a currency has no rate.
        """
        self._actor.require("journal", "post")
        if on == date.max:
            raise InvalidFieldError("date", "a revaluation is reversed the next day; pick another")
        at = self._clock.now()
        with self._uow() as uow:
            uow.ledger.lock_for_posting()  # the check below and the posting see the same book
            if _already(uow.ledger, on) is not None:
                raise AlreadyRevaluedError(f"{on.isoformat()} was revalued already")
            base = base_currency(uow)
            items = _items(uow, base, on)
            sums = control_sums(items)
            refs = _post(uow, revaluation_entry(on, base, sums), at) if sums else None
            zero = from_minor(0, scale_of(base, book_scales(uow)))
            done = _result(on, base, items, gain_and_loss(sums, zero), refs)
            self._record(uow, done, at)
            uow.commit()
        return done

    def _record(self, uow: UnitOfWork, done: Revaluation, at: datetime) -> None:
        after: dict[str, object] = {
            "items": len(done.items),
            "gain": str(done.gain),
            "loss": str(done.loss),
        }
        for ref, key in ((done.entry, "entry"), (done.reversal, "reversal")):
            if ref is not None:
                after[key] = ref.ref
                record(
                    uow,
                    self._actor,
                    at,
                    "journal.post",
                    "journal-entry",
                    ref.id,
                    None,
                    {"number": ref.ref, "hash": ref.hash},
                )
        record(uow, self._actor, at, "fx.revalue", "revaluation", done.reference, None, after)


def _result(
    on: date,
    base: str,
    items: Sequence[RevaluedItem],
    totals: tuple[Decimal, Decimal],
    refs: tuple[PostedRef, PostedRef] | None,
) -> Revaluation:
    return Revaluation(
        on=on,
        base=base,
        reference=reference_of(on),
        items=tuple(items),
        gain=totals[0],
        loss=totals[1],
        entry=refs[0] if refs else None,
        reversal=refs[1] if refs else None,
    )
