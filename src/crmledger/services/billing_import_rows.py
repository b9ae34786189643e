"""Reading invoice, bill and payment files: the columns each kind knows, one row checked as
it is read, and the rows of a document grouped by its key.

An invoice file has one row per invoice line; rows sharing the ``invoice`` column form one
invoice, whose party, currency and dates are those of its first row (a later row that
differs is a problem). A bill file is the same with a ``bill`` column. A payment file has one
row per payment::

    invoice,party_id,date,sku,description,quantity,unit_price
    A-17,1,2026-05-04,CONSULT-H,,10,
    A-17,1,2026-05-04,,Travel,1,240.00

    build = invoice_row(parties.find_reference, "EUR")
    build({"invoice": "A-17", "party_id": "1", "sku": "CONSULT-H", "quantity": "10"})

The rows are written by :mod:`crmledger.services.billing_import`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from crmledger.core.errors import InvalidFieldError
from crmledger.core.imports import Problem
from crmledger.services.billing_common import parse_rate
from crmledger.services.invoicing import DocumentLine
from crmledger.services.record_import import ImportReport
from crmledger.services.settling import DEFAULT_BANK, METHODS, NewPayment

INVOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice": ("invoice number", "invoice no", "invoice id", "document"),
    "party_id": ("party", "customer id"),
    "party_ref": ("customer number", "external id", "customer ref"),
    "currency": (),
    "date": ("invoice date", "issued on", "issue date"),
    "due": ("due date", "due on"),
    "reference": ("customer reference", "po number"),
    "sku": ("product", "article number", "item number", "product code"),
    "description": ("item", "text"),
    "quantity": ("qty",),
    "unit_price": ("price",),
    "discount": (),
    "tax_category": ("tax", "vat category"),
    "account": ("income account", "revenue account"),
}

BILL_FIELDS: dict[str, tuple[str, ...]] = {
    "bill": ("bill number", "bill no", "bill id", "document"),
    "party_id": ("party", "vendor id", "supplier id"),
    "party_ref": ("vendor number", "supplier number", "external id", "vendor ref"),
    "currency": (),
    "date": ("bill date", "invoice date", "issued on", "issue date"),
    "due": ("due date", "due on"),
    "reference": ("vendor reference", "vendor invoice", "invoice number", "invoice no"),
    "description": ("item", "text"),
    "quantity": ("qty",),
    "unit_price": ("price",),
    "discount": (),
    "tax_category": ("tax", "vat category"),
    "account": ("expense account",),
}

PAYMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "party_id": ("party", "customer id"),
    "party_ref": ("customer number", "external id", "customer ref"),
    "amount": ("amount paid", "paid"),
    "currency": (),
    "date": ("paid on", "payment date", "value date"),
    "method": ("payment method",),
    "bank_account": ("bank",),
    "reference": ("payment reference", "memo"),
    "rate": ("exchange rate", "fx rate"),
    "invoice": ("invoice number", "invoice no", "applies to"),
}

#: A service's field for the column it came from.
COLUMNS = {"issued_on": "date", "due_on": "due", "paid_on": "date", "product_id": "sku"}
_HEAD = ("party_id", "currency", "issued_on", "due_on", "reference")


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One line of an invoice (or bill) file, with the document's head fields as that row
    gives them."""

    key: str
    party_id: int
    currency: str
    issued_on: date | None
    due_on: date | None
    reference: str
    sku: str | None
    line: DocumentLine


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One row of a payment file; ``invoice`` is the number or reference it pays."""

    payment: NewPayment
    invoice: str | None


@dataclass
class DocumentRows:
    """The rows of one invoice; ``first`` is the line its head fields come from."""

    first: int
    head: InvoiceRow
    rows: list[tuple[int, InvoiceRow]] = field(default_factory=list)


# -- reading rows ----------------------------------------------------------------------------


def _decimal(name: str, value: str) -> Decimal:
    try:
        number = Decimal(value.replace(" ", ""))
    except InvalidOperation:
        raise InvalidFieldError(name, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidFieldError(name, f"{value!r} is not a number")
    return number


def _day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFieldError(name, f"{value!r} is not a date as YYYY-MM-DD") from None


def _party(values: dict[str, str], parties: Callable[[str], int | None]) -> int:
    given = values.get("party_id")
    if given is not None:
        if not given.strip().isdigit():
            raise InvalidFieldError("party_id", f"{given!r} is not a party id")
        return int(given)
    ref = values.get("party_ref")
    if ref is None:
        raise InvalidFieldError("party_id", "a row needs party_id or party_ref")
    found = parties(ref)
    if found is None:
        raise InvalidFieldError("party_ref", f"no party has the external id {ref!r}")
    return found


def _line(values: dict[str, str]) -> DocumentLine:
    price = values.get("unit_price")
    if values.get("sku") is None:
        if values.get("description") is None:
            raise InvalidFieldError("description", "a line needs a sku or a description")
        if price is None:
            raise InvalidFieldError("unit_price", "a line without a product needs a unit price")
    return DocumentLine(
        description=values.get("description"),
        quantity=_decimal("quantity", values.get("quantity", "1")),
        unit_price=None if price is None else _decimal("unit_price", price),
        discount=_decimal("discount", values.get("discount", "0")),
        tax_category=values.get("tax_category"),
        account=values.get("account"),
    )


def invoice_row(
    parties: Callable[[str], int | None], base: str
) -> Callable[[dict[str, str]], InvoiceRow]:
    """A row builder; ``parties`` finds a party by its external id, ``base`` is the
    currency of rows without one."""

    def build(values: dict[str, str]) -> InvoiceRow:
        key = values.get("invoice", "").strip()
        if not key:
            raise InvalidFieldError("invoice", "a row needs the invoice it belongs to")
        return InvoiceRow(
            key=key,
            party_id=_party(values, parties),
            currency=values.get("currency", base).strip().upper(),
            issued_on=_day("date", values.get("date")),
            due_on=_day("due", values.get("due")),
            reference=values.get("reference", key),
            sku=values.get("sku"),
            line=_line(values),
        )

    return build


def bill_row(
    parties: Callable[[str], int | None], base: str
) -> Callable[[dict[str, str]], InvoiceRow]:
    """A row builder for bill files: a line needs a description and a unit price, and the
    vendor's own number (``reference``) defaults to the ``bill`` key."""

    def build(values: dict[str, str]) -> InvoiceRow:
        key = values.get("bill", "").strip()
        if not key:
            raise InvalidFieldError("bill", "a row needs the bill it belongs to")
        if values.get("description") is None:
            raise InvalidFieldError("description", "a bill line needs a description")
        price = values.get("unit_price")
        if price is None:
            raise InvalidFieldError("unit_price", "a bill line needs a unit price")
        return InvoiceRow(
            key=key,
            party_id=_party(values, parties),
            currency=values.get("currency", base).strip().upper(),
            issued_on=_day("date", values.get("date")),
            due_on=_day("due", values.get("due")),
            reference=values.get("reference", key),
            sku=None,
            line=_line(values),
        )

    return build


