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

A credit note credits an invoice in full or line by line at the invoice's own prices, taxes
and exchange rate, posts the mirror entry and is applied to what the invoice still has open;
what is left over is customer credit (``services.settling``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from crmledger.core.billing.entries import BillingDocument, FxRate, document_entry
from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.core.crm.documents import Line, OrderStatus, TaxRule, line_net, totals
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import (
    ACCOUNTS,
    document_row,
    emit,
    fx_on,
    post,
    rate_text,
    stored_fx,
)
from crmledger.services.billing_ports import BillingDocumentRow, BillingLineRow, BillingQuery
from crmledger.services.billing_views import BillingDoc, document_view
from crmledger.services.contracts import ContractService, mark_billed
from crmledger.services.credit import check_credit
from crmledger.services.crm_ports import ProductRow
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sales import DraftLine, number_text, price_lines, rules_of
from crmledger.services.settling import apply_credit
from crmledger.services.trail import OPERATOR, Actor, record

SERIES = {"invoice": ("invoice", "INV"), "credit_note": ("credit", "CN"), "bill": ("bill", "BILL")}
DEFAULT_TERMS_DAYS = 30
DEFAULT_INCOME = "Income:Sales:Services"
DEFAULT_EXPENSE = "Expenses:Office"


@dataclass(frozen=True, slots=True)
class DocumentLine(DraftLine):
    """A draft line; ``account`` overrides the product's income account (or, on a bill,
    names the expense account)."""

    account: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDocument:
    """A draft invoice or bill as a user enters it."""

    party_id: int
    currency: str
    lines: Sequence[DocumentLine]
    kind: str = "invoice"
    issued_on: date | None = None
    due_on: date | None = None
    reference: str = ""
    note: str = ""


def _line_rows(
    uow: UnitOfWork, kind: str, currency: str, drafts: Sequence[DocumentLine], day: date
) -> tuple[BillingLineRow, ...]:
    rules = rules_of(uow.billing.tax_rates_on(day))
    priced = price_lines(uow, currency, drafts, rules)
    scale = scale_of(currency, book_scales(uow))
    ids = sorted({d.product_id for d in drafts if d.product_id is not None})
    products = {p.id: p for p in uow.commerce.products(ids)}
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


def _totals_of(lines: Sequence[BillingLineRow]) -> tuple[int, int]:
    return sum(r.net_minor for r in lines), sum(r.tax_minor for r in lines)


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
        if draft.kind not in ("invoice", "bill"):
            raise InvalidFieldError("kind", "create an 'invoice' or a 'bill'")
        if not draft.lines:
            raise InvalidFieldError("lines", "a document needs at least one line")
        at = self._clock.now()
        day = draft.issued_on or self._clock.today()
        with self._uow() as uow:
            if uow.parties.get(draft.party_id) is None:
                raise InvalidFieldError("party_id", f"no party {draft.party_id}")
            row = self._draft_row(
                uow, draft.kind, draft.party_id, draft.currency, draft.lines, day, at
            )
            row = replace(
                row,
                due_on=draft.due_on,
                order_id=order_id,
                reference=draft.reference,
                note=draft.note,
            )
            row = replace(row, id=uow.billing.insert_document(row))
            record(uow, self._actor, at, f"{row.kind}.create", row.kind, row.id, None, _audit(row))
            view = document_view(uow, row, self._clock.today())
            uow.commit()
        return view

    def issue_batch(self, drafts: Sequence[NewDocument]) -> list[int]:
        """Create and issue every document of ``drafts`` in ONE transaction: all or none.

        For bulk loads (imports, the demo, benchmarks): each document passes exactly the
        checks :meth:`create` and :meth:`issue` make (credit limit included, as a refusal:
        there is no override here) and gets its number, entry, audit record and event; the
        batch shares one commit. A refusal names the document as ``documents[i]``.
        """
        self._actor.require("billing", "write")
        at = self._clock.now()
        ids = []
        with self._uow() as uow:
            for index, draft in enumerate(drafts):
                try:
                    ids.append(self._issue_one(uow, draft, at))
                except InvalidFieldError as error:
                    raise InvalidFieldError(
                        f"documents[{index}].{error.field}", str(error)
                    ) from error
            uow.commit()
        return ids

    def _issue_one(self, uow: UnitOfWork, draft: NewDocument, at: datetime) -> int:
        if draft.kind not in ("invoice", "bill"):
            raise InvalidFieldError("kind", "create an 'invoice' or a 'bill'")
        if not draft.lines:
            raise InvalidFieldError("lines", "a document needs at least one line")
        if uow.parties.get(draft.party_id) is None:
            raise InvalidFieldError("party_id", f"no party {draft.party_id}")
        day = draft.issued_on or self._clock.today()
        row = self._draft_row(uow, draft.kind, draft.party_id, draft.currency, draft.lines, day, at)
        row = replace(row, due_on=draft.due_on, reference=draft.reference, note=draft.note)
        row = replace(row, id=uow.billing.insert_document(row))
        record(uow, self._actor, at, f"{row.kind}.create", row.kind, row.id, None, _audit(row))
        return self._issue(uow, row, at, override=False).id

    def _draft_row(
        self,
        uow: UnitOfWork,
        kind: str,
        party_id: int,
        currency: str,
        drafts: Sequence[DocumentLine],
        day: date,
        at: datetime,
    ) -> BillingDocumentRow:
        lines = _line_rows(uow, kind, currency, drafts, day)
        net, tax = _totals_of(lines)
        return BillingDocumentRow(
            id=0,
            kind=kind,
            number=None,
            party_id=party_id,
            currency=currency,
            status=InvoiceStatus.DRAFT.value,
            issued_on=day,
            due_on=None,
            settled_on=None,
            order_id=None,
            contract_id=None,
            billing_date=None,
            refers_to=None,
            reference="",
            rate=None,
            net_minor=net,
            tax_minor=tax,
            gross_minor=net + tax,
            paid_minor=0,
            credited_minor=0,
            open_minor=0,
            open_base_minor=0,
            entry_id=None,
            note="",
            version=1,
            created_at=at,
            updated_at=at,
            lines=lines,
        )

    def from_order(self, order_id: int) -> BillingDoc:
        """A draft invoice of a confirmed or fulfilled order, line for line."""
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
            party_id=order.party_id, currency=order.currency, lines=lines, reference=order.number
        )
        return self._create(draft, order_id)

    def get(self, document_id: int) -> BillingDoc:
        """One document; :class:`NotFoundError` when there is none."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return document_view(uow, document_row(uow, document_id), self._clock.today())

    def page(self, query: BillingQuery) -> list[BillingDoc]:
        """A page of documents, newest first."""
        self._actor.require("billing", "read")
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            return [document_view(uow, r, today) for r in uow.billing.document_page(query)]

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
        terms = party.payment_terms_days
        due = row.due_on or day + timedelta(days=DEFAULT_TERMS_DAYS if terms is None else terms)
        entry_id, base = self._post(uow, replace(row, number=number), fx, day, at)
        issued = replace(
            row,
            number=number,
            status=InvoiceStatus.ISSUED.value,
            issued_on=day,
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
            uow, self._actor, at, f"{row.kind}.issue", row.kind, row.id, _audit(row), _audit(issued)
        )
        emit(uow, row.kind, row.id, f"{row.kind}.issued", at, party_id=row.party_id, number=number)
        return issued

    def _post(
        self, uow: UnitOfWork, row: BillingDocumentRow, fx: FxRate, day: date, at: datetime
    ) -> tuple[int, int]:
        scale = scale_of(row.currency, book_scales(uow))
        scales = book_scales(uow)
        doc = BillingDocument(
            kind=row.kind,  # type: ignore[arg-type]
            number=row.number or "",
            party=str(row.party_id),
            on=day,
            currency=row.currency,
            lines=tuple((r.account, from_minor(r.net_minor, scale)) for r in row.lines),
            taxes=tuple((r.tax_category, from_minor(r.tax_minor, scale)) for r in row.lines),
            gross=from_minor(row.gross_minor, scale),
            costs=tuple(
                (
                    r.cost_account,
                    from_minor(r.cost_minor, scale_of(r.cost_currency, scales)),
                    r.cost_currency,
                )
                for r in row.lines
                if r.cost_minor and r.cost_account and r.cost_currency
            ),
        )
        entry, base = document_entry(doc, ACCOUNTS, fx)
        entry_id = post(uow, entry, at)
        return entry_id, to_minor(base, fx.base_scale)

    # -- credit notes --------------------------------------------------------------------

    def credit(
        self,
        invoice_id: int,
        lines: Mapping[int, Decimal] | None = None,
        *,
        if_version: int | None = None,
        reason: str = "",
    ) -> BillingDoc:
        """Credit ``invoice_id`` in full (``lines`` None) or the given quantities per line
        position, at the invoice's prices, taxes and rate; apply it to the invoice."""
        self._actor.require("billing", "write")
        at, today = self._clock.now(), self._clock.today()
        with self._uow() as uow:
            invoice = document_row(uow, invoice_id, "invoice")
            if if_version is not None and invoice.version != if_version:
                raise VersionConflictError(f"invoice {invoice_id}", if_version, invoice.version)
            if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
                raise TransitionError(f"a {invoice.status} invoice cannot be credited")
            credit_lines = _credited_lines(uow, invoice, lines)
            net, tax = _totals_of(credit_lines)
            draft = replace(
                invoice,
                id=0,
                kind="credit_note",
                number=None,
                status=InvoiceStatus.DRAFT.value,
                issued_on=today,
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
        entry_id, base = self._post(uow, replace(draft, number=number), fx, day, at)
        issued = replace(
            draft,
            number=number,
            status=InvoiceStatus.ISSUED.value,
            rate=invoice.rate,
            entry_id=entry_id,
            open_minor=draft.gross_minor,
            open_base_minor=base,
            version=2,
            updated_at=at,
        )
        uow.billing.update_document(issued, draft.version)
        record(
            uow, self._actor, at, "credit_note.issue", "credit_note", draft.id, None, _audit(issued)
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
            row = self._draft_row(
                uow, "invoice", contract.party_id, contract.currency, [line], day, at
            )
            row = replace(row, contract_id=contract_id, billing_date=day)
            row = replace(row, id=uow.billing.insert_document(row))
            issued = self._issue(uow, row, at, override=True)
            mark_billed(uow, contract_id, day, at)
            view = document_view(uow, issued, self._clock.today())
            uow.commit()
        return view


def _credited_lines(
    uow: UnitOfWork, invoice: BillingDocumentRow, quantities: Mapping[int, Decimal] | None
) -> tuple[BillingLineRow, ...]:
    """The invoice's lines to credit: all of them as they are, or the given quantities
    re-priced at the line's price, discount and rate (rounded per line)."""
    if quantities is None:
        return tuple(replace(r, cost_minor=None, cost_account=None) for r in invoice.lines)
    by_position = {r.position: r for r in invoice.lines}
    scale = scale_of(invoice.currency, book_scales(uow))
    rows: list[BillingLineRow] = []
    for position, quantity in sorted(quantities.items()):
        where = f"lines[{position}]"
        line = by_position.get(position)
        if line is None:
            raise InvalidFieldError(where, f"the invoice has no line {position}")
        if not quantity.is_finite() or quantity <= 0 or quantity > Decimal(line.quantity):
            raise InvalidFieldError(f"{where}.quantity", f"credit 0 < quantity <= {line.quantity}")
        credited = Line(
            line.product_id,
            line.description,
            quantity,
            from_minor(line.unit_price_minor, scale),
            Decimal(line.discount),
            line.tax_category,
        )
        added = totals(
            [credited], scale, {line.tax_category: TaxRule(Decimal(line.tax_rate), "line")}
        )
        net = line_net(credited, scale)
        rows.append(
            replace(
                line,
                position=len(rows) + 1,
                quantity=number_text(quantity),
                net_minor=to_minor(net, scale),
                tax_minor=to_minor(added.tax, scale),
                cost_minor=None,
                cost_account=None,
            )
        )
    return tuple(rows)


def _audit(row: BillingDocumentRow) -> dict[str, object]:
    return {
        "kind": row.kind,
        "number": row.number,
        "party_id": row.party_id,
        "currency": row.currency,
        "status": row.status,
        "gross_minor": row.gross_minor,
        "issued_on": row.issued_on.isoformat() if row.issued_on else None,
    }
