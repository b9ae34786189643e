"""Importing invoices and payments from spreadsheet rows: the whole file or nothing.

An invoice file has one row per invoice line; rows sharing the ``invoice`` column form one
invoice, whose party, currency and dates are those of its first row. A payment file has one
row per payment; its ``invoice`` column names the invoice it pays (by number, or by the key
an invoice import kept as the invoice's reference), else it is allocated oldest first::

    invoice,party_id,date,sku,description,quantity,unit_price
    A-17,1,2026-05-04,CONSULT-H,,10,
    A-17,1,2026-05-04,,Travel,1,240.00

    items = build_rows(table.rows, mapping, invoice_row(parties, "EUR"), report)
    BillingImportService(uow, clock).invoices(items, report)     # report.written == 1

Rows are checked as they are read; then every party, SKU, currency and exchange rate the
file names is looked up in the book, and every problem is reported with its line. Only a
file without problems is written: each invoice created and issued, each payment recorded
by the billing services themselves, inside one transaction, so a rule only the write can
check (a locked period, a credit limit) names its line and leaves nothing behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Self

from crmledger.core.billing.settlement import Allocation
from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.core.imports import Problem
from crmledger.core.money import from_minor
from crmledger.services.billing_common import fx_on, parse_rate
from crmledger.services.billing_ports import BillingStore
from crmledger.services.crm_ports import (
    CommerceStore,
    DealStore,
    InteractionStore,
    PartyStore,
    SatisfactionStore,
)
from crmledger.services.dunning_ports import DunningStore
from crmledger.services.invoicing import DocumentLine, InvoiceService, NewDocument
from crmledger.services.ports import (
    AccessStore,
    AuditStore,
    Clock,
    IdempotencyStore,
    LedgerStore,
    SecretStore,
    UnitOfWork,
    UnitOfWorkFactory,
)
from crmledger.services.products import book_scales, minor_units, scale_of
from crmledger.services.record_import import ImportReport
from crmledger.services.settling import DEFAULT_BANK, METHODS, NewPayment, PaymentService
from crmledger.services.trail import OPERATOR, Actor

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
_COLUMNS = {"issued_on": "date", "due_on": "due", "paid_on": "date", "product_id": "sku"}
_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.?(.*)$")
_HEAD = ("party_id", "currency", "issued_on", "due_on", "reference")


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One line of an invoice file, with the invoice's head fields as that row gives them."""

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
class _Invoice:
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
        payment = NewPayment(
            party_id=_party(values, parties),
            amount=_decimal("amount", amount),
            currency=values.get("currency", base).strip().upper(),
            paid_on=_day("date", values.get("date")),
            method=method,
            bank_account=values.get("bank_account", DEFAULT_BANK),
            reference=values.get("reference", ""),
            rate=None if rate is None else parse_rate(rate),
        )
        return PaymentRow(payment, values.get("invoice"))

    return build


def group_invoices(items: Sequence[tuple[int, InvoiceRow]], report: ImportReport) -> list[_Invoice]:
    """The rows by invoice, in file order; a row whose head fields differ from its
    invoice's first row is a problem."""
    groups: dict[str, _Invoice] = {}
    for line, row in items:
        group = groups.setdefault(row.key, _Invoice(line, row))
        clash = next((n for n in _HEAD if getattr(group.head, n) != getattr(row, n)), None)
        if clash is not None:
            report.add(
                Problem(
                    report.source,
                    line,
                    _COLUMNS.get(clash, clash),
                    f"differs from line {group.first}, the first of invoice {row.key!r}",
                )
            )
        group.rows.append((line, row))
    return list(groups.values())


# -- one transaction for the billing services ------------------------------------------------


