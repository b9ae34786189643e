"""Recording many payments at once: the rules of one at a time, written set-based.

:meth:`PaymentService.record_batch` hands its payments here. Each payment passes the checks
:meth:`PaymentService.record` makes and is allocated oldest first exactly as
:func:`crmledger.services.settling.apply_credit` would allocate it, in the order given, with
the same core rules (:func:`oldest_first`, :func:`base_share`,
:func:`fx_difference_entry`) and so to the same minor unit. What changes is how the work
reaches the database: the open documents of every party in the batch are read once (and
locked on PostgreSQL), every entry goes through one :func:`post_batch`, and each table is
written once (payments, allocations, documents, audit records, events), so a batch of
thousands costs a few dozen statements instead of dozens per payment::

    ids = record_payments(uow, actor, payments, at, today)   # inside the caller's uow
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from crmledger.core.billing.entries import (
    FxRate,
    Settlement,
    fx_difference_entry,
    settlement_entry,
)
from crmledger.core.billing.settlement import InvoiceStatus, OpenItem, base_share, oldest_first
from crmledger.core.entries import JournalEntry
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import (
    ACCOUNTS,
    RateBook,
    event_row,
    rate_text,
)
from crmledger.services.billing_ports import AllocationRow, BillingDocumentRow, PaymentRow
from crmledger.services.dunning import settle_dunning
from crmledger.services.errors import ConflictError
from crmledger.services.ledger import add_iso_commodities
from crmledger.services.party_guard import refuse_merged
from crmledger.services.payment_rules import KINDS, METHODS, NewPayment, drawn, order_settled
from crmledger.services.ports import UnitOfWork
from crmledger.services.posting import post_batch
from crmledger.services.products import book_scales, minor_units, scale_of
from crmledger.services.trail import Actor, Change, record_many


@dataclass(slots=True)
class _Payment:
    """A payment being recorded: its row (ids filled in after the writes) and entries."""

    index: int
    row: PaymentRow
    entry: int  # position of its entry in the batch's entries
    #: (allocation, position of its exchange-difference entry, the document's kind)
    allocations: list[tuple[AllocationRow, int | None, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Book:
    """What the batch reads from the book once: scales and rates."""

    rates: RateBook
    scales: dict[str, int]

    @property
    def base(self) -> str:
        return self.rates.base

    @property
    def base_scale(self) -> int:
        return self.rates.base_scale

    def fx(self, currency: str, day: date, given: Decimal | None = None) -> FxRate:
        return self.rates.fx(currency, day, given)


@dataclass(slots=True)
class _Batch:
    """Everything the batch writes, in the order the one-at-a-time path would."""

    entries: list[JournalEntry] = field(default_factory=list)
    payments: list[_Payment] = field(default_factory=list)
    changed: dict[int, tuple[BillingDocumentRow, int]] = field(default_factory=dict)
    #: (aggregate, id, event type, party) of each document whose status changed
    events: list[tuple[str, int, str, int]] = field(default_factory=list)
    settled: list[tuple[int, str, int | None]] = field(default_factory=list)


def _open_items(
    uow: UnitOfWork, payments: Sequence[PaymentRow]
) -> dict[tuple[int, str, str], list[BillingDocumentRow]]:
    """The open invoices or bills of every party in the batch, by (party, kind, currency),
    oldest first; locked until the batch commits."""
    parties = sorted({p.party_id for p in payments})
    kinds = sorted({KINDS[p.kind][0] for p in payments})
    found: dict[tuple[int, str, str], list[BillingDocumentRow]] = defaultdict(list)
    for row in uow.billing.open_documents_of(parties, kinds):
        found[(row.party_id, row.kind, row.currency)].append(row)
    for rows in found.values():
        rows.sort(key=lambda r: (r.issued_on or date.min, r.id))
    return found


def _payment_row(
    book: _Book, new: NewPayment, day: date, at: datetime, number: str
) -> tuple[PaymentRow, JournalEntry]:
    minor = minor_units("amount", new.amount, new.currency, book.scales)
    if minor <= 0:
        raise InvalidFieldError("amount", "the amount must be more than 0")
    fx = book.fx(new.currency, day, new.rate)
    settlement = Settlement(
        kind="receipt" if new.kind == "receipt" else "vendor_payment",
        number=number,
        party=str(new.party_id),
        on=day,
        amount=new.amount,
        bank_account=new.bank_account,
        narration=f"{number} {new.reference}".strip(),
    )
    entry, base = settlement_entry(settlement, ACCOUNTS, fx)
    base_minor = to_minor(base, fx.base_scale)
    row = PaymentRow(
        id=0,
        kind=new.kind,
        number=number,
        party_id=new.party_id,
        currency=new.currency,
        amount_minor=minor,
        paid_on=day,
        method=new.method,
        bank_account=new.bank_account,
        reference=new.reference,
        rate=rate_text(fx.rate) if fx.converts else None,
        base_minor=base_minor,
        open_minor=minor,
        open_base_minor=base_minor,
        entry_id=0,  # set when the batch's entries are posted
        version=1,
        created_at=at,
    )
    return row, entry


def _numbers(uow: UnitOfWork, news: Sequence[NewPayment], days: Sequence[date]) -> list[str]:
    """Gapless numbers per series and year, in the batch's order."""
    wanted: dict[tuple[str, int], int] = defaultdict(int)
    for new, day in zip(news, days, strict=True):
        wanted[(KINDS[new.kind][2], day.year)] += 1
    following = {
        key: uow.commerce.next_numbers(key[0], key[1], count) for key, count in wanted.items()
    }
    out = []
    for new, day in zip(news, days, strict=True):
        _, prefix, series = KINDS[new.kind]
        number = following[(series, day.year)]
        following[(series, day.year)] = number + 1
        out.append(f"{prefix}-{day.year}-{number:04d}")
    return out


