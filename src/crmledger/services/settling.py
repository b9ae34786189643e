"""Payments, allocations, refunds, and what a party owes.

A receipt posts bank against receivable at the day's rate and is then allocated to the
customer's open invoices in the same currency, oldest first or as the user chooses; what is
left is customer credit, applied later or refunded. Allocating between documents booked at
different rates posts the realised exchange difference (``core.billing.settlement``). An
invoice of a sales order that is paid in full moves the order to ``paid`` in the same
transaction::

    payments = PaymentService(uow, clock).acting_as(actor)
    receipt = payments.record(party_id=7, amount=Decimal("50.00"), currency="EUR",
                              paid_on=date(2026, 3, 20))
    payments.balance(7).due        # what is still open, less unapplied credit

Vendor payments mirror this against the payable and the vendor's bills.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from crmledger.core.billing.entries import Settlement, fx_difference_entry, settlement_entry
from crmledger.core.billing.settlement import (
    Allocation,
    InvoiceStatus,
    OpenItem,
    base_share,
    chosen,
    oldest_first,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import (
    ACCOUNTS,
    base_currency,
    document_row,
    emit,
    fx_on,
    payment_row,
    post,
    rate_text,
    stored_fx,
)
from crmledger.services.billing_ports import (
    AllocationRow,
    BillingDocumentRow,
    PaymentQuery,
    PaymentRow,
)
from crmledger.services.billing_views import Payment, payment_view
from crmledger.services.credit import exposures_minor
from crmledger.services.dunning import settle_dunning
from crmledger.services.errors import ConflictError
from crmledger.services.party_guard import refuse_merged
from crmledger.services.payment_rules import (
    DEFAULT_BANK,
    KINDS,
    METHODS,
    NewPayment,
    drawn,
    order_settled,
)
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.products import book_scales, minor_units, scale_of
from crmledger.services.settling_batch import record_payments
from crmledger.services.trail import OPERATOR, Actor, record

__all__ = [
    "DEFAULT_BANK",
    "KINDS",
    "METHODS",
    "AgingLine",
    "CurrencyBalance",
    "NewPayment",
    "PartyBalance",
    "PaymentService",
    "aging_lines",
    "apply_credit",
    "party_balance",
]


def _item(row: BillingDocumentRow | PaymentRow, on: date | None) -> OpenItem:
    return OpenItem(row.id, on or date.min, Decimal(row.open_minor), Decimal(row.open_base_minor))


def apply_credit(
    uow: UnitOfWork,
    actor: Actor,
    credit_id: int,
    credit_kind: str,
    invoice_id: int,
    amount_minor: int,
    day: date,
    at: datetime,
) -> None:
    """Allocate ``amount_minor`` of a payment or credit note to an invoice or bill, in
    ``uow``'s transaction, posting the realised exchange difference if any."""
    invoice = document_row(uow, invoice_id)
    credit: BillingDocumentRow | PaymentRow
    credit = (
        payment_row(uow, credit_id) if credit_kind == "payment" else document_row(uow, credit_id)
    )
    if credit.currency != invoice.currency:
        raise InvalidFieldError(
            "invoice_id", f"allocate {credit.currency} to {credit.currency} documents only"
        )
    if invoice.party_id != credit.party_id:
        raise InvalidFieldError("invoice_id", "the document belongs to another party")
    base_scale = stored_fx(uow, invoice.currency, invoice.rate).base_scale
    amount = Decimal(amount_minor)
    invoice_base = int(base_share(_item(invoice, invoice.issued_on), amount, 0))
    credit_base = int(base_share(_item(credit, None), amount, 0))
    # Debit positive on the control account: an invoice's base against its credit's, and
    # the other way round for a bill and what pays it.
    residual = (
        invoice_base - credit_base if invoice.kind == "invoice" else credit_base - invoice_base
    )
    fx_entry_id = None
    entry = fx_difference_entry(
        on=day,
        party=str(invoice.party_id),
        residual=from_minor(residual, base_scale),
        control_account=ACCOUNTS.control(invoice.kind),
        base=base_currency(uow),
        accounts=ACCOUNTS,
        reference=invoice.number or "",
    )
    if entry is not None:
        fx_entry_id = post(uow, entry, at)
    uow.billing.insert_allocation(
        AllocationRow(
            id=0,
            invoice_id=invoice.id,
            refund_id=None,
            payment_id=credit.id if credit_kind == "payment" else None,
            credit_note_id=credit.id if credit_kind == "credit_note" else None,
            amount_minor=amount_minor,
            allocated_on=day,
            fx_entry_id=fx_entry_id,
            created_at=at,
        )
    )
    updated = drawn(invoice, amount_minor, invoice_base, credit_kind, day, at)
    if not uow.billing.update_document(updated, invoice.version):
        raise ConflictError(f"{invoice.kind} {invoice.id} changed meanwhile")
    _draw_credit(uow, credit, amount_minor, credit_base, at)
    record(
        uow,
        actor,
        at,
        "allocation.create",
        invoice.kind,
        invoice.id,
        None,
        {"from": f"{credit_kind}:{credit.id}", "amount_minor": amount_minor},
    )
    if updated.status != invoice.status:
        emit(
            uow,
            invoice.kind,
            invoice.id,
            f"{invoice.kind}.{updated.status}",
            at,
            party_id=invoice.party_id,
        )
        settle_dunning(uow, actor, invoice.id, updated.status, at)
        if updated.status == InvoiceStatus.PAID and invoice.order_id is not None:
            order_settled(uow, actor, invoice.order_id, invoice.id, at)


