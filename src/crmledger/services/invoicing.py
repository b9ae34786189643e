"""Invoices, credit notes and vendor bills: drafts, issuing, crediting, the billing run.

A draft is priced like a quote (``services.sales.price_lines``) with the tax rates valid on
its date. Issuing numbers it gaplessly per series and year (``INV-2026-0001``, ``CN-...``,
``BILL-...``), sets the due date from the party's payment terms, checks the customer's credit
limit, and posts its entry (``core.billing.entries.document_entry``) through the ledger's
write boundary, all in one transaction with its outbox event::

    billing = InvoiceService(uow, clock).acting_as(actor)
    draft = billing.create(party_id=7, currency="EUR",
                           lines=[DocumentLine(product_id=3, quantity=Decimal(2))])
    invoice = billing.issue(draft.id, if_version=draft.version)
    invoice.number, invoice.status        # ('INV-2026-0001', 'issued')

A draft may be changed (its party, currency, dates, lines, whether its prices include tax,
its reference and note: the lines are priced anew) or deleted, with the version read; an
issued document may not (:class:`TransitionError`). Numbers are taken when a document is
issued, so a deleted draft leaves no gap.

With ``prices_include_tax`` the unit prices are gross: each line's tax is taken out of what
the customer sees (``core.crm.documents``), the total is the sum of the line amounts, and the
entry posts exactly the document's net, tax and total.

A credit note credits an invoice in full or line by line (``[(position, quantity), ...]``,
each line no more than it still has uncredited: ``services.crediting``) at the invoice's own
prices, taxes and exchange rate, posts the mirror entry and is applied to what the invoice
still has open; what is left over is customer credit (``services.settling``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.core.crm.documents import OrderStatus
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import from_minor
from crmledger.services.billing_common import (
    base_currency,
    document_row,
    emit,
    fx_on,
    post,
    rate_text,
    stored_fx,
)
from crmledger.services.billing_drafts import (
    PRICED,
    DocumentLine,
    NewDocument,
    check_changes,
    check_document,
    line_rows,
    load_draft,
    new_row,
    stored_lines,
    totals_of,
)
from crmledger.services.billing_ports import BillingDocumentRow, BillingQuery
from crmledger.services.billing_views import BillingDoc, document_view
from crmledger.services.contracts import ContractService, mark_billed
from crmledger.services.credit import check_credit
from crmledger.services.crediting import Credited, credited_lines
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.invoicing_batch import SERIES, audit_of, due_on, entry_of, issue_documents
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.settling import apply_credit
from crmledger.services.trail import OPERATOR, Actor, record

#: Drafts are written as the invoices module's own (``services.billing_drafts``).
__all__ = ["DocumentLine", "InvoiceService", "NewDocument"]


class InvoiceService:
    """Customer invoices, credit notes and vendor bills."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> InvoiceService:
        """The same service for another actor."""
        return InvoiceService(self._uow, self._clock, actor)

    # -- drafts --------------------------------------------------------------------------

    def create(self, draft: NewDocument) -> BillingDoc:
        """A draft invoice (or bill) dated ``draft.issued_on`` (default today)."""
        return self._create(draft, None)

    def _create(self, draft: NewDocument, order_id: int | None) -> BillingDoc:
        self._actor.require("billing", "write")
        check_document(draft)
        at = self._clock.now()
        with self._uow() as uow:
            row = replace(self._new_row(uow, draft, at), order_id=order_id)
            row = replace(row, id=uow.billing.insert_document(row))
            record(
                uow, self._actor, at, f"{row.kind}.create", row.kind, row.id, None, audit_of(row)
            )
            view = document_view(uow, row, self._clock.today())
            uow.commit()
        return view

    def issue_batch(self, drafts: Sequence[NewDocument]) -> list[int]:
        """Create and issue every document of ``drafts`` in ONE transaction: all or none.

        For bulk loads (imports, the demo, benchmarks): each document passes exactly the
        checks :meth:`create` and :meth:`issue` make (credit limit included, as a refusal:
        there is no override here) and gets its number, entry, audit records and event,
        written set-based (:mod:`~.invoicing_batch`). A refusal names the document as
        ``documents[i]``.
        """
        self._actor.require("billing", "write")
        at, today = self._clock.now(), self._clock.today()
        with self._uow() as uow:
            ids = issue_documents(uow, self._actor, drafts, at, today)
            uow.commit()
        return ids

    def _new_row(self, uow: UnitOfWork, new: NewDocument, at: datetime) -> BillingDocumentRow:
        """The draft row of ``new``: its party checked, its lines priced with the tax rates
        of its date (default today)."""
        if uow.parties.get(new.party_id) is None:
            raise InvalidFieldError("party_id", f"no party {new.party_id}")
        refuse_merged(uow.parties, [new.party_id])
        day = new.issued_on or self._clock.today()
        return new_row(new, day, line_rows(uow, new, day), at)

    def from_order(self, order_id: int) -> BillingDoc:
        """A draft invoice of a confirmed or fulfilled order, line for line, priced as the
        order was (its prices including tax or not)."""
        self._actor.require("billing", "write")
        with self._uow(readonly=True) as uow:
            order = uow.commerce.order(order_id)
            if order is None:
                raise NotFoundError(f"no order {order_id}")
            if order.status not in (OrderStatus.CONFIRMED, OrderStatus.FULFILLED):
                raise TransitionError(f"a {order.status} order is not invoiced")
            billed = uow.billing.document_page(BillingQuery(limit=20, order_id=order_id))
            if any(d.kind == "invoice" and d.status != InvoiceStatus.VOID for d in billed):
                raise TransitionError(f"order {order.number} has an invoice already")
            scale = scale_of(order.currency, book_scales(uow))
            lines = [
                DocumentLine(
                    product_id=r.product_id,
                    description=r.description,
                    quantity=Decimal(r.quantity),
                    unit_price=from_minor(r.unit_price_minor, scale),
                    discount=Decimal(r.discount),
                    tax_category=r.tax_category,
                )
                for r in order.lines
            ]
        draft = NewDocument(
            party_id=order.party_id,
            currency=order.currency,
            lines=lines,
            reference=order.number,
            prices_include_tax=order.prices_include_tax,
        )
        return self._create(draft, order_id)

    def update(
        self, document_id: int, changes: Mapping[str, Any], if_version: int | None
    ) -> BillingDoc:
        """Change a draft invoice or bill: any of ``billing_drafts.EDITABLE`` (``lines`` as
        a whole; ``due_on`` None: set from the payment terms when it is issued). The lines are
        priced anew when the currency, date, lines or ``prices_include_tax`` change. An
        issued document is refused (:class:`TransitionError`), a stale ``if_version`` too
        (:class:`VersionConflictError`)."""
        self._actor.require("billing", "write")
        check_changes(changes)
        at = self._clock.now()
        with self._uow() as uow:
            before = load_draft(uow, document_id, if_version, "changed")
            after = self._edited(uow, before, changes, at)
            if not uow.billing.update_document(after, before.version):
                raise VersionConflictError(
                    f"{before.kind} {document_id}", before.version, after.version
                )
            kind = before.kind
            audit = (audit_of(before), audit_of(after) | {"version": after.version})
            record(uow, self._actor, at, f"{kind}.update", kind, document_id, *audit)
            view = document_view(uow, after, self._clock.today())
            uow.commit()
        return view

    def _edited(
        self, uow: UnitOfWork, row: BillingDocumentRow, changes: Mapping[str, Any], at: datetime
    ) -> BillingDocumentRow:
        party_id = changes.get("party_id", row.party_id)
        if party_id != row.party_id and row.order_id is not None:
            raise InvalidFieldError("party_id", "the draft bills an order: it stays its party's")
        edited = replace(
            row,
            party_id=party_id,
            due_on=changes.get("due_on", row.due_on),
            reference=changes.get("reference", row.reference),
            note=changes.get("note", row.note),
            version=row.version + 1,
            updated_at=at,
        )
        if not PRICED & changes.keys():
            if party_id != row.party_id and uow.parties.get(party_id) is None:
                raise InvalidFieldError("party_id", f"no party {party_id}")
            refuse_merged(uow.parties, [party_id])
            return edited
        scale = scale_of(row.currency, book_scales(uow))
        new = NewDocument(
            party_id=party_id,
            currency=changes.get("currency", row.currency),
            lines=changes["lines"] if "lines" in changes else stored_lines(row, scale),
            kind=row.kind,
            issued_on=changes.get("issued_on", row.issued_on),
            prices_include_tax=changes.get("prices_include_tax", row.prices_include_tax),
        )
        priced = self._new_row(uow, new, at)
        return replace(
            edited,
            currency=priced.currency,
            issued_on=priced.issued_on,
            prices_include_tax=priced.prices_include_tax,
            net_minor=priced.net_minor,
            tax_minor=priced.tax_minor,
            gross_minor=priced.gross_minor,
            lines=priced.lines,
        )

    def delete(self, document_id: int, if_version: int | None) -> None:
        """Delete a draft invoice or bill with its lines. A draft has no number yet, so
        none goes missing; an issued document is refused (:class:`TransitionError`: credit
        it instead), a stale ``if_version`` too."""
        self._actor.require("billing", "write")
        at = self._clock.now()
        with self._uow() as uow:
            row = load_draft(uow, document_id, if_version, "deleted")
            if not uow.billing.delete_document(row.id, row.version):
                raise VersionConflictError(
                    f"{row.kind} {document_id}", row.version, row.version + 1
                )
            record(uow, self._actor, at, f"{row.kind}.delete", row.kind, row.id, audit_of(row))
            uow.commit()

    def get(self, document_id: int) -> BillingDoc:
        """One document; :class:`NotFoundError` when there is none."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return document_view(uow, document_row(uow, document_id), self._clock.today())

    def many(self, ids: Sequence[int]) -> list[BillingDoc]:
        """The documents of ``ids`` that exist, in the order of ``ids``."""
        self._actor.require("billing", "read")
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            rows = {r.id: r for r in uow.billing.documents(ids)}
            base = base_currency(uow) if rows else None
            return [document_view(uow, rows[i], today, base) for i in ids if i in rows]

    def page(self, query: BillingQuery) -> list[BillingDoc]:
        """A page of documents, newest first."""
        self._actor.require("billing", "read")
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            rows = uow.billing.document_page(query)
            base = base_currency(uow) if rows else None
            return [document_view(uow, r, today, base) for r in rows]

    # -- issuing -------------------------------------------------------------------------

    def issue(
        self, document_id: int, if_version: int | None = None, *, override_credit: bool = False
    ) -> BillingDoc:
        """Number and post a draft invoice or bill (see the module docstring)."""
        self._actor.require("billing", "write")
        at = self._clock.now()
        with self._uow() as uow:
            row = document_row(uow, document_id)
            if if_version is not None and row.version != if_version:
                raise VersionConflictError(f"{row.kind} {document_id}", if_version, row.version)
            issued = self._issue(uow, row, at, override_credit)
            view = document_view(uow, issued, self._clock.today())
            uow.commit()
        return view

    def _issue(
        self, uow: UnitOfWork, row: BillingDocumentRow, at: datetime, override: bool
    ) -> BillingDocumentRow:
        if row.status != InvoiceStatus.DRAFT:
            raise TransitionError(f"{row.kind} {row.number} is {row.status}, not a draft")
        if row.gross_minor <= 0:
            raise InvalidFieldError("lines", "a document must total more than 0")
        day = row.issued_on or self._clock.today()
        fx = fx_on(uow, row.currency, day)
        party = uow.parties.get(row.party_id)
        assert party is not None  # a foreign key
        if row.kind == "invoice":
            check_credit(uow, self._actor, row, fx, at, override)
        series, prefix = SERIES[row.kind]
        number = f"{prefix}-{day.year}-{uow.commerce.next_number(series, day.year):04d}"
        due = due_on(row, party, day)
        entry, base = entry_of(replace(row, number=number), fx, day, book_scales(uow))
        entry_id = post(uow, entry, at)
        issued = replace(
            row,
            number=number,
            status=InvoiceStatus.ISSUED.value,
            issued_on=day,
            issued_at=at,
            due_on=due,
            rate=rate_text(fx.rate) if fx.converts else None,
            entry_id=entry_id,
            open_minor=row.gross_minor,
            open_base_minor=base,
            version=row.version + 1,
            updated_at=at,
        )
        if not uow.billing.update_document(issued, row.version):
            raise VersionConflictError(f"{row.kind} {row.id}", row.version, row.version + 1)
        record(
            uow,
            self._actor,
            at,
            f"{row.kind}.issue",
            row.kind,
            row.id,
            audit_of(row),
            audit_of(issued),
        )
        emit(uow, row.kind, row.id, f"{row.kind}.issued", at, party_id=row.party_id, number=number)
        return issued

    # -- credit notes --------------------------------------------------------------------

    def credit(
        self,
        invoice_id: int,
        lines: Credited = None,
        *,
        if_version: int | None = None,
        reason: str = "",
    ) -> BillingDoc:
        """Credit ``invoice_id`` in full (``lines`` None) or the ``(position, quantity)``
        pairs named (each line once, within what it has not had credited yet: see
        ``services.crediting``), at the invoice's prices, taxes and rate; apply it to the
        invoice."""
        self._actor.require("billing", "write")
        at, today = self._clock.now(), self._clock.today()
        with self._uow() as uow:
            invoice = document_row(uow, invoice_id, "invoice")
            if if_version is not None and invoice.version != if_version:
                raise VersionConflictError(f"invoice {invoice_id}", if_version, invoice.version)
            if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
                raise TransitionError(f"a {invoice.status} invoice cannot be credited")
            credit_lines = credited_lines(uow, invoice, lines)
            net, tax = totals_of(credit_lines)
            draft = replace(
                invoice,
                id=0,
                kind="credit_note",
                number=None,
                status=InvoiceStatus.DRAFT.value,
                issued_on=today,
                issued_at=None,
                due_on=today,
                settled_on=None,
                order_id=None,
                contract_id=None,
                billing_date=None,
                refers_to=invoice.id,
                reference=invoice.number or "",
                net_minor=net,
                tax_minor=tax,
                gross_minor=net + tax,
                paid_minor=0,
                credited_minor=0,
                open_minor=0,
                open_base_minor=0,
                entry_id=None,
                note=reason,
                version=1,
                created_at=at,
                updated_at=at,
                lines=credit_lines,
            )
            draft = replace(draft, id=uow.billing.insert_document(draft))
            note = self._issue_credit(uow, draft, invoice, at)
            view = document_view(uow, note, today)
            uow.commit()
        return view

    def _issue_credit(
        self, uow: UnitOfWork, draft: BillingDocumentRow, invoice: BillingDocumentRow, at: datetime
    ) -> BillingDocumentRow:
        if draft.gross_minor <= 0:
            raise InvalidFieldError("lines", "a credit note must total more than 0")
        day = draft.issued_on or self._clock.today()
        fx = stored_fx(uow, invoice.currency, invoice.rate)
        number = f"CN-{day.year}-{uow.commerce.next_number('credit', day.year):04d}"
        entry, base = entry_of(replace(draft, number=number), fx, day, book_scales(uow))
        entry_id = post(uow, entry, at)
        issued = replace(
            draft,
            number=number,
            status=InvoiceStatus.ISSUED.value,
            issued_at=at,
            rate=invoice.rate,
            entry_id=entry_id,
            open_minor=draft.gross_minor,
            open_base_minor=base,
            version=2,
            updated_at=at,
        )
        uow.billing.update_document(issued, draft.version)
        record(
            uow,
            self._actor,
            at,
            "credit_note.issue",
            "credit_note",
            draft.id,
            None,
            audit_of(issued),
        )
        emit(
            uow,
            "invoice",
            invoice.id,
            "invoice.credited",
            at,
            credit_note_id=draft.id,
            number=number,
        )
        amount = min(issued.open_minor, invoice.open_minor)
        if amount > 0:
            apply_credit(uow, self._actor, issued.id, "credit_note", invoice.id, amount, day, at)
        return document_row(uow, draft.id)

    # -- contract billing ----------------------------------------------------------------

    def billing_run(self, through: date) -> list[BillingDoc]:
        """Issue an invoice for every contract billing date due up to ``through`` that has
        none yet; each in its own transaction, so a crash leaves nothing half issued and a
        second run for the same date issues nothing."""
        self._actor.require("billing", "write")
        due = ContractService(self._uow, self._clock, self._actor).due(through)
        issued = []
        for billing in due:
            doc = self._bill_contract(billing.contract.key, billing.day, billing.amount)
            if doc is not None:
                issued.append(doc)
        return issued

    def _bill_contract(self, contract_id: int, day: date, amount: Decimal) -> BillingDoc | None:
        at = self._clock.now()
        with self._uow() as uow:
            if uow.billing.billed(contract_id, day) is not None:
                return None
            contract = uow.commerce.contract(contract_id)
            assert contract is not None
            line = DocumentLine(
                product_id=contract.product_id,
                description=f"{contract.description} ({day.isoformat()})",
                unit_price=amount,
            )
            new = NewDocument(
                party_id=contract.party_id, currency=contract.currency, lines=[line], issued_on=day
            )
            row = replace(self._new_row(uow, new, at), contract_id=contract_id, billing_date=day)
            row = replace(row, id=uow.billing.insert_document(row))
            issued = self._issue(uow, row, at, override=True)
            mark_billed(uow, contract_id, day, at)
            view = document_view(uow, issued, self._clock.today())
            uow.commit()
        return view
