"""Ledger use cases: set up a book, manage accounts and commodities, post, reverse, lock.

Each method opens one unit of work and commits once::

    ledger = LedgerService(uow_factory, clock)
    ledger.init_book(chart("default"), base_currency="EUR")
    [ref] = ledger.post([entry])
    ledger.reverse(ref.id)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from crmledger.core.accounts import Account
from crmledger.core.currencies import iso_currency
from crmledger.core.entries import EntryState, JournalEntry, reversal_of
from crmledger.core.errors import (
    AccountClosedError,
    EntryStateError,
    InvalidCommodityError,
    InvalidEntryError,
    PeriodLockedError,
    UnknownAccountError,
    UnknownCommodityError,
)
from crmledger.core.money import Commodity
from crmledger.core.rules import check_draft, check_not_locked
from crmledger.services.errors import ConflictError, NotFoundError, VersionConflictError
from crmledger.services.group_posting import PostingGroup
from crmledger.services.ports import (
    Clock,
    EntryQuery,
    LedgerStore,
    UnitOfWork,
    UnitOfWorkFactory,
)
from crmledger.services.posting import PostedRef, post_batch
from crmledger.services.trail import OPERATOR, Actor, record


@dataclass(frozen=True, slots=True)
class BookInfo:
    """The book's settings and size."""

    base_currency: str | None
    lock_date: date | None
    accounts: int
    commodities: int


