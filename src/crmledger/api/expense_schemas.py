"""Request and response bodies of expense claims and recurring bills.

Money travels as decimal strings. A claim's lines name the expense account and the amount
as the receipt shows it (``amounts``: ``gross``, tax included, or ``net``), with a tax
category when input tax is deducted; receipts are uploaded as files on their own::

    POST /expenses   {"description": "Taxi to the airport", "claimed_on": "2026-06-12",
                      "lines": [{"account": "Expenses:Travel", "amount": "59.50",
                                 "tax_category": "standard"}]}
    POST /recurring-bills   {"party_id": 9, "frequency": "monthly", "starts_on": "2026-01-01",
                             "lines": [{"description": "Rent", "unit_price": "1200.00",
                                        "account": "Expenses:Rent"}]}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StringConstraints

from crmledger.api.commerce_schemas import Currency, ExpensesAccount, Price, Quantity, TaxCategory
from crmledger.api.schemas import NO_NUL, AccountName, Day, In, RowId, Short, Text, money
from crmledger.core.billing.expenses import MAX_LINES, ClaimLine, ClaimStatus
from crmledger.core.billing.recurring import Frequency
from crmledger.services.expense_views import ExpenseClaim, ReceiptInfo
from crmledger.services.invoicing import DocumentLine
from crmledger.services.recurring_bills import RecurringBill
from crmledger.services.settling import DEFAULT_BANK

# -- expense claims: requests -----------------------------------------------------------------


class ExpenseLineIn(In):
    """One expense: the account it is booked to and what was paid; ``tax_category`` names
    the input tax the amount holds (gross) or adds (net); none: no tax."""

    account: ExpensesAccount
    amount: Price
    tax_category: TaxCategory | None = None
    description: Text = ""


class ExpenseCreate(In):
    """A draft claim of the caller (or, for an approver, of ``employee_id``); currency and
    date default to the base currency and today."""

    description: Short
    lines: list[ExpenseLineIn] = Field(min_length=1, max_length=MAX_LINES)
    amounts: Literal["gross", "net"] = "gross"
    currency: Currency | None = None
    claimed_on: Day | None = None
    employee_id: RowId | None = None


def claim_lines(lines: list[ExpenseLineIn]) -> list[ClaimLine]:
    """The service's lines of a claim body's lines."""
    return [
        ClaimLine(line.account, Decimal(line.amount), line.tax_category, line.description)
        for line in lines
    ]


class ExpenseReject(In):
    """Why the claim is turned down (shown to the employee)."""

    reason: Short


class ExpenseReimburse(In):
    """The day and the bank account the claim is paid from (default today and the main
    bank account)."""

    paid_on: Day | None = None
    bank_account: AccountName = DEFAULT_BANK


# -- expense claims: responses ----------------------------------------------------------------


class ExpenseLinePublic(BaseModel):
    """A claim line: ``amount`` as entered; ``net + tax`` what it costs."""

    position: int
    account: str
    description: str
    amount: str
    tax_category: str | None
    tax_rate: str | None
    net: str
    tax: str


class ReceiptPublic(BaseModel):
    """A receipt: the type its content showed, its size in bytes and SHA-256."""

    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime

    @classmethod
    def of(cls, receipt: ReceiptInfo) -> Self:
        """The API view of a receipt."""
        return cls(
            id=receipt.id,
            name=receipt.name,
            content_type=receipt.content_type,
            size=receipt.size,
            sha256=receipt.sha256,
            created_at=receipt.created_at,
        )


class ExpensePublic(BaseModel):
    """An expense claim: ``draft``, ``submitted``, ``posted`` (approved and booked as
    ``number``), ``reimbursed`` or ``rejected``; ``rate`` is the exchange rate it was booked
    at (null: the base currency)."""

    id: int
    number: str | None
    employee_id: int
    status: ClaimStatus
    claimed_on: dt.date
    description: str
    currency: str
    amounts: str
    lines: list[ExpenseLinePublic]
    receipts: list[ReceiptPublic]
    net: str
    tax: str
    gross: str
    rate: str | None
    entry_id: int | None
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str
    reimbursed_on: dt.date | None
    bank_account: str | None
    reimbursement_entry_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, claim: ExpenseClaim) -> Self:
        """The API view of a claim."""
        return cls(
            id=claim.id,
            number=claim.number,
            employee_id=claim.employee_id,
            status=ClaimStatus(claim.status),
            claimed_on=claim.claimed_on,
            description=claim.description,
            currency=claim.currency,
            amounts=claim.amounts,
            lines=[
                ExpenseLinePublic(
                    position=x.position,
                    account=x.account,
                    description=x.description,
                    amount=money(x.amount),
                    tax_category=x.tax_category,
                    tax_rate=None if x.tax_rate is None else money(x.tax_rate),
                    net=money(x.net),
                    tax=money(x.tax),
                )
                for x in claim.lines
            ],
            receipts=[ReceiptPublic.of(r) for r in claim.receipts],
            net=money(claim.net),
            tax=money(claim.tax),
            gross=money(claim.gross),
            rate=None if claim.rate is None else money(claim.rate),
            entry_id=claim.entry_id,
            decided_by=claim.decided_by,
            decided_at=claim.decided_at,
            reason=claim.reason,
            reimbursed_on=claim.reimbursed_on,
            bank_account=claim.bank_account,
            reimbursement_entry_id=claim.reimbursement_entry_id,
            version=claim.version,
            created_at=claim.created_at,
            updated_at=claim.updated_at,
        )


# -- recurring bills --------------------------------------------------------------------------


class RecurringLineIn(In):
    """A line every bill of the schedule carries (default account ``Expenses:Office``)."""

    description: Short
    quantity: Quantity = "1"
    unit_price: Price
    tax_category: TaxCategory = "standard"
    account: ExpensesAccount | None = None


class RecurringBillCreate(In):
    """A vendor's bill that recurs: the first falls due on ``starts_on``, the last on or
    before ``ends_on``; currency defaults to the base currency."""

    party_id: RowId
    frequency: Frequency
    starts_on: Day
    ends_on: Day | None = None
    currency: Currency | None = None
    reference: Annotated[str, StringConstraints(pattern=NO_NUL, max_length=100)] = ""
    note: Text = ""
    lines: list[RecurringLineIn] = Field(min_length=1, max_length=MAX_LINES)


def recurring_lines(lines: list[RecurringLineIn]) -> list[DocumentLine]:
    """The service's lines of a schedule body's lines."""
    return [
        DocumentLine(
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price=Decimal(line.unit_price),
            tax_category=line.tax_category,
            account=line.account,
        )
        for line in lines
    ]


class RecurringLinePublic(BaseModel):
    """A schedule line."""

    position: int
    description: str
    quantity: str
    unit_price: str
    tax_category: str
    account: str


class RecurringBillRun(BaseModel):
    """A date the schedule billed and the bill it issued."""

    date: dt.date
    bill_id: int | None


class RecurringBillPublic(BaseModel):
    """A schedule: ``next_on`` is the next date it bills; ``ended`` once past its end."""

    id: int
    party_id: int
    currency: str
    reference: str
    note: str
    frequency: Frequency
    starts_on: dt.date
    ends_on: dt.date | None
    next_on: dt.date
    status: Literal["active", "ended"]
    lines: list[RecurringLinePublic]
    bills: list[RecurringBillRun]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, schedule: RecurringBill) -> Self:
        """The API view of a schedule."""
        return cls(
            id=schedule.id,
            party_id=schedule.party_id,
            currency=schedule.currency,
            reference=schedule.reference,
            note=schedule.note,
            frequency=Frequency(schedule.frequency),
            starts_on=schedule.starts_on,
            ends_on=schedule.ends_on,
            next_on=schedule.next_on,
            status="ended" if schedule.status == "ended" else "active",
            lines=[
                RecurringLinePublic(
                    position=x.position,
                    description=x.description,
                    quantity=money(x.quantity),
                    unit_price=money(x.unit_price),
                    tax_category=x.tax_category,
                    account=x.account,
                )
                for x in schedule.lines
            ],
            bills=[RecurringBillRun(date=d, bill_id=b) for d, b in schedule.bills],
            version=schedule.version,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
        )
