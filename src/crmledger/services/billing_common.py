"""What invoicing and settling share: rates, scales, posting, events and views.

Everything here runs inside the caller's unit of work; nothing commits.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from crmledger.core.billing.entries import BillingAccounts, FxRate
from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.core.entries import JournalEntry
from crmledger.core.errors import InvalidFieldError
from crmledger.services.billing_ports import BillingDocumentRow, EventRow, PaymentRow
from crmledger.services.errors import NotFoundError
from crmledger.services.ledger import add_iso_commodities
from crmledger.services.ports import UnitOfWork
from crmledger.services.posting import post_batch
from crmledger.services.products import book_scales, scale_of

ACCOUNTS = BillingAccounts()
#: Most decimal places an exchange rate may carry.
RATE_PLACES = 12


class MissingRateError(InvalidFieldError):
    """No exchange rate of a currency is known on or before a document's date."""

    def __init__(self, currency: str, day: date) -> None:
        super().__init__(
            "currency",
            f"no exchange rate for {currency} on or before {day.isoformat()}: "
            "enter one first (crmledger fx rate, POST /api/v1/exchange-rates)",
        )


def base_currency(uow: UnitOfWork) -> str:
    """The book's base currency (set when the book was initialised)."""
    base = uow.ledger.get_setting("base_currency")
    if base is None:
        raise InvalidFieldError("currency", "the book has no base currency: run crmledger init")
    return base


def parse_rate(text: str, field: str = "rate") -> Decimal:
    """An exchange rate from text: a positive decimal with at most 12 places."""
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise InvalidFieldError(field, f"{text!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise InvalidFieldError(field, "an exchange rate must be more than 0")
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATE_PLACES:
        raise InvalidFieldError(field, f"a rate has at most {RATE_PLACES} decimal places")
    return rate


def rate_text(rate: Decimal) -> str:
    """Canonical text of a rate: no exponent, no trailing zeros."""
    return format(rate.normalize(), "f")


def fx_on(uow: UnitOfWork, currency: str, day: date, given: Decimal | None = None) -> FxRate:
    """The rate of ``currency`` on ``day``: ``given``, else the rate table's latest on or
    before ``day``; 1 for the base currency."""
    base = base_currency(uow)
    base_scale = scale_of(base, book_scales(uow))
    if currency == base:
        return FxRate(currency, base, Decimal(1), base_scale)
    if given is not None:
        return FxRate(currency, base, given, base_scale)
    found = uow.billing.rate_on(currency, day)
    if found is None:
        raise MissingRateError(currency, day)
    return FxRate(currency, base, Decimal(found[1]), base_scale)


class RateBook:
    """The rates a bulk path needs, each currency's table read once and looked up in memory
    with exactly :func:`fx_on`'s rule (the latest rate on or before the day)."""

    def __init__(self, uow: UnitOfWork, until: date) -> None:
        self._uow = uow
        self._until = until
        self.base = base_currency(uow)
        self.base_scale = scale_of(self.base, book_scales(uow))
        self._tables: dict[str, tuple[list[date], list[str]]] = {}

    def fx(self, currency: str, day: date, given: Decimal | None = None) -> FxRate:
        """The rate of ``currency`` on ``day`` (``given`` wins; 1 for the base currency)."""
        if currency == self.base:
            return FxRate(currency, self.base, Decimal(1), self.base_scale)
        if given is not None:
            return FxRate(currency, self.base, given, self.base_scale)
        if day > self._until:
            return fx_on(self._uow, currency, day)
        if currency not in self._tables:
            rows = self._uow.billing.rate_table(currency, self._until)
            self._tables[currency] = ([d for d, _ in rows], [r for _, r in rows])
        days, rates = self._tables[currency]
        found = bisect_right(days, day)
        if found == 0:
            raise MissingRateError(currency, day)
        return FxRate(currency, self.base, Decimal(rates[found - 1]), self.base_scale)


def stored_fx(uow: UnitOfWork, currency: str, rate: str | None) -> FxRate:
    """The rate a document or payment was booked at."""
    base = base_currency(uow)
    base_scale = scale_of(base, book_scales(uow))
    return FxRate(currency, base, Decimal(rate) if rate else Decimal(1), base_scale)


def post(uow: UnitOfWork, entry: JournalEntry, at: datetime) -> int:
    """Post ``entry`` through the ledger's one write boundary; returns its id."""
    add_iso_commodities(uow.ledger, [entry])
    [ref] = post_batch(uow.ledger, [entry], at)
    return ref.id


def event_row(
    aggregate: str, aggregate_id: int, kind: str, at: datetime, /, **ids: Any
) -> EventRow:
    """A domain event for the outbox; payloads carry ids and amounts, never personal data."""
    payload = json.dumps({"type": kind, "id": aggregate_id, **ids}, sort_keys=True, default=str)
    return EventRow(aggregate, aggregate_id, kind, payload, at)


def emit(
    uow: UnitOfWork, aggregate: str, aggregate_id: int, kind: str, at: datetime, /, **ids: Any
) -> None:
    """Write a domain event to the outbox in this transaction (see :func:`event_row`)."""
    uow.billing.append_events([event_row(aggregate, aggregate_id, kind, at, **ids)])


def document_row(uow: UnitOfWork, document_id: int, kind: str | None = None) -> BillingDocumentRow:
    """The stored document ``document_id`` (of ``kind``, when given), else NotFound."""
    row = uow.billing.document(document_id)
    if row is None or (kind is not None and row.kind != kind):
        raise NotFoundError(f"no {(kind or 'document').replace('_', ' ')} {document_id}")
    return row


def payment_row(uow: UnitOfWork, payment_id: int) -> PaymentRow:
    """The stored payment ``payment_id``, else NotFound."""
    row = uow.billing.payment(payment_id)
    if row is None:
        raise NotFoundError(f"no payment {payment_id}")
    return row


def overdue(row: BillingDocumentRow, today: date) -> bool:
    """Whether the document is still open after its due date."""
    open_status = row.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
    return open_status and row.due_on is not None and row.due_on < today
