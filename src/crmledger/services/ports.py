"""The ports the services need; adapters in ``persistence`` (and tests) implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from crmledger.core.accounts import Account
from crmledger.core.audit_log import AuditRecord
from crmledger.core.entries import JournalEntry
from crmledger.core.imports import BalanceAssertion
from crmledger.core.money import Commodity
from crmledger.services.billing_ports import BillingStore
from crmledger.services.crm_ports import (
    CommerceStore,
    DealStore,
    InteractionStore,
    PartyStore,
    SatisfactionStore,
)
from crmledger.services.dunning_ports import DunningStore
from crmledger.services.expense_ports import ExpenseStore, RecurringBillStore
from crmledger.services.statement_ports import StatementStore


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
    chain_seq: int = 0


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


@dataclass(frozen=True, slots=True)
class EntryQuery:
    """A page of entries: filters, the sort key (``id`` or ``date``, descending unless
    ``ascending``) and the keyset to continue after (``(date, id)`` of the last row)."""

    limit: int = 100
    after: tuple[date, int] | None = None
    sort: str = "id"
    ascending: bool = False
    journal: str | None = None
    state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    account: str | None = None


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
    def journal_head(self, journal: str) -> tuple[str, int]: ...
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
    def add_conversion_deltas(self, deltas: dict[tuple[str, int], int]) -> None: ...
    def conversions(self, before_period: int | None) -> dict[str, int]: ...
    def conversions_between(self, start: date, end: date) -> dict[str, int]: ...
    def stored_conversions(self) -> dict[tuple[str, int], int]: ...
    def recompute_conversions(self) -> dict[tuple[str, int], int]: ...
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
    def account_versions(self) -> dict[str, int]: ...
    def account_version(self, name: str) -> int: ...
    def recompute_balances(self) -> list[BalanceRow]: ...
    def stored_balance_rows(self) -> list[BalanceRow]: ...
    def iter_entries(self) -> Iterator[JournalEntry]: ...
    def entries_page(self, query: EntryQuery) -> list[JournalEntry]: ...
    def add_assertions(self, rows: Sequence[tuple[int, date, str, int, int | None]]) -> None:
        """Store ``(account id, date, commodity, amount minor, import id)`` assertions."""

    def assertions(self) -> list[BalanceAssertion]: ...
    def find_import(self, fingerprint: str) -> tuple[int, int, bool] | None:
        """Id, entries committed so far, complete."""

    def start_import(self, fingerprint: str, source: str, kind: str, at: datetime) -> int: ...
    def progress_import(self, import_id: int, entries: int, done: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class UserRow:
    """A stored user; the email is encrypted (``email_enc``)."""

    id: int
    email_enc: str
    role: str
    password_hash: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A stored API token (its secret is only ever stored hashed)."""

    id: int
    user_id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A web session."""

    user_id: int
    csrf_token: str
    expires_at: datetime


class AccessStore(Protocol):
    """Users, API tokens and web sessions."""

    def add_user(self, email_index: str, role: str, password_hash: str, at: datetime) -> int: ...
    def user(self, user_id: int) -> UserRow | None: ...
    def user_by_index(self, email_index: str) -> UserRow | None: ...
    def users(self) -> list[UserRow]: ...
    def update_user(self, user_id: int, version: int | None, **values: object) -> bool:
        """Change ``values`` (bumping the version) if the stored version is ``version``
        (``None``: any); returns whether a row changed."""

    def count_users(self) -> int: ...
    def add_token(
        self, user_id: int, name: str, token_hash: str, at: datetime, expires: datetime | None
    ) -> int: ...
    def token_by_hash(self, token_hash: str) -> TokenRow | None: ...
    def tokens(self, user_id: int | None) -> list[TokenRow]: ...
    def revoke_token(self, token_id: int, at: datetime) -> bool: ...
    def add_session(
        self, id_hash: str, user_id: int, csrf: str, at: datetime, expires: datetime
    ) -> None: ...
    def session(self, id_hash: str) -> SessionRow | None: ...
    def delete_session(self, id_hash: str) -> None: ...
    def delete_sessions_of(self, user_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredAudit:
    """An audit record with its chain links."""

    record: AuditRecord
    previous_hash: str
    hash: str
    #: The canonical text of ``record.changes`` when the writer has it ("": not yet made).
    changes_text: str = ""


class AuditStore(Protocol):
    """The append-only audit log."""

    def head(self, lock: bool = True) -> tuple[int, str]:
        """Last sequence number and hash; ``lock`` holds it until the transaction ends."""

    def append(self, rows: Sequence[StoredAudit]) -> None:
        """Insert ``rows`` (in order, continuing the head) and move the head."""

    def iter_records(self) -> Iterator[StoredAudit]: ...
    def page(
        self, before_seq: int | None, limit: int, filters: dict[str, str]
    ) -> list[StoredAudit]:
        """Newest first, below ``before_seq``, matching ``filters`` (column: value)."""


@dataclass(frozen=True, slots=True)
class IdempotentResponse:
    """A stored first response; ``status`` is None while the first request is running."""

    request_hash: str
    status: int | None
    content_type: str | None
    body: bytes | None
    created_at: datetime


class IdempotencyStore(Protocol):
    """First responses to creates, per principal and ``Idempotency-Key``."""

    def claim(
        self, principal: str, key: str, request_hash: str, at: datetime
    ) -> IdempotentResponse | None:
        """Claim the key; ``None`` when claimed now, else what is stored under it."""

    def complete(
        self, principal: str, key: str, status: int, content_type: str, body: bytes
    ) -> None: ...
    def release(self, principal: str, key: str) -> None: ...
    def purge(self, before: datetime) -> int: ...


class SecretStore(Protocol):
    """The encrypted columns, for key rotation."""

    def encrypted_columns(self) -> list[tuple[str, str]]:
        """``(table, column)`` of every encrypted column."""

    def encrypted_values(
        self, table: str, column: str, after_row: int, limit: int
    ) -> list[tuple[int, str]]:
        """``(row id, stored text)`` in row order after ``after_row``."""

    def replace_encrypted(self, table: str, column: str, row: int, old: str, new: str) -> bool:
        """Compare-and-set one value; False when it changed meanwhile."""


class UnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without commit rolls back."""

    @property
    def ledger(self) -> LedgerStore:
        """The ledger's tables in this transaction."""

    @property
    def access(self) -> AccessStore:
        """Users, tokens and sessions in this transaction."""

    @property
    def audit(self) -> AuditStore:
        """The audit log in this transaction."""

    @property
    def idempotency(self) -> IdempotencyStore:
        """Stored first responses in this transaction."""

    @property
    def secrets(self) -> SecretStore:
        """Encrypted columns in this transaction."""

    @property
    def parties(self) -> PartyStore:
        """Parties and contacts in this transaction."""

    @property
    def deals(self) -> DealStore:
        """Pipelines, deals and their stage history in this transaction."""

    @property
    def satisfaction(self) -> SatisfactionStore:
        """NPS and CSAT responses in this transaction."""

    @property
    def interactions(self) -> InteractionStore:
        """Interactions, the timeline and their full-text index in this transaction."""

    @property
    def commerce(self) -> CommerceStore:
        """Products, tax categories, quotes, sales orders and contracts in this transaction."""

    @property
    def billing(self) -> BillingStore:
        """Invoices, bills, payments, allocations, rates and the outbox in this transaction."""

    @property
    def dunning(self) -> DunningStore:
        """Dunning notices and the overdue invoices they concern in this transaction."""

    @property
    def statements(self) -> StatementStore:
        """Sums for the financial statements, cash-flow classes, layouts and year-end
        closes in this transaction."""

    @property
    def expenses(self) -> ExpenseStore:
        """Expense claims, their lines and receipts in this transaction."""

    @property
    def recurring_bills(self) -> RecurringBillStore:
        """Recurring vendor bills and the dates they billed in this transaction."""

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


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where an encrypted value lives: binding it to ``table.column`` of row ``row`` means a
    ciphertext copied to another row or column no longer decrypts."""

    table: str
    column: str
    row: str


class FieldCipher(Protocol):
    """Authenticated encryption of personal fields, one value at a time, and keyed blind
    indexes for equality lookups on them.

    ``encrypt`` returns a self-describing text (it names the key version); ``decrypt`` raises
    :class:`crmledger.services.errors.DecryptionError` when the value was tampered with,
    moved to another field or row, or its key is gone.
    """

    def encrypt(self, plaintext: str, context: FieldContext) -> str: ...
    def decrypt(self, stored: str, context: FieldContext) -> str: ...
    def key_version(self, stored: str) -> int: ...
    def current_version(self) -> int: ...
    def blind_index(self, value: str, table: str, column: str) -> str: ...
    def blind_indexer(self, table: str, column: str) -> Callable[[str], str]:
        """``blind_index`` of one column as a function (cheaper for many values)."""


class KeyRingAdmin(Protocol):
    """Versions of the data keys: add a new current one, retire an old one."""

    def versions(self) -> list[int]: ...
    def rotate(self) -> int:
        """Add a new key, make it current, persist the ring; returns the new version."""

    def retire(self, version: int) -> None:
        """Remove ``version`` from the ring (never the current one) and persist it."""


class PasswordHasher(Protocol):
    """One-way password hashes (Argon2id)."""

    def hash(self, password: str) -> str: ...
    def verify(self, stored: str, password: str) -> bool: ...
    def needs_rehash(self, stored: str) -> bool: ...
