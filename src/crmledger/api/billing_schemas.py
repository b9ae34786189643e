"""Request and response bodies of invoices, credit notes and vendor bills.

Money, quantities and rates travel as decimal strings, never as JSON numbers. A draft
invoice takes lines like a quote (what a line leaves out comes from its product); a bill's
lines name the expense account they are booked to; a credit note names the invoice's line
positions and the quantities it takes back::

    POST /invoices      {"party_id": 7, "currency": "EUR",
                         "lines": [{"product_id": 3, "quantity": "2"}]}
    POST /bills         {"party_id": 9, "currency": "EUR", "reference": "V-1182",
                         "lines": [{"description": "Paper", "unit_price": "40",
                                    "account": "Expenses:Office"}]}
    POST /invoices/5/credit-notes   {"lines": [{"position": 1, "quantity": "1"}],
                                     "reason": "returned"}

``prices_include_tax`` says the unit prices are gross (the tax is taken out of each line);
a draft is changed with ``PATCH`` and the fields to change (``lines`` as a whole)::

    PATCH /invoices/5   If-Match: "1"   {"prices_include_tax": true, "due_on": null}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StringConstraints

from crmledger.api.commerce_schemas import (
    MAX_LINES,
    Currency,
    Discount,
    ExpensesAccount,
    IncomeAccount,
    LineIn,
    Price,
    Quantity,
    TaxCategory,
)
from crmledger.api.schemas import NO_NUL, Day, In, RowId, Short, Text, json_number, money
from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.services.billing_views import BillingDoc, DocLine
from crmledger.services.invoicing import DocumentLine

#: A free reference: the order number an invoice bills, a vendor's own invoice number.
Reference = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=200)]
#: A line position on a document (``1`` is the first line).
Position = Annotated[int, Field(ge=1, le=MAX_LINES), BeforeValidator(json_number)]


# -- requests -------------------------------------------------------------------------------


class InvoiceLineIn(LineIn):
    """An invoice line; ``account`` overrides the product's income account."""

    account: IncomeAccount | None = None


class BillLineIn(In):
    """A line of a vendor's bill, booked to ``account`` (default ``Expenses:Office``)."""

    description: Short
    quantity: Quantity = "1"
    unit_price: Price
    discount: Discount = Field("0", description='A percentage, e.g. "12.5".')
    tax_category: TaxCategory = "standard"
    account: ExpensesAccount | None = None


def invoice_lines(lines: list[InvoiceLineIn]) -> list[DocumentLine]:
    """The service's draft lines of an invoice body's lines."""
    return [
        DocumentLine(
            product_id=line.product_id,
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price=None if line.unit_price is None else Decimal(line.unit_price),
            discount=Decimal(line.discount),
            tax_category=line.tax_category,
            account=line.account,
        )
        for line in lines
    ]


def bill_lines(lines: list[BillLineIn]) -> list[DocumentLine]:
    """The service's draft lines of a bill body's lines."""
    return [
        DocumentLine(
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price=Decimal(line.unit_price),
            discount=Decimal(line.discount),
            tax_category=line.tax_category,
            account=line.account,
        )
        for line in lines
    ]


_INCLUSIVE = "The unit prices include tax: the tax is taken out of each line's amount."


class InvoiceCreate(In):
    """A new draft invoice dated ``issued_on`` (default today); without ``due_on`` the
    party's payment terms set it when the invoice is issued."""

    party_id: RowId
    currency: Currency
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=MAX_LINES)
    issued_on: Day | None = None
    due_on: Day | None = None
    reference: Reference = ""
    note: Text = ""
    prices_include_tax: StrictBool = Field(False, description=_INCLUSIVE)


