"""The ports the services need; adapters in ``persistence`` (and tests) implement them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from crmledger.core.accounts import Account
from crmledger.core.entries import JournalEntry
from crmledger.core.money import Commodity


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """An entry ready to store: ids, number and hash assigned, amounts in minor units.

    ``minors`` holds each posting's amount and weight in minor units.
    """

    id: int
    first_posting_id: int
    entry: JournalEntry
    number: int
    hash: str
    previous_hash: str
    minors: tuple[tuple[int, int], ...]
    account_ids: tuple[int, ...]
    import_id: int | None = None


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """Debit and credit turnover of one account and commodity, in minor units."""

    account: str
    commodity: str
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True, slots=True)
class LedgerPostingRow:
    """A posting as shown in an account's activity, in minor units."""

    date: date
    entry_id: int
    entry_ref: str
    narration: str
    account: str
    commodity: str
    amount_minor: int


BalanceKey = tuple[int, str, int]  # account id, commodity, period (yyyymm)


class LedgerStore(Protocol):
    """Reads and writes of the ledger inside one transaction."""

    def lock_for_posting(self) -> None: ...
    def scales(self) -> dict[str, int]: ...
    def add_commodity(self, commodity: Commodity) -> None: ...
    def accounts(self) -> dict[str, tuple[int, Account]]: ...
    def add_account(self, account: Account) -> int: ...
    def get_setting(self, key: str) -> str | None: ...
    def set_setting(self, key: str, value: str) -> None: ...
    def reserve_ids(self, entries: int, postings: int) -> tuple[int, int]: ...
    def last_number(self, journal: str, year: int) -> int: ...
    def set_last_number(self, journal: str, year: int, number: int) -> None: ...
    def journal_head(self, journal: str) -> str | None: ...
    def set_journal_head(self, journal: str, last_hash: str, added: int) -> None: ...
    def insert_posted(self, batch: Sequence[PreparedEntry], posted_at: datetime) -> None: ...
    def post_drafts(self, batch: Sequence[PreparedEntry], posted_at: datetime) -> None: ...
    def save_draft(
        self,
        entry: JournalEntry,
        entry_id: int | None,
        account_ids: Sequence[int],
        minors: Sequence[tuple[int, int]],
    ) -> int: ...
    def delete_draft(self, entry_id: int) -> None: ...
    def add_balance_deltas(self, deltas: dict[BalanceKey, tuple[int, int]]) -> None: ...
    def get_entry(self, entry_id: int) -> JournalEntry: ...
    def find_entry_id(self, journal: str, year: int, number: int) -> int | None: ...
    def mark_reversed(self, entry_id: int, by_id: int) -> None: ...
    def balances(self, before_period: int | None) -> list[BalanceRow]: ...
    def turnover_between(self, start: date, end: date) -> list[BalanceRow]: ...
    def account_postings(
        self, account: str, start: date | None, end: date | None
    ) -> list[LedgerPostingRow]: ...
    def iter_chain(self, journal: str) -> Iterator[JournalEntry]: ...
    def journal_codes(self) -> list[str]: ...
    def journal_state(self) -> dict[str, tuple[str, int]]: ...
    def commodities(self) -> list[Commodity]: ...
    def close_account(self, name: str, on: date) -> None: ...
    def recompute_balances(self) -> list[BalanceRow]: ...
    def stored_balance_rows(self) -> list[BalanceRow]: ...
    def iter_entries(self) -> Iterator[JournalEntry]: ...
    def find_import(self, fingerprint: str) -> tuple[int, int, bool] | None: ...
    def start_import(self, fingerprint: str, source: str, kind: str, at: datetime) -> int: ...
    def progress_import(self, import_id: int, batches: int, entries: int, done: bool) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without commit rolls back."""

    @property
    def ledger(self) -> LedgerStore:
        """The ledger's tables in this transaction."""

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work; ``readonly=True`` for reports (no write lock taken)."""

    def __call__(self, readonly: bool = False) -> UnitOfWork: ...


class Clock(Protocol):
    """Now and today, injectable for tests."""

    def now(self) -> datetime: ...
    def today(self) -> date: ...