def payment_row(
    parties: Callable[[str], int | None], base: str
) -> Callable[[dict[str, str]], PaymentRow]:
    """A row builder for payment files (see :func:`invoice_row`)."""

    def build(values: dict[str, str]) -> PaymentRow:
        amount = values.get("amount")
        if amount is None:
            raise InvalidFieldError("amount", "is required")
        method = values.get("method", "transfer").strip().lower().replace(" ", "_")
        if method not in METHODS:
            raise InvalidFieldError("method", f"{method!r} is not one of {', '.join(METHODS)}")
        rate = values.get("rate")
        paid = _decimal("amount", amount)
        if paid <= 0:
            raise InvalidFieldError("amount", "the amount must be more than 0")
        payment = NewPayment(
            party_id=_party(values, parties),
            amount=paid,
            currency=values.get("currency", base).strip().upper(),
            paid_on=_day("date", values.get("date")),
            method=method,
            bank_account=values.get("bank_account", DEFAULT_BANK),
            reference=values.get("reference", ""),
            rate=None if rate is None else parse_rate(rate),
        )
        return PaymentRow(payment, values.get("invoice"))

    return build


def group_invoices(
    items: Sequence[tuple[int, InvoiceRow]], report: ImportReport, what: str = "invoice"
) -> list[DocumentRows]:
    """The rows by invoice (or bill: ``what``), in file order; a row whose head fields
    differ from its document's first row is a problem."""
    groups: dict[str, DocumentRows] = {}
    for line, row in items:
        group = groups.setdefault(row.key, DocumentRows(line, row))
        clash = next((n for n in _HEAD if getattr(group.head, n) != getattr(row, n)), None)
        if clash is not None:
            report.add(
                Problem(
                    report.source,
                    line,
                    COLUMNS.get(clash, clash),
                    f"differs from line {group.first}, the first of {what} {row.key!r}",
                )
            )
        group.rows.append((line, row))
    return list(groups.values())
