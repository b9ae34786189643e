"""Importing invoices, vendor bills and payments from spreadsheet rows: all or nothing.

The rows are read and grouped by :mod:`~.billing_import_rows` (an invoice file has one row
per invoice line, a payment file one row per payment, whose ``invoice`` column names the
invoice it pays, else it is allocated oldest first)::

    items = build_rows(table.rows, mapping, invoice_row(parties, "EUR"), report)
    BillingImportService(uow, clock).invoices(items, report)     # report.written == 1

Every party, SKU, currency, exchange rate and account the file names is then looked up in
the book, and each document's lines are priced as issuing prices them; every problem is
reported with its line. Only a file without problems is written, in ONE transaction, by the
billing services' set-based bulk paths (:func:`~.invoicing_batch.issue_documents` and
:func:`~.settling_batch.record_payments`: what ``InvoiceService.issue_batch`` and
``PaymentService.record_batch`` run in a transaction of their own) a chunk at a time. A rule
only the write can check (a locked period, a credit limit) is named by the bulk path as
``documents[i]`` or ``payments[i]``; it is reported on the file's line, and the transaction
is rolled back. A payment that names its invoice is recorded on its own (the bulk path
allocates oldest first only), in file order and in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from crmledger.core.billing.settlement import Allocation
from crmledger.core.crm.documents import TaxRule
from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.core.imports import Problem
from crmledger.core.money import from_minor
from crmledger.services.billing_common import fx_on
from crmledger.services.billing_drafts import Catalogue, lines_with
from crmledger.services.billing_import_rows import (
    BILL_FIELDS,
    COLUMNS,
    INVOICE_FIELDS,
    PAYMENT_FIELDS,
    DocumentRows,
    InvoiceRow,
    PaymentRow,
    bill_row,
    group_invoices,
    invoice_row,
    payment_row,
)
from crmledger.services.crm_ports import ProductRow
from crmledger.services.errors import EntriesRejectedError
from crmledger.services.invoicing import NewDocument
from crmledger.services.invoicing_batch import issue_documents
from crmledger.services.joined import JoinedUnitOfWork
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, minor_units, scale_of
from crmledger.services.record_import import ImportReport
from crmledger.services.sales import rules_of
from crmledger.services.settling import NewPayment, PaymentService
from crmledger.services.settling_batch import record_payments
from crmledger.services.trail import OPERATOR, Actor

#: The row readers live beside; the command line takes them from here.
__all__ = [
    "BILL_FIELDS",
    "INVOICE_FIELDS",
    "PAYMENT_FIELDS",
    "BillingImportService",
    "InvoiceRow",
    "PaymentRow",
    "bill_row",
    "group_invoices",
    "invoice_row",
    "payment_row",
]

#: Documents (or payments) per call of a bulk path, all in the import's one transaction.
CHUNK = 1000
#: How a service's field names a document line, and how a bulk path names the item it
#: refused: in the field, or leading its message.
_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.?(.*)$")
_ITEM_FIELD = re.compile(r"^(?:documents|payments)\[(\d+)\]\.(.+)$")
_ITEM_REASON = re.compile(r"^(?:documents|payments)\[(\d+)\]: ")


# -- checking against the book --------------------------------------------------------------


class _Book:
    """What the rows name, looked up once in the import's transaction."""

    def __init__(self, uow: UnitOfWork, today: date) -> None:
        self.uow = uow
        self.today = today
        self.scales = book_scales(uow)
        self.products: dict[int, ProductRow] = {}
        self._parties: dict[int, bool] = {}
        self._accounts: set[str] | None = None
        self._rules: dict[date, Mapping[str, TaxRule]] = {}
        self._rates: dict[tuple[str, date], tuple[str, str] | None] = {}

    def problem(
        self, party_id: int, currency: str, day: date | None, rate_given: bool = False
    ) -> tuple[str, str] | None:
        """Why a party, currency and day cannot be booked, as ``(field, reason)``."""
        if party_id not in self._parties:
            self._parties[party_id] = self.uow.parties.get(party_id) is not None
        if not self._parties[party_id]:
            return "party_id", f"no party {party_id}"
        key = (currency, date.min if rate_given else day or self.today)
        if key not in self._rates:
            self._rates[key] = self._currency_problem(currency, None if rate_given else key[1])
        return self._rates[key]

    def _currency_problem(self, currency: str, day: date | None) -> tuple[str, str] | None:
        """Why ``currency`` cannot be booked (on ``day``, unless its rate is given)."""
        try:
            scale_of(currency, self.scales)
            if day is not None:
                fx_on(self.uow, currency, day)
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

    def account_problem(self, account: str | None) -> tuple[str, str] | None:
        """Why a line cannot be booked to ``account`` (None: the default account)."""
        if self._accounts is None:
            self._accounts = set(self.uow.ledger.accounts())
        if account is None or account in self._accounts:
            return None
        return "account", f"the chart has no account {account!r}"

    def catalogue(self, day: date) -> Catalogue:
        """The products, scales and tax rules a document of ``day`` is priced with."""
        if day not in self._rules:
            self._rules[day] = rules_of(self.uow.billing.tax_rates_on(day))
        return Catalogue(self.products, self.scales, self._rules[day])

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