def _allocate(
    book: _Book,
    batch: _Batch,
    payment: _Payment,
    open_items: dict[tuple[int, str, str], list[BillingDocumentRow]],
    day: date,
    at: datetime,
) -> None:
    """Allocate ``payment`` oldest first over its party's open items, as apply_credit does."""
    credit = payment.row
    target = KINDS[credit.kind][0]
    items = open_items.get((credit.party_id, target, credit.currency), [])
    scale = scale_of(credit.currency, book.scales)
    units = [
        OpenItem(r.id, r.issued_on or date.min, from_minor(r.open_minor, scale), Decimal(0))
        for r in items
        if r.open_minor > 0
    ]
    plan, _ = oldest_first(from_minor(credit.open_minor, scale), units)
    by_id = {r.id: i for i, r in enumerate(items)}
    base_scale, base = book.base_scale, book.base
    for allocation in plan:
        amount = minor_units("allocations.amount", allocation.amount, credit.currency, book.scales)
        position = by_id[allocation.target]
        invoice = items[position]
        invoice_base = int(
            base_share(
                OpenItem(
                    invoice.id,
                    date.min,
                    Decimal(invoice.open_minor),
                    Decimal(invoice.open_base_minor),
                ),
                Decimal(amount),
                0,
            )
        )
        credit_base = int(
            base_share(
                OpenItem(
                    credit.id, date.min, Decimal(credit.open_minor), Decimal(credit.open_base_minor)
                ),
                Decimal(amount),
                0,
            )
        )
        residual = (
            invoice_base - credit_base if invoice.kind == "invoice" else credit_base - invoice_base
        )
        fx_entry = fx_difference_entry(
            on=day,
            party=str(invoice.party_id),
            residual=from_minor(residual, base_scale),
            control_account=ACCOUNTS.control(invoice.kind),
            base=base,
            accounts=ACCOUNTS,
            reference=invoice.number or "",
        )
        fx_position = None
        if fx_entry is not None:
            fx_position = len(batch.entries)
            batch.entries.append(fx_entry)
        payment.allocations.append(
            (
                AllocationRow(
                    id=0,
                    invoice_id=invoice.id,
                    refund_id=None,
                    payment_id=None,
                    credit_note_id=None,
                    amount_minor=amount,
                    allocated_on=day,
                    fx_entry_id=None,
                    created_at=at,
                ),
                fx_position,
                invoice.kind,
            )
        )
        updated = drawn(invoice, amount, invoice_base, "payment", day, at)
        items[position] = updated
        original = batch.changed.get(invoice.id, (invoice, invoice.version))[1]
        batch.changed[invoice.id] = (updated, original)
        credit = replace(
            credit,
            open_minor=credit.open_minor - amount,
            open_base_minor=credit.open_base_minor - credit_base,
        )
        if updated.status != invoice.status:
            event = f"{invoice.kind}.{updated.status}"
            batch.events.append((invoice.kind, invoice.id, event, invoice.party_id))
            batch.settled.append((invoice.id, updated.status, invoice.order_id))
    payment.row = credit


