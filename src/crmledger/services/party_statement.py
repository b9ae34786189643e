"""Customer and vendor statements of account, as values and as PDF ready to send.

A statement reads the party's issued documents and payments and the allocations between
them in one read-only unit of work (:mod:`crmledger.core.party_statement` builds it), the
party's name, address and language from its record, and the company's name, address and
bank details from the settings the billing documents print::

    statements = PartyStatementService(uow, clock, parties, printer, renderer)
    found = statements.statement(7, date(2026, 1, 1), date(2026, 6, 30))
    found.sections[0].closing        # what the customer owed on 30 June, in its currency
    pdf = statements.pdf(7, date(2026, 1, 1), date(2026, 6, 30))

``kind`` is ``customer`` (invoices, credit notes, receipts) or ``vendor`` (bills and
payments to the vendor); left out, a party with payables and no receivables gets a vendor
statement. Reading needs ``billing:read``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from crmledger.core.aging import KINDS, Item, open_on, parse_bounds
from crmledger.core.billing.printable import Customer, PostalAddress
from crmledger.core.crm.parties import Party
from crmledger.core.errors import InvalidFieldError
from crmledger.core.party_statement import STATEMENT_KINDS, PartyStatement, statement_sections
from crmledger.services.aging_ports import AgingUnitOfWork, AgingUnitOfWorkFactory, ItemQuery
from crmledger.services.aging_report import check_day, control_of
from crmledger.services.billing_common import base_currency
from crmledger.services.billing_print import DocumentPrinter, PartyReader
from crmledger.services.ports import Clock
from crmledger.services.trail import OPERATOR, Actor


class StatementRenderer(Protocol):
    """Turns a statement into PDF bytes (``formats.statement_pdf``)."""

    def pdf(self, statement: PartyStatement) -> bytes: ...


def addressee(party: Party) -> Customer:
    """The party as a statement is addressed to it: its billing address first."""
    addresses = sorted(party.addresses, key=lambda a: a.label != "billing")
    address = PostalAddress()
    if addresses:
        first = addresses[0]
        street = tuple(x for x in (first.street,) if x)
        address = PostalAddress(street, first.postcode, first.city, first.country)
    vat = next((t.value for t in party.tax_ids if t.scheme.lower() in ("vat", "eu_vat")), "")
    name = party.legal_name or party.display_name
    return Customer(name=name, address=address, vat_id=vat, reference=str(party.id or ""))


class PartyStatementService:
    """Statements of account for customers and vendors."""

    def __init__(
        self,
        uow: AgingUnitOfWorkFactory,
        clock: Clock,
        parties: PartyReader,
        printer: DocumentPrinter,
        renderer: StatementRenderer | None,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._parties = parties
        self._printer = printer
        self._renderer = renderer
        self._actor = actor

    def acting_as(self, actor: Actor, parties: PartyReader) -> PartyStatementService:
        """The same service for another actor, reading parties as that actor."""
        return PartyStatementService(
            self._uow, self._clock, parties, self._printer, self._renderer, actor
        )

    def statement(
        self,
        party_id: int,
        start: date | None = None,
        end: date | None = None,
        kind: str | None = None,
        buckets: str | Sequence[int] | None = None,
    ) -> PartyStatement:
        """The statement of ``party_id`` from ``start`` (1 January of ``end``'s year by
        default) to ``end`` (today by default)."""
        self._actor.require("billing", "read")
        last = check_day("to", end or self._clock.today())
        first = check_day("from", start or date(last.year, 1, 1))
        if last < first:
            raise InvalidFieldError("to", "the period ends before it starts")
        if kind is not None and kind not in STATEMENT_KINDS:
            raise InvalidFieldError("kind", "is customer or vendor")
        bounds = parse_bounds(buckets)
        party = self._parties.get(party_id)
        with self._uow(readonly=True) as uow:
            chosen = kind or _kind_of(uow, party_id)
            items, query = _items(uow, party_id, chosen)
            parts = open_on(items, uow.aging.moves(items), last)
            scales = uow.ledger.scales()
            fallback = party.currency or query.base
        sections = statement_sections(items, parts, (first, last), bounds, scales, fallback)
        return PartyStatement(
            kind=chosen,
            party_id=party_id,
            start=first,
            end=last,
            language=party.language or "en",
            seller=self._printer.company().company(),
            buyer=addressee(party),
            bounds=bounds,
            sections=sections,
        )

    def pdf(
        self,
        party_id: int,
        start: date | None = None,
        end: date | None = None,
        kind: str | None = None,
        buckets: str | Sequence[int] | None = None,
    ) -> bytes:
        """The statement as a PDF in the party's language."""
        return self.render(self.statement(party_id, start, end, kind, buckets))

    def render(self, statement: PartyStatement) -> bytes:
        """A statement this service built, as PDF."""
        if self._renderer is None:
            raise InvalidFieldError("format", "no PDF renderer is configured")
        return self._renderer.pdf(statement)


def _items(uow: AgingUnitOfWork, party_id: int, kind: str) -> tuple[list[Item], ItemQuery]:
    aging = STATEMENT_KINDS[kind]
    _, control_id = control_of(uow, aging)
    documents, paid = KINDS[aging]
    query = ItemQuery(control_id, base_currency(uow), documents, paid, party_id)
    return uow.aging.party_items(query), query


def _kind_of(uow: AgingUnitOfWork, party_id: int) -> str:
    """``vendor`` for a party with payables and no receivables, else ``customer``."""
    if _items(uow, party_id, "customer")[0]:
        return "customer"
    return "vendor" if _items(uow, party_id, "vendor")[0] else "customer"
