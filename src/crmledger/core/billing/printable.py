"""What a printed billing document shows: the values a renderer (PDF, Factur-X) needs.

A :class:`Printable` is built by the billing service from a stored document, the company's
settings and the customer's party record; renderers never read the book themselves::

    doc = Printable(kind="invoice", number="INV-2026-0001", issued_on=date(2026, 3, 1), ...)
    pdf_bytes = renderer.render(doc)

Amounts carry exactly the currency's decimals (``currency_scale``); ``language`` is the
customer's language (``"de"``, ``"en"``) used for labels, dates and number formatting. On a
document whose ``prices_include_tax`` the lines' unit prices are gross, as the customer was
quoted them, while each line's ``net`` is, as always, without tax.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

DocumentKind = Literal["invoice", "credit_note", "dunning_letter"]


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address as printed; ``country`` is an ISO 3166-1 alpha-2 code."""

    lines: tuple[str, ...] = ()
    postcode: str = ""
    city: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Company:
    """The seller (our company), from settings."""

    name: str
    address: PostalAddress
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    email: str = ""
    logo_png: bytes | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    """The buyer, from the party record."""

    name: str
    address: PostalAddress
    vat_id: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class PrintedLine:
    """One document line; ``tax_rate`` is a fraction (0.19 for 19%); ``unit_price`` is gross
    on a document whose prices include tax, ``net`` never includes tax."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    net: Decimal
    tax_category: str
    tax_rate: Decimal


@dataclass(frozen=True, slots=True)
class PrintedTax:
    """One tax category's base and tax."""

    category: str
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Printable:
    """A billing document ready to print; ``prices_include_tax``: the lines' unit prices are
    gross."""

    kind: DocumentKind
    number: str
    issued_on: date
    due_on: date | None
    currency: str
    currency_scale: int
    language: str
    seller: Company
    buyer: Customer
    lines: tuple[PrintedLine, ...]
    taxes: tuple[PrintedTax, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    paid: Decimal
    due: Decimal
    refers_to: str | None = None
    note: str = ""
    payment_terms: str = ""
    prices_include_tax: bool = False