def record_payments(
    uow: UnitOfWork, actor: Actor, payments: Sequence[NewPayment], at: datetime, today: date
) -> list[int]:
    """Record and allocate ``payments`` (``NewPayment``) in ``uow``; returns their ids. A
    refusal names the payment as ``payments[i]``."""
    days = []
    for index, new in enumerate(payments):
        where = f"payments[{index}]"
        if new.kind not in KINDS:
            raise InvalidFieldError(f"{where}.kind", f"one of {', '.join(KINDS)}")
        if new.method not in METHODS:
            raise InvalidFieldError(f"{where}.method", f"one of {', '.join(METHODS)}")
        days.append(new.paid_on or today)
    refuse_merged(uow.parties, [p.party_id for p in payments])
    numbers = _numbers(uow, payments, days)
    book = _Book(RateBook(uow, max(days, default=today)), book_scales(uow))
    batch = _Batch()
    for index, (new, day, number) in enumerate(zip(payments, days, numbers, strict=True)):
        try:
            row, entry = _payment_row(book, new, day, at, number)
        except InvalidFieldError as error:
            raise InvalidFieldError(f"payments[{index}].{error.field}", str(error)) from error
        batch.payments.append(_Payment(index, row, len(batch.entries)))
        batch.entries.append(entry)
    open_items = _open_items(uow, [p.row for p in batch.payments])
    for payment, day in zip(batch.payments, days, strict=True):
        _allocate(book, batch, payment, open_items, day, at)
    _write(uow, actor, batch, at)
    dunned = uow.dunning.dunned_invoices([invoice_id for invoice_id, _, _ in batch.settled])
    for invoice_id, status, order_id in batch.settled:
        if invoice_id in dunned:
            settle_dunning(uow, actor, invoice_id, status, at)
        if status == InvoiceStatus.PAID and order_id is not None:
            order_settled(uow, actor, order_id, invoice_id, at)
    return [p.row.id for p in batch.payments]


def _write(uow: UnitOfWork, actor: Actor, batch: _Batch, at: datetime) -> None:
    add_iso_commodities(uow.ledger, batch.entries)
    refs = post_batch(uow.ledger, batch.entries, at)
    rows = [replace(p.row, entry_id=refs[p.entry].id) for p in batch.payments]
    for payment, new_id in zip(batch.payments, uow.billing.insert_payments(rows), strict=True):
        payment.row = replace(rows[payment.index], id=new_id)
    uow.billing.insert_allocations(
        [
            replace(a, payment_id=p.row.id, fx_entry_id=None if fx is None else refs[fx].id)
            for p in batch.payments
            for a, fx, _ in p.allocations
        ]
    )
    if not uow.billing.update_documents(list(batch.changed.values())):
        raise ConflictError("a document of the batch changed meanwhile")
    changes = []
    events = []
    for payment in batch.payments:
        row = payment.row
        view = {
            "kind": row.kind,
            "number": row.number,
            "party_id": row.party_id,
            "amount_minor": row.amount_minor,
        }
        changes.append(Change("payment.create", "payment", row.id, None, view))
        changes += [
            Change(
                "allocation.create",
                kind,
                a.invoice_id,
                None,
                {"from": f"payment:{row.id}", "amount_minor": a.amount_minor},
            )
            for a, _, kind in payment.allocations
        ]
        kind = "payment.received" if row.kind == "receipt" else "payment.sent"
        events.append(
            event_row("payment", row.id, kind, at, party_id=row.party_id, number=row.number)
        )
    record_many(uow, actor, at, changes)
    events += [
        event_row(aggregate, aggregate_id, kind, at, party_id=party_id)
        for aggregate, aggregate_id, kind, party_id in batch.events
    ]
    uow.billing.append_events(events)
