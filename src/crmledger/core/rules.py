"""The rules an entry must meet before it is posted, as one pure function.

The ledger service calls :func:`check_postable` for every entry at its single write
boundary; the database's guard triggers back the same rules up, so there is no path that
skips them::

    check_postable(entry, accounts, scales, lock_date)   # raises a LedgerError subclass
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from crmledger.core.accounts import Account
from crmledger.core.entries import JournalEntry, check_balanced, check_shape, weights_minor
from crmledger.core.errors import (
    AccountClosedError,
    CommodityNotAllowedError,
    PeriodLockedError,
    UnbalancedEntryError,
    UnknownAccountError,
)
from crmledger.core.money import from_minor


def check_not_locked(day: date, lock: date | None) -> None:
    """Refuse a date on or before the lock date."""
    if lock is not None and day <= lock:
        raise PeriodLockedError(day, lock)


def check_draft(
    entry: JournalEntry,
    accounts: Mapping[str, Account],
    scales: Mapping[str, int],
    lock: date | None,
) -> tuple[tuple[int, int], ...]:
    """What even a draft must meet: known open accounts, known commodities, amounts that fit
    their scale, a date after the lock. Returns each posting's amount and weight in minor
    units. A draft need not balance yet."""
    check_not_locked(entry.date, lock)
    minors = []
    for posting in entry.postings:
        account = accounts.get(posting.account)
        if account is None:
            raise UnknownAccountError(posting.account)
        if not account.is_open_on(entry.date):
            raise AccountClosedError(
                f"account {account.name!r} is not open on {entry.date.isoformat()}"
            )
        if not account.allows(posting.commodity):
            raise CommodityNotAllowedError(
                f"account {account.name!r} does not allow {posting.commodity}"
            )
        minors.append(weights_minor(posting, scales))  # refuses excess precision
    return tuple(minors)


def check_postable(
    entry: JournalEntry,
    accounts: Mapping[str, Account],
    scales: Mapping[str, int],
    lock: date | None,
) -> tuple[tuple[int, int], ...]:
    """Raise the first rule ``entry`` breaks; else return each posting's amount and weight
    in minor units (what will be stored)."""
    check_shape(entry)
    minors = check_draft(entry, accounts, scales, lock)
    if any(p.cost is not None or p.price is not None for p in entry.postings):
        check_balanced(entry.postings, scales)
    else:  # the common case: exact integers per commodity, no tolerance
        _check_balanced_minor(entry, minors, scales)
    return minors


def _check_balanced_minor(
    entry: JournalEntry, minors: tuple[tuple[int, int], ...], scales: Mapping[str, int]
) -> None:
    sums: dict[str, int] = {}
    for posting, (amount, _) in zip(entry.postings, minors, strict=True):
        sums[posting.commodity] = sums.get(posting.commodity, 0) + amount
    bad = {c: from_minor(total, scales[c]) for c, total in sums.items() if total}
    if bad:
        raise UnbalancedEntryError(bad)
