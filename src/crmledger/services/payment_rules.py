"""What recording and allocating payments share, one at a time or in bulk: the kinds of
payment, a payment as a user enters it, an invoice after a payment is drawn against it, and
what a paid invoice does to its order."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from crmledger.core.billing.settlement import InvoiceStatus, status_of
from crmledger.services.billing_common import emit
from crmledger.services.billing_ports import BillingDocumentRow
from crmledger.services.deals import win_open_deal
from crmledger.services.ports import UnitOfWork
from crmledger.services.sales import order_paid
from crmledger.services.trail import Actor

#: Payment kind → (the documents it settles, its number prefix, its series).
KINDS = {
    "receipt": ("invoice", "RC", "receipt"),
    "vendor_payment": ("bill", "PY", "vpay"),  # series fit document_sequences (10)
}
METHODS = ("transfer", "card", "cash", "cheque", "direct_debit", "other")
DEFAULT_BANK = "Assets:Bank:Checking"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPayment:
    """A payment as a user enters it; ``rate`` overrides the rate table's."""

    party_id: int
    amount: Decimal
    currency: str
    paid_on: date | None = None
    kind: str = "receipt"
    method: str = "transfer"
    bank_account: str = DEFAULT_BANK
    reference: str = ""
    rate: Decimal | None = None


def drawn(
    row: BillingDocumentRow, amount: int, base: int, by: str, day: date, at: datetime
) -> BillingDocumentRow:
    """``row`` after ``amount`` (``base`` in the base currency) of a payment or credit note
    (``by``) was drawn against it on ``day``."""
    paid = row.paid_minor + (amount if by == "payment" else 0)
    credited = row.credited_minor + (amount if by == "credit_note" else 0)
    status = status_of(Decimal(row.gross_minor), Decimal(paid), Decimal(credited))
    return replace(
        row,
        open_minor=row.open_minor - amount,
        open_base_minor=row.open_base_minor - base,
        paid_minor=paid,
        credited_minor=credited,
        status=status.value,
        settled_on=day if status is InvoiceStatus.PAID else row.settled_on,
        version=row.version + 1,
        updated_at=at,
        lines=(),
    )


def order_settled(
    uow: UnitOfWork, actor: Actor, order_id: int, invoice_id: int, at: datetime
) -> None:
    """A paid invoice's order is paid: it moves to ``paid``, subscribers are told and its
    deal is won if still open. A cancelled (or already paid) order stays as it is."""
    order = order_paid(uow, actor, order_id, at)
    if order is None:
        return
    emit(uow, "order", order_id, "order.paid", at, invoice_id=invoice_id, party_id=order.party_id)
    if order.deal_id is not None:
        win_open_deal(uow, actor, order.deal_id, at)
