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
from dataclasses import dataclass
from datetime import date, datetime

from crmledger.core.accounts import Account
from crmledger.core.entries import JournalEntry
from crmledger.core.errors import InvalidEntryError, LedgerError
from crmledger.core.hashing import canonical_record, chain_hash
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
) -> tuple[dict[str, tuple[int, Account]], list[tuple[tuple[int, int], ...]]]:
    """Check every entry; open unknown accounts via ``open_account`` when given.

    Returns the accounts and each entry's posting amounts in minor units. Raises
    :class:`EntriesRejectedError` listing every entry that breaks a rule.
    """
    accounts = store.accounts()
    rejected = _open_missing(store, entries, accounts, open_account) if open_account else {}
    by_name = {name: account for name, (_, account) in accounts.items()}
    scales = store.scales()
    lock = store.get_setting("lock_date")
    lock_date = date.fromisoformat(lock) if lock else None
    rejections = []
    minors = []
    for index, entry in enumerate(entries):
        if index in rejected:  # its account name was refused; report that
            rejections.append(Rejection(index, rejected[index]))
            continue
        try:
            minors.append(check_postable(entry, by_name, scales, lock_date))
        except LedgerError as error:
            rejections.append(Rejection(index, error))
    if rejections:
        raise EntriesRejectedError(rejections)
    return accounts, minors


def _open_missing(
    store: LedgerStore,
    entries: Sequence[JournalEntry],
    accounts: dict[str, tuple[int, Account]],
    open_account: Callable[[str], Account],
) -> dict[int, LedgerError]:
    """Open the accounts ``entries`` name that do not exist; return why an entry's account
    could not be opened, by the entry's index."""
    rejected: dict[int, LedgerError] = {}
    for index, entry in enumerate(entries):
        for posting in entry.postings:
            if posting.account not in accounts:
                try:
                    account = open_account(posting.account)
                except LedgerError as error:
                    rejected[index] = error
                    break
                accounts[account.name] = (store.add_account(account), account)
    return rejected


def post_batch(
    store: LedgerStore,
    entries: Sequence[JournalEntry],
    posted_at: datetime,
    *,
    import_id: int | None = None,
    open_account: Callable[[str], Account] | None = None,
) -> list[PostedRef]:
    """Validate and post ``entries`` in the caller's transaction; all or nothing.

    Entries that carry an ``id`` are stored drafts, as loaded under the posting lock: they
    are posted in place. A batch is either drafts or new entries, never both.
    """
    if len({e.id is None for e in entries}) > 1:
        raise InvalidEntryError("post drafts and new entries in separate batches")
    store.lock_for_posting()
    accounts, all_minors = validate_batch(store, entries, open_account)
    account_ids = {name: account_id for name, (account_id, _) in accounts.items()}
    scales = store.scales()
    new = [e for e in entries if e.id is None]
    entry_id, posting_id = store.reserve_ids(len(new), sum(len(e.postings) for e in new))
    chain = _Chain(store)
    deltas: dict[BalanceKey, tuple[int, int]] = {}
    conversions: dict[tuple[str, int], int] = {}
    prepared: list[PreparedEntry] = []
    drafts: list[PreparedEntry] = []
    ordered: list[PreparedEntry] = []
    for entry, minors in zip(entries, all_minors, strict=True):
        number, previous, seq = chain.next(entry.journal, entry.fiscal_year)
        record = canonical_record(entry, scales, previous, number=number, minors=minors)
        digest = chain.link(entry.journal, chain_hash(record))
        ids = tuple(account_ids[p.account] for p in entry.postings)
        _add_deltas(deltas, conversions, entry, minors, ids)
        if entry.id is not None:  # a stored draft keeps its id and postings
            item = PreparedEntry(
                entry.id, 0, entry, number, digest, previous, minors, ids, import_id, seq
            )
            drafts.append(item)
        else:
            item = PreparedEntry(
                entry_id,
                posting_id,
                entry,
                number,
                digest,
                previous,
                minors,
                ids,
                import_id,
                seq,
            )
            prepared.append(item)
            entry_id += 1
            posting_id += len(entry.postings)
        ordered.append(item)
    store.insert_posted(prepared, posted_at)
    store.post_drafts(drafts, posted_at)
    chain.save()
    store.add_balance_deltas(deltas)
    store.add_conversion_deltas(conversions)
    return [
        PostedRef(p.id, p.entry.journal, p.entry.fiscal_year, p.number, p.hash) for p in ordered
    ]


class _Chain:
    """Numbers per journal and year and the hash chain per journal, for one batch."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        self._numbers: dict[tuple[str, int], int] = {}
        self._heads: dict[str, tuple[str, int]] = {}  # last hash, chain length
        self._added: dict[str, int] = {}

    def next(self, journal: str, year: int) -> tuple[int, str, int]:
        """The next number in ``journal``/``year``, the hash the entry links to and its
        position in the journal's chain."""
        key = (journal, year)
        if key not in self._numbers:
            self._numbers[key] = self._store.last_number(journal, year)
        if journal not in self._heads:
            self._heads[journal] = self._store.journal_head(journal)
        self._numbers[key] += 1
        previous, length = self._heads[journal]
        return self._numbers[key], previous, length + 1

    def link(self, journal: str, digest: str) -> str:
        """Make ``digest`` the head of ``journal``."""
        self._heads[journal] = (digest, self._heads[journal][1] + 1)
        self._added[journal] = self._added.get(journal, 0) + 1
        return digest

    def save(self) -> None:
        """Store the last numbers and heads."""
        for (journal, year), last in self._numbers.items():
            self._store.set_last_number(journal, year, last)
        for journal, (head, _) in self._heads.items():
            self._store.set_journal_head(journal, head, self._added.get(journal, 0))


def _add_deltas(
    deltas: dict[BalanceKey, tuple[int, int]],
    conversions: dict[tuple[str, int], int],
    entry: JournalEntry,
    minors: tuple[tuple[int, int], ...],
    account_ids: tuple[int, ...],
) -> None:
    period = entry.date.year * 100 + entry.date.month
    for posting, (amount, weight), account_id in zip(
        entry.postings, minors, account_ids, strict=True
    ):
        key = (account_id, posting.commodity, period)
        debit, credit = deltas.get(key, (0, 0))
        if amount >= 0:
            deltas[key] = (debit + amount, credit)
        else:
            deltas[key] = (debit, credit - amount)
        if posting.cost is not None or posting.price is not None:
            own, other = (posting.commodity, period), (posting.weight_commodity, period)
            conversions[own] = conversions.get(own, 0) - amount
            conversions[other] = conversions.get(other, 0) + weight