def _draw_credit(
    uow: UnitOfWork, credit: BillingDocumentRow | PaymentRow, amount: int, base: int, at: datetime
) -> None:
    if isinstance(credit, PaymentRow):
        drawn = replace(
            credit,
            open_minor=credit.open_minor - amount,
            open_base_minor=credit.open_base_minor - base,
            version=credit.version + 1,
        )
        done = uow.billing.update_payment(drawn, credit.version)
    else:
        closed = credit.open_minor == amount
        drawn_doc = replace(
            credit,
            open_minor=credit.open_minor - amount,
            open_base_minor=credit.open_base_minor - base,
            status=InvoiceStatus.PAID.value if closed else credit.status,
            version=credit.version + 1,
            updated_at=at,
            lines=(),
        )
        done = uow.billing.update_document(drawn_doc, credit.version)
    if not done:
        raise ConflictError(f"{credit.kind} {credit.id} changed meanwhile")


@dataclass(frozen=True, slots=True)
class CurrencyBalance:
    """What a party owes (or is owed) in one currency."""

    currency: str
    invoiced_open: Decimal
    overdue: Decimal
    unapplied: Decimal
    bills_open: Decimal

    @property
    def due(self) -> Decimal:
        """Open invoices less unapplied credit: what the customer still has to pay."""
        return self.invoiced_open - self.unapplied


@dataclass(frozen=True, slots=True)
class PartyBalance:
    """A party's balance per currency and in the base currency, and how it pays."""

    party_id: int
    base_currency: str
    currencies: tuple[CurrencyBalance, ...]
    due_base: Decimal
    overdue_base: Decimal
    average_days_to_pay: Decimal | None
    paid_invoices: int


