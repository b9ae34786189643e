"""Booking expense claims: the entry an approval posts and the one a reimbursement posts.

Both run inside the caller's unit of work, through the ledger's one write boundary
(``billing_common.post``); nothing here commits. An approved claim is numbered gapless per
year (``EXP-2026-0001``) and booked at the exchange rate of its date; its reimbursement
clears exactly what it booked, in the claim's currency and in the base currency::

    row = book_claim(uow, actor, row, at)           # number, rate, base value, entry
    entry_id = pay_claim(uow, row, day, "Assets:Bank:Checking", at)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from crmledger.core.accounts import Account, AccountType
from crmledger.core.billing.expenses import (
    ApprovedClaim,
    ExpenseAccounts,
    Reimbursement,
    claim_entry,
    reimbursement_entry,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import base_currency, fx_on, post, rate_text
from crmledger.services.expense_ports import ExpenseClaimRow
from crmledger.services.ports import UnitOfWork
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import Actor, record

ACCOUNTS = ExpenseAccounts()


def book_claim(
    uow: UnitOfWork, actor: Actor, row: ExpenseClaimRow, at: datetime
) -> ExpenseClaimRow:
    """Number and post ``row`` (approved by ``actor``); returns it with its number, rate,
    base value and entry."""
    day = row.claimed_on
    fx = fx_on(uow, row.currency, day)
    scale = scale_of(row.currency, book_scales(uow))
    number = f"EXP-{day.year}-{uow.commerce.next_number('expense', day.year):04d}"
    _open_liability(uow, actor, at)
    claim = ApprovedClaim(
        number=number,
        employee_id=row.employee_id,
        on=day,
        currency=row.currency,
        description=row.description,
        lines=tuple((r.account, from_minor(r.net_minor, scale)) for r in row.lines),
        taxes=tuple(
            (r.tax_category, from_minor(r.tax_minor, scale))
            for r in row.lines
            if r.tax_category is not None
        ),
    )
    entry, base = claim_entry(claim, ACCOUNTS, fx)
    return replace(
        row,
        number=number,
        rate=rate_text(fx.rate) if fx.converts else None,
        base_minor=to_minor(base, fx.base_scale),
        entry_id=post(uow, entry, at),
        decided_by=actor.audit_id,
        decided_at=at,
        updated_at=at,
    )


def pay_claim(uow: UnitOfWork, row: ExpenseClaimRow, day: date, bank: str, at: datetime) -> int:
    """Post the reimbursement of a booked claim from ``bank`` on ``day``; returns the
    entry's id."""
    assert row.number is not None  # a booked claim is numbered
    assert row.base_minor is not None
    _check_bank(uow, bank, day)
    base = base_currency(uow)
    scales = book_scales(uow)
    payment = Reimbursement(
        number=row.number,
        employee_id=row.employee_id,
        on=day,
        currency=row.currency,
        gross=from_minor(row.gross_minor, scale_of(row.currency, scales)),
        base=from_minor(row.base_minor, scale_of(base, scales)),
        base_currency=base,
        bank_account=bank,
    )
    return post(uow, reimbursement_entry(payment, ACCOUNTS), at)


def _check_bank(uow: UnitOfWork, name: str, day: date) -> None:
    found = uow.ledger.accounts().get(name)
    if found is None or found[1].type is not AccountType.ASSETS:
        raise InvalidFieldError("bank_account", f"{name} is not an asset account of the chart")
    if not found[1].is_open_on(day):
        raise InvalidFieldError("bank_account", f"{name} is not open on {day.isoformat()}")


def _open_liability(uow: UnitOfWork, actor: Actor, at: datetime) -> None:
    """Open the employees' liability account in a book whose chart lacks it."""
    name = ACCOUNTS.liability
    if name in uow.ledger.accounts():
        return
    uow.ledger.add_account(Account(name, description="Expense claims owed to employees"))
    record(uow, actor, at, "account.create", "account", name, None, {"name": name})
