"""What billing needs from storage: document, payment and allocation rows, rates, events.

Money is integer minor units of the row's currency; rates and quantities are exact decimal
text. ``open_minor`` / ``open_base_minor`` are what a document or payment still has open in
its currency and in the base currency (see ``core.billing.settlement``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from crmledger.services.crm_ports import TaxCategoryRow


@dataclass(frozen=True, slots=True)
class BillingLineRow:
    """A document line as stored; ``account`` is the income (or expense) account; a line of
    goods with a cost carries the cost of its quantity and the account that cost goes to."""

    position: int
    product_id: int | None
    description: str
    quantity: str
    unit: str
    unit_price_minor: int
    discount: str
    tax_category: str
    tax_rate: str
    net_minor: int
    tax_minor: int
    account: str
    cost_minor: int | None = None
    cost_currency: str | None = None
    cost_account: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingDocumentRow:
    """An invoice, credit note or bill; ``id`` is ignored on insert; ``number`` and
    ``issued_at`` are set when it is issued; ``rate`` is base units per unit of ``currency``
    (``None``: the base); ``prices_include_tax``: the lines' unit prices are gross."""

    id: int
    kind: str
    number: str | None
    party_id: int
    currency: str
    status: str
    issued_on: date | None
    due_on: date | None
    settled_on: date | None
    order_id: int | None
    contract_id: int | None
    billing_date: date | None
    refers_to: int | None
    reference: str
    rate: str | None
    net_minor: int
    tax_minor: int
    gross_minor: int
    paid_minor: int
    credited_minor: int
    open_minor: int
    open_base_minor: int
    entry_id: int | None
    note: str
    version: int
    created_at: datetime
    updated_at: datetime
    prices_include_tax: bool = False
    issued_at: datetime | None = None
    lines: tuple[BillingLineRow, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRow:
    """Money received from or paid to a party (``kind``: receipt, refund, vendor_payment,
    vendor_refund); ``open_minor`` is what is not yet allocated."""

    id: int
    kind: str
    number: str
    party_id: int
    currency: str
    amount_minor: int
    paid_on: date
    method: str
    bank_account: str
    reference: str
    rate: str | None
    base_minor: int
    open_minor: int
    open_base_minor: int
    entry_id: int
    version: int
    created_at: datetime


@dataclass(slots=True)
class Exposure:
    """What makes up a party's credit exposure: open invoices and unapplied credit in minor
    base units, and the gross of confirmed orders not yet billed per currency."""

    owed_base: int
    credit_base: int
    ordered: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class EventRow:
    """A domain event on its way to the outbox."""

    aggregate: str
    aggregate_id: int
    kind: str
    payload: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRow:
    """A credit (payment or credit note) applied to a debit (invoice or refund)."""

    id: int
    invoice_id: int | None
    refund_id: int | None
    payment_id: int | None
    credit_note_id: int | None
    amount_minor: int
    allocated_on: date
    fx_entry_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BillingQuery:
    """A page of documents, newest first, after the id ``after``; filters are exact;
    ``overdue_on`` keeps documents still open whose due date lies before that day."""

    limit: int = 100
    after: int | None = None
    kind: str | None = None
    party_id: int | None = None
    status: str | None = None
    overdue_on: date | None = None
    order_id: int | None = None
    refers_to: int | None = None


@dataclass(frozen=True, slots=True)
class PaymentQuery:
    """A page of payments, newest first, after the id ``after``."""

    limit: int = 100
    after: int | None = None
    party_id: int | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class OpenSummary:
    """One party's open documents of one kind and currency, with the overdue part."""

    kind: str
    currency: str
    open_minor: int
    open_base_minor: int
    overdue_minor: int
    documents: int


@dataclass(frozen=True, slots=True)
class AgingRow:
    """Open amount per party, currency and days overdue (``None``: not yet due)."""

    party_id: int
    currency: str
    days_overdue: int | None
    open_minor: int
    open_base_minor: int


@dataclass(frozen=True, slots=True)
class FinanceEventRow:
    """An issued document or a payment as it shows on a party's timeline; ``at`` is when
    the document was issued or the payment recorded."""

    type: str
    id: int
    at: datetime
    party_id: int
    number: str
    status: str
    amount_minor: int
    currency: str
    due_on: date | None


class BillingStore(Protocol):
    """Billing documents, payments, allocations, exchange and tax rates, the outbox."""

    def insert_document(self, row: BillingDocumentRow) -> int:
        """Store a document and its lines; returns its id."""

    def insert_documents(self, rows: Sequence[BillingDocumentRow]) -> list[int]:
        """Insert documents with their lines; their ids in order."""

    def update_document(self, row: BillingDocumentRow, expected_version: int) -> bool:
        """Compare-and-set every column but id and created_at; replace the lines when
        ``row.lines`` is not empty."""

    def delete_document(self, document_id: int, expected_version: int) -> bool:
        """Delete a draft and its lines if it is still at ``expected_version``."""

    def document(self, document_id: int) -> BillingDocumentRow | None: ...
    def documents(self, ids: Sequence[int]) -> list[BillingDocumentRow]: ...
    def document_page(self, query: BillingQuery) -> list[BillingDocumentRow]: ...
    def open_documents_of(
        self, party_ids: Sequence[int], kinds: Sequence[str]
    ) -> list[BillingDocumentRow]:
        """The open documents of ``kinds`` of the parties, without lines, locked against
        concurrent settlement until the transaction ends."""

    def update_documents(self, rows: Sequence[tuple[BillingDocumentRow, int]]) -> bool:
        """Update documents (not their lines), each if still at its expected version; False
        when any has moved on."""

    def insert_payments(self, rows: Sequence[PaymentRow]) -> list[int]:
        """Insert payments; their ids in order."""

    def insert_allocations(self, rows: Sequence[AllocationRow]) -> None: ...

    def open_documents(self, party_id: int, kind: str, currency: str) -> list[BillingDocumentRow]:
        """The party's issued documents of ``kind`` in ``currency`` with something open,
        without their lines, oldest first."""

    def billed(self, contract_id: int, billing_date: date) -> int | None:
        """The invoice that bills ``contract_id`` for ``billing_date``, if any."""

    def insert_payment(self, row: PaymentRow) -> int: ...
    def update_payment(self, row: PaymentRow, expected_version: int) -> bool: ...
    def payment(self, payment_id: int) -> PaymentRow | None: ...
    def payment_page(self, query: PaymentQuery) -> list[PaymentRow]: ...
    def open_payments(self, party_id: int, kinds: Sequence[str]) -> list[PaymentRow]:
        """The party's payments of ``kinds`` with something unallocated, oldest first."""

    def insert_allocation(self, row: AllocationRow) -> int: ...
    def allocations(
        self, *, invoice_id: int | None = None, payment_id: int | None = None
    ) -> list[AllocationRow]: ...
    def rate_on(self, currency: str, day: date) -> tuple[date, str] | None:
        """The latest rate of ``currency`` on or before ``day``: its day and the rate."""

    def set_rate(self, currency: str, day: date, rate: str) -> None: ...
    def rate_table(self, currency: str, until: date) -> list[tuple[date, str]]:
        """Every rate of ``currency`` up to ``until``, oldest first."""

    def rates(
        self, currency: str | None, limit: int, before: date | None
    ) -> list[tuple[str, date, str]]:
        """Rates newest first, optionally of one currency, before the day ``before``."""

    def tax_rates_on(self, day: date) -> list[TaxCategoryRow]:
        """Each category's rate valid on ``day`` (the latest ``valid_from`` on or before)."""

    def tax_rate_rows(self) -> list[tuple[str, date, str, str]]:
        """Every dated rate: (category, valid from, rate, per)."""

    def add_tax_rate(self, category: str, valid_from: date, rate: str, per: str) -> None:
        """Add a dated rate; a category that does not exist yet is created with it."""

    def open_summary(self, party_id: int, today: date) -> list[OpenSummary]: ...
    def unapplied(self, party_id: int) -> list[tuple[str, int, int]]:
        """The party's unallocated receipts and credit notes: (currency, minor, base minor)."""

    def aging(self, kind: str, today: date, party_id: int | None = None) -> list[AgingRow]:
        """Open documents of ``kind`` (of one party, when given) grouped by party, currency
        and days overdue."""

    def days_to_pay(self, party_id: int) -> list[tuple[date, date]]:
        """(issued on, settled on) of the party's paid invoices, oldest first."""

    def exposures(self, party_ids: Sequence[int]) -> dict[int, Exposure]:
        """The exposure parts of each party (see :class:`Exposure`)."""

    def confirmed_unbilled(
        self, party_id: int, exclude_order: int | None = None
    ) -> list[tuple[str, int]]:
        """Gross of the party's confirmed orders that no issued invoice bills yet (but
        ``exclude_order``), by currency."""

    def timeline(
        self, party_ids: Sequence[int], before: tuple[datetime, int] | None, limit: int
    ) -> list[FinanceEventRow]:
        """The parties' issued documents and payments, newest first, strictly before
        ``before`` (an ``(at, id)`` keyset)."""

    def append_events(self, events: Sequence[EventRow]) -> None:
        """Add outbox events in order; each one's sequence number follows its aggregate's
        last one."""

    def events(self, after: int, limit: int) -> list[tuple[int, str, int, int, str, str]]:
        """Outbox rows after the id ``after``: (id, aggregate, id, seq, type, payload)."""

    def tax_lines(self, start: date, end: date) -> list[TaxLineRow]:
        """Net and tax of the documents issued from ``start`` to ``end`` (both included),
        summed per document, tax category and rate, by document id."""

    def open_foreign(self, base: str, on: date) -> list[ForeignOpenRow]:
        """Issued documents and unallocated receipts and vendor payments dated on or
        before ``on``, in a currency other than ``base``, with something open; by
        currency, kind and id."""


@dataclass(frozen=True, slots=True)
class TaxLineRow:
    """One issued document's net and tax in one tax category and rate, in the document's
    currency; ``rate`` is the exchange rate it was booked at (``None``: the base)."""

    document_id: int
    kind: str
    currency: str
    rate: str | None
    tax_category: str
    tax_rate: str
    net_minor: int
    tax_minor: int


@dataclass(frozen=True, slots=True)
class ForeignOpenRow:
    """What a document or payment (``kind``: invoice, credit_note, bill, receipt or
    vendor_payment) still has open, in its currency and in the base currency."""

    kind: str
    id: int
    number: str
    party_id: int
    currency: str
    open_minor: int
    open_base_minor: int