class _Joined:
    """An open unit of work handed to the billing services as their factory: whatever they
    read and write joins it, and their ``commit`` waits for the import's own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._outer = uow

    def __call__(self, readonly: bool = False) -> Self:
        del readonly
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        """Nothing yet: the import commits once, when every row is written."""

    @property
    def ledger(self) -> LedgerStore:
        return self._outer.ledger

    @property
    def access(self) -> AccessStore:
        return self._outer.access

    @property
    def audit(self) -> AuditStore:
        return self._outer.audit

    @property
    def idempotency(self) -> IdempotencyStore:
        return self._outer.idempotency

    @property
    def secrets(self) -> SecretStore:
        return self._outer.secrets

    @property
    def parties(self) -> PartyStore:
        return self._outer.parties

    @property
    def deals(self) -> DealStore:
        return self._outer.deals

    @property
    def satisfaction(self) -> SatisfactionStore:
        return self._outer.satisfaction

    @property
    def interactions(self) -> InteractionStore:
        return self._outer.interactions

    @property
    def commerce(self) -> CommerceStore:
        return self._outer.commerce

    @property
    def billing(self) -> BillingStore:
        return self._outer.billing

    @property
    def dunning(self) -> DunningStore:
        return self._outer.dunning


# -- checking against the book and writing ---------------------------------------------------


class _Book:
    """What the rows name, looked up once in the import's transaction."""

    def __init__(self, uow: UnitOfWork, today: date) -> None:
        self.uow = uow
        self.today = today
        self.scales = book_scales(uow)
        self._parties: dict[int, bool] = {}

    def problem(
        self, party_id: int, currency: str, day: date | None, rate_given: bool = False
    ) -> tuple[str, str] | None:
        """Why a party, currency and day cannot be booked, as ``(field, reason)``."""
        if party_id not in self._parties:
            self._parties[party_id] = self.uow.parties.get(party_id) is not None
        if not self._parties[party_id]:
            return "party_id", f"no party {party_id}"
        try:
            scale_of(currency, self.scales)
            if not rate_given:
                fx_on(self.uow, currency, day or self.today)
        except InvalidFieldError as error:
            return error.field, str(error)
        return None

    def amount_problem(self, name: str, amount: Decimal, currency: str) -> tuple[str, str] | None:
        """Why ``amount`` is no amount of ``currency`` (too many decimals, too large)."""
        try:
            minor_units(name, amount, currency, self.scales)
        except InvalidFieldError as error:
            return error.field, str(error)
        return None

    def open_invoice(self, party_id: int, currency: str, name: str) -> int | None:
        """The open invoice of the party in ``currency`` numbered or referenced ``name``."""
        found = self.uow.billing.open_documents(party_id, "invoice", currency)
        by_number = [d.id for d in found if d.number == name]
        by_reference = [d.id for d in found if d.reference == name]
        matches = by_number or by_reference
        return matches[0] if len(matches) == 1 else None

    def open_amount(self, invoice_id: int, currency: str) -> Decimal:
        """What ``invoice_id`` still has open, as a decimal of ``currency``."""
        row = self.uow.billing.document(invoice_id)
        assert row is not None
        return from_minor(row.open_minor, scale_of(currency, self.scales))


def _problem(source: str, line: int, error: LedgerError) -> Problem:
    name = "invoice" if error.field.startswith("allocations") else error.field
    return Problem(source, line, _COLUMNS.get(name, name), str(error))


def _located(error: LedgerError, group: _Invoice, source: str) -> Problem:
    match = _LINE_FIELD.match(error.field)
    if match is None or int(match.group(1)) >= len(group.rows):
        return _problem(source, group.first, error)
    line, _ = group.rows[int(match.group(1))]
    name = match.group(2) or "line"
    return Problem(source, line, _COLUMNS.get(name, name), str(error))


Progress = Callable[[int], None] | None


