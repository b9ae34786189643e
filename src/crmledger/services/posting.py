"""The one write boundary of the ledger: validate, number, chain, store, update balances.

Every entry that reaches the book, from the CLI, an import or (later) an invoice, goes
through :func:`post_batch` inside the caller's unit of work::

    with uow:
        refs = post_batch(uow.ledger, entries, clock.now())
        uow.commit()

Within a batch, entries are numbered in order per journal and fiscal year and each joins
its journal's hash chain; running balances per account, commodity and month are updated in
the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from crmledger.core.accounts import Account
from crmledger.core.entries import EntryState, JournalEntry, weights_minor
from crmledger.core.errors import LedgerError
from crmledger.core.hashing import GENESIS, canonical_record, chain_hash
from crmledger.core.rules import check_postable
from crmledger.services.errors import EntriesRejectedError, Rejection
from crmledger.services.ports import BalanceKey, LedgerStore, PreparedEntry


@dataclass(frozen=True, slots=True)
class PostedRef:
    """Where a posted entry landed."""

    id: int
    journal: str
    fiscal_year: int
    number: int
    hash: str

    @property
    def ref(self) -> str:
        """Human reference ``JOURNAL/YEAR/NUMBER``."""
        return f"{self.journal}/{self.fiscal_year}/{self.number}"


def validate_batch(
    store: LedgerStore,
    entries: Sequence[JournalEntry],
    open_account: Callable[[str], Account] | None = None,
) -> dict[str, tuple[int, Account]]:
    """Check every entry; open unknown accounts via ``open_account`` when given.

    Raises :class:`EntriesRejectedError` listing every entry that breaks a rule.
    """
    accounts = store.accounts()
    if open_account is not None:
        _open_missing(store, entries, accounts, open_account)
    by_name = {name: account for name, (_, account) in accounts.items()}
    scales = store.scales()
    lock = store.get_setting("lock_date")
    lock_date = datetime.fromisoformat(lock).date() if lock else None
    rejections = []
    for index, entry in enumerate(entries):
        try:
            check_postable(entry, by_name, scales, lock_date)
        except LedgerError as error:
            rejections.append(Rejection(index, error))
    if rejections:
        raise EntriesRejectedError(rejections)
    return accounts


def _open_missing(
    store: LedgerStore,
    entries: Sequence[JournalEntry],
    accounts: dict[str, tuple[int, Account]],
    open_account: Callable[[str], Account],
) -> None:
    rejections = []
    for index, entry in enumerate(entries):
        for posting in entry.postings:
            if posting.account not in accounts:
                try:
                    account = open_account(posting.account)
                except LedgerError as error:
                    rejections.append(Rejection(index, error))
                    break
                accounts[account.name] = (store.add_account(account), account)
    if rejections:
        raise EntriesRejectedError(rejections)


def post_batch(
    store: LedgerStore,
    entries: Sequence[JournalEntry],
    posted_at: datetime,
    *,
    import_id: int | None = None,
    open_account: Callable[[str], Account] | None = None,
) -> list[PostedRef]:
    """Validate and post ``entries`` in the caller's transaction; all or nothing."""
    store.lock_for_posting()
    accounts = validate_batch(store, entries, open_account)
    scales = store.scales()
    first_entry, first_posting = store.reserve_ids(
        len(entries), sum(len(e.postings) for e in entries)
    )
    numbers: dict[tuple[str, int], int] = {}
    heads: dict[str, str] = {}
    counts: dict[str, int] = {}
    deltas: dict[BalanceKey, tuple[int, int]] = {}
    prepared = []
    refs = []
    posting_id = first_posting
    for offset, draft in enumerate(entries):
        key = (draft.journal, draft.fiscal_year)
        if key not in numbers:
            numbers[key] = store.last_number(*key)
        if draft.journal not in heads:
            heads[draft.journal] = store.journal_head(draft.journal) or GENESIS
        numbers[key] += 1
        entry = replace(
            draft,
            id=first_entry + offset,
            number=numbers[key],
            state=EntryState.POSTED,
            previous_hash=heads[draft.journal],
        )
        entry = replace(
            entry, hash=chain_hash(canonical_record(entry, scales, heads[entry.journal]))
        )
        assert entry.hash is not None
        heads[entry.journal] = entry.hash
        counts[entry.journal] = counts.get(entry.journal, 0) + 1
        minors = tuple(weights_minor(p, scales) for p in entry.postings)
        account_ids = tuple(accounts[p.account][0] for p in entry.postings)
        _add_deltas(deltas, entry, minors, account_ids)
        prepared.append(
            PreparedEntry(entry.id or 0, posting_id, entry, minors, account_ids, import_id)
        )
        posting_id += len(entry.postings)
        refs.append(PostedRef(entry.id or 0, entry.journal, key[1], numbers[key], entry.hash))
    store.insert_posted(prepared, posted_at)
    for (journal, year), last in numbers.items():
        store.set_last_number(journal, year, last)
    for journal, head in heads.items():
        store.set_journal_head(journal, head, counts[journal])
    store.add_balance_deltas(deltas)
    return refs


def _add_deltas(
    deltas: dict[BalanceKey, tuple[int, int]],
    entry: JournalEntry,
    minors: tuple[tuple[int, int], ...],
    account_ids: tuple[int, ...],
) -> None:
    period = entry.date.year * 100 + entry.date.month
    for posting, (amount, _), account_id in zip(entry.postings, minors, account_ids, strict=True):
        key = (account_id, posting.commodity, period)
        debit, credit = deltas.get(key, (0, 0))
        if amount >= 0:
            deltas[key] = (debit + amount, credit)
        else:
            deltas[key] = (debit, credit - amount)