class LedgerService:
    """Set-up and posting of the general ledger."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        actor: Actor = OPERATOR,
        group: PostingGroup | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.actor = actor
        self._group = group or PostingGroup(uow, clock, add_iso_commodities)

    def acting_as(self, actor: Actor) -> LedgerService:
        """The same service, for another actor (sharing its posting group)."""
        return LedgerService(self._uow, self._clock, actor, self._group)

    def _record(self, uow: UnitOfWork, action: str, resource: str, rid: object, **kw: Any) -> None:
        record(uow, self.actor, self._clock.now(), action, resource, rid, **kw)

    def init_book(self, accounts: Iterable[Account], base_currency: str) -> BookInfo:
        """Set the base currency and add the chart's accounts (existing ones are kept)."""
        self.actor.require("accounts", "write")
        accounts = list(accounts)
        with self._uow() as uow:
            store = uow.ledger
            if store.get_setting("base_currency") is None:
                store.set_setting("base_currency", base_currency)
            ensure_commodity(store, base_currency)
            known = store.accounts()
            added = [a.name for a in accounts if a.name not in known]
            for account in accounts:
                if account.name in added:
                    store.add_account(account)
            after = {"base_currency": base_currency, "accounts_added": len(added)}
            self._record(uow, "book.init", "book", "book", after=after)
            uow.commit()
        return self.info()

    def info(self) -> BookInfo:
        """The base currency, lock date and counts."""
        with self._uow(readonly=True) as uow:
            store = uow.ledger
            lock = store.get_setting("lock_date")
            return BookInfo(
                store.get_setting("base_currency"),
                date.fromisoformat(lock) if lock else None,
                len(store.accounts()),
                len(store.scales()),
            )

    def add_commodity(self, commodity: Commodity) -> None:
        """Declare a commodity with its scale; a declared scale never changes."""
        self.actor.require("accounts", "write")
        with self._uow() as uow:
            existing = uow.ledger.scales().get(commodity.code)
            if existing is not None and existing != commodity.scale:
                raise InvalidCommodityError(
                    f"{commodity.code} already exists with scale {existing}"
                )
            if existing is None:
                uow.ledger.add_commodity(commodity)
                after = {"scale": commodity.scale, "name": commodity.name}
                self._record(uow, "commodity.create", "commodity", commodity.code, after=after)
            uow.commit()

    def commodities(self) -> dict[str, int]:
        """Every commodity and its scale."""
        self.actor.require("accounts", "read")
        with self._uow(readonly=True) as uow:
            return uow.ledger.scales()

    def add_account(self, account: Account) -> int:
        """Open an account; its commodities must be known (ISO ones are added)."""
        self.actor.require("accounts", "write")
        with self._uow() as uow:
            known = uow.ledger.accounts()
            if account.name in known:
                raise ConflictError(f"account {account.name} exists")
            if account.code and any(a.code == account.code for _, a in known.values()):
                raise ConflictError(f"account code {account.code} is taken")
            for code in account.commodities:
                ensure_commodity(uow.ledger, code)
            account_id = uow.ledger.add_account(account)
            self._record(uow, "account.create", "account", account.name, after=_account(account))
            uow.commit()
        return account_id

    def close_account(self, name: str, on: date, if_version: int | None = None) -> None:
        """Close an account as of ``on``: later postings to it are refused. An account with
        postings after that date cannot be closed then. ``if_version`` guards against a
        concurrent change (:class:`VersionConflictError`)."""
        self.actor.require("accounts", "write")
        with self._uow() as uow:
            store = uow.ledger
            store.lock_for_posting()  # no posting may slip in between check and close
            if name not in store.accounts():
                raise UnknownAccountError(name)
            current = store.account_version(name)
            if if_version is not None and if_version != current:
                raise VersionConflictError(f"account {name}", if_version, current)
            later = [
                p
                for p in store.account_postings(name, on + timedelta(days=1), None)
                if p.account == name
            ]
            if later:
                raise AccountClosedError(
                    f"{name} has postings after {on.isoformat()} "
                    f"(first: {later[0].entry_ref} on {later[0].date.isoformat()})"
                )
            before = store.accounts()[name][1]
            replace(before, close_date=on)  # refused before anything is written if it opens later
            store.close_account(name, on)
            after = _account(before) | {"close_date": on.isoformat()}
            self._record(
                uow, "account.close", "account", name, before=_account(before), after=after
            )
            uow.commit()

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        self.actor.require("accounts", "read")
        with self._uow(readonly=True) as uow:
            return [account for _, account in uow.ledger.accounts().values()]

    def accounts_with_versions(self) -> list[tuple[Account, int]]:
        """Every account with its version (for ``ETag`` and ``If-Match``), by name."""
        self.actor.require("accounts", "read")
        with self._uow(readonly=True) as uow:
            versions = uow.ledger.account_versions()
            found = uow.ledger.accounts()
            return [(found[name][1], versions[name]) for name in sorted(found)]

    def post(
        self, entries: Sequence[JournalEntry], *, open_accounts: bool = False
    ) -> list[PostedRef]:
        """Post new ``entries`` in one transaction: all of them or none.

        A single entry joins the entries other threads are posting at the same moment and
        commits with them (:mod:`crmledger.services.group_posting`).
        """
        self.actor.require("journal", "post")
        if any(e.id is not None for e in entries):
            raise InvalidEntryError("only new entries are posted; post a draft with post_draft")
        if len(entries) == 1 and not open_accounts:
            return [self._group.post(entries[0], self.actor)]
        with self._uow() as uow:
            add_iso_commodities(uow.ledger, entries)
            refs = post_batch(
                uow.ledger,
                entries,
                self._clock.now(),
                open_account=Account if open_accounts else None,
            )
            for ref in refs:
                self._record(uow, "journal.post", "journal-entry", ref.id, after=_ref(ref))
            uow.commit()
        return refs

    def save_draft(self, entry: JournalEntry, draft_id: int | None = None) -> int:
        """Store ``entry`` as a draft (new, or replacing draft ``draft_id``); drafts may be
        unbalanced and change freely until posted, but never on or before the lock date."""
        self.actor.require("journal", "post")
        with self._uow() as uow:
            store = uow.ledger
            store.lock_for_posting()  # ids, journals and the lock date stay still
            add_iso_commodities(store, [entry])
            lock = _lock_date(store)
            if draft_id is not None:
                old = _draft(store, draft_id)
                check_not_locked(old.date, lock)
            accounts = store.accounts()
            minors = check_draft(
                entry, {n: a for n, (_, a) in accounts.items()}, store.scales(), lock
            )
            ids = [accounts[p.account][0] for p in entry.postings]
            saved = store.save_draft(entry, draft_id, ids, minors)
            action = "journal.draft.update" if draft_id is not None else "journal.draft.create"
            after = {"date": entry.date.isoformat(), "lines": len(entry.postings)}
            self._record(uow, action, "journal-entry", saved, after=after)
            uow.commit()
        return saved

    def post_draft(self, draft_id: int) -> PostedRef:
        """Post a stored draft in place (it must balance by now)."""
        self.actor.require("journal", "post")
        with self._uow() as uow:
            store = uow.ledger
            store.lock_for_posting()
            [ref] = post_batch(store, [_draft(store, draft_id)], self._clock.now())
            self._record(uow, "journal.post", "journal-entry", ref.id, after=_ref(ref))
            uow.commit()
        return ref

    def delete_draft(self, draft_id: int) -> None:
        """Remove a draft; posted entries are never deleted."""
        self.actor.require("journal", "post")
        with self._uow() as uow:
            uow.ledger.lock_for_posting()
            check_not_locked(_draft(uow.ledger, draft_id).date, _lock_date(uow.ledger))
            uow.ledger.delete_draft(draft_id)
            self._record(uow, "journal.draft.delete", "journal-entry", draft_id)
            uow.commit()

    def entries(self, query: EntryQuery) -> list[JournalEntry]:
        """A page of entries (drafts included unless filtered by state)."""
        self.actor.require("journal", "read")
        with self._uow(readonly=True) as uow:
            return uow.ledger.entries_page(query)

    def get(self, entry_id: int) -> JournalEntry:
        """One entry with its postings."""
        self.actor.require("journal", "read")
        with self._uow(readonly=True) as uow:
            return uow.ledger.get_entry(entry_id)

    def resolve(self, reference: str) -> int:
        """Entry id from ``ID`` or ``JOURNAL/YEAR/NUMBER``."""
        self.actor.require("journal", "read")
        if reference.isdigit():
            return int(reference)
        parts = reference.split("/")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            raise NotFoundError(f"{reference!r} is neither an id nor JOURNAL/YEAR/NUMBER")
        with self._uow(readonly=True) as uow:
            found = uow.ledger.find_entry_id(parts[0], int(parts[1]), int(parts[2]))
        if found is None:
            raise NotFoundError(f"no entry {reference}")
        return found

    def reverse(
        self, entry_id: int, on: date | None = None, narration: str | None = None
    ) -> PostedRef:
        """Post the reversal of a posted entry, dated ``on`` (default: today)."""
        self.actor.require("journal", "post")
        with self._uow() as uow:
            store = uow.ledger
            store.lock_for_posting()
            original = store.get_entry(entry_id)
            if original.state is not EntryState.POSTED:
                raise EntryStateError(
                    f"entry {entry_id} is {original.state.value}; only posted entries reverse"
                )
            [ref] = post_batch(
                store,
                [reversal_of(original, on or self._clock.today(), narration)],
                self._clock.now(),
            )
            store.mark_reversed(entry_id, ref.id)
            after = {"state": "reversed", "reversed_by": ref.id}
            self._record(uow, "journal.reverse", "journal-entry", entry_id, after=after)
            self._record(uow, "journal.post", "journal-entry", ref.id, after=_ref(ref))
            uow.commit()
        return ref

    def lock_period(self, until: date) -> date:
        """Refuse postings, reversals and edits dated on or before ``until``.

        The lock only moves forward: an earlier date than the current lock is refused.
        """
        self.actor.require("journal", "post")
        with self._uow() as uow:
            uow.ledger.lock_for_posting()  # wait for postings in progress (PostgreSQL)
            current = uow.ledger.get_setting("lock_date")
            if current is not None and until < date.fromisoformat(current):
                raise PeriodLockedError(until, date.fromisoformat(current))
            uow.ledger.set_setting("lock_date", until.isoformat())
            before = {"lock_date": current}
            after = {"lock_date": until.isoformat()}
            self._record(uow, "period.lock", "book", "lock_date", before=before, after=after)
            uow.commit()
        return until