class PaymentService:
    """Receipts, vendor payments, allocations, refunds and balances."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> PaymentService:
        """The same service for another actor."""
        return PaymentService(self._uow, self._clock, actor)

    def aging(
        self,
        kind: str = "invoice",
        bounds: Sequence[int] = (30, 60, 90),
        party_id: int | None = None,
    ) -> list[AgingLine]:
        """Receivables (``invoice``) or payables (``bill``) by days overdue."""
        self._actor.require("billing", "read")
        if list(bounds) != sorted(set(bounds)) or any(b <= 0 for b in bounds):
            raise InvalidFieldError("bounds", "bucket bounds are increasing whole days > 0")
        with self._uow(readonly=True) as uow:
            return aging_lines(uow, kind, self._clock.today(), bounds, party_id)

    def record(self, new: NewPayment, allocations: Sequence[Allocation] | None = None) -> Payment:
        """Record money received (or paid to a vendor) and allocate it: to ``allocations``
        when given (an empty list keeps it all as credit), else oldest first."""
        self._actor.require("billing", "write")
        if new.kind not in KINDS:
            raise InvalidFieldError("kind", f"one of {', '.join(KINDS)}")
        if new.method not in METHODS:
            raise InvalidFieldError("method", f"one of {', '.join(METHODS)}")
        at = self._clock.now()
        day = new.paid_on or self._clock.today()
        with self._uow() as uow:
            if uow.parties.get(new.party_id) is None:
                raise InvalidFieldError("party_id", f"no party {new.party_id}")
            refuse_merged(uow.parties, [new.party_id])
            row = self._post_payment(uow, new, day, at)
            self._allocate(uow, row, allocations, day, at)
            view = payment_view(uow, payment_row(uow, row.id))
            uow.commit()
        return view

    def record_batch(self, payments: Sequence[NewPayment]) -> list[int]:
        """Record and allocate (oldest first) every payment in ONE transaction, for bulk
        loads; each passes the checks :meth:`record` makes and is allocated as
        :meth:`record` would, written set-based (see :mod:`~.settling_batch`). A refusal
        names the payment as ``payments[i]``."""
        self._actor.require("billing", "write")
        at = self._clock.now()
        with self._uow() as uow:
            ids = record_payments(uow, self._actor, payments, at, self._clock.today())
            uow.commit()
        return ids

    def _post_payment(
        self, uow: UnitOfWork, new: NewPayment, day: date, at: datetime
    ) -> PaymentRow:
        minor = minor_units("amount", new.amount, new.currency, book_scales(uow))
        if minor <= 0:
            raise InvalidFieldError("amount", "the amount must be more than 0")
        fx = fx_on(uow, new.currency, day, new.rate)
        _, prefix, series = KINDS[new.kind]
        number = f"{prefix}-{day.year}-{uow.commerce.next_number(series, day.year):04d}"
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
        entry_id = post(uow, entry, at)
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
            entry_id=entry_id,
            version=1,
            created_at=at,
        )
        row = replace(row, id=uow.billing.insert_payment(row))
        view = {"kind": new.kind, "number": number, "party_id": new.party_id, "amount_minor": minor}
        record(uow, self._actor, at, "payment.create", "payment", row.id, None, view)
        event = "payment.received" if new.kind == "receipt" else "payment.sent"
        emit(uow, "payment", row.id, event, at, party_id=new.party_id, number=number)
        return row

    def _allocate(
        self,
        uow: UnitOfWork,
        credit: PaymentRow,
        wanted: Sequence[Allocation] | None,
        day: date,
        at: datetime,
    ) -> None:
        target_kind = KINDS[credit.kind][0]
        opens = uow.billing.open_documents(credit.party_id, target_kind, credit.currency)
        scale = scale_of(credit.currency, book_scales(uow))
        # In the currency's units, so a refusal names amounts as the user wrote them.
        items = [
            replace(_item(r, r.issued_on), open=from_minor(r.open_minor, scale)) for r in opens
        ]
        available = from_minor(credit.open_minor, scale)
        plan, _ = (
            oldest_first(available, items) if wanted is None else chosen(available, items, wanted)
        )
        for allocation in plan:
            minor = minor_units(
                "allocations.amount", allocation.amount, credit.currency, book_scales(uow)
            )
            apply_credit(uow, self._actor, credit.id, "payment", allocation.target, minor, day, at)

    def allocate(self, payment_id: int, allocations: Sequence[Allocation] | None = None) -> Payment:
        """Allocate what is left of a payment: as given, else oldest first."""
        self._actor.require("billing", "write")
        at, day = self._clock.now(), self._clock.today()
        with self._uow() as uow:
            row = payment_row(uow, payment_id)
            if row.kind not in KINDS:
                raise InvalidFieldError("payment_id", f"a {row.kind} is not allocated")
            self._allocate(uow, row, allocations, day, at)
            view = payment_view(uow, payment_row(uow, payment_id))
            uow.commit()
        return view

    def get(self, payment_id: int) -> Payment:
        """One payment."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return payment_view(uow, payment_row(uow, payment_id))

    def list(self, query: PaymentQuery) -> list[Payment]:
        """A page of payments, newest first."""
        self._actor.require("billing", "read")
        with self._uow(readonly=True) as uow:
            return [payment_view(uow, r) for r in uow.billing.payment_page(query)]

    def exposures(self, party_ids: Sequence[int]) -> dict[int, Decimal]:
        """Each party's credit exposure in the base currency (see :mod:`.credit`: open
        invoices less unapplied credit plus confirmed, unbilled orders), many parties in
        one read, as a credit controller reviews a whole ledger before releasing orders."""
        self._actor.require("billing", "read")
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            scale = scale_of(base_currency(uow), book_scales(uow))
            found = exposures_minor(uow, party_ids, today)
        return {party_id: from_minor(minor, scale) for party_id, minor in found.items()}

    def balance(self, party_id: int) -> PartyBalance:
        """What ``party_id`` owes, per currency and in the base currency, and how it pays."""
        self._actor.require("billing", "read")
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            return party_balance(uow, party_id, today)


