"""What expense claims and recurring bills need from storage.

A claim is stored with its lines (amounts in minor units of the claim's currency) and its
receipts, whose bytes are read only when a receipt is downloaded. A receipt may show a
person's name, card or address, so its bytes are stored sealed by a :class:`ReceiptCipher`
(the field encryption's keys) with the SHA-256 of what was uploaded. A recurring bill is a
schedule with its lines, and one run row per schedule and billing date, claimed before the
bill is written, so a date is billed once whatever runs overlap::

    expense_claims          7  user 3  posted  EUR  gross 11900  entry 42
    expense_receipts        1  claim 7  taxi.pdf  application/pdf  48211 bytes  sha256 ...
    recurring_bills         2  party 9  monthly  from 2026-01-01  next 2026-07-01
    recurring_bill_runs     2  2026-06-01  document 51
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # services.ports names this module's stores
    from crmledger.services.ports import FieldContext


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpenseLineRow:
    """A stored claim line; ``amount_minor`` as entered, ``tax_rate`` a fraction's text."""

    position: int
    account: str
    description: str
    amount_minor: int
    tax_category: str | None
    tax_rate: str | None
    net_minor: int
    tax_minor: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpenseClaimRow:
    """A stored claim; ``id`` is ignored on insert. ``amounts`` says whether the lines were
    entered ``gross`` or ``net``; ``base_minor`` is what the claim owes in the base currency
    once posted, at ``rate``."""

    id: int
    number: str | None
    employee_id: int
    status: str
    claimed_on: date
    description: str
    currency: str
    amounts: str
    net_minor: int
    tax_minor: int
    gross_minor: int
    rate: str | None
    base_minor: int | None
    entry_id: int | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    reimbursed_on: date | None
    bank_account: str | None
    reimbursement_entry_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    lines: tuple[ExpenseLineRow, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptRow:
    """A stored receipt without its bytes; ``id`` is ignored on insert."""

    id: int
    claim_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SealedReceipt:
    """A receipt's sealed bytes with what they are bound to (its claim and the SHA-256 of
    the file), for key rotation."""

    id: int
    claim_id: int
    sha256: str
    content_enc: bytes


@dataclass(frozen=True, slots=True)
class ExpenseQuery:
    """A page of claims, newest first: ``after`` is the last id of the previous page."""

    limit: int
    after: int | None = None
    employee_id: int | None = None
    status: str | None = None


class ReceiptCipher(Protocol):
    """Authenticated encryption of files, bound to the column and row they are stored in
    (``security.cipher``); ``decrypt_bytes`` raises
    :class:`crmledger.services.errors.DecryptionError` on a tampered or moved file."""

    def encrypt_bytes(self, data: bytes, context: FieldContext) -> bytes: ...
    def decrypt_bytes(self, stored: bytes, context: FieldContext) -> bytes: ...


class ExpenseStore(Protocol):
    """Claims, their lines and their receipts."""

    def insert_claim(self, row: ExpenseClaimRow) -> int:
        """Store a claim and its lines; returns its id."""

    def update_claim(self, row: ExpenseClaimRow, expected_version: int) -> bool:
        """Write the claim's own fields (never its lines) if it is still at
        ``expected_version``; False when it is not."""

    def claim(self, claim_id: int) -> ExpenseClaimRow | None: ...
    def claim_page(self, query: ExpenseQuery) -> list[ExpenseClaimRow]:
        """Claims newest first, with their lines."""

    def add_receipt(self, row: ReceiptRow, sealed: bytes) -> int:
        """Store a receipt with its sealed bytes; returns its id."""

    def receipts(self, claim_ids: Sequence[int]) -> list[ReceiptRow]:
        """The receipts of ``claim_ids``, oldest first."""

    def receipt_content(self, claim_id: int, receipt_id: int) -> tuple[ReceiptRow, bytes] | None:
        """A receipt of the claim with its sealed bytes, or None."""

    def receipt_key_versions(self) -> dict[int, int]:
        """How many receipts each key version seals, read from the ``v<version>:`` prefix
        of the sealed bytes (never the whole file); 0 counts bytes that name no version."""

    def sealed_receipts(
        self, after_id: int, limit: int, except_version: int | None = None
    ) -> list[SealedReceipt]:
        """Up to ``limit`` receipts with their sealed bytes in id order after ``after_id``,
        leaving out those sealed under ``except_version``."""

    def replace_sealed(self, receipt_id: int, old: bytes, new: bytes) -> bool:
        """Compare-and-set a receipt's sealed bytes; False when they changed meanwhile."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurringLineRow:
    """A line of a recurring bill; ``quantity`` and ``discount`` as decimal text."""

    position: int
    description: str
    quantity: str
    unit_price_minor: int
    tax_category: str
    account: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurringBillRow:
    """A stored schedule; ``id`` is ignored on insert."""

    id: int
    party_id: int
    currency: str
    reference: str
    note: str
    frequency: str
    starts_on: date
    ends_on: date | None
    next_on: date
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    lines: tuple[RecurringLineRow, ...] = ()


class RecurringBillStore(Protocol):
    """Schedules of recurring vendor bills and the dates they billed."""

    def insert(self, row: RecurringBillRow) -> int:
        """Store a schedule and its lines; returns its id."""

    def get(self, schedule_id: int) -> RecurringBillRow | None: ...
    def page(self, limit: int, after: int | None) -> list[RecurringBillRow]:
        """Schedules newest first, with their lines."""

    def due(self, through: date) -> list[RecurringBillRow]:
        """Active schedules whose next date is on or before ``through``, oldest first."""

    def claim_run(self, schedule_id: int, day: date, at: datetime) -> bool:
        """Claim the bill of ``schedule_id`` on ``day``: False when another run has it (a
        concurrent claim waits for the other transaction and then gets False)."""

    def set_run_document(self, schedule_id: int, day: date, document_id: int) -> None:
        """Name the bill a claimed run wrote."""

    def runs(self, schedule_id: int) -> list[tuple[date, int | None]]:
        """``(billing date, bill id)`` of every run of a schedule, oldest first."""

    def advance(self, schedule_id: int, next_on: date, status: str, at: datetime) -> None:
        """Move the schedule's next date forward (never back) and set its status."""