def _problem(source: str, line: int, name: str, reason: str) -> Problem:
    """A problem on ``line`` naming the file's column for a service's field ``name``."""
    name = "invoice" if name.startswith("allocations") else name
    return Problem(source, line, COLUMNS.get(name, name), reason)


def _located(name: str, reason: str, group: DocumentRows, source: str) -> Problem:
    """A problem of a document, on the line of the document line it names
    (``lines[2].quantity``), else on the document's first line."""
    match = _LINE_FIELD.match(name)
    if match is None or int(match.group(1)) >= len(group.rows):
        return _problem(source, group.first, name, reason)
    line, _ = group.rows[int(match.group(1))]
    part = match.group(2) or "line"
    return Problem(source, line, COLUMNS.get(part, part), reason)


def _refusals(error: LedgerError, count: int) -> list[tuple[int | None, str, str]]:
    """Where a bulk call over ``count`` items says it refused them, as ``(item index or
    None, field, reason)``: a field ``documents[3].lines[0].quantity`` or
    ``payments[3].amount``, a message ``documents[3]: ...``, or the rejected entries (each
    item's own entry comes in item order, before any exchange difference)."""
    if isinstance(error, EntriesRejectedError):
        return [
            (r.index if r.index < count else None, r.error.field, str(r.error))
            for r in error.rejections
        ]
    reason = str(error)
    named = _ITEM_FIELD.match(error.field)
    if named is not None:
        return [(int(named.group(1)), named.group(2), reason)]
    said = _ITEM_REASON.match(reason)
    if said is not None:
        return [(int(said.group(1)), error.field, reason[said.end() :])]
    return [(None, error.field, reason)]


def _draft(kind: str, group: DocumentRows, skus: Mapping[str, int]) -> NewDocument:
    head = group.head
    lines = [
        replace(r.line, product_id=skus[r.sku]) if r.sku is not None else r.line
        for _, r in group.rows
    ]
    return NewDocument(
        kind=kind,
        party_id=head.party_id,
        currency=head.currency,
        lines=lines,
        issued_on=head.issued_on,
        due_on=head.due_on,
        reference=head.reference,
    )


def _line_problems(
    book: _Book, row: InvoiceRow, currency: str, skus: Mapping[str, int]
) -> list[tuple[str, str]]:
    """What is wrong with one line: an unknown SKU or account, a price the currency cannot
    hold."""
    found = []
    if row.sku is not None and row.sku not in skus:
        found.append(("sku", f"no product with SKU {row.sku!r}"))
    price = row.line.unit_price
    wrong = price and book.amount_problem("unit_price", price, currency)
    if wrong:
        found.append(wrong)
    account = book.account_problem(row.line.account)
    if account is not None:
        found.append(account)
    return found


def _group_problems(
    book: _Book, group: DocumentRows, skus: Mapping[str, int], source: str
) -> list[Problem]:
    """What the book says of one document's party, currency, date and lines."""
    head = group.head
    problem = book.problem(head.party_id, head.currency, head.issued_on)
    if problem is not None:
        return [Problem(source, group.first, *problem)]
    return [
        Problem(source, line, *problem)
        for line, row in group.rows
        for problem in _line_problems(book, row, head.currency, skus)
    ]


def _pricing_problem(
    book: _Book, group: DocumentRows, draft: NewDocument, source: str
) -> Problem | None:
    """Why the document's lines cannot be priced as issuing will price them (a tax
    category the day has no rate for, a quantity of zero ...)."""
    try:
        lines_with(book.catalogue(draft.issued_on or book.today), draft)
    except LedgerError as error:
        return _located(error.field, str(error), group, source)
    return None


def _check_documents(
    book: _Book, kind: str, groups: Sequence[DocumentRows], report: ImportReport
) -> list[NewDocument]:
    """Every document as it will be issued; each problem of the book's is reported."""
    wanted = sorted({r.sku for g in groups for _, r in g.rows if r.sku is not None})
    skus = book.uow.commerce.product_ids_by_sku(wanted)
    book.products = {p.id: p for p in book.uow.commerce.products(sorted(set(skus.values())))}
    drafts = []
    for group in groups:
        found = _group_problems(book, group, skus, report.source)
        if not found:
            draft = _draft(kind, group, skus)
            drafts.append(draft)
            priced = _pricing_problem(book, group, draft, report.source)
            found = [] if priced is None else [priced]
        for problem in found:
            report.add(problem)
    return drafts


def _chunks(count: int, size: int) -> list[range]:
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


# -- writing ---------------------------------------------------------------------------------


Progress = Callable[[int], None] | None


