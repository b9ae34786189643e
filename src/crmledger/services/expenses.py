"""Expense claims: an employee claims what they paid, finance approves, books and pays back.

A claim is entered with its lines and receipts (``draft``), submitted by its employee, then
approved by someone else holding ``expenses:approve``: approving numbers it
(``EXP-2026-0001``) and posts expenses and input tax against what the company owes the
employee, in one transaction with its audit record and outbox event. Reimbursing posts
the payment from a bank account; a submitted claim may be rejected with a reason instead::

    claims = ExpenseService(uow, clock, cipher).acting_as(employee)
    draft = claims.create(NewClaim(description="Taxi to the airport",
                                   lines=[ClaimLine("Expenses:Travel", Decimal("59.50"),
                                                    "standard")]),
                          [Upload("taxi.pdf", pdf_bytes)])
    claims.submit(draft.id)
    claims.acting_as(finance).approve(draft.id)     # posted: EXP-2026-0001
    claims.acting_as(finance).reimburse(draft.id)   # paid from Assets:Bank:Checking

Approvers and auditors see every claim; anyone else sees (and may change) only their own.

A receipt may carry personal data (a name, a card number, an address), so its bytes are
stored sealed with the field encryption's keys, bound to the claim and the file's SHA-256
(kept in clear to check the file by): a receipt moved to another claim, or whose bytes or
hash were changed behind the service's back, does not open (:class:`DecryptionError`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from crmledger.core.accounts import AccountType
from crmledger.core.billing.expenses import (
    MAX_RECEIPTS,
    ClaimLine,
    ClaimStatus,
    PricedLine,
    Receipt,
    SelfApprovalError,
    advance,
    check_receipt,
    claimant,
    editable,
    price_lines,
    sees_all,
)
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import to_minor
from crmledger.services.billing_common import base_currency, emit, fx_on
from crmledger.services.errors import DecryptionError, NotFoundError, VersionConflictError
from crmledger.services.expense_ports import (
    ExpenseClaimRow,
    ExpenseLineRow,
    ExpenseQuery,
    ReceiptCipher,
    ReceiptRow,
)
from crmledger.services.expense_posting import book_claim, pay_claim
from crmledger.services.expense_views import (
    ExpenseClaim,
    ReceiptFile,
    ReceiptInfo,
    claim_view,
    receipt_info,
)
from crmledger.services.ports import Clock, FieldContext, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import MAX_MINOR, book_scales, scale_of
from crmledger.services.sales import number_text
from crmledger.services.settling import DEFAULT_BANK
from crmledger.services.trail import OPERATOR, Actor, record

MAX_DESCRIPTION = 2000
#: The outbox event each action announces.
EVENTS = {
    "submit": "expense.submitted",
    "approve": "expense.approved",
    "reject": "expense.rejected",
    "reimburse": "expense.reimbursed",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class NewClaim:
    """A claim as the employee enters it: amounts ``gross`` (tax included, as receipts show
    them) or net; currency and date default to the base currency and today, the employee
    to the user acting (naming another needs ``expenses:approve``)."""

    description: str
    lines: Sequence[ClaimLine]
    currency: str | None = None
    claimed_on: date | None = None
    gross: bool = True
    employee_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimChoices:
    """What a claim's form offers: the open expense accounts and each tax category's
    rate (a fraction) on the day."""

    accounts: tuple[str, ...]
    tax_rates: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class Upload:
    """A receipt file as it arrives: the name it was sent with and its bytes."""

    name: str
    content: bytes


def receipt_context(claim_id: int, sha256: str) -> FieldContext:
    """What a receipt's sealed bytes are bound to: its claim and its file's hash."""
    return FieldContext("expense_receipts", "content", f"{claim_id}/{sha256}")


def _checked_uploads(uploads: Sequence[Upload], field: str = "receipts") -> list[Receipt]:
    if len(uploads) > MAX_RECEIPTS:
        raise InvalidFieldError(field, f"a claim has at most {MAX_RECEIPTS} receipts")
    return [check_receipt(u.name, u.content, f"{field}[{i}]") for i, u in enumerate(uploads)]


def _description(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidFieldError("description", "is required")
    if len(cleaned) > MAX_DESCRIPTION:
        raise InvalidFieldError("description", f"has at most {MAX_DESCRIPTION} characters")
    return cleaned


def _line_rows(lines: Sequence[PricedLine], scale: int) -> tuple[ExpenseLineRow, ...]:
    return tuple(
        ExpenseLineRow(
            position=i + 1,
            account=line.account,
            description=line.description,
            amount_minor=to_minor(line.amount, scale),
            tax_category=line.tax_category,
            tax_rate=None if line.rate is None else number_text(line.rate),
            net_minor=to_minor(line.net, scale),
            tax_minor=to_minor(line.tax, scale),
        )
        for i, line in enumerate(lines)
    )


def _audit(row: ExpenseClaimRow) -> dict[str, object]:
    return {
        "number": row.number,
        "employee_id": row.employee_id,
        "status": row.status,
        "currency": row.currency,
        "gross_minor": row.gross_minor,
        "claimed_on": row.claimed_on.isoformat(),
        "entry_id": row.entry_id,
        "reason": row.reason,
    }


class ExpenseService:
    """Expense claims from draft to reimbursed (see the module docstring)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        cipher: ReceiptCipher,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cipher = cipher
        self._actor = actor

    def acting_as(self, actor: Actor) -> ExpenseService:
        """The same service for another actor."""
        return ExpenseService(self._uow, self._clock, self._cipher, actor)

    # -- reading --------------------------------------------------------------------------

    def _visible(self, uow: UnitOfWork, claim_id: int) -> ExpenseClaimRow:
        """The claim, if the actor may see it (else it does not exist for them)."""
        row = uow.expenses.claim(claim_id)
        principal = self._actor.principal
        if row is None or not (sees_all(principal) or row.employee_id == principal.user_id):
            raise NotFoundError(f"no expense claim {claim_id}")
        return row

    def _view(self, uow: UnitOfWork, row: ExpenseClaimRow) -> ExpenseClaim:
        scale = scale_of(row.currency, book_scales(uow))
        return claim_view(row, uow.expenses.receipts([row.id]), scale)

    def get(self, claim_id: int) -> ExpenseClaim:
        """One claim with its lines and receipts; :class:`NotFoundError` when there is none
        the actor may see."""
        self._actor.require("expenses", "read")
        with self._uow(readonly=True) as uow:
            return self._view(uow, self._visible(uow, claim_id))

    def page(self, query: ExpenseQuery) -> list[ExpenseClaim]:
        """A page of claims, newest first (only the actor's own unless they see all)."""
        self._actor.require("expenses", "read")
        principal = self._actor.principal
        if not sees_all(principal):
            query = replace(query, employee_id=principal.user_id or 0)
        with self._uow(readonly=True) as uow:
            rows = uow.expenses.claim_page(query)
            receipts = uow.expenses.receipts([r.id for r in rows])
            scales = book_scales(uow)
            return [claim_view(r, receipts, scale_of(r.currency, scales)) for r in rows]

    def receipt(self, claim_id: int, receipt_id: int) -> ReceiptFile:
        """A receipt's bytes, as uploaded; :class:`DecryptionError` when the stored file
        does not open or is not the one uploaded."""
        self._actor.require("expenses", "read")
        with self._uow(readonly=True) as uow:
            self._visible(uow, claim_id)
            found = uow.expenses.receipt_content(claim_id, receipt_id)
        if found is None:
            raise NotFoundError(f"no receipt {receipt_id} on expense claim {claim_id}")
        row, sealed = found
        content = self._cipher.decrypt_bytes(sealed, receipt_context(claim_id, row.sha256))
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise DecryptionError(f"receipt {receipt_id}: the file is not the one uploaded")
        return ReceiptFile(receipt_info(row), content)

    # -- entering -------------------------------------------------------------------------

    def choices(self, on: date | None = None) -> ClaimChoices:
        """The accounts and tax categories a claim dated ``on`` (default today) may use,
        for whoever may enter claims (reading the chart is not needed for that)."""
        self._actor.require("expenses", "write")
        day = on or self._clock.today()
        with self._uow(readonly=True) as uow:
            accounts = tuple(
                name
                for name, (_, account) in sorted(uow.ledger.accounts().items())
                if account.type is AccountType.EXPENSES and account.is_open_on(day)
            )
            rates = {r.category: Decimal(r.rate) for r in uow.billing.tax_rates_on(day)}
        return ClaimChoices(accounts, rates)

    def create(self, new: NewClaim, receipts: Sequence[Upload] = ()) -> ExpenseClaim:
        """A draft claim with its receipts; a bad line or receipt is refused naming it
        (``lines[0].amount``, ``receipts[1]``) and nothing is written."""
        self._actor.require("expenses", "write")
        description = _description(new.description)
        checked = _checked_uploads(receipts)
        at = self._clock.now()
        with self._uow() as uow:
            row = self._draft_row(uow, new, description, at)
            row = replace(row, id=uow.expenses.insert_claim(row))
            for upload, receipt in zip(receipts, checked, strict=True):
                self._store_receipt(uow, row.id, receipt, upload.content, at)
            record(uow, self._actor, at, "expense.create", "expense", row.id, None, _audit(row))
            view = self._view(uow, row)
            uow.commit()
        return view

    def _draft_row(
        self, uow: UnitOfWork, new: NewClaim, description: str, at: datetime
    ) -> ExpenseClaimRow:
        employee = self._employee(uow, new.employee_id)
        day = new.claimed_on or self._clock.today()
        currency = (new.currency or base_currency(uow)).strip().upper()
        scale = scale_of(currency, book_scales(uow))
        fx_on(uow, currency, day)  # a foreign claim needs the day's rate to be booked
        rates = {r.category: Decimal(r.rate) for r in uow.billing.tax_rates_on(day)}
        priced = price_lines(new.lines, rates, scale, new.gross)
        _check_accounts(uow, [line.account for line in priced], day)
        lines = _line_rows(priced, scale)
        net, tax = sum(r.net_minor for r in lines), sum(r.tax_minor for r in lines)
        if net + tax > MAX_MINOR:
            raise InvalidFieldError("lines", "the claim's total is too large")
        return ExpenseClaimRow(
            id=0,
            number=None,
            employee_id=employee,
            status=ClaimStatus.DRAFT.value,
            claimed_on=day,
            description=description,
            currency=currency,
            amounts="gross" if new.gross else "net",
            net_minor=net,
            tax_minor=tax,
            gross_minor=net + tax,
            rate=None,
            base_minor=None,
            entry_id=None,
            decided_by=None,
            decided_at=None,
            reason="",
            reimbursed_on=None,
            bank_account=None,
            reimbursement_entry_id=None,
            version=1,
            created_at=at,
            updated_at=at,
            lines=lines,
        )

    def _employee(self, uow: UnitOfWork, given: int | None) -> int:
        me = self._actor.principal.user_id
        employee = given if given is not None else me
        if employee is None:
            raise InvalidFieldError("employee_id", "name the employee the claim is for")
        if employee != me:
            self._actor.require("expenses", "approve")  # claiming for somebody else
        user = uow.access.user(employee)
        if user is None or user.disabled:
            raise InvalidFieldError("employee_id", f"no active user {employee}")
        return employee

    def _store_receipt(
        self, uow: UnitOfWork, claim_id: int, receipt: Receipt, content: bytes, at: datetime
    ) -> int:
        row = ReceiptRow(
            id=0,
            claim_id=claim_id,
            name=receipt.name,
            content_type=receipt.content_type,
            size=receipt.size,
            sha256=receipt.sha256,
            uploaded_by=self._actor.audit_id,
            created_at=at,
        )
        sealed = self._cipher.encrypt_bytes(content, receipt_context(claim_id, receipt.sha256))
        receipt_id = uow.expenses.add_receipt(row, sealed)
        after = {"claim_id": claim_id, "name": receipt.name, "sha256": receipt.sha256}
        record(uow, self._actor, at, "expense.receipt", "expense", claim_id, None, after)
        return receipt_id

    def add_receipt(
        self, claim_id: int, upload: Upload, if_version: int | None = None
    ) -> tuple[ExpenseClaim, ReceiptInfo]:
        """Attach a receipt to a draft claim; returns the claim and the receipt."""
        self._actor.require("expenses", "write")
        receipt = check_receipt(upload.name, upload.content, "receipt")
        at = self._clock.now()
        with self._uow() as uow:
            row = self._own(uow, claim_id, if_version)
            if not editable(row.status):
                raise TransitionError(f"receipts are added to a draft, not a {row.status} claim")
            if len(uow.expenses.receipts([row.id])) >= MAX_RECEIPTS:
                raise InvalidFieldError("receipts", f"a claim has at most {MAX_RECEIPTS} receipts")
            receipt_id = self._store_receipt(uow, row.id, receipt, upload.content, at)
            row = self._save(uow, row, replace(row, updated_at=at))
            view = self._view(uow, row)
            uow.commit()
        return view, next(r for r in view.receipts if r.id == receipt_id)

    # -- moving on ------------------------------------------------------------------------

    def _load(self, uow: UnitOfWork, claim_id: int, if_version: int | None) -> ExpenseClaimRow:
        row = self._visible(uow, claim_id)
        if if_version is not None and row.version != if_version:
            raise VersionConflictError(f"expense claim {claim_id}", if_version, row.version)
        return row

    def _own(self, uow: UnitOfWork, claim_id: int, if_version: int | None) -> ExpenseClaimRow:
        """The claim, if it is the actor's own or the actor approves claims."""
        row = self._load(uow, claim_id, if_version)
        if row.employee_id != self._actor.principal.user_id:
            self._actor.require("expenses", "approve")
        return row

    def _save(
        self, uow: UnitOfWork, before: ExpenseClaimRow, after: ExpenseClaimRow
    ) -> ExpenseClaimRow:
        after = replace(after, version=before.version + 1)
        if not uow.expenses.update_claim(after, before.version):
            raise VersionConflictError(f"expense claim {before.id}", before.version, after.version)
        return after

    def _finish(
        self, uow: UnitOfWork, before: ExpenseClaimRow, after: ExpenseClaimRow, action: str
    ) -> ExpenseClaim:
        """Store ``after``, audit it and announce it; returns the view (not committed)."""
        at = after.updated_at
        saved = self._save(uow, before, after)
        record(
            uow,
            self._actor,
            at,
            f"expense.{action}",
            "expense",
            before.id,
            _audit(before),
            _audit(saved),
        )
        emit(
            uow,
            "expense",
            saved.id,
            EVENTS[action],
            at,
            employee=claimant(saved.employee_id),
            number=saved.number,
            currency=saved.currency,
            gross_minor=saved.gross_minor,
        )
        return self._view(uow, saved)

    def submit(self, claim_id: int, if_version: int | None = None) -> ExpenseClaim:
        """Hand a draft in for approval; it needs at least one receipt."""
        self._actor.require("expenses", "write")
        at = self._clock.now()
        with self._uow() as uow:
            row = self._own(uow, claim_id, if_version)
            status = advance(row.status, "submit")
            if not uow.expenses.receipts([row.id]):
                raise InvalidFieldError("receipts", "a claim is submitted with a receipt")
            view = self._finish(
                uow, row, replace(row, status=status.value, updated_at=at), "submit"
            )
            uow.commit()
        return view

    def reject(self, claim_id: int, reason: str, if_version: int | None = None) -> ExpenseClaim:
        """Turn a submitted claim down, saying why."""
        self._actor.require("expenses", "approve")
        why = reason.strip()
        if not why:
            raise InvalidFieldError("reason", "say why the claim is rejected")
        at = self._clock.now()
        with self._uow() as uow:
            row = self._load(uow, claim_id, if_version)
            status = advance(row.status, "reject")
            rejected = replace(
                row,
                status=status.value,
                reason=why[:MAX_DESCRIPTION],
                decided_by=self._actor.audit_id,
                decided_at=at,
                updated_at=at,
            )
            view = self._finish(uow, row, rejected, "reject")
            uow.commit()
        return view

    def approve(self, claim_id: int, if_version: int | None = None) -> ExpenseClaim:
        """Approve a submitted claim of somebody else and post it (see the module)."""
        self._actor.require("expenses", "approve")
        at = self._clock.now()
        with self._uow() as uow:
            view = self._approve(uow, claim_id, if_version, at)
            uow.commit()
        return view

    def approve_many(self, claim_ids: Sequence[int]) -> list[ExpenseClaim]:
        """Approve and post each claim of ``claim_ids`` as :meth:`approve` does, in one
        transaction (all or none): an approver working through the week's queue."""
        self._actor.require("expenses", "approve")
        at = self._clock.now()
        with self._uow() as uow:
            views = [self._approve(uow, claim_id, None, at) for claim_id in claim_ids]
            uow.commit()
        return views

    def _approve(
        self, uow: UnitOfWork, claim_id: int, if_version: int | None, at: datetime
    ) -> ExpenseClaim:
        row = self._load(uow, claim_id, if_version)
        if row.employee_id == self._actor.principal.user_id:
            raise SelfApprovalError
        status = advance(row.status, "approve")
        posted = replace(book_claim(uow, self._actor, row, at), status=status.value)
        return self._finish(uow, row, posted, "approve")

    def reimburse(
        self,
        claim_id: int,
        if_version: int | None = None,
        *,
        paid_on: date | None = None,
        bank_account: str = DEFAULT_BANK,
    ) -> ExpenseClaim:
        """Pay a posted claim back from ``bank_account`` on ``paid_on`` (default today),
        at the rate it was booked at: what the claim left owing is cleared."""
        self._actor.require("expenses", "approve")
        at = self._clock.now()
        day = paid_on or self._clock.today()
        with self._uow() as uow:
            view = self._reimburse(uow, claim_id, if_version, day, bank_account, at)
            uow.commit()
        return view

    def reimburse_many(
        self,
        claim_ids: Sequence[int],
        *,
        paid_on: date | None = None,
        bank_account: str = DEFAULT_BANK,
    ) -> list[ExpenseClaim]:
        """Pay back each claim of ``claim_ids`` as :meth:`reimburse` does, in one
        transaction (all or none): a payment run."""
        self._actor.require("expenses", "approve")
        at = self._clock.now()
        day = paid_on or self._clock.today()
        with self._uow() as uow:
            views = [
                self._reimburse(uow, claim_id, None, day, bank_account, at)
                for claim_id in claim_ids
            ]
            uow.commit()
        return views

    def _reimburse(
        self,
        uow: UnitOfWork,
        claim_id: int,
        if_version: int | None,
        day: date,
        bank_account: str,
        at: datetime,
    ) -> ExpenseClaim:
        row = self._load(uow, claim_id, if_version)
        status = advance(row.status, "reimburse")
        entry_id = pay_claim(uow, row, day, bank_account, at)
        paid = replace(
            row,
            status=status.value,
            reimbursed_on=day,
            bank_account=bank_account,
            reimbursement_entry_id=entry_id,
            updated_at=at,
        )
        return self._finish(uow, row, paid, "reimburse")


def _check_accounts(uow: UnitOfWork, names: Sequence[str], day: date) -> None:
    """Every line's account is an open account of the chart."""
    chart = uow.ledger.accounts()
    for index, name in enumerate(names):
        found = chart.get(name)
        if found is None:
            raise InvalidFieldError(f"lines[{index}].account", f"the chart has no account {name}")
        if not found[1].is_open_on(day):
            raise InvalidFieldError(
                f"lines[{index}].account", f"{name} is not open on {day.isoformat()}"
            )
