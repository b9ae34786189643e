"""Closing and reopening a fiscal year.

Closing a year posts one entry dated 31 December in the closing journal ``CL`` that moves
every income and expense balance to retained earnings (``Equity:RetainedEarnings``, opened
when the chart lacks it), records the close, and moves the lock date to 31 December, so
nothing dated in the year can change any more. Reopening restores the lock date the close
found, reverses the closing entry on the same day and marks the close reopened::

    crmledger period close --year 2026     # CL/2026/1, locked up to 2026-12-31
    crmledger period reopen --year 2026    # CL/2026/2 reverses it, lock date as before

Statements leave closing entries out (and show the results of earlier years as equity
themselves), so they read the same before a close, after it and after a reopening. A year
is closed once at a time and only after its last day; it cannot be closed when the lock
date is already at or past that day (the closing entry could not be posted), nor reopened
while a later year is closed or the lock date has moved past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crmledger.core.accounts import Account, AccountType
from crmledger.core.entries import reversal_of
from crmledger.core.money import from_minor
from crmledger.core.year_end import Bucket, closing_entry
from crmledger.services.billing_common import base_currency, emit
from crmledger.services.errors import ConflictError
from crmledger.services.ports import Clock, LedgerStore, UnitOfWork
from crmledger.services.posting import PostedRef, post_batch
from crmledger.services.statement_ports import CloseRow
from crmledger.services.statement_values import LedgerValues
from crmledger.services.trail import Actor, record

#: Where the result of a closed year goes (the default chart's account 3100).
RETAINED_EARNINGS = Account("Equity:RetainedEarnings", description="Retained earnings")
_RESULTS = (AccountType.INCOME, AccountType.EXPENSES)


class YearClosedError(ConflictError):
    """The year is closed already; reopen it before closing it again."""

    field = "year"


class YearNotEndedError(ConflictError):
    """A year is closed after its last day, not before."""

    field = "year"


class YearNotClosedError(ConflictError):
    """Only a closed year can be reopened."""

    field = "year"


class YearLockedError(ConflictError):
    """The lock date is at or past the year's last day (a close could not post its entry),
    or a later year is closed or locked (a reopening would unlock it)."""

    field = "year"


@dataclass(frozen=True, slots=True)
class YearClose:
    """What a close or a reopening did: the entry it posted (``None``: nothing to move),
    the result of the year in ``currency`` and the lock date it left."""

    year: int
    entry: PostedRef | None
    result: Decimal
    currency: str
    lock_date: date | None


def _lock(store: LedgerStore) -> date | None:
    value = store.get_setting("lock_date")
    return date.fromisoformat(value) if value else None


def _open_close(uow: UnitOfWork, year: int) -> CloseRow | None:
    return next((c for c in uow.statements.closes() if c.year == year and not c.reopened_at), None)


def _retained(uow: UnitOfWork, actor: Actor, clock: Clock) -> str:
    known = uow.ledger.accounts()
    if RETAINED_EARNINGS.name not in known:
        uow.ledger.add_account(RETAINED_EARNINGS)
        record(
            uow,
            actor,
            clock.now(),
            "account.create",
            "account",
            RETAINED_EARNINGS.name,
            after={"type": "Equity", "reason": "year-end close"},
        )
    return RETAINED_EARNINGS.name


def _buckets(uow: UnitOfWork, base: str, end: date) -> list[Bucket]:
    """Every income and expense balance on ``end``, closing entries included."""
    values = LedgerValues(uow, base, end)
    chart = uow.ledger.accounts()
    scales = values.scales
    return [
        Bucket(
            name,
            code,
            from_minor(amount, scales[code]),
            from_minor(open_, scales[code]),
            from_minor(value, scales[base]),
        )
        for (name, code), (amount, open_, value) in sorted(
            values.span(None, end, closing=True).items()
        )
        if chart[name][1].type in _RESULTS and (amount or value)
    ]


def close_year(uow: UnitOfWork, actor: Actor, clock: Clock, year: int) -> YearClose:
    """Close ``year`` in ``uow`` (the caller commits)."""
    store = uow.ledger
    store.lock_for_posting()
    found = _open_close(uow, year)
    if found is not None:
        raise YearClosedError(f"{year} is closed already; reopen it first")
    end = date(year, 12, 31)
    if clock.today() <= end:
        raise YearNotEndedError(f"{year} ends on {end.isoformat()}: close it after that day")
    lock = _lock(store)
    if lock is not None and lock >= end:
        raise YearLockedError(
            f"the book is locked up to {lock.isoformat()}, so no closing entry can be dated "
            f"{end.isoformat()}"
        )
    base = base_currency(uow)
    buckets = _buckets(uow, base, end)
    entry = closing_entry(year, buckets, _retained(uow, actor, clock), base)
    now = clock.now()
    ref = post_batch(store, [entry], now)[0] if entry is not None else None
    close_id = uow.statements.add_close(year, ref.id if ref else None, lock, now, actor.audit_id)
    store.set_setting("lock_date", end.isoformat())
    result = -sum((b.base for b in buckets), from_minor(0, store.scales()[base]))
    if ref is not None:
        record(
            uow,
            actor,
            now,
            "journal.post",
            "journal-entry",
            ref.id,
            after={"number": ref.ref, "hash": ref.hash},
        )
    record(
        uow,
        actor,
        now,
        "period.lock",
        "book",
        "lock_date",
        before={"lock_date": lock.isoformat() if lock else None},
        after={"lock_date": end.isoformat()},
    )
    record(
        uow,
        actor,
        now,
        "period.close",
        "year",
        year,
        after={"entry": ref.ref if ref else None, "result": str(result), "currency": base},
    )
    emit(
        uow,
        "year",
        year,
        "period.closed",
        now,
        close=close_id,
        entry=ref.id if ref else None,
        result=str(result),
        currency=base,
    )
    return YearClose(year, ref, result, base, end)


def reopen_year(uow: UnitOfWork, actor: Actor, clock: Clock, year: int) -> YearClose:
    """Reopen ``year`` in ``uow`` (the caller commits)."""
    store = uow.ledger
    store.lock_for_posting()
    found = _open_close(uow, year)
    if found is None:
        raise YearNotClosedError(f"{year} is not closed")
    later = [c.year for c in uow.statements.closes() if c.year > year and not c.reopened_at]
    if later:
        raise YearLockedError(f"{min(later)} is closed; reopen it first")
    end = date(year, 12, 31)
    lock = _lock(store)
    if lock != end:
        shown = lock.isoformat() if lock else "nothing"
        raise YearLockedError(
            f"the book is locked up to {shown}, not {end.isoformat()}: reopening {year} "
            "would unlock a later period"
        )
    if found.previous_lock is None:
        uow.statements.clear_lock()
    else:
        store.set_setting("lock_date", found.previous_lock.isoformat())
    now = clock.now()
    ref = None
    if found.entry_id is not None:
        original = store.get_entry(found.entry_id)
        reversal = reversal_of(original, end, f"Reopening of {year}: closing entry reversed")
        [ref] = post_batch(store, [reversal], now)
        store.mark_reversed(found.entry_id, ref.id)
        record(
            uow,
            actor,
            now,
            "journal.reverse",
            "journal-entry",
            found.entry_id,
            after={"state": "reversed", "reversed_by": ref.id},
        )
        record(
            uow,
            actor,
            now,
            "journal.post",
            "journal-entry",
            ref.id,
            after={"number": ref.ref, "hash": ref.hash},
        )
    uow.statements.mark_reopened(found.id, now, actor.audit_id, ref.id if ref else None)
    previous = found.previous_lock.isoformat() if found.previous_lock else None
    record(
        uow,
        actor,
        now,
        "period.lock",
        "book",
        "lock_date",
        before={"lock_date": end.isoformat()},
        after={"lock_date": previous},
    )
    record(
        uow, actor, now, "period.reopen", "year", year, after={"reversal": ref.ref if ref else None}
    )
    emit(
        uow, "year", year, "period.reopened", now, close=found.id, reversal=ref.id if ref else None
    )
    base = base_currency(uow)
    return YearClose(year, ref, from_minor(0, store.scales()[base]), base, found.previous_lock)