class BillingImportService:
    """Invoice, bill and payment files, written through the billing services' bulk paths
    in one transaction."""

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
        """Create and issue the invoices the rows form, all or none: one transaction, the
        documents issued ``batch_size`` at a time (default :data:`CHUNK`); ``dry_run``
        checks and writes nothing."""
        return self._documents("invoice", items, report, dry_run, batch_size, progress)

    def bills(
        self,
        items: Sequence[tuple[int, InvoiceRow]],
        report: ImportReport,
        dry_run: bool = False,
        batch_size: int = 0,
        progress: Progress = None,
    ) -> ImportReport:
        """Enter and issue the vendor bills the rows form, all or none (see
        :meth:`invoices`): each posts its expenses and input tax against the payable."""
        return self._documents("bill", items, report, dry_run, batch_size, progress)

    def _documents(
        self,
        kind: str,
        items: Sequence[tuple[int, InvoiceRow]],
        report: ImportReport,
        dry_run: bool,
        size: int,
        progress: Progress,
    ) -> ImportReport:
        self._actor.require("billing", "write")
        groups = group_invoices(items, report, kind)
        if groups:
            with self._uow() as uow:
                drafts = _check_documents(_Book(uow, self._clock.today()), kind, groups, report)
                if report.ok:
                    self._issue(uow, drafts, groups, report, size or CHUNK, progress)
                if report.ok:
                    report.written = len(groups)
                    if not dry_run:
                        uow.commit()
        report.problems.sort(key=lambda p: p.line)
        return report

    def _issue(
        self,
        uow: UnitOfWork,
        drafts: Sequence[NewDocument],
        groups: Sequence[DocumentRows],
        report: ImportReport,
        size: int,
        progress: Progress,
    ) -> None:
        """Issue the documents a chunk at a time in ``uow``; a refusal is reported on the
        line of the document (and the document line) it names, and stops the writing."""
        at, today = self._clock.now(), self._clock.today()
        for chunk in _chunks(len(drafts), size):
            try:
                issue_documents(uow, self._actor, drafts[chunk.start : chunk.stop], at, today)
            except LedgerError as error:
                for index, name, reason in _refusals(error, len(chunk)):
                    group = groups[chunk.start + (index or 0)]
                    report.add(_located(name, reason, group, report.source))
                return
            if progress is not None:
                progress(sum(len(groups[i].rows) for i in chunk))

    def payments(
        self,
        items: Sequence[tuple[int, PaymentRow]],
        report: ImportReport,
        dry_run: bool = False,
        batch_size: int = 0,
        progress: Progress = None,
    ) -> ImportReport:
        """Record the payments of the rows in file order, each paying its invoice or the
        oldest open ones, all or none: one transaction, the payments that name no invoice
        recorded ``batch_size`` at a time (see :meth:`invoices`)."""
        self._actor.require("billing", "write")
        if items:
            with self._uow() as uow:
                book = _Book(uow, self._clock.today())
                targets = self._check_payments(book, items, report)
                if report.ok:
                    writer = _PaymentWriter(book, self._clock, self._actor, report, progress)
                    writer.write(items, targets, batch_size or CHUNK)
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


class _PaymentWriter:
    """Payments in file order in the import's transaction: runs of payments that name no
    invoice go to the bulk path (which allocates oldest first), a payment that names its
    invoice is recorded on its own, allocated to that invoice."""

    def __init__(
        self, book: _Book, clock: Clock, actor: Actor, report: ImportReport, progress: Progress
    ) -> None:
        self._book, self._clock, self._actor = book, clock, actor
        self._report, self._progress = report, progress
        self._at = clock.now()

    def write(
        self, items: Sequence[tuple[int, PaymentRow]], targets: Mapping[int, int], size: int
    ) -> None:
        pending: list[tuple[int, PaymentRow]] = []
        for line, row in items:
            if line not in targets:
                pending.append((line, row))
                if len(pending) < size:
                    continue
            if not self._record_many(pending):
                return
            pending = []
            if line in targets and not self._record_one(line, row, targets[line]):
                return
        self._record_many(pending)

    def _done(self, count: int) -> None:
        if self._progress is not None and count:
            self._progress(count)

    def _record_many(self, items: Sequence[tuple[int, PaymentRow]]) -> bool:
        if not items:
            return True
        payments = [row.payment for _, row in items]
        today = self._clock.today()
        try:
            record_payments(self._book.uow, self._actor, payments, self._at, today)
        except LedgerError as error:
            for index, name, reason in _refusals(error, len(items)):
                line = items[index or 0][0]
                self._report.add(_problem(self._report.source, line, name, reason))
            return False
        self._done(len(items))
        return True

    def _record_one(self, line: int, row: PaymentRow, invoice_id: int) -> bool:
        joined = JoinedUnitOfWork(self._book.uow)
        payments = PaymentService(joined, self._clock, self._actor)
        try:
            payments.record(row.payment, _allocations(self._book, invoice_id, row.payment))
        except LedgerError as error:
            self._report.add(_problem(self._report.source, line, error.field, str(error)))
            return False
        self._done(1)
        return True


def _allocations(book: _Book, invoice_id: int, new: NewPayment) -> list[Allocation]:
    """The payment on its invoice up to what is open there (the rest is credit)."""
    left = book.open_amount(invoice_id, new.currency)
    if left <= 0:
        raise InvalidFieldError("invoice", "is settled already, by an earlier row")
    return [Allocation(invoice_id, min(new.amount, left))]