class InvoiceUpdate(In):
    """What to change on a draft invoice: only the fields sent change; ``lines`` replace
    all lines; ``due_on: null`` lets the payment terms set it on issue (no other field may
    be null)."""

    party_id: RowId | None = None
    currency: Currency | None = None
    lines: list[InvoiceLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    issued_on: Day | None = None
    due_on: Day | None = None
    reference: Reference | None = None
    note: Text | None = None
    prices_include_tax: StrictBool | None = Field(None, description=_INCLUSIVE)


class InvoiceFromOrder(In):
    """The draft invoice of a confirmed (or fulfilled) order, line for line."""

    order_id: RowId


class BillCreate(In):
    """A vendor's bill as received; ``reference`` is the vendor's own number."""

    party_id: RowId
    currency: Currency
    lines: list[BillLineIn] = Field(min_length=1, max_length=MAX_LINES)
    issued_on: Day | None = None
    due_on: Day | None = None
    reference: Reference = ""
    note: Text = ""
    prices_include_tax: StrictBool = Field(False, description=_INCLUSIVE)


class BillUpdate(In):
    """What to change on a draft bill, as :class:`InvoiceUpdate` (lines name their
    expense account)."""

    party_id: RowId | None = None
    currency: Currency | None = None
    lines: list[BillLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    issued_on: Day | None = None
    due_on: Day | None = None
    reference: Reference | None = None
    note: Text | None = None
    prices_include_tax: StrictBool | None = Field(None, description=_INCLUSIVE)


def draft_changes(body: InvoiceUpdate | BillUpdate) -> dict[str, Any]:
    """The service's changes of an update body: the fields sent, lines as draft lines."""
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    if isinstance(body, InvoiceUpdate) and body.lines is not None:
        changes["lines"] = invoice_lines(body.lines)
    elif isinstance(body, BillUpdate) and body.lines is not None:
        changes["lines"] = bill_lines(body.lines)
    return changes


class InvoiceIssue(In):
    """``override_credit_limit``: issue beyond the customer's credit limit (needs
    ``billing:override``; the audit log records it)."""

    override_credit_limit: StrictBool = False


class CreditLineIn(In):
    """How much of the invoice's line at ``position`` to credit."""

    position: Position
    quantity: Quantity


class CreditNoteCreate(In):
    """Without ``lines`` the whole invoice is credited; ``reason`` is printed on the note."""

    lines: list[CreditLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES)
    reason: Text = ""


def credited(lines: list[CreditLineIn] | None) -> list[tuple[int, Decimal]] | None:
    """``(position, quantity)`` to credit, as sent (None: the whole invoice); the service
    refuses a line named twice or credited beyond what it has left."""
    if lines is None:
        return None
    return [(line.position, Decimal(line.quantity)) for line in lines]


# -- responses ------------------------------------------------------------------------------


class DocumentLinePublic(BaseModel):
    """A stored line; ``tax_rate`` is a fraction (``"0.19"``), ``account`` the income
    (or, on a bill, expense) account it is booked to."""

    position: int
    product_id: int | None
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount: str
    tax_category: str
    tax_rate: str
    net: str
    tax: str
    account: str


class DocumentPublic(BaseModel):
    """A billing document. ``open`` is what is left to pay (in ``currency``; ``open_base``
    in ``base_currency``); ``rate`` is the exchange rate it was booked at (null: the base
    currency); ``refers_to`` is a credit note's invoice; ``prices_include_tax``: the unit
    prices are gross; ``issued_at``: when it was issued (null: a draft)."""

    id: int
    kind: str
    number: str | None
    party_id: int
    currency: str
    status: InvoiceStatus
    overdue: bool
    issued_on: dt.date | None
    due_on: dt.date | None
    settled_on: dt.date | None
    order_id: int | None
    contract_id: int | None
    billing_date: dt.date | None
    refers_to: int | None
    reference: str
    rate: str | None
    lines: list[DocumentLinePublic]
    net: str
    tax: str
    gross: str
    paid: str
    credited: str
    open: str
    open_base: str
    base_currency: str
    entry_id: int | None
    note: str
    prices_include_tax: bool
    issued_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, doc: BillingDoc) -> Self:
        """The API view of a document."""
        return cls(
            id=doc.id,
            kind=doc.kind,
            number=doc.number,
            party_id=doc.party_id,
            currency=doc.currency,
            status=InvoiceStatus(doc.status),
            overdue=doc.overdue,
            issued_on=doc.issued_on,
            due_on=doc.due_on,
            settled_on=doc.settled_on,
            order_id=doc.order_id,
            contract_id=doc.contract_id,
            billing_date=doc.billing_date,
            refers_to=doc.refers_to,
            reference=doc.reference,
            rate=None if doc.rate is None else money(doc.rate),
            lines=[_line(line) for line in doc.lines],
            net=money(doc.net),
            tax=money(doc.tax),
            gross=money(doc.gross),
            paid=money(doc.paid),
            credited=money(doc.credited),
            open=money(doc.open),
            open_base=money(doc.open_base),
            base_currency=doc.base_currency,
            entry_id=doc.entry_id,
            note=doc.note,
            prices_include_tax=doc.prices_include_tax,
            issued_at=doc.issued_at,
            version=doc.version,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


def _line(line: DocLine) -> DocumentLinePublic:
    return DocumentLinePublic(
        position=line.position,
        product_id=line.product_id,
        description=line.description,
        quantity=money(line.quantity),
        unit=line.unit,
        unit_price=money(line.unit_price),
        discount=money(line.discount),
        tax_category=line.tax_category,
        tax_rate=money(line.tax_rate),
        net=money(line.net),
        tax=money(line.tax),
        account=line.account,
    )


class InvoicePublic(DocumentPublic):
    """A customer invoice: ``draft``, then ``issued``, ``partially_paid``, ``paid``, or
    ``void`` once credited in full."""


class CreditNotePublic(DocumentPublic):
    """A credit note; ``refers_to`` is the invoice it credits."""


class BillPublic(DocumentPublic):
    """A vendor's bill."""