def _ref(ref: PostedRef) -> dict[str, object]:
    return {"number": ref.ref, "hash": ref.hash}


def _account(account: Account) -> dict[str, object]:
    return {
        "type": account.type.value,
        "code": account.code,
        "commodities": list(account.commodities),
        "open_date": account.open_date.isoformat() if account.open_date else None,
        "close_date": account.close_date.isoformat() if account.close_date else None,
    }


def ensure_commodity(store: LedgerStore, code: str) -> None:
    """Make sure ``code`` is known: ISO currencies are added on first use.

    A non-ISO commodity raises :class:`UnknownCommodityError`: it must be declared with its
    scale first.
    """
    if code not in store.scales():
        iso = iso_currency(code)
        if iso is None:
            raise UnknownCommodityError(code)
        store.add_commodity(iso)


def add_iso_commodities(store: LedgerStore, entries: Iterable[JournalEntry]) -> None:
    """Add the ISO currencies ``entries`` use; others are left for validation to refuse."""
    known = store.scales()
    for code in sorted({p.commodity for e in entries for p in e.postings} - known.keys()):
        iso = iso_currency(code)
        if iso is not None:
            store.add_commodity(iso)


def _lock_date(store: LedgerStore) -> date | None:
    lock = store.get_setting("lock_date")
    return date.fromisoformat(lock) if lock else None


def _draft(store: LedgerStore, draft_id: int) -> JournalEntry:
    entry = store.get_entry(draft_id)
    if entry.state is not EntryState.DRAFT:
        raise EntryStateError(f"entry {draft_id} is {entry.state.value}, not a draft")
    return entry
