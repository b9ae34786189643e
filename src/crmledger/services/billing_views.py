"""Billing documents and payments as callers see them: decimals in their currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from crmledger.core.money import from_minor
from crmledger.services.billing_common import base_currency, overdue
from crmledger.services.billing_ports import BillingDocumentRow, PaymentRow
from crmledger.services.ports import UnitOfWork
from crmledger.services.products import book_scales, scale_of


@dataclass(frozen=True, slots=True)
class DocLine:
    """A document line; ``tax_rate`` is a fraction."""

    position: int
    product_id: int | None
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    tax_category: str
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    account: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingDoc:
    """An invoice, credit note or bill; ``open_base`` is in ``base_currency``;
    ``prices_include_tax``: its unit prices are gross; ``issued_at``: when it was issued."""

    id: int
    kind: str
    number: str | None
    party_id: int
    currency: str
    status: str
    overdue: bool
    issued_on: date | None
    due_on: date | None
    settled_on: date | None
    order_id: int | None
    contract_id: int | None
    billing_date: date | None
    refers_to: int | None
    reference: str
    rate: Decimal | None
    lines: tuple[DocLine, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    paid: Decimal
    credited: Decimal
    open: Decimal
    open_base: Decimal
    base_currency: str
    entry_id: int | None
    note: str
    version: int
    created_at: datetime
    updated_at: datetime
    prices_include_tax: bool = False
    issued_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """A receipt, refund or vendor payment; ``open`` is what is not yet allocated."""

    id: int
    kind: str
    number: str
    party_id: int
    currency: str
    amount: Decimal
    paid_on: date
    method: str
    bank_account: str
    reference: str
    rate: Decimal | None
    base: Decimal
    open: Decimal
    base_currency: str
    entry_id: int
    version: int
    created_at: datetime


def document_view(
    uow: UnitOfWork, row: BillingDocumentRow, today: date, base: str | None = None
) -> BillingDoc:
    """``row`` with its amounts as decimals; ``base`` is the book's base currency when the
    caller has read it already (a page of documents reads it once)."""
    scales = book_scales(uow)
    scale = scale_of(row.currency, scales)
    base = base or base_currency(uow)
    base_scale = scale_of(base, scales)

    def money(minor: int) -> Decimal:
        return from_minor(minor, scale)

    lines = tuple(
        DocLine(
            position=r.position,
            product_id=r.product_id,
            description=r.description,
            quantity=Decimal(r.quantity),
            unit=r.unit,
            unit_price=money(r.unit_price_minor),
            discount=Decimal(r.discount),
            tax_category=r.tax_category,
            tax_rate=Decimal(r.tax_rate),
            net=money(r.net_minor),
            tax=money(r.tax_minor),
            account=r.account,
        )
        for r in row.lines
    )
    return BillingDoc(
        id=row.id,
        kind=row.kind,
        number=row.number,
        party_id=row.party_id,
        currency=row.currency,
        status=row.status,
        overdue=overdue(row, today),
        issued_on=row.issued_on,
        due_on=row.due_on,
        settled_on=row.settled_on,
        order_id=row.order_id,
        contract_id=row.contract_id,
        billing_date=row.billing_date,
        refers_to=row.refers_to,
        reference=row.reference,
        rate=Decimal(row.rate) if row.rate else None,
        lines=lines,
        net=money(row.net_minor),
        tax=money(row.tax_minor),
        gross=money(row.gross_minor),
        paid=money(row.paid_minor),
        credited=money(row.credited_minor),
        open=money(row.open_minor),
        open_base=from_minor(row.open_base_minor, base_scale),
        base_currency=base,
        entry_id=row.entry_id,
        note=row.note,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        prices_include_tax=row.prices_include_tax,
        issued_at=row.issued_at,
    )


def payment_view(uow: UnitOfWork, row: PaymentRow) -> Payment:
    """``row`` with its amounts as decimals."""
    scales = book_scales(uow)
    scale = scale_of(row.currency, scales)
    base = base_currency(uow)
    return Payment(
        id=row.id,
        kind=row.kind,
        number=row.number,
        party_id=row.party_id,
        currency=row.currency,
        amount=from_minor(row.amount_minor, scale),
        paid_on=row.paid_on,
        method=row.method,
        bank_account=row.bank_account,
        reference=row.reference,
        rate=Decimal(row.rate) if row.rate else None,
        base=from_minor(row.base_minor, scale_of(base, scales)),
        open=from_minor(row.open_minor, scale),
        base_currency=base,
        entry_id=row.entry_id,
        version=row.version,
        created_at=row.created_at,
    )