class BillingImportService:
    """Invoice and payment files, written through the billing services in one transaction."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> BillingImportService:
        """The same service for another actor."""
        return BillingImportService(self._uow, self._clock, actor)

    def invoices(
        self,
        items: Sequence[tuple[int, InvoiceRow]],
        report: ImportReport,
        dry_run: bool = False,
        batch_size: int = 0,
        progress: Progress = None,
    ) -> ImportReport:
        """Create and issue the invoices the rows form, all or none (``batch_size`` is
        ignored: a file is one transaction); ``dry_run`` checks and writes nothing."""
        del batch_size
        self._actor.require("billing", "write")
        groups = group_invoices(items, report)
        if groups:
            with self._uow() as uow:
                book = _Book(uow, self._clock.today())
                skus = self._check_invoices(book, groups, report)
                if report.ok:
                    self._write_invoices(uow, groups, skus, report, progress)
                if report.ok:
                    report.written = len(groups)
                    if not dry_run:
                        uow.commit()
        report.problems.sort(key=lambda p: p.line)
        return report

    def _check_invoices(
        self, book: _Book, groups: Sequence[_Invoice], report: ImportReport
    ) -> dict[str, int]:
        wanted = sorted({r.sku for g in groups for _, r in g.rows if r.sku is not None})
        skus = book.uow.commerce.product_ids_by_sku(wanted)
        for group in groups:
            head = group.head
            problem = book.problem(head.party_id, head.currency, head.issued_on)
            if problem is not None:
                report.add(Problem(report.source, group.first, *problem))
                continue
            for line, row in group.rows:
                if row.sku is not None and row.sku not in skus:
                    report.add(
                        Problem(report.source, line, "sku", f"no product with SKU {row.sku!r}")
                    )
                price = row.line.unit_price
                wrong = price and book.amount_problem("unit_price", price, head.currency)
                if wrong:
                    report.add(Problem(report.source, line, *wrong))
        return skus

    def _write_invoices(
        self,
        uow: UnitOfWork,
        groups: Sequence[_Invoice],
        skus: dict[str, int],
        report: ImportReport,
        progress: Progress,
    ) -> None:
        billing = InvoiceService(_Joined(uow), self._clock, self._actor)
        for group in groups:
            head = group.head
            lines = [
                replace(r.line, product_id=skus[r.sku]) if r.sku is not None else r.line
                for _, r in group.rows
            ]
            draft = NewDocument(
                party_id=head.party_id,
                currency=head.currency,
                lines=lines,
                issued_on=head.issued_on,
                due_on=head.due_on,
                reference=head.reference,
            )
            try:
                billing.issue(billing.create(draft).id)
            except LedgerError as error:
                report.add(_located(error, group, report.source))
                return
            if progress is not None:
                progress(len(group.rows))

    def payments(
        self,
        items: Sequence[tuple[int, PaymentRow]],
        report: ImportReport,
        dry_run: bool = False,
        batch_size: int = 0,
        progress: Progress = None,
    ) -> ImportReport:
        """Record the payments of the rows in file order, each paying its invoice or the
        oldest open ones, all or none (see :meth:`invoices`)."""
        del batch_size
        self._actor.require("billing", "write")
        if items:
            with self._uow() as uow:
                book = _Book(uow, self._clock.today())
                targets = self._check_payments(book, items, report)
                if report.ok:
                    self._write_payments(book, items, targets, report, progress)
                if report.ok:
                    report.written = len(items)
                    if not dry_run:
                        uow.commit()
        report.problems.sort(key=lambda p: p.line)
        return report

    def _check_payments(
        self, book: _Book, items: Sequence[tuple[int, PaymentRow]], report: ImportReport
    ) -> dict[int, int]:
        targets: dict[int, int] = {}
        for line, row in items:
            new = row.payment
            problem = book.problem(
                new.party_id, new.currency, new.paid_on, new.rate is not None
            ) or book.amount_problem("amount", new.amount, new.currency)
            if problem is not None:
                report.add(Problem(report.source, line, *problem))
                continue
            if row.invoice is None:
                continue
            found = book.open_invoice(new.party_id, new.currency, row.invoice)
            if found is None:
                reason = (
                    f"party {new.party_id} has no open {new.currency} invoice numbered or "
                    f"referenced {row.invoice!r}"
                )
                report.add(Problem(report.source, line, "invoice", reason))
            else:
                targets[line] = found
        return targets

    def _write_payments(
        self,
        book: _Book,
        items: Sequence[tuple[int, PaymentRow]],
        targets: dict[int, int],
        report: ImportReport,
        progress: Progress,
    ) -> None:
        payments = PaymentService(_Joined(book.uow), self._clock, self._actor)
        for line, row in items:
            try:
                payments.record(row.payment, _allocations(book, targets.get(line), row.payment))
            except LedgerError as error:
                report.add(_problem(report.source, line, error))
                return
            if progress is not None:
                progress(1)


def _allocations(book: _Book, invoice_id: int | None, new: NewPayment) -> list[Allocation] | None:
    """The payment on its invoice up to what is open there (the rest is credit), or
    ``None``: oldest first."""
    if invoice_id is None:
        return None
    left = book.open_amount(invoice_id, new.currency)
    if left <= 0:
        raise InvalidFieldError("invoice", "is settled already, by an earlier row")
    return [Allocation(invoice_id, min(new.amount, left))]
