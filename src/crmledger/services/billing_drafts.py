"""Draft invoices and bills: what a user enters, how its lines are priced and stored, what
an update may change.

A draft is priced like a quote (``services.sales.price_lines``) with the tax rates valid on
its date; each stored line keeps the account it is booked to (the product's income account,
or the one given; a bill's expense account) and, for goods with a cost, that cost::

    new = NewDocument(party_id=7, currency="EUR", prices_include_tax=True,
                      lines=[DocumentLine(description="Shirt", unit_price=Decimal("11.90"))])
    lines = line_rows(uow, new, date(2026, 6, 1))   # priced: 10.00 net, 1.90 tax
    row = new_row(new, date(2026, 6, 1), lines, at)

Everything here runs in the caller's unit of work (``services.invoicing``); nothing commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.core.crm.documents import TaxRule
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import document_row
from crmledger.services.billing_ports import BillingDocumentRow, BillingLineRow
from crmledger.services.crm_ports import ProductRow
from crmledger.services.errors import VersionConflictError
from crmledger.services.ports import UnitOfWork
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sales import DraftLine, number_text, priced_with, rules_of

DEFAULT_INCOME = "Income:Sales:Services"
DEFAULT_EXPENSE = "Expenses:Office"
#: What a draft's update may change; the lines are priced anew when any of ``PRICED`` is.
EDITABLE = frozenset(
    {"party_id", "currency", "lines", "issued_on", "due_on", "prices_include_tax"}
    | {"reference", "note"}
)
PRICED = frozenset({"currency", "lines", "issued_on", "prices_include_tax"})


@dataclass(frozen=True, slots=True)
class DocumentLine(DraftLine):
    """A draft line; ``account`` overrides the product's income account (or, on a bill,
    names the expense account)."""

    account: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDocument:
    """A draft invoice or bill as a user enters it; ``prices_include_tax``: the unit prices
    are gross (the tax is taken out of each line)."""

    party_id: int
    currency: str
    lines: Sequence[DocumentLine]
    kind: str = "invoice"
    issued_on: date | None = None
    due_on: date | None = None
    reference: str = ""
    note: str = ""
    prices_include_tax: bool = False


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What pricing a draft reads from the book: products, commodity scales and the tax
    rules of a day. Bulk paths build it once for many documents."""

    products: Mapping[int, ProductRow]
    scales: Mapping[str, int]
    rules: Mapping[str, TaxRule]


def catalogue(uow: UnitOfWork, drafts: Sequence[DocumentLine], day: date) -> Catalogue:
    """The catalogue ``drafts`` need on ``day``."""
    ids = sorted({d.product_id for d in drafts if d.product_id is not None})
    return Catalogue(
        {p.id: p for p in uow.commerce.products(ids)},
        book_scales(uow),
        rules_of(uow.billing.tax_rates_on(day)),
    )


def line_rows(uow: UnitOfWork, new: NewDocument, day: date) -> tuple[BillingLineRow, ...]:
    """``new``'s lines priced with the tax rates valid on ``day``, as stored rows; errors
    name the line's field (``lines[2].quantity``)."""
    return lines_with(catalogue(uow, new.lines, day), new)


def lines_with(known: Catalogue, new: NewDocument) -> tuple[BillingLineRow, ...]:
    """:func:`line_rows` with the catalogue at hand."""
    kind, currency, drafts, rules = new.kind, new.currency, new.lines, known.rules
    priced = priced_with(
        known.products, known.scales, currency, drafts, rules, inclusive=new.prices_include_tax
    )
    scale = scale_of(currency, known.scales)
    products = known.products
    rows = []
    for i, (draft, line, total) in enumerate(
        zip(drafts, priced.lines, priced.totals.lines, strict=True)
    ):
        product = products.get(line.product_id) if line.product_id is not None else None
        default = DEFAULT_EXPENSE if kind == "bill" else DEFAULT_INCOME
        account = draft.account or (
            product.income_account if product and kind != "bill" else default
        )
        cost = _cost(product, line.quantity) if kind == "invoice" else None
        rows.append(
            BillingLineRow(
                position=i + 1,
                product_id=line.product_id,
                description=line.description,
                quantity=number_text(line.quantity),
                unit=product.unit if product else "",
                unit_price_minor=to_minor(line.unit_price, scale),
                discount=number_text(line.discount),
                tax_category=line.tax_category,
                tax_rate=number_text(rules[line.tax_category].rate),
                net_minor=to_minor(total.net, scale),
                tax_minor=to_minor(total.tax, scale),
                account=account,
                cost_minor=cost,
                cost_currency=product.cost_currency if cost is not None and product else None,
                cost_account=product.cost_account if cost is not None and product else None,
            )
        )
    return tuple(rows)


