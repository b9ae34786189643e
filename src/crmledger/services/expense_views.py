"""Expense claims as callers see them: decimals in the claim's currency, receipts listed
without their bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from crmledger.core.money import from_minor
from crmledger.services.expense_ports import ExpenseClaimRow, ExpenseLineRow, ReceiptRow


@dataclass(frozen=True, slots=True)
class ExpenseLine:
    """A claim line: ``amount`` as entered, ``net + tax`` what it costs; ``tax_rate`` a
    fraction (None: no input tax)."""

    position: int
    account: str
    description: str
    amount: Decimal
    tax_category: str | None
    tax_rate: Decimal | None
    net: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class ReceiptInfo:
    """A receipt as listed: its name, type, size and SHA-256."""

    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReceiptFile:
    """A receipt's bytes, to download."""

    info: ReceiptInfo
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpenseClaim:
    """A claim; ``number`` is given when it is approved and posted (``EXP-2026-0001``),
    ``decided_by`` names who approved or rejected it (``user:4``)."""

    id: int
    number: str | None
    employee_id: int
    status: str
    claimed_on: date
    description: str
    currency: str
    amounts: str
    lines: tuple[ExpenseLine, ...]
    receipts: tuple[ReceiptInfo, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    rate: Decimal | None
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


def receipt_info(row: ReceiptRow) -> ReceiptInfo:
    """The listed form of a stored receipt."""
    return ReceiptInfo(
        row.id, row.name, row.content_type, row.size, row.sha256, row.uploaded_by, row.created_at
    )


def _line(row: ExpenseLineRow, scale: int) -> ExpenseLine:
    return ExpenseLine(
        position=row.position,
        account=row.account,
        description=row.description,
        amount=from_minor(row.amount_minor, scale),
        tax_category=row.tax_category,
        tax_rate=None if row.tax_rate is None else Decimal(row.tax_rate),
        net=from_minor(row.net_minor, scale),
        tax=from_minor(row.tax_minor, scale),
    )


def claim_view(row: ExpenseClaimRow, receipts: Sequence[ReceiptRow], scale: int) -> ExpenseClaim:
    """The caller's view of a stored claim, ``scale`` being its currency's."""
    return ExpenseClaim(
        id=row.id,
        number=row.number,
        employee_id=row.employee_id,
        status=row.status,
        claimed_on=row.claimed_on,
        description=row.description,
        currency=row.currency,
        amounts=row.amounts,
        lines=tuple(_line(line, scale) for line in row.lines),
        receipts=tuple(receipt_info(r) for r in receipts if r.claim_id == row.id),
        net=from_minor(row.net_minor, scale),
        tax=from_minor(row.tax_minor, scale),
        gross=from_minor(row.gross_minor, scale),
        rate=None if row.rate is None else Decimal(row.rate),
        entry_id=row.entry_id,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        reimbursed_on=row.reimbursed_on,
        bank_account=row.bank_account,
        reimbursement_entry_id=row.reimbursement_entry_id,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