@dataclass(frozen=True, slots=True)
class AgingLine:
    """A party's open amount in one currency spread over overdue buckets."""

    party_id: int
    currency: str
    buckets: tuple[Decimal, ...]
    total: Decimal


def aging_lines(
    uow: UnitOfWork, kind: str, today: date, bounds: Sequence[int], party_id: int | None
) -> list[AgingLine]:
    """Open ``kind`` documents by party and currency in buckets: not yet due, then 1 to
    ``bounds[0]`` days overdue, ... and more than ``bounds[-1]``."""
    scales = book_scales(uow)
    cells: dict[tuple[int, str], list[int]] = {}
    for row in uow.billing.aging(kind, today, party_id):
        cell = cells.setdefault((row.party_id, row.currency), [0] * (len(bounds) + 2))
        days = row.days_overdue
        index = 0 if days is None else 1 + sum(1 for b in bounds if days > b)
        cell[index] += row.open_minor
    lines = []
    for (party, currency), cell in sorted(cells.items()):
        scale = scale_of(currency, scales)
        amounts = tuple(from_minor(m, scale) for m in cell)
        lines.append(AgingLine(party, currency, amounts, sum(amounts, from_minor(0, scale))))
    return lines


def party_balance(uow: UnitOfWork, party_id: int, today: date) -> PartyBalance:
    """The balance of ``party_id`` read in ``uow``."""
    scales = book_scales(uow)
    base = base_currency(uow)
    base_scale = scale_of(base, scales)
    sums: dict[str, list[int]] = {}
    due_base = overdue_base = 0
    for s in uow.billing.open_summary(party_id, today):
        cell = sums.setdefault(s.currency, [0, 0, 0, 0])
        if s.kind == "invoice":
            cell[0] += s.open_minor
            cell[1] += s.overdue_minor
            due_base += s.open_base_minor
            if s.open_minor:
                overdue_base += s.open_base_minor * s.overdue_minor // s.open_minor
        elif s.kind == "bill":
            cell[3] += s.open_minor
    for currency, minor, base_minor in uow.billing.unapplied(party_id):
        sums.setdefault(currency, [0, 0, 0, 0])[2] += minor
        due_base -= base_minor
    currencies = []
    for currency, (open_minor, overdue_minor, unapplied, bills) in sorted(sums.items()):
        scale = scale_of(currency, scales)
        currencies.append(
            CurrencyBalance(
                currency,
                from_minor(open_minor, scale),
                from_minor(overdue_minor, scale),
                from_minor(unapplied, scale),
                from_minor(bills, scale),
            )
        )
    paid = uow.billing.days_to_pay(party_id)
    average = (
        (Decimal(sum((s - i).days for i, s in paid)) / len(paid)).quantize(Decimal("0.1"))
        if paid
        else None
    )
    return PartyBalance(
        party_id,
        base,
        tuple(currencies),
        from_minor(due_base, base_scale),
        from_minor(overdue_base, base_scale),
        average,
        len(paid),
    )
