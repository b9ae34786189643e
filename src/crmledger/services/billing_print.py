"""Billing documents as printable values, and the company details they carry.

The company's name, address, VAT id, bank account and logo are book settings (``company``,
JSON); the customer's name, billing address, VAT id and language come from the party
record, decrypted by the party service. A renderer port turns the result into bytes::

    printer = DocumentPrinter(uow, clock, parties, renderer)
    pdf = printer.pdf(invoice_id)            # WeasyPrint PDF
    xml_pdf = printer.pdf(invoice_id, facturx=True)   # Factur-X EN 16931 PDF/A-3
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Protocol

from crmledger.core.billing.printable import (
    Company,
    Customer,
    PostalAddress,
    Printable,
    PrintedLine,
    PrintedTax,
)
from crmledger.core.crm.parties import Party
from crmledger.core.errors import InvalidFieldError
from crmledger.services.billing_common import document_row
from crmledger.services.billing_views import BillingDoc, document_view
from crmledger.services.ports import Clock, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.trail import OPERATOR, Actor, record

COMPANY_SETTING = "company"


class DocumentRenderer(Protocol):
    """Turns a printable document into PDF bytes (``formats.billing_pdf``)."""

    def pdf(self, doc: Printable) -> bytes: ...
    def facturx(self, doc: Printable) -> bytes: ...


class PartyReader(Protocol):
    """Reads a party with its personal fields decrypted (``PartyService``)."""

    def get(self, party_id: int) -> Party: ...


@dataclass(frozen=True, slots=True)
class CompanyDetails:
    """The seller's details as a user sets them; ``logo_png`` is base64 text."""

    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    email: str = ""
    logo_png: str = ""

    def company(self) -> Company:
        """As printed."""
        return Company(
            name=self.name,
            address=PostalAddress(
                tuple(x for x in (self.street,) if x), self.postcode, self.city, self.country
            ),
            vat_id=self.vat_id,
            iban=self.iban,
            bic=self.bic,
            email=self.email,
            logo_png=base64.b64decode(self.logo_png) if self.logo_png else None,
        )


def _customer(party: Party) -> Customer:
    addresses = sorted(party.addresses, key=lambda a: a.label != "billing")
    address = PostalAddress()
    if addresses:
        first = addresses[0]
        address = PostalAddress(
            tuple(x for x in (first.street,) if x), first.postcode, first.city, first.country
        )
    vat = next((t.value for t in party.tax_ids if t.scheme.lower() in ("vat", "eu_vat")), "")
    name = party.legal_name or party.display_name
    return Customer(name=name, address=address, vat_id=vat, reference=str(party.id or ""))


def printable(
    doc: BillingDoc, scale: int, company: Company, party: Party, refers_to: str | None
) -> Printable:
    """``doc`` (amounts at ``scale`` decimals) as printed for ``party`` by ``company``."""
    lines = tuple(
        PrintedLine(
            line.description,
            line.quantity,
            line.unit,
            line.unit_price,
            line.discount,
            line.net,
            line.tax_category,
            line.tax_rate,
        )
        for line in doc.lines
    )
    sums: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for line in doc.lines:
        base, tax = sums.get((line.tax_category, line.tax_rate), (Decimal(0), Decimal(0)))
        sums[(line.tax_category, line.tax_rate)] = (base + line.net, tax + line.tax)
    return Printable(
        kind="credit_note" if doc.kind == "credit_note" else "invoice",
        number=doc.number or f"DRAFT-{doc.id}",
        issued_on=doc.issued_on or doc.created_at.date(),
        due_on=doc.due_on,
        currency=doc.currency,
        currency_scale=scale,
        language=party.language or "en",
        seller=company,
        buyer=_customer(party),
        lines=lines,
        taxes=tuple(PrintedTax(c, r, b, t) for (c, r), (b, t) in sorted(sums.items())),
        net=doc.net,
        tax=doc.tax,
        gross=doc.gross,
        paid=doc.paid + doc.credited,
        due=doc.open,
        refers_to=refers_to,
        note=doc.note,
        payment_terms=f"Due {doc.due_on.isoformat()}" if doc.due_on else "",
        prices_include_tax=doc.prices_include_tax,
    )


class DocumentPrinter:
    """Company details, and billing documents as printable values and PDF bytes."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        parties: PartyReader,
        renderer: DocumentRenderer | None,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._parties = parties
        self._renderer = renderer
        self._actor = actor

    def acting_as(self, actor: Actor, parties: PartyReader) -> DocumentPrinter:
        """The same printer for another actor, reading parties as that actor."""
        return DocumentPrinter(self._uow, self._clock, parties, self._renderer, actor)

    def set_company(self, details: CompanyDetails) -> CompanyDetails:
        """Store the company's details (printed on every document)."""
        self._actor.require("billing", "write")
        if not details.name.strip():
            raise InvalidFieldError("name", "the company needs a name")
        if details.logo_png:
            try:
                base64.b64decode(details.logo_png, validate=True)
            except ValueError:
                raise InvalidFieldError("logo_png", "not base64 text") from None
        with self._uow() as uow:
            uow.ledger.set_setting(COMPANY_SETTING, json.dumps(asdict(details), sort_keys=True))
            record(
                uow,
                self._actor,
                self._clock.now(),
                "company.set",
                "settings",
                COMPANY_SETTING,
                None,
                {"name": details.name},
            )
            uow.commit()
        return details

    def company(self) -> CompanyDetails:
        """The company's details (a placeholder name until they are set)."""
        with self._uow(readonly=True) as uow:
            stored = uow.ledger.get_setting(COMPANY_SETTING)
        return (
            CompanyDetails(**json.loads(stored)) if stored else CompanyDetails(name="Our company")
        )

    def printable(self, document_id: int) -> Printable:
        """The document as printed."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            row = document_row(uow, document_id)
            doc = document_view(uow, row, self._clock.today())
            scale = scale_of(row.currency, book_scales(uow))
            refers = document_row(uow, row.refers_to).number if row.refers_to else None
        party = self._parties.get(doc.party_id)
        return printable(doc, scale, self.company().company(), party, refers)

    def render(self, doc: Printable) -> bytes:
        """A printable this book built (an invoice, a dunning letter) as PDF."""
        if self._renderer is None:
            raise InvalidFieldError("format", "no PDF renderer is configured")
        return self._renderer.pdf(doc)

    def pdf(self, document_id: int, *, facturx: bool = False) -> bytes:
        """The document as PDF; ``facturx`` embeds its EN 16931 XML (PDF/A-3)."""
        if self._renderer is None:
            raise InvalidFieldError("format", "no PDF renderer is configured")
        doc = self.printable(document_id)
        return self._renderer.facturx(doc) if facturx else self._renderer.pdf(doc)