def _cost(product: ProductRow | None, quantity: Decimal) -> int | None:
    """The cost of ``quantity`` units in the product's cost currency (minor, rounded)."""
    if product is None or product.cost_minor is None or product.cost_account is None:
        return None
    return int((Decimal(product.cost_minor) * quantity).to_integral_value())


def totals_of(lines: Sequence[BillingLineRow]) -> tuple[int, int]:
    """(net, tax) of stored lines, in minor units."""
    return sum(r.net_minor for r in lines), sum(r.tax_minor for r in lines)


def stored_lines(row: BillingDocumentRow, scale: int) -> list[DocumentLine]:
    """A draft's stored lines as lines to price anew, each keeping its account."""
    return [
        DocumentLine(
            product_id=r.product_id,
            description=r.description,
            quantity=Decimal(r.quantity),
            unit_price=from_minor(r.unit_price_minor, scale),
            discount=Decimal(r.discount),
            tax_category=r.tax_category,
            account=r.account,
        )
        for r in row.lines
    ]


def check_document(new: NewDocument) -> None:
    """Refuse a document that is neither an invoice nor a bill, or has no line."""
    if new.kind not in ("invoice", "bill"):
        raise InvalidFieldError("kind", "create an 'invoice' or a 'bill'")
    if not new.lines:
        raise InvalidFieldError("lines", "a document needs at least one line")


def check_changes(changes: Mapping[str, Any]) -> None:
    """Refuse a change to anything but :data:`EDITABLE`, a cleared field other than
    ``due_on``, no lines, or a price basis that is not a boolean."""
    bad = sorted(set(changes) - EDITABLE)
    if bad:
        raise InvalidFieldError(bad[0], "cannot be changed")
    for name, value in changes.items():
        if value is None and name != "due_on":
            raise InvalidFieldError(name, "cannot be cleared (only due_on can)")
    if "lines" in changes and not changes["lines"]:
        raise InvalidFieldError("lines", "a document needs at least one line")
    if not isinstance(changes.get("prices_include_tax", False), bool):
        raise InvalidFieldError("prices_include_tax", "is true or false")


def load_draft(
    uow: UnitOfWork, document_id: int, if_version: int | None, verb: str
) -> BillingDocumentRow:
    """The draft invoice or bill ``document_id``, still at ``if_version`` when given."""
    row = document_row(uow, document_id)
    if if_version is not None and row.version != if_version:
        raise VersionConflictError(f"{row.kind} {document_id}", if_version, row.version)
    if row.kind not in ("invoice", "bill") or row.status != InvoiceStatus.DRAFT:
        label = row.number or f"{row.kind.replace('_', ' ')} {row.id}"
        raise TransitionError(f"{label} is {row.status}: only a draft can be {verb}")
    return row


def new_row(
    new: NewDocument, day: date, lines: tuple[BillingLineRow, ...], at: datetime
) -> BillingDocumentRow:
    """The draft row of ``new`` dated ``day`` holding its priced ``lines``."""
    net, tax = totals_of(lines)
    return BillingDocumentRow(
        id=0,
        kind=new.kind,
        number=None,
        party_id=new.party_id,
        currency=new.currency,
        status=InvoiceStatus.DRAFT.value,
        issued_on=day,
        due_on=new.due_on,
        settled_on=None,
        order_id=None,
        contract_id=None,
        billing_date=None,
        refers_to=None,
        reference=new.reference,
        rate=None,
        net_minor=net,
        tax_minor=tax,
        gross_minor=net + tax,
        paid_minor=0,
        credited_minor=0,
        open_minor=0,
        open_base_minor=0,
        entry_id=None,
        note=new.note,
        version=1,
        created_at=at,
        updated_at=at,
        prices_include_tax=new.prices_include_tax,
        lines=lines,
    )
